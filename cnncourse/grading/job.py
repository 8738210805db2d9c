"""One autograde job: one student's submission of one assignment, in a scratch course.

Why one scratch course per student and assignment: nbgrader grades a whole class in
one course directory and one database, so one pathological submission can stop the
run (a broken metadata error aborts it), drop a submission while its partial score
stays in the database (a kernel killed by ``os._exit``), or leave state behind that the
next run trips over. Here each job gets a copy of a freshly generated gradebook, the
staged (repaired) notebooks of one student (see :mod:`cnncourse.grading.staging`) and
one nbgrader ``Autograde`` run per notebook, each kernel confined by
:mod:`cnncourse.grading.sandbox`. Whatever happens, the job returns one record per
notebook of the assignment (:class:`~cnncourse.grading.results.NotebookResult` as a
dict): a score and a status that says what happened. A job reads and writes only the
folders named in it, so it runs the same in this process, in a worker process or on
another machine.
"""

from __future__ import annotations

import copy
import os
import secrets
import shutil
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cnncourse.grading.course import error_summary, load_course, run_converter
from cnncourse.grading.notebooks import grade_id, is_test, nbgrader_meta
from cnncourse.grading.sandbox import Limits, Sandbox, kill_uid, read_status
from cnncourse.grading.staging import stage_submission

from cnncourse.grading.results import NotebookResult, _number

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


def _failed_job(job: _Job, outcome: str, message: str) -> list[dict]:
    import nbformat

    results = []
    for path in sorted((Path(job.template) / _release_name(job) / job.assignment).glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        results.append(_zero(job, path.stem, release, outcome, [f"{_FAILURE_DETAIL[outcome]} ({message})"], []))
    return [asdict(r) for r in results]


def _grade_safely(job: _Job) -> list[dict]:
    """Grade one job; whatever goes wrong becomes its own ``grader_error`` rows."""
    try:
        return _grade_job(job)
    except Exception as error:  # never let one submission stop the others
        return _failed_job(job, "grader_error", repr(error))


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

