"""``autograde``: grade every submission, each in its own scratch course, and merge.

Why one scratch course per student and assignment: nbgrader grades a whole class in
one course directory and one database, so one pathological submission can stop the
run (a broken metadata error aborts it), drop a submission while its partial score
stays in the database (a kernel killed by ``os._exit``), or leave state behind that the
next run trips over. Here each job gets a copy of a freshly generated gradebook, the
staged (repaired) notebooks of one student (see :mod:`cnncourse.grading.staging`) and
one nbgrader ``Autograde`` run per notebook, in this process (no interpreter start-up
per student). Whatever happens, the job returns one :class:`NotebookResult` per
notebook of the assignment: a score and a status that says what happened.

The results are recorded in ``autograded/grading_results.json``, the graded notebooks
are copied to ``autograded/<student>/<assignment>/``, and ``gradebook.db`` is rebuilt
from the recorded results, so ``nbgrader export``, the formgrader and
``generate_feedback`` see exactly the scores of the CSV. Re-running is safe: a full run
of an assignment replaces all of its results; a run restricted to some students
replaces theirs and keeps the others'.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from cnncourse.grading.cluster import check_confinement, run_on_cluster
from cnncourse.grading.course import (
    Course,
    GradingError,
    error_summary,
    load_course,
    quiet_warnings,
    run_converter,
)
from cnncourse.grading.notebooks import grade_id, is_test, nbgrader_meta
from cnncourse.grading.releases import generate
from cnncourse.grading.sandbox import Limits, Sandbox, available, kill_uid, read_status
from cnncourse.grading.staging import stage_submission

__all__ = ["NotebookResult", "STATUS", "autograde", "load_results", "accept_review", "write_review_list"]

RESULTS_FILE = "grading_results.json"

#: Status codes, in the order they are reported, and what each means (Spanish, for the
#: report and the students' feedback). The first code of a status is the outcome
#: (``graded`` or why the notebook could not be graded); the others are notes.
STATUS = {
    "graded": "corregido automáticamente",
    "not_submitted": "sin entrega",
    "missing_notebook": "falta el cuaderno",
    "invalid_notebook": "el archivo no es un cuaderno válido",
    "kernel_died": "el kernel se cerró durante la ejecución",
    "unresponsive_kernel": "el kernel dejó de responder",
    "grader_error": "error interno al corregir",
    "timeout": "una celda superó el tiempo límite y se interrumpió",
    "renamed_notebook": "cuaderno con otro nombre, corregido igualmente",
    "duplicate_cells": "celdas copiadas, corregidas igualmente",
    "restored_cells": "celdas borradas, restauradas antes de corregir",
    "tests_restored": "celdas de solo lectura modificadas, restauradas antes de corregir",
    "metadata_repaired": "metadatos de corrección dañados, reparados",
    "ignored_files": "archivos extra ignorados",
    "memory_limit": "el cuaderno superó el límite de memoria",
    "disk_limit": "el cuaderno superó el límite de disco",
    "process_limit": "el cuaderno creó demasiados procesos",
    "cpu_limit": "el cuaderno superó el límite de tiempo de CPU",
    "worker_lost": "el equipo que corregía el cuaderno falló repetidamente",
    "tampering": "el cuaderno manipula el entorno de corrección: nota pendiente de revisión",
    "reviewed": "revisado por el profesor",
}

_FAILURE_DETAIL = {
    "kernel_died": (
        "El kernel de Python se cerró mientras se ejecutaba el cuaderno (por ejemplo, por "
        "os._exit() o por falta de memoria), así que no se pudo corregir y la nota es 0. "
        "Comprueba que el cuaderno se ejecuta entero con «Kernel → Restart & Run All» y "
        "vuelve a entregarlo."
    ),
    "unresponsive_kernel": (
        "El kernel dejó de responder y no se pudo interrumpir (¿un bucle que consume toda "
        "la memoria?), así que no se pudo corregir y la nota es 0."
    ),
    "grader_error": "No se pudo corregir automáticamente por un error interno; el profesor revisará la entrega.",
    "worker_lost": (
        "El equipo que corregía este cuaderno dejó de funcionar varias veces mientras lo ejecutaba, "
        "así que no se pudo corregir y la nota es 0; el profesor revisará la entrega."
    ),
    "memory_limit": (
        "El cuaderno intentó usar más memoria de la permitida ({memory}) y se detuvo, así que no "
        "se pudo corregir y la nota es 0. Revisa que no crees listas o arrays enormes."
    ),
    "disk_limit": (
        "El cuaderno escribió en disco más de lo permitido ({disk}) y se detuvo, así que no se "
        "pudo corregir y la nota es 0. Los ejercicios no necesitan escribir archivos grandes."
    ),
    "process_limit": (
        "El cuaderno creó procesos sin parar (más de {processes}) y se detuvo, así que no se pudo "
        "corregir y la nota es 0. Los ejercicios no necesitan crear procesos (os.fork, "
        "subprocess, multiprocessing)."
    ),
    "cpu_limit": (
        "El cuaderno consumió más de {cpu} s de CPU en total y se detuvo, así que no se pudo "
        "corregir y la nota es 0."
    ),
}

#: Notes for a notebook that ran to the end but hit a limit on the way (its tests are graded).
_LIMIT_NOTES = {
    "memory_limit": (
        "Una celda intentó reservar más memoria de la permitida ({memory}) y falló con "
        "MemoryError; las pruebas que dependen de ella no pasan."
    ),
    "disk_limit": (
        "Una celda intentó escribir un archivo mayor que el límite ({file_size}) y falló; las "
        "pruebas que dependen de ella no pasan."
    ),
    "process_limit": (
        "Una celda intentó crear más procesos de los permitidos y falló; las pruebas que "
        "dependen de ella no pasan."
    ),
}


@dataclass
class NotebookResult:
    """The grade of one notebook of one student's submission."""

    student: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str  # codes of STATUS joined by "; ", the outcome first
    detail: str  # what happened, in Spanish, for the student
    cells: dict[str, list] = field(default_factory=dict)  # grade id -> [score or None, max]
    seconds: float = 0.0
    source_hash: str = ""
    withheld: float = 0.0  # points the tests gave a submission under review (``tampering``)

    @property
    def graded(self) -> bool:
        return self.status.split("; ")[0] == "graded"

    def row(self) -> dict[str, object]:
        """The columns of the grades CSV."""
        return {
            "student": self.student,
            "assignment": self.assignment,
            "notebook": self.notebook,
            "score": _number(self.score),
            "max_score": _number(self.max_score),
            "status": self.status,
            "detail": self.detail,
        }


