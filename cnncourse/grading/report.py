"""``report``: the grades CSV and each student's HTML feedback.

Reads what :func:`cnncourse.grading.autograde` recorded and writes:

- ``feedback/grades.csv`` (by default): one row per student, assignment and notebook
  with ``student, assignment, notebook, score, max_score, status, detail``;
- ``feedback/<student>/<assignment>/<notebook>.html``: nbgrader's feedback page for a
  graded notebook (code, outputs, points per test; hidden tests are shown after
  grading, as nbgrader does), or, when the notebook could not be graded, a page that
  says why and what to do;
- ``feedback/<student>/index.html``: the student's summary, with every status
  explained in Spanish and links to the pages above.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from cnncourse.grading.autograde import STATUS, NotebookResult, load_results
from cnncourse.grading.course import Course, GradingError, load_course, run_converter

__all__ = ["ReportFiles", "report", "CSV_COLUMNS"]

CSV_COLUMNS = ["student", "assignment", "notebook", "score", "max_score", "status", "detail"]


@dataclass
class ReportFiles:
    """What :func:`report` wrote."""

    csv: Path
    pages: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def report(
    course: Course | Path | str | None = None,
    *,
    csv_path: Path | str | None = None,
    feedback: bool = True,
) -> ReportFiles:
    """Write the grades CSV and, with ``feedback``, the students' HTML pages.

    Raises
    ------
    GradingError
        If nothing has been graded yet.
    """
    course = course if isinstance(course, Course) else load_course(course)
    results = load_results(course)
    if not results:
        raise GradingError("nothing graded yet: run `python -m cnncourse.grading autograde` first")
    csv_path = Path(csv_path) if csv_path is not None else course.feedback_dir / "grades.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for result in results:
            writer.writerow(result.row())
    written = ReportFiles(csv=csv_path)
    if feedback:
        for student, rows in groupby(results, key=lambda r: r.student):
            _student_feedback(course, student, list(rows), written)
    return written


def _student_feedback(course: Course, student: str, rows: list[NotebookResult], written: ReportFiles) -> None:
    from nbgrader.converters import GenerateFeedback

    folder = course.feedback_dir / student
    for assignment, group in groupby(rows, key=lambda r: r.assignment):
        group = list(group)
        target = folder / assignment
        if target.exists():
            for old in target.glob("*.html"):
                old.unlink()
        if any(r.graded for r in group) and (course.autograded_dir / student / assignment).is_dir():
            outcome = run_converter(
                GenerateFeedback, course.nbgrader_config(), assignment_id=assignment, student_id=student, force=True
            )
            if not outcome["success"]:
                written.problems.append(f"{student}/{assignment}: nbgrader generate_feedback failed")
        for result in group:
            page = target / f"{result.notebook}.html"
            if not result.graded or not page.is_file():
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_text(_ungraded_page(result), encoding="utf-8")
            written.pages.append(page)
    index = folder / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(_index_page(student, rows), encoding="utf-8")
    written.pages.append(index)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }
.nota { font-size: 1.6rem; font-weight: 600; }
.aviso { background: #fff8c5; border: 1px solid #d4a72c; padding: .8rem 1rem; border-radius: 6px; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="es">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _status_words(status: str) -> str:
    return "; ".join(STATUS.get(code, code) for code in status.split("; "))


def _score(result: NotebookResult) -> str:
    row = result.row()
    return f"{row['score']} / {row['max_score']}"


def _ungraded_page(result: NotebookResult) -> str:
    title = f"{result.assignment} · {result.notebook}: sin corregir"
    body = (
        f"<h1>{html.escape(result.assignment)} · {html.escape(result.notebook)}.ipynb</h1>\n"
        f"<p class=\"nota\">Nota: {html.escape(_score(result))}</p>\n"
        f"<div class=\"aviso\"><p><strong>No se pudo corregir este cuaderno:</strong> "
        f"{html.escape(_status_words(result.status))}.</p>\n"
        f"<p>{html.escape(result.detail)}</p></div>\n"
        "<p>Si crees que es un error, escribe al profesor indicando el nombre de la tarea y "
        "del cuaderno; tu entrega se conserva tal como la enviaste.</p>"
    )
    return _page(title, body)


def _index_page(student: str, rows: list[NotebookResult]) -> str:
    lines = []
    for result in rows:
        link = f"{result.assignment}/{result.notebook}.html"
        lines.append(
            "<tr>"
            f"<td>{html.escape(result.assignment)}</td>"
            f"<td><a href=\"{html.escape(link)}\">{html.escape(result.notebook)}.ipynb</a></td>"
            f"<td>{html.escape(_score(result))}</td>"
            f"<td>{html.escape(_status_words(result.status))}</td>"
            f"<td>{html.escape(result.detail)}</td>"
            "</tr>"
        )
    body = (
        f"<h1>Resultados de {html.escape(student)}</h1>\n"
        "<table>\n<thead><tr><th>Tarea</th><th>Cuaderno</th><th>Nota</th><th>Estado</th>"
        "<th>Detalle</th></tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>\n"
        "<p>Cada cuaderno enlazado muestra tu código, su salida y los puntos de cada prueba, "
        "incluidas las pruebas ocultas que se añadieron al corregir.</p>"
    )
    return _page(f"Resultados de {student}", body)
