"""``autograde``: grade every submission, each in its own scratch course, and merge.

One job per student and assignment (:mod:`cnncourse.grading.job` says why each gets a
scratch course of its own), run in this process, in worker processes (``jobs``) or on a
Dask cluster (``cluster``, :mod:`cnncourse.grading.cluster`). Whatever happens, a job
returns one :class:`~cnncourse.grading.results.NotebookResult` per notebook of the
assignment: a score and a status that says what happened.

The results are recorded in ``autograded/grading_results.json``, the graded notebooks
are copied to ``autograded/<student>/<assignment>/``, and ``gradebook.db`` is rebuilt
from the recorded results, so ``nbgrader export``, the formgrader and
``generate_feedback`` see exactly the scores of the CSV. Re-running is safe: a full run
of an assignment replaces all of its results; a run restricted to some students
replaces theirs and keeps the others'.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from cnncourse.grading.cluster import check_confinement, run_on_cluster
from cnncourse.grading.course import Course, GradingError, load_course
from cnncourse.grading.job import _INSIDE, _failed_job, _grade_job, _grade_safely, _Job
from cnncourse.grading.releases import generate
from cnncourse.grading.results import (
    REVIEW_FILE,
    STATUS,
    NotebookResult,
    _order,
    _save_results,
    _write_gradebook,
    accept_review,
    load_results,
    source_hash,
    write_review_list,
)
from cnncourse.grading.sandbox import Limits, available

# REVIEW_FILE, STATUS, NotebookResult, load_results, accept_review and write_review_list live in
# results.py; they are imported here too because `from cnncourse.grading.grades import ...`
# has always offered them.
__all__ = ["NotebookResult", "STATUS", "REVIEW_FILE", "autograde", "load_results", "accept_review",
           "write_review_list"]


def autograde(
    course: Course | Path | str | None = None,
    submitted: Path | str | None = None,
    *,
    assignments: list[str] | None = None,
    students: list[str] | None = None,
    jobs: int = 1,
    timeout: int | None = None,
    progress: bool | None = None,
    sandbox: bool = True,
    require_confinement: bool = False,
    limits: Limits | None = None,
    cluster: str | None = None,
) -> list[NotebookResult]:
    """Grade the submissions ``submitted/<student>/<assignment>/``.

    Parameters
    ----------
    course : Course or path, optional
        The course (default: the one around the current folder).
    submitted : path, optional
        Folder of submissions (default: the course's ``submitted/``).
    assignments : list of str, optional
        Assignments to grade (default: all). A student without a folder for one of them
        gets a ``not_submitted`` row with score 0.
    students : list of str, optional
        Grade only these students and keep the recorded results of the others.
    jobs : int, optional
        Students graded at the same time, each in its own worker process.
    timeout : int, optional
        Seconds a cell may run (default: ``Execute.timeout`` of nbgrader_config.py).
    progress : bool, optional
        Show a progress bar (default: only in an interactive terminal or notebook).
    sandbox : bool, optional
        Start every kernel through :mod:`cnncourse.grading.sandbox` (default). False runs
        the students' code with your permissions: only for notebooks you trust.
    require_confinement : bool, optional
        Refuse to grade (``GradingError``) where the kernels cannot be confined (no
        Landlock: macOS, Linux before 5.13). Without it, autograde warns on stderr.
    limits : Limits, optional
        Memory, file size, disk, CPU and process limits of each kernel.
    cluster : str, optional
        Grade on a Dask distributed cluster: a scheduler address (``tcp://host:8786``) or
        ``local:N`` for N worker processes on this machine (see
        :mod:`cnncourse.grading.cluster`). ``jobs`` is then ignored; the workers'
        confinement is checked instead of this machine's.

    Returns
    -------
    list of NotebookResult
        One per student, assignment and notebook graded in this run.
    """
    course = course if isinstance(course, Course) else load_course(course)
    assignments = course.resolve(assignments)
    submitted = Path(submitted) if submitted is not None else course.submitted_dir
    chosen = _students(submitted, students)
    timeout = int(timeout if timeout is not None else course.timeout)
    limits = limits or Limits()
    check_confinement(sandbox, require_confinement, confined=cluster is not None or available()["confined"])
    hashes = {name: source_hash(course, name) for name in course.assignments()}
    kept = _kept_results(course, assignments, chosen if students else None, hashes)
    with tempfile.TemporaryDirectory(prefix="cnncourse-autograde-") as scratch, \
            tempfile.TemporaryDirectory(prefix="cnncourse-sandbox-") as boxes:
        scratch = Path(scratch)
        os.chmod(boxes, 0o711)  # each kernel may enter its own folder in here, not list the others
        recorded = sorted({r.assignment for r in kept} & set(hashes))
        generate(course, sorted(set(assignments) | set(recorded)), scratch / "template", database=True)
        work = [
            _Job(
                course_root=str(course.root),
                template=str(scratch / "template"),
                root=str(scratch / "jobs" / f"{i:05d}"),
                student=student,
                assignment=assignment,
                submission=str(submitted / student / assignment) if (submitted / student / assignment).is_dir() else None,
                timeout=timeout,
                source_hash=hashes[assignment],
                sandbox_root=boxes if sandbox else None,
                limits=limits,
            )
            for i, (student, assignment) in enumerate((s, a) for s in chosen for a in assignments)
        ]
        results = _run(work, jobs=jobs, progress=progress, cluster=cluster, sandbox=sandbox,
                       require_confinement=require_confinement)
        _publish_notebooks(course, work, replace_all=not students, assignments=assignments, students=chosen)
        everything = sorted(kept + results, key=_order)
        _save_results(course, everything)
        write_review_list(course, everything)
        _write_gradebook(course, scratch / "template" / "gradebook.db", everything)
    return results


def _kept_results(course: Course, assignments: list[str], regraded: list[str] | None,
                  hashes: dict[str, str]) -> list[NotebookResult]:
    """The recorded results this run keeps: other assignments', and with ``--student``
    (``regraded``) the other students'. Refuses when the solutions changed since then."""
    kept = [
        r for r in load_results(course)
        if r.assignment not in assignments or (regraded and r.student not in regraded)
    ]
    stale = sorted({r.assignment for r in kept if r.assignment in assignments and r.source_hash != hashes[r.assignment]})
    if stale:
        raise GradingError(
            f"the solutions of {stale} changed since other students were graded: grade every "
            "student of these assignments again (leave out --student)"
        )
    return kept


def _students(submitted: Path, wanted: list[str] | None) -> list[str]:
    """The students to grade: every folder of ``submitted``, or those asked for."""
    if not submitted.is_dir():
        raise GradingError(f"no submissions folder {submitted}")
    everyone = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not wanted:
        return everyone
    unknown = sorted(set(wanted) - set(everyone))
    if unknown:
        raise GradingError(f"no submissions in {submitted} for student(s) {unknown}")
    return sorted(set(wanted))


def _run(work: list[_Job], *, jobs: int, progress: bool | None, cluster: str | None = None,
         sandbox: bool = True, require_confinement: bool = False) -> list[NotebookResult]:
    from tqdm.auto import tqdm

    if cluster is not None:
        records = run_on_cluster(work, cluster, progress=progress, sandbox=sandbox,
                                 require_confinement=require_confinement)
        return sorted((NotebookResult(**record) for record in records), key=_order)

    bar = tqdm(total=len(work), desc="autograde", unit="entrega", disable=None if progress is None else not progress)
    records: list[dict] = []
    try:
        if jobs <= 1 or len(work) <= 1:
            for job in work:
                records += _grade_safely(job)
                bar.update()
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed
            from concurrent.futures.process import BrokenProcessPool

            context = multiprocessing.get_context("spawn")
            orphans = []  # jobs of a worker that died (and of the pool it broke): redone here
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(_grade_job, job): job for job in work}
                for future in as_completed(futures):
                    try:
                        records += future.result()
                        bar.update()
                    except BrokenProcessPool:
                        orphans.append(futures[future])
                    except Exception as error:
                        records += _failed_job(futures[future], "grader_error", repr(error))
                        bar.update()
            for job in orphans:
                records += _grade_alone(replace(job, root=f"{job.root}-again"), context)
                bar.update()
    finally:
        bar.close()
    return sorted((NotebookResult(**record) for record in records), key=_order)


def _grade_alone(job: _Job, context) -> list[dict]:
    """Grade one job in a worker of its own, so that it can break nothing else."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(_grade_job, job).result()
        except Exception as error:
            return _failed_job(job, "grader_error", repr(error))


def _publish_notebooks(course: Course, work: list[_Job], *, replace_all: bool, assignments, students) -> None:
    """Copy the graded notebooks to ``autograded/<student>/<assignment>/``."""
    autograded = course.autograded_dir
    if replace_all and autograded.is_dir():
        for assignment in assignments:
            for folder in autograded.glob(f"*/{assignment}"):
                if folder.parent.name not in students:
                    shutil.rmtree(folder)
    for job in work:
        target = autograded / job.student / job.assignment
        if target.exists():
            shutil.rmtree(target)
        graded = Path(job.root) / course.autograded_dir.name / _INSIDE / job.assignment
        if graded.is_dir() and any(graded.glob("*.ipynb")):
            shutil.copytree(graded, target)