# The student's id inside a job's scratch course. Real ids (folder names) may hold
# characters that nbgrader's path globbing misreads, such as "[2]".
_INSIDE = "alumno"


@dataclass(frozen=True)
class _Job:
    course_root: str
    template: str
    root: str
    student: str
    assignment: str
    submission: str | None
    timeout: int
    source_hash: str
    sandbox_root: str | None = None  # None: kernels run unconfined
    limits: Limits = Limits()


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
    kept = [
        r for r in load_results(course)
        if r.assignment not in assignments or (students and r.student not in chosen)
    ]
    stale = sorted({r.assignment for r in kept if r.assignment in assignments and r.source_hash != hashes[r.assignment]})
    if stale:
        raise GradingError(
            f"the solutions of {stale} changed since other students were graded: grade every "
            "student of these assignments again (leave out --student)"
        )
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


def load_results(course: Course | Path | str | None = None) -> list[NotebookResult]:
    """The results recorded by previous autograde runs (empty if none)."""
    course = course if isinstance(course, Course) else load_course(course)
    path = course.autograded_dir / RESULTS_FILE
    if not path.is_file():
        return []
    return [NotebookResult(**record) for record in json.loads(path.read_text(encoding="utf-8"))]


def source_hash(course: Course, assignment: str) -> str:
    """A fingerprint of an assignment's source notebooks (tests included)."""
    digest = hashlib.sha256()
    for path in course.source_notebooks(assignment):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _order(result: NotebookResult):
    return (result.student, result.assignment, result.notebook)


def _number(value: float):
    return int(value) if float(value).is_integer() else round(float(value), 4)


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


def _grade_safely(job: _Job) -> list[dict]:
    try:
        return _grade_job(job)
    except Exception as error:  # never let one submission stop the others
        return _failed_job(job, "grader_error", repr(error))


