"""autograde on a Dask cluster: the same rows and gradebook as on one machine.

A LocalCluster of two worker processes stands in for a cluster: the tasks carry their
inputs as bytes, exactly as they would to another machine.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from cnncourse.grading import autograde, load_course
from cnncourse.grading.course import GradingError
from cnncourse.grading.simulate import copy_course, write_submission, wrong_answers

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
FIRST = "tamanos_salida"
TIMEOUT = 5
KINDS = ["perfect", "partly_right", "kills_kernel", "missing_notebook"]
ATTACK = "attack_patch_builtins"  # graded `tampering`


@pytest.fixture(scope="module")
def cluster():
    import dask

    from cnncourse.grading.cluster import ONE_TASK_PER_THREAD

    # one retry before KilledWorker: the worker-killing test then takes down two worker
    # processes, not four (each restart re-imports the grader, slow on a loaded machine)
    config = {**ONE_TASK_PER_THREAD, "distributed.scheduler.allowed-failures": 1}
    with dask.config.set(config), distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local, distributed.Client(local) as client:
        yield local, client


def _course(tmp_path: Path):
    from cnncourse.grading.simulate import ATTACKS

    assert ATTACK in ATTACKS
    course = copy_course(load_course(ROOT), tmp_path / "course", [FIRST])
    wrong = next(a for a in wrong_answers(ROOT / "tests" / "wrong_answers" / FIRST) if a.name == "olvida_2p")
    for kind in KINDS:
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong)
    targets = {"victim": str(course.submitted_dir / "perfect"), "secret": str(course.source_dir)}
    write_submission(course, FIRST, ATTACK, ATTACK, course.submitted_dir, wrong=wrong, targets=targets)
    return course


def _rows(course) -> list[dict]:
    rows = json.loads((course.autograded_dir / "grading_results.json").read_text(encoding="utf-8"))
    for row in rows:
        row.pop("seconds")
    return rows


def _gradebook(course) -> list[tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        return sorted((row["student"], row["name"], row["score"], row["max_score"])
                      for row in gb.notebook_submission_dicts(FIRST, FIRST))


def _graded_notebooks(course) -> list[str]:
    return sorted(str(p.relative_to(course.autograded_dir)) for p in course.autograded_dir.rglob("*.ipynb"))


@pytest.mark.slow
def test_cluster_gives_the_same_rows_and_gradebook_as_one_machine(cluster, tmp_path):
    here = _course(tmp_path / "here")
    there = _course(tmp_path / "there")
    autograde(here, assignments=[FIRST], timeout=TIMEOUT, progress=False)
    results = autograde(there, assignments=[FIRST], timeout=TIMEOUT, progress=False,
                        cluster=cluster[0].scheduler_address)
    assert {r.student: r.status.split("; ")[0] for r in results} == {
        "perfect": "graded", "partly_right": "graded", "kills_kernel": "kernel_died",
        "missing_notebook": "missing_notebook", ATTACK: "tampering"}
    assert _rows(there) == _rows(here)
    assert _gradebook(there) == _gradebook(here)
    assert _graded_notebooks(there) == _graded_notebooks(here)


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_no_notebook(cluster, tmp_path):
    local, client = cluster
    course = copy_course(load_course(ROOT), tmp_path / "course", [FIRST])
    students = [f"alumno{i}" for i in range(6)]
    for student in students:
        write_submission(course, FIRST, student, "perfect", course.submitted_dir)
    victim = sorted(client.run(os.getpid).items())[0]

    def kill_after_first_result():
        import time

        while not (course.root / ".started").exists() and time.time() < deadline:
            time.sleep(0.05)
        os.kill(victim[1], 9)

    from cnncourse.grading import cluster as cluster_module

    deadline = __import__("time").time() + 120
    original = cluster_module._write_back

    def write_back(job, files):  # the first result has arrived: kill a worker now
        original(job, files)
        (course.root / ".started").touch()

    killer = threading.Thread(target=kill_after_first_result)
    cluster_module._write_back = write_back
    try:
        killer.start()
        results = autograde(course, assignments=[FIRST], timeout=TIMEOUT, progress=False,
                            cluster=local.scheduler_address)
    finally:
        cluster_module._write_back = original
        killer.join()
    assert victim[1] not in client.run(os.getpid).values()  # that worker process did die
    assert sorted((r.student, r.notebook) for r in results) == [(s, FIRST) for s in students]
    assert all(r.score == r.max_score == 20 and r.status == "graded" for r in results)


def _cannot_confine():
    from cnncourse.grading import sandbox

    sandbox.real_available = sandbox.available
    sandbox.available = lambda: {"landlock": 0, "own_uid": False, "rlimits": True, "confined": False}


def _can_confine_again():
    from cnncourse.grading import sandbox

    sandbox.available = sandbox.real_available


@pytest.mark.slow
def test_refuses_when_a_worker_cannot_confine(cluster, tmp_path):
    local, client = cluster
    course = copy_course(load_course(ROOT), tmp_path / "course", [FIRST])
    write_submission(course, FIRST, "perfect", "perfect", course.submitted_dir)
    worker = sorted(client.scheduler_info()["workers"])[0]
    client.run(_cannot_confine, workers=[worker])
    try:
        with pytest.raises(GradingError, match=f"worker\\(s\\) \\['{worker}'\\] cannot confine"):
            autograde(course, assignments=[FIRST], progress=False, require_confinement=True,
                      cluster=local.scheduler_address)
    finally:
        client.run(_can_confine_again, workers=[worker])
    assert not (course.autograded_dir / "grading_results.json").exists()


def _dies_on_doomed(job, bundle, digest, files):
    """A task that kills its worker process for the student ``doomed``, every time."""
    from cnncourse.grading import cluster as cluster_module

    if job.student == "doomed":
        os._exit(1)
    return cluster_module.grade_remote(job, bundle, digest, files)


@pytest.mark.slow
def test_a_notebook_that_keeps_killing_workers_gets_worker_lost(cluster, tmp_path, monkeypatch):
    import cloudpickle

    from cnncourse.grading import cluster as cluster_module

    local, _ = cluster
    course = copy_course(load_course(ROOT), tmp_path / "course", [FIRST])
    for student in ("doomed", "perfect"):
        write_submission(course, FIRST, student, "perfect", course.submitted_dir)
    cloudpickle.register_pickle_by_value(__import__(__name__))
    monkeypatch.setattr(cluster_module, "grade_remote", _dies_on_doomed)
    try:
        results = autograde(course, assignments=[FIRST], progress=False, cluster=local.scheduler_address)
    finally:
        cloudpickle.unregister_pickle_by_value(__import__(__name__))
    by_student = {r.student: r for r in results}
    assert (by_student["perfect"].score, by_student["perfect"].status) == (20, "graded"), by_student["perfect"].detail
    assert by_student["doomed"].score == 0 and by_student["doomed"].status == "worker_lost"
    assert "dejó de funcionar" in by_student["doomed"].detail
