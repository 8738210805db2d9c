"""``report``: the grades CSV and each student's HTML feedback.

Reads what :func:`cnncourse.grading.autograde` recorded and writes:

- ``feedback/grades.csv`` (by default): one row per student, assignment and notebook
  with ``student, assignment, notebook, score, max_score, status, detail``;
- ``feedback/<student>/<assignment>/<notebook>.html``: nbgrader's feedback page for a
  graded notebook (code, outputs, points per test), or, when the notebook could not be
  graded, a page that says why and what to do. By default the hidden tests are left out
  of it (their source, their expected data and their tracebacks): a failed test shows
  only its error and message. ``c.CnnCourse.feedback_hidden_tests = "show"`` in
  ``nbgrader_config.py`` (or ``report(..., hidden_tests="show")``) shows them, as
  nbgrader does;
- ``feedback/<student>/index.html``: the student's summary, with every status
  explained in Spanish and links to the pages above.

The Spanish words of the pages (:data:`WORDS`, and the status words of
:data:`~cnncourse.grading.STATUS`) are also those of the student's own check before
submitting (:mod:`cnncourse.grading.student`), and :func:`failure_message` writes a failed
test's message for both.
"""

from __future__ import annotations

import csv
import functools
import html
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, Mapping

from cnncourse.grading.grades import STATUS, NotebookResult, load_results
from cnncourse.grading.course import Course, GradingError, error_summary, load_course, run_converter

__all__ = [
    "ReportFiles",
    "report",
    "CSV_COLUMNS",
    "HIDDEN_TESTS_CHOICES",
    "MESSAGE_LIMIT",
    "WORDS",
    "word",
    "hidden_tests_choice",
    "failure_message",
    "status_words",
    "hidden_tests_remover",
]

CSV_COLUMNS = ["student", "assignment", "notebook", "score", "max_score", "status", "detail"]

#: What the feedback pages may do with the hidden tests (``CnnCourse.feedback_hidden_tests``).
HIDDEN_TESTS_CHOICES = ("hide", "show")

#: The Spanish words that the feedback pages and the student's check share.
WORDS = {
    "test_cell": "Celda de pruebas",
    "answer": "Tu respuesta",
    "score": "Nota",
    "points": "puntos",
    "point": "punto",
    "passed": "superada",
    "failed": "no superada",
    "top": "arriba",
    "hidden_tests": (
        "Las pruebas ocultas se ejecutan al corregir: no se muestran, y pueden fallar aunque "
        "pasen todas las visibles."
    ),
    "hidden_removed": "# [pruebas ocultas: se ejecutaron al corregir; no se muestran]",
    "no_message": "sin mensaje",
}

#: Longest failure message shown (characters); longer ones are cut.
MESSAGE_LIMIT = 600


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
    hidden_tests: str | None = None,
) -> ReportFiles:
    """Write the grades CSV and, with ``feedback``, the students' HTML pages.

    Parameters
    ----------
    course : Course or path, optional
        The course (default: the one around the current folder).
    csv_path : path, optional
        Where to write the CSV (default: ``feedback/grades.csv``).
    feedback : bool, optional
        Also write the HTML pages (default).
    hidden_tests : {"hide", "show"}, optional
        What the feedback pages do with the hidden tests: ``"hide"`` leaves out their
        source, data and tracebacks (only each failed test's message stays); ``"show"``
        shows them as nbgrader does. Default: ``CnnCourse.feedback_hidden_tests`` of
        ``nbgrader_config.py``, else ``"hide"``.

    Raises
    ------
    GradingError
        If nothing has been graded yet.
    ValueError
        If ``hidden_tests`` (or the configuration's value) is not one of
        :data:`HIDDEN_TESTS_CHOICES`.
    """
    course = course if isinstance(course, Course) else load_course(course)
    hidden_tests = hidden_tests_choice(course, hidden_tests)
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
        _nbgrader_feedback(course, results, written, hide=hidden_tests == "hide")
        for student, rows in groupby(results, key=lambda r: r.student):
            _student_pages(course, student, list(rows), written, hide=hidden_tests == "hide")
    return written


def hidden_tests_choice(course: Course, hidden_tests: str | None = None) -> str:
    """``hidden_tests`` if given, else ``CnnCourse.feedback_hidden_tests`` of the course, else ``"hide"``.

    Parameters
    ----------
    course : Course
        The course whose ``nbgrader_config.py`` may set ``CnnCourse.feedback_hidden_tests``.
    hidden_tests : {"hide", "show"}, optional
        The caller's choice, which wins over the configuration.

    Returns
    -------
    str
        ``"hide"`` or ``"show"``.

    Raises
    ------
    ValueError
        If the value is not one of :data:`HIDDEN_TESTS_CHOICES`.
    """
    if hidden_tests is None:
        value = course.setting("CnnCourse", "feedback_hidden_tests", "hide")
        if value not in HIDDEN_TESTS_CHOICES:
            raise ValueError(f"CnnCourse.feedback_hidden_tests in nbgrader_config.py must be one of "
                             f"{HIDDEN_TESTS_CHOICES}, got {value!r}")
        return value
    if hidden_tests not in HIDDEN_TESTS_CHOICES:
        raise ValueError(f"hidden_tests must be one of {HIDDEN_TESTS_CHOICES}, got {hidden_tests!r}")
    return hidden_tests