def _failed_job(job: _Job, outcome: str, message: str) -> list[dict]:
    import nbformat

    results = []
    for path in sorted((Path(job.template) / _release_name(job) / job.assignment).glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        results.append(_zero(job, path.stem, release, outcome, [f"{_FAILURE_DETAIL[outcome]} ({message})"], []))
    return [asdict(r) for r in results]


def _release_name(job: _Job) -> str:
    return load_course(job.course_root).release_dir.name


def _grade_job(job: _Job) -> list[dict]:
    """Grade one student's submission of one assignment in a scratch course."""
    import nbformat
    from nbgrader.converters import Autograde

    course = load_course(job.course_root)
    root, template = Path(job.root), Path(job.template)
    shutil.copytree(
        template / course.source_dir.name / job.assignment, root / course.source_dir.name / job.assignment
    )
    shutil.copy(template / "gradebook.db", root / "gradebook.db")
    config = course.nbgrader_config(root, **{"Execute.timeout": job.timeout})
    releases = {
        path.stem: nbformat.read(path, as_version=4)
        for path in sorted((template / course.release_dir.name / job.assignment).glob("*.ipynb"))
    }
    submission = Path(job.submission) if job.submission else None
    staged = stage_submission(submission, releases, root / course.submitted_dir.name / _INSIDE / job.assignment)
    results = []
    for name, stage in staged.items():
        start = time.perf_counter()
        if stage.outcome != "staged":
            results.append(_zero(job, name, releases[name], stage.outcome, stage.details, stage.notes))
            continue
        box = _sandbox(job, root, name)
        try:
            outcome = run_converter(
                Autograde,
                _confined(config, box),
                assignment_id=job.assignment,
                student_id=_INSIDE,
                notebook_id=name,
                force=True,
                create_student=True,
            )
        finally:
            if box is not None:
                if box.uid is not None:
                    kill_uid(box.uid)
                shutil.rmtree(box.scratch, ignore_errors=True)
        sandboxed = read_status(box.status_file) if box is not None else None
        graded = root / course.autograded_dir.name / _INSIDE / job.assignment / f"{name}.ipynb"
        stopped = _stopped_by_sandbox(sandboxed)
        if stopped is None and outcome["success"] and graded.is_file():
            result = _read_grades(job, root, name, graded, stage)
            staged_nb = root / course.submitted_dir.name / _INSIDE / job.assignment / f"{name}.ipynb"
            _withhold_if_tampered(result, staged_nb, graded)
        else:
            log = outcome["log"] + outcome.get("error", "")
            failure = stopped or _classify_failure(log)
            explanation = _FAILURE_DETAIL[failure].format(**_limit_words(job.limits))
            if failure == "grader_error":
                explanation += f" (nbgrader: {error_summary(log).replace(chr(10), '; ')})"
            result = _zero(job, name, releases[name], failure, [explanation] + stage.details, stage.notes)
        result.seconds = round(time.perf_counter() - start, 3)
        results.append(result)
    return [asdict(r) for r in results]


def _withhold_if_tampered(result: NotebookResult, staged: Path, graded: Path) -> None:
    """Status ``tampering`` and points withheld when the submission changes the grading environment.

    Two independent sources: the student's own code read outside the kernel
    (:func:`cnncourse.grading.guard.scan_submission`) and the integrity guard that ran
    inside it at the end of each test cell.
    """
    import nbformat

    from cnncourse.grading.guard import TAMPER_MARKER, scan_submission
    from cnncourse.grading.notebooks import is_locked

    submitted = nbformat.read(staged, as_version=4)
    editable = [c.source for c in submitted.cells if c.cell_type == "code" and not is_locked(c)]
    findings = scan_submission(editable)
    executed = nbformat.read(graded, as_version=4)
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            text = str(out.get("evalue", "")) + "".join(out.get("traceback", []))
            if TAMPER_MARKER in text:
                message = next((line for line in str(out.get("evalue", "")).splitlines() if TAMPER_MARKER in line), "")
                findings.append(f"la comprobación de integridad de {grade_id(cell)} falló "
                                f"({message.replace(TAMPER_MARKER + ': ', '')})")
    if not findings:
        return
    findings = list(dict.fromkeys(findings))
    result.withheld = result.score
    result.score = 0.0
    result.cells = {key: [0.0 if value is not None else None, top] for key, (value, top) in result.cells.items()}
    notes = [code for code in result.status.split("; ") if code != "graded"]
    result.status = "; ".join(["tampering", *notes])
    result.detail = (
        "Tu cuaderno modifica el entorno de corrección (" + "; ".join(findings) + "). Las pruebas le "
        f"dan {_number(result.withheld)} de {_number(result.max_score)} puntos, pero la nota queda "
        "retenida en 0 hasta que el profesor revise la entrega. Si se trata de un error, explícaselo; "
        "para la próxima entrega, no cambies funciones de Python, de numpy ni del intérprete."
    )


def _sandbox(job: _Job, root: Path, name: str) -> Sandbox | None:
    """The sandbox of one notebook's kernel: its own scratch folder, uid and limits."""
    if job.sandbox_root is None:
        return None
    uid = 2_000_000 + secrets.randbelow(1_000_000) if os.geteuid() == 0 else None
    return Sandbox(
        scratch=Path(job.sandbox_root) / f"{Path(job.root).name}-{secrets.token_hex(4)}",
        limits=job.limits,
        uid=uid,
        status_file=root / f".sandbox-{name}.json",
    )


def _confined(config, box: Sandbox | None):
    """The autograde configuration with kernels started inside ``box``."""
    if box is None:
        return config
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from cnncourse.grading.sandbox import SandboxExecute

    config = copy.deepcopy(config)
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    config.Autograde.autograde_preprocessors = [SandboxExecute if step is Execute else step for step in steps]
    config.SandboxKernelManager.sandbox_argv = box.wrap([])[:-1]
    return config


def _stopped_by_sandbox(status: dict | None) -> str | None:
    """The status of a kernel the sandbox stopped (disk, processes, CPU), else None."""
    if not status:
        return None
    if status.get("event") == "disk":
        return "disk_limit"
    if status.get("event") == "processes":
        return "process_limit"
    if status.get("signal") == signal.SIGXCPU:
        return "cpu_limit"
    return None


def _limit_words(limits: Limits) -> dict[str, str]:
    size = lambda n: "sin límite" if n is None else f"{n / 2**20:.0f} MiB"  # noqa: E731
    return {
        "memory": size(limits.memory),
        "disk": size(limits.disk),
        "file_size": size(limits.file_size),
        "processes": "sin límite" if limits.processes is None else str(limits.processes // 2),
        "cpu": "sin límite" if limits.cpu_seconds is None else str(limits.cpu_seconds),
    }


def _limit_errors(executed) -> list[str]:
    """Limits a notebook ran into without dying: MemoryError, file too large, no more processes."""
    found = []
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            name, value = out.get("ename", ""), out.get("evalue", "")
            if name == "MemoryError":
                found.append("memory_limit")
            elif "[Errno 27]" in value or "[Errno 28]" in value or "File too large" in value:
                found.append("disk_limit")
            elif name == "BlockingIOError" or "[Errno 11]" in value:
                found.append("process_limit")
    return list(dict.fromkeys(found))


def _zero(job: _Job, name: str, release, outcome: str, details: list[str], notes: list[str]) -> NotebookResult:
    cells = {grade_id(c): [0.0, float(nbgrader_meta(c).get("points", 0))] for c in release.cells if is_test(c)}
    return NotebookResult(
        student=job.student,
        assignment=job.assignment,
        notebook=name,
        score=0.0,
        max_score=sum(top for _, top in cells.values()),
        status="; ".join([outcome] + notes),
        detail=" ".join(details),
        cells=cells,
        source_hash=job.source_hash,
    )


def _read_grades(job: _Job, root: Path, name: str, graded: Path, stage) -> NotebookResult:
    import nbformat
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submitted = gb.find_submission_notebook(name, job.assignment, _INSIDE)
        cells = {grade.name: [grade.score if not grade.needs_manual_grade else None, grade.max_score]
                 for grade in submitted.grades}
        score, max_score = float(submitted.score), float(submitted.max_score)
    notes, details = ["graded"], ["Corregido automáticamente."]
    executed = nbformat.read(graded, as_version=4)
    timed_out = [
        grade_id(cell) or f"celda {index + 1}"
        for index, cell in enumerate(executed.cells)
        if any(out.get("ename") == "CellTimeoutError" for out in cell.get("outputs", []))
    ]
    if timed_out:
        notes.append("timeout")
        details.append(
            f"Una celda ({', '.join(timed_out)}) superó el límite de {job.timeout} s y se "
            "interrumpió (¿un bucle infinito?); las pruebas que dependen de ella no pasan."
        )
    for limit in _limit_errors(executed):
        notes.append(limit)
        details.append(_LIMIT_NOTES[limit].format(**_limit_words(job.limits)))
    if any(value is None for value, _ in cells.values()):
        details.append("Alguna respuesta necesita corrección manual.")
    return NotebookResult(
        student=job.student,
        assignment=job.assignment,
        notebook=name,
        score=score,
        max_score=max_score,
        status="; ".join(notes + stage.notes),
        detail=" ".join(details + stage.details),
        cells=cells,
        source_hash=job.source_hash,
    )


def _classify_failure(log: str) -> str:
    if "Kernel died" in log or "DeadKernelError" in log:
        return "kernel_died"
    if "kernel became unresponsive" in log or "UnresponsiveKernelError" in log:
        return "unresponsive_kernel"
    return "grader_error"


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


REVIEW_FILE = "review.csv"


def write_review_list(course: Course, results: list[NotebookResult]) -> Path | None:
    """``autograded/review.csv``: the submissions whose points are withheld, for the instructor.

    One row per notebook with status ``tampering``: what was found, the points its tests
    gave (``withheld``) and the graded notebook to look at. Accept one with
    ``python -m cnncourse.grading review --accept STUDENT ASSIGNMENT``. The file is
    removed when nothing needs review.
    """
    import csv

    path = course.autograded_dir / REVIEW_FILE
    rows = [r for r in results if r.status.split("; ")[0] == "tampering"]
    if not rows:
        path.unlink(missing_ok=True)
        return None
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "notebook", "withheld", "max_score", "notebook_path", "detail"])
        for r in rows:
            graded = course.autograded_dir / r.student / r.assignment / f"{r.notebook}.ipynb"
            writer.writerow([r.student, r.assignment, r.notebook, _number(r.withheld), _number(r.max_score),
                             str(graded), r.detail])
    return path


