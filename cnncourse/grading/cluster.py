"""``autograde --cluster``: grade the per-notebook jobs on a Dask distributed cluster.

The workers need not see the coordinator's disk: every task carries its inputs as
data. The generated template course (release, source and template gradebook) and the
course's ``nbgrader_config.py`` are packed once as zip bytes and broadcast to every
worker; each task carries the files of one submission folder. On the worker the task
unpacks them in a local temporary folder, runs the same per-job grading as one machine
(:func:`cnncourse.grading.job._grade_job`) and returns the records and the graded
notebooks as bytes. The coordinator writes the notebooks back under the job's own
scratch folder, so publishing the notebooks, saving the results and rebuilding
``gradebook.db`` happen once, on the coordinator, exactly as on one machine.

A worker that dies mid-notebook loses nothing: Dask runs its tasks again elsewhere. A
task that keeps killing workers (Dask's ``KilledWorker``) gets rows of status
``worker_lost`` with score 0; the other notebooks are graded.

``ADDRESS`` is a scheduler address (``tcp://host:8786``) or ``local:N`` for a
``LocalCluster`` of N worker processes with one thread each on this machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Iterator

from cnncourse.grading.course import GradingError, load_course
from cnncourse.grading.job import _failed_job, _grade_safely

__all__ = ["check_confinement", "connect", "run_on_cluster", "last_run"]

#: Timings of the last :func:`run_on_cluster` (seconds), for the benchmark: the
#: coordinator's own work (``pack``, ``checks``, ``send``, ``receive``, ``write``), the
#: workers' (``worker``: sum over tasks, unpacking included), ``start`` (connecting, and
#: starting a ``local:N`` cluster) and the ``wall`` time.
last_run: dict[str, float] = {}

#: Scheduler setting: send a worker only as many tasks as it has threads. Dask counts a
#: worker's death against every task sent to it; with more than one task per thread, a
#: notebook merely waiting on a worker that another notebook keeps killing would end
#: ``worker_lost`` too. Start a real scheduler with
#: ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0``.
ONE_TASK_PER_THREAD = {"distributed.scheduler.worker-saturation": 1.0}

# per worker process: bundle digest -> folder it was unpacked to (once per worker)
_UNPACKED: dict[str, Path] = {}


def check_confinement(sandbox: bool, require_confinement: bool, *, confined: bool) -> None:
    """Refuse (``require_confinement``) or warn when the kernels will run unconfined.

    ``confined``: whether the machine that runs the kernels can confine them (on a
    cluster, True here: :func:`run_on_cluster` checks every worker).
    """
    if sandbox and confined:
        return
    why = "sandbox=False" if not sandbox else "this system has no Landlock (Linux 5.13+ needed)"
    if require_confinement:
        raise GradingError(f"cannot confine the students' kernels ({why}); refusing to grade")
    print(f"warning: autograde runs the students' code UNCONFINED ({why}): a submission can read and "
          "write everything you can; see docs/grading.md", file=sys.stderr)


#: How often a task cancelled by the loss of the broadcast template is sent again.
RESENDS = 10

#: Seconds a broadcast waits for a worker to be alive (workers restarted by their nanny
#: after a crash take a few seconds to register again), and how often it tries.
WORKER_WAIT = 60
BROADCASTS = 5


@contextmanager
def connect(address: str) -> Iterator[object]:
    """A ``distributed.Client`` of ``address`` (``tcp://host:port`` or ``local:N``)."""
    import dask
    from distributed import Client, LocalCluster

    if not isinstance(address, str) or not address:
        raise ValueError(f"cluster must be a scheduler address or 'local:N', got {address!r}")
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"cluster 'local:N' needs a positive number of workers, got {address!r}")
        with dask.config.set(ONE_TASK_PER_THREAD), LocalCluster(
                n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=None
        ) as local, Client(local) as client:
            yield client
        return
    with Client(address) as client:
        yield client


