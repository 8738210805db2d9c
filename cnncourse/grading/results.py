"""The results of autograde: one record per notebook, the gradebook, the review list.

Every autograde run ends here, on the coordinator (the instructor's machine), whether the
notebooks were graded in this process, in worker processes or on a cluster:

- :class:`NotebookResult` is one student's notebook: score, status (codes of
  :data:`STATUS`, the outcome first) and what happened, in Spanish, for the student;
- ``autograded/grading_results.json`` holds every record (:func:`load_results`);
- ``gradebook.db`` is rebuilt from the records, so nbgrader's ``export``, the formgrader
  and ``generate_feedback`` show exactly the CSV's scores;
- ``autograded/review.csv`` lists the submissions whose points are withheld
  (status ``tampering``) until the instructor accepts them (:func:`accept_review`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnncourse.grading.course import Course, GradingError, load_course, quiet_warnings
from cnncourse.grading.notebooks import grade_id, is_test
from cnncourse.grading.releases import generate

__all__ = ["NotebookResult", "STATUS", "RESULTS_FILE", "REVIEW_FILE", "load_results", "source_hash",
           "accept_review", "write_review_list"]

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