def accept_review(course: Course | Path | str | None, student: str, assignment: str) -> list[NotebookResult]:
    """Give back the withheld points of a reviewed submission (status ``graded; reviewed``).

    Raises
    ------
    GradingError
        If that submission has nothing under review.
    """
    course = course if isinstance(course, Course) else load_course(course)
    results = load_results(course)
    changed = []
    for r in results:
        if r.student == student and r.assignment == assignment and r.status.split("; ")[0] == "tampering":
            r.score, r.withheld = r.withheld, 0.0
            r.status = "; ".join(["graded", *r.status.split("; ")[1:], "reviewed"])
            r.detail = "Corregido automáticamente; el profesor revisó la entrega y aceptó la nota. " + r.detail
            changed.append(r)
    if not changed:
        raise GradingError(f"nothing under review for student {student!r} in {assignment!r}")
    # the per-test points of a reviewed notebook are in its graded copy
    for r in changed:
        _restore_cells(course, r)
    _save_results(course, results)
    write_review_list(course, results)
    with tempfile.TemporaryDirectory(prefix="cnncourse-review-") as scratch:
        generate(course, sorted({x.assignment for x in results}), Path(scratch), database=True)
        _write_gradebook(course, Path(scratch) / "gradebook.db", results)
    return changed


def _restore_cells(course: Course, result: NotebookResult) -> None:
    import nbformat
    from nbgrader.utils import determine_grade

    graded = course.autograded_dir / result.student / result.assignment / f"{result.notebook}.ipynb"
    nb = nbformat.read(graded, as_version=4)
    for cell in nb.cells:
        if is_test(cell):
            score, top = determine_grade(cell)
            result.cells[grade_id(cell)] = [float(score or 0.0), float(top)]