def run_on_cluster(work: list, address: str, *, progress: bool | None, sandbox: bool,
                   require_confinement: bool) -> list[dict]:
    """Grade the jobs ``work`` on the cluster at ``address``; the records of every notebook."""
    last_run.clear()
    if not work:
        return []
    start = time.perf_counter()
    with connect(address) as client:
        last_run["start"] = time.perf_counter() - start
        tick = time.perf_counter()
        _check_workers(client, sandbox=sandbox, require_confinement=require_confinement)
        last_run["checks"] = time.perf_counter() - tick
        tick = time.perf_counter()
        bundle, digest = pack_template(work[0])
        last_run["pack"] = time.perf_counter() - tick
        records = _submit_and_collect(client, work, bundle, digest, progress)
    last_run["wall"] = time.perf_counter() - start
    return records


def _submit_and_collect(client, work: list, bundle: bytes, digest: str, progress: bool | None) -> list[dict]:
    """Send every job, then receive each result as it completes and write its notebooks back.

    A task cancelled because every copy of the broadcast template died with its workers
    is sent again with a fresh broadcast. That is never the task's own fault (a task that
    kills its workers ends in ``KilledWorker`` instead), and each notebook that kills workers
    takes down at most ``allowed-failures + 1`` of them, so an innocent task may be
    cancelled several times while one is being given up on: it is resent up to
    :data:`RESENDS` times before it gets a ``worker_lost`` row.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from tqdm.auto import tqdm


    tick = time.perf_counter()
    shared = [_broadcast(client, bundle)]

    def send(job):
        return client.submit(grade_remote, job, shared[0], digest, submission_files(job.submission), pure=False)

    futures = {send(job): job for job in work}
    last_run["send"] = time.perf_counter() - tick
    last_run.update(receive=0.0, write=0.0, worker=0.0)
    records: list[dict] = []
    resent: dict[str, int] = {}
    bar = tqdm(total=len(work), desc="autograde", unit="entrega", disable=None if progress is None else not progress)
    try:
        pending = as_completed(futures)
        for future in pending:
            job = futures[future]
            tick = time.perf_counter()
            try:
                answer = future.result()
            except FutureCancelledError as error:
                if resent.get(job.root, 0) < RESENDS:
                    resent[job.root] = resent.get(job.root, 0) + 1
                    try:
                        shared[0] = _broadcast(client, bundle)
                    except GradingError as lost:
                        error = lost
                    else:
                        again = send(job)
                        futures[again] = job
                        pending.add(again)
                        continue
                records += _failed_job(job, "worker_lost", repr(error))
                bar.update()
                continue
            except Exception as error:  # KilledWorker, or the task itself failed
                records += _failed_job(job, _outcome_of(error), repr(error))
                bar.update()
                continue
            last_run["receive"] += time.perf_counter() - tick
            tick = time.perf_counter()
            _write_back(job, answer["files"])
            last_run["write"] += time.perf_counter() - tick
            last_run["worker"] += answer["seconds"]
            records += answer["records"]
            bar.update()
    finally:
        bar.close()
    return records


def _broadcast(client, bundle: bytes):
    """The template bundle, copied to every worker alive now (a future of it).

    Waits for a worker first: when the last workers have just died, the scatter would
    fail with "No valid workers found" while their nannies are starting new ones; and a
    worker may die again between the wait and the scatter, hence the tries."""
    import asyncio

    for _ in range(BROADCASTS):
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
            return client.scatter(bundle, broadcast=True, hash=False)
        except (TimeoutError, asyncio.TimeoutError) as error:   # distinct classes on 3.10
            last = error
    raise GradingError(f"no worker of the cluster stayed alive to receive the course template ({last})")


def _outcome_of(error: Exception) -> str:
    from distributed import KilledWorker

    return "worker_lost" if isinstance(error, KilledWorker) else "grader_error"


def _check_workers(client, *, sandbox: bool, require_confinement: bool) -> None:
    """Same cnncourse and nbgrader as here on every worker; confinement where asked for."""
    facts = client.run(worker_facts)
    if not facts:
        raise GradingError(f"the cluster at {client.scheduler.address} has no workers")
    here = worker_facts()
    for worker, seen in sorted(facts.items()):
        for package in ("cnncourse", "nbgrader"):
            if seen[package] != here[package]:
                raise GradingError(
                    f"worker {worker} has {package} {seen[package]}, this machine {here[package]}: install the "
                    "same environment on every worker"
                )
    unconfined = sorted(worker for worker, seen in facts.items() if not seen["confined"])
    if not sandbox or not unconfined:
        return
    if require_confinement:
        raise GradingError(f"worker(s) {unconfined} cannot confine the students' kernels (no Landlock: "
                           "Linux 5.13+ needed); refusing to grade")
    print(f"warning: worker(s) {unconfined} run the students' code UNCONFINED (no Landlock): a submission "
          "can read and write everything the worker can; see docs/grading.md", file=sys.stderr)


def worker_facts() -> dict[str, object]:
    """The versions of cnncourse and nbgrader here, and whether kernels can be confined."""
    from importlib.metadata import version

    from cnncourse.grading import sandbox as sandbox_module

    return {
        "cnncourse": version("cnncourse"),
        "nbgrader": version("nbgrader"),
        "confined": bool(sandbox_module.available()["confined"]),
    }


def pack_template(job) -> tuple[bytes, str]:
    """The template course of ``job`` and its ``nbgrader_config.py`` as zip bytes, and their digest."""
    buffer = io.BytesIO()
    template = Path(job.template)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(Path(job.course_root) / "nbgrader_config.py", "course/nbgrader_config.py")
        for path in sorted(template.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"template/{path.relative_to(template).as_posix()}")
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def submission_files(folder: str | None) -> dict[str, bytes] | None:
    """The regular files of a submission folder, by relative path (symbolic links left out)."""
    if folder is None:
        return None
    files = {}
    for top, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
        for name in names:
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def _unpack(data: bytes, target: Path) -> None:
    """Extract zip bytes or ``{relative path: bytes}`` into ``target``, refusing paths that leave it."""
    items = data.items() if isinstance(data, dict) else _zip_items(data)
    for name, content in items:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise GradingError(f"refusing to write {name!r} outside {target}")
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _zip_items(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist() if not name.endswith("/")]


def _unpacked(bundle: bytes, digest: str) -> Path:
    """The folder of this worker process where ``bundle`` is unpacked (once per process)."""
    if digest not in _UNPACKED or not _UNPACKED[digest].is_dir():
        folder = Path(tempfile.mkdtemp(prefix="cnncourse-template-"))
        _unpack(bundle, folder)
        _UNPACKED[digest] = folder
    return _UNPACKED[digest]


def grade_remote(job, bundle: bytes, digest: str, files: dict[str, bytes] | None) -> dict[str, object]:
    """On a worker: grade ``job`` from its inputs as data; the records and graded files as bytes."""

    start = time.perf_counter()
    base = _unpacked(bundle, digest)
    with tempfile.TemporaryDirectory(prefix="cnncourse-task-") as scratch, \
            tempfile.TemporaryDirectory(prefix="cnncourse-sandbox-") as boxes:
        os.chmod(boxes, 0o711)  # each kernel may enter its own folder in here, not list the others
        scratch = Path(scratch)
        submission = None
        if files is not None:
            submission = scratch / "submission"
            submission.mkdir()
            _unpack(files, submission)
        local = replace(
            job,
            course_root=str(base / "course"),
            template=str(base / "template"),
            root=str(scratch / "job"),
            submission=str(submission) if submission is not None else None,
            sandbox_root=boxes if job.sandbox_root is not None else None,
        )
        records = _grade_safely(local)
        graded = scratch / "job" / load_course(local.course_root).autograded_dir.name
        back = {}
        if graded.is_dir():
            back = {str(p.relative_to(scratch / "job").as_posix()): p.read_bytes()
                    for p in sorted(graded.rglob("*")) if p.is_file() and not p.is_symlink()}
    return {"records": records, "files": back, "seconds": time.perf_counter() - start}


def _write_back(job, files: dict[str, bytes]) -> None:
    """Write a task's graded files under the job's own scratch folder on the coordinator."""
    root = Path(job.root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _unpack(files, root)
