"""nbgrader's own exchange feeds cnncourse.grading: release -> fetch -> submit -> collect -> autograde.

The commands are the ones docs/grading.md gives for a JupyterHub (shared exchange
folder): the instructor releases and collects from the course folder, and two students,
each with their own home and working folder, fetch, work and submit. ``--student``
stands in for the account name a hub gives each student.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import autograde, load_course
from cnncourse.grading.simulate import copy_course, solved, wrong_answers

ROOT = Path(__file__).resolve().parents[1]
FIRST = "tamanos_salida"


def _nbgrader(*args: str, cwd: Path, home: Path, exchange: Path) -> str:
    """Run the ``nbgrader`` command line as a user whose home is ``home``."""
    env = {**os.environ, "HOME": str(home), "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
           # an activated environment: nbgrader runs its `alembic` script when it creates a gradebook
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stderr + done.stdout


@pytest.mark.slow
def test_release_fetch_submit_collect_then_autograde(tmp_path):
    course = copy_course(load_course(ROOT), tmp_path / "curso", [FIRST])
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # as /srv/nbgrader/exchange on a hub: everyone may write
    instructor = tmp_path / "profesor"
    instructor.mkdir()
    log = _nbgrader("release_assignment", FIRST, cwd=course.root, home=instructor, exchange=exchange)
    assert "Released as: cnncourse tamanos_salida" in log

    release = nbformat.read(course.release_notebooks(FIRST)[0], as_version=4)
    source = nbformat.read(course.source_notebooks(FIRST)[0], as_version=4)
    wrong = next(a for a in wrong_answers(ROOT / "tests" / "wrong_answers" / FIRST) if a.name == "olvida_2p")
    answers = {"ana": solved(release, source), "bruno": solved(release, source, wrong.solutions)}
    for student, answer in answers.items():
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        _nbgrader("fetch_assignment", FIRST, "--course", "cnncourse", cwd=home, home=home, exchange=exchange)
        fetched = home / FIRST / f"{FIRST}.ipynb"
        assert nbformat.read(fetched, as_version=4).cells == release.cells
        nbformat.write(answer, str(fetched))  # the student's work, saved over the fetched copy
        log = _nbgrader("submit", FIRST, "--course", "cnncourse", "--student", student,
                        cwd=home, home=home, exchange=exchange)
        assert "Submitted as: cnncourse tamanos_salida" in log

    inbound = sorted(p.name.split("+")[0] for p in (exchange / "cnncourse" / "inbound").iterdir())
    assert inbound == ["ana", "bruno"]
    _nbgrader("collect", FIRST, cwd=course.root, home=instructor, exchange=exchange)
    for student in answers:
        assert (course.submitted_dir / student / FIRST / f"{FIRST}.ipynb").is_file()

    results = autograde(course, assignments=[FIRST], timeout=30)
    assert [(r.student, r.score, r.max_score) for r in results] == [("ana", 20, 20), ("bruno", 9, 20)]
    # nbgrader's collect adds its timestamp.txt next to each notebook: it is neither graded
    # nor reported to the student as an ignored file
    assert [r.status for r in results] == ["graded", "graded"], [r.detail for r in results]