def _save_results(course: Course, results: list[NotebookResult]) -> None:
    course.autograded_dir.mkdir(parents=True, exist_ok=True)
    path = course.autograded_dir / RESULTS_FILE
    scratch = path.with_name(f".{path.name}.new")
    scratch.write_text(
        json.dumps([asdict(r) for r in results], indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(scratch, path)


def _write_gradebook(course: Course, template_db: Path, results: list[NotebookResult]) -> None:
    """Rebuild ``gradebook.db`` from the recorded results (the CSV's scores, exactly)."""
    from nbgrader.api import Gradebook, MissingEntry

    scratch = course.gradebook.with_name(".gradebook.db.new")
    shutil.copy(template_db, scratch)
    with quiet_warnings(), Gradebook(f"sqlite:///{scratch}", course.course_id) as gb:
        for result in results:
            gb.update_or_create_student(result.student)
            try:
                gb.update_or_create_submission(result.assignment, result.student)
                notebook = gb.find_submission_notebook(result.notebook, result.assignment, result.student)
            except MissingEntry:  # an assignment or notebook no longer in the course
                continue
            for grade in notebook.grades:
                score, _ = result.cells.get(grade.name, [0.0, None])
                grade.auto_score = score
                grade.needs_manual_grade = score is None
            gb.db.commit()
    os.replace(scratch, course.gradebook)