def _nbgrader_feedback(course: Course, results: list[NotebookResult], written: ReportFiles, *, hide: bool) -> None:
    """nbgrader's pages for the graded notebooks: one run per assignment, all students."""
    from nbgrader.converters import GenerateFeedback

    for result in results:  # no page from an earlier run may survive a new status
        (course.feedback_dir / result.student / result.assignment / f"{result.notebook}.html").unlink(missing_ok=True)
    config = spanish_feedback_config(course.nbgrader_config())
    if hide:
        steps = list(GenerateFeedback.class_traits()["preprocessors"].default())
        config.GenerateFeedback.preprocessors = [*steps, hidden_tests_remover()]
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
    config.HTMLExporter.filters = {"palabra": word}
    return config


def word(key: str) -> str:
    """The Spanish word of :data:`WORDS` for ``key`` (the templates' ``palabra`` filter).

    Raises
    ------
    KeyError
        If ``key`` is not in :data:`WORDS` (a template asked for a word that does not exist).
    """
    return WORDS[key]


def failure_message(outputs: list[Mapping[str, Any]]) -> str:
    """Why a test cell lost its points, from its outputs ("" if it did not).

    The first error as ``Name: message`` (no traceback, cut at :data:`MESSAGE_LIMIT`
    characters), else the first line written to stderr (nbgrader counts any output on
    stderr as a failure).

    Examples
    --------
    >>> failure_message([{"output_type": "error", "ename": "AssertionError",
    ...                   "evalue": "f(2) debería ser 4", "traceback": ["..."]}])
    'AssertionError: f(2) debería ser 4'
    >>> failure_message([{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}])
    'AssertionError (sin mensaje)'
    >>> failure_message([{"output_type": "stream", "name": "stdout", "text": "hola"}])
    ''
    """
    from cnncourse.grading.course import strip_ansi

    for output in outputs:
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), strip_ansi(str(output.get("evalue", ""))).strip()
            if not value:
                return f"{name} ({WORDS['no_message']})"
            return _cut(f"{name}: {value}")
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", "")).strip().splitlines()
            return _cut("stderr: " + (text[0] if text else ""))
    return ""


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


@functools.lru_cache(maxsize=1)
def hidden_tests_remover() -> type:
    """The nbconvert preprocessor that takes the hidden tests out of a graded notebook.

    In every test cell it keeps the visible code (hidden regions become one line,
    :data:`WORDS` ``["hidden_removed"]``) and replaces the outputs by the failure's
    message alone (:func:`failure_message`): no traceback, which would quote the hidden
    code and its expected data. Built on first use, so that importing this module does
    not import nbconvert.
    """
    from nbconvert.preprocessors import Preprocessor
    from traitlets import Bool

    from cnncourse.grading.notebooks import is_test, visible_source

    class HideHiddenTests(Preprocessor):
        """Take the hidden tests (code, data, tracebacks) out of the feedback."""

        enabled = Bool(True)

        def preprocess_cell(self, cell, resources, index):
            if not is_test(cell):
                return cell, resources
            visible = visible_source(cell.source)
            if visible != cell.source:
                cell.source = visible.rstrip("\n") + "\n" + WORDS["hidden_removed"]
            message = failure_message(cell.get("outputs", []))
            cell.outputs = [] if not message else [{
                "output_type": "error", "ename": message.split(":")[0].split(" (")[0],
                "evalue": message, "traceback": [message],
            }]
            return cell, resources

    return HideHiddenTests


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


def _student_pages(course: Course, student: str, rows: list[NotebookResult], written: ReportFiles, *,
                   hide: bool) -> None:
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
    index.write_text(_index_page(student, rows, hide=hide), encoding="utf-8")
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


def status_words(status: str) -> str:
    """A status (codes joined by ``"; "``) in the Spanish words of :data:`STATUS`.

    Examples
    --------
    >>> status_words("graded; timeout")
    'corregido automáticamente; una celda superó el tiempo límite y se interrumpió'
    """
    return "; ".join(STATUS.get(code, code) for code in status.split("; "))


_status_words = status_words


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
        f"<p class=\"nota\">{WORDS['score']}: {html.escape(_score(result))}</p>\n"
        f"<div class=\"aviso\"><p>{headline}</p>\n<p>{html.escape(result.detail)}</p></div>\n"
        "<p>Si crees que es un error, escribe al profesor indicando el nombre de la tarea y "
        "del cuaderno; tu entrega se conserva tal como la enviaste.</p>"
    )
    return _page(f"{result.assignment} · {result.notebook}", body)


def _index_page(student: str, rows: list[NotebookResult], *, hide: bool = True) -> str:
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
        "<table>\n<thead><tr><th>Tarea</th><th>Cuaderno</th><th>" + WORDS["score"] + "</th><th>Estado</th>"
        "<th>Detalle</th></tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>\n"
        "<p>Cada cuaderno enlazado muestra tu código, su salida y los puntos de cada prueba"
        + (". " + html.escape(WORDS["hidden_tests"]) if hide else
           ", incluidas las pruebas ocultas que se añadieron al corregir.") + "</p>"
    )
    return _page(f"Resultados de {student}", body)
