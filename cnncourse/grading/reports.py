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
from typing import Any

from cnncourse.grading.grades import STATUS, NotebookResult, load_results
from cnncourse.grading.course import Course, GradingError, error_summary, load_course, run_converter

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
        _nbgrader_feedback(course, results, written)
        for student, rows in groupby(results, key=lambda r: r.student):
            _student_pages(course, student, list(rows), written)
    return written


def _nbgrader_feedback(course: Course, results: list[NotebookResult], written: ReportFiles) -> None:
    """nbgrader's pages for the graded notebooks: one run per assignment, all students."""
    from nbgrader.converters import GenerateFeedback

    for result in results:  # no page from an earlier run may survive a new status
        (course.feedback_dir / result.student / result.assignment / f"{result.notebook}.html").unlink(missing_ok=True)
    config = spanish_feedback_config(course.nbgrader_config())
    mathjax = copy_mathjax(course)
    if mathjax is None:
        written.problems.append("no MathJax found (book/_static/mathjax): formulas in the feedback stay as LaTeX")
    for assignment in sorted({r.assignment for r in results if r.graded}):
        outcome = run_converter(GenerateFeedback, config, assignment_id=assignment, student_id="*", force=True)
        if not outcome["success"]:
            written.problems.append(
                f"{assignment}: nbgrader generate_feedback failed for some students: "
                f"{error_summary(outcome['log'] + outcome.get('error', ''))}"
            )


TEMPLATES = Path(__file__).resolve().parent / "templates"


def spanish_feedback_config(config: Any) -> Any:
    """nbgrader's configuration with the Spanish feedback template (``templates/feedback_es``).

    It goes through nbgrader's own mechanism, ``HTMLExporter.template_name`` and
    ``extra_template_basedirs``; the template is nbgrader's, translated, with MathJax 3
    loaded from ``feedback/_static/mathjax`` (see :func:`copy_mathjax`).
    """
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    config.HTMLExporter.template_name = "feedback_es"
    config.HTMLExporter.exclude_input_prompt = True  # no English "In [1]:"
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    return config


def copy_mathjax(course: Course) -> Path | None:
    """Copy the book's MathJax (``book/_static/mathjax``) to ``feedback/_static/mathjax``.

    Looks in the course first, then next to the installed package (a source checkout).
    Returns the copy, or None when there is no MathJax to copy.
    """
    import shutil

    for root in (course.root, Path(__file__).resolve().parents[2]):
        source = root / "book" / "_static" / "mathjax"
        if (source / "tex-chtml-full.js").is_file():
            target = course.feedback_dir / "_static" / "mathjax"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target)
            return target
    return None


def _student_pages(course: Course, student: str, rows: list[NotebookResult], written: ReportFiles) -> None:
    """A page for each notebook nbgrader did not cover, and the student's summary."""
    folder = course.feedback_dir / student
    for result in rows:
        page = folder / result.assignment / f"{result.notebook}.html"
        if result.graded and not page.is_file():
            written.problems.append(f"{student}/{result.assignment}/{result.notebook}: no nbgrader feedback page, "
                                    "wrote a summary page instead")
        if not result.graded or not page.is_file():
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(_notebook_page(result), encoding="utf-8")
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


def _notebook_page(result: NotebookResult) -> str:
    """The page of a notebook nbgrader made no feedback for: why, and what to do."""
    if result.graded:
        headline = "La página detallada de este cuaderno no está disponible; este es el resumen."
    else:
        headline = f"<strong>No se pudo corregir este cuaderno:</strong> {html.escape(_status_words(result.status))}."
    body = (
        f"<h1>{html.escape(result.assignment)} · {html.escape(result.notebook)}.ipynb</h1>\n"
        f"<p class=\"nota\">Nota: {html.escape(_score(result))}</p>\n"
        f"<div class=\"aviso\"><p>{headline}</p>\n<p>{html.escape(result.detail)}</p></div>\n"
        "<p>Si crees que es un error, escribe al profesor indicando el nombre de la tarea y "
        "del cuaderno; tu entrega se conserva tal como la enviaste.</p>"
    )
    return _page(f"{result.assignment} · {result.notebook}", body)


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
