"""Feedback pages leave the hidden tests out (by default) and still say why a test failed.

A small class of "Tamaños de salida" (a perfect student and one who forgot the 2p) is
graded once; its feedback is written with the hidden tests hidden (the default, through
the command line) and shown (``hidden_tests="show"``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import autograde, load_course, release, report
from cnncourse.grading.__main__ import main as grading_main
from cnncourse.grading.guard import TAMPER_MARKER
from cnncourse.grading.reports import WORDS, hidden_tests_choice
from cnncourse.grading.simulate import copy_course, write_submission, wrong_answers

ROOT = Path(__file__).resolve().parents[1]
FIRST = "tamanos_salida"

#: Largest feedback page with the hidden tests left out, in bytes. Measured on 2026-12-05:
#: 212 kB, of which 123 kB are the inlined stylesheets (nbconvert's classic notebook CSS and
#: bootstrap) and the rest the student's visible notebook; the same page with the hidden
#: tests shown measured 2,064,648 bytes (their expected data and the tracebacks quoting it).
PAGE_LIMIT = 300_000


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(load_course(ROOT), tmp_path_factory.mktemp("course"), [FIRST])
    release(course, [FIRST])
    wrong = next(a for a in wrong_answers(ROOT / "tests" / "wrong_answers" / FIRST) if a.name == "olvida_2p")
    for kind in ("perfect", "partly_right"):
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong)
    results = autograde(course, assignments=[FIRST], timeout=30)
    assert [r.score for r in results] == [9, 20]
    return course


def _page(course, student: str) -> str:
    return (course.feedback_dir / student / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")


def _text(page: str) -> str:
    """The page's text, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _hidden_literals(course, student: str) -> list[str]:
    """The expected data of the graded notebook's hidden tests (``_name = literal`` lines)."""
    nb = nbformat.read(course.autograded_dir / student / FIRST / f"{FIRST}.ipynb", as_version=4)
    found = re.findall(r"^\s*_\w+ = (.+?)  # calculado al generar la tarea$", "\n".join(c.source for c in nb.cells),
                       re.MULTILINE)
    assert found, "the graded notebook holds hidden expected data"
    return [literal[:60] for literal in found]


def _hidden_failures(course, student: str) -> list[str]:
    """The messages of the assertions that failed while grading."""
    nb = nbformat.read(course.autograded_dir / student / FIRST / f"{FIRST}.ipynb", as_version=4)
    return [out["evalue"] for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]


@pytest.mark.slow
def test_pages_without_hidden_tests_keep_the_failure_messages(graded, capsys):
    course = graded
    assert grading_main(["--course", str(course.root), "report"]) == 0
    assert re.search(r"feedback: 4 page\(s\) under feedback \(\d+ bytes, largest \d+ bytes\)", capsys.readouterr().out)
    page = _page(course, "partly_right")
    for literal in _hidden_literals(course, "partly_right"):
        assert literal not in _text(page)
    for leak in ("BEGIN HIDDEN TESTS", "_cnncourse_integridad", "Traceback (most recent call last)", "Cell In[",
                 TAMPER_MARKER):
        assert leak not in page
    failures = _hidden_failures(course, "partly_right")
    assert any("debería lanzar ValueError, pero devuelve 1" in message for message in failures)
    for message in failures:  # each failed test says why, in its own words
        assert message in _text(page), message
    assert WORDS["hidden_removed"] in _text(page)
    assert f"{WORDS['test_cell']}: <code>test_conv_relleno_paso</code> · {WORDS['failed']}" in page
    assert f"{WORDS['test_cell']}: <code>test_pool</code> · {WORDS['passed']}" in page
    assert 'src="../../_static/mathjax/tex-chtml-full.js"' in page  # formulas still rendered offline
    assert (course.feedback_dir / "_static" / "mathjax" / "tex-chtml-full.js").is_file()
    for student in ("perfect", "partly_right"):
        size = (course.feedback_dir / student / FIRST / f"{FIRST}.html").stat().st_size
        assert size < PAGE_LIMIT, (student, size)
    assert WORDS["hidden_tests"] in (course.feedback_dir / "perfect" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_instructor_can_show_the_hidden_tests(graded):
    course = graded
    report(course, hidden_tests="show")
    page = _page(course, "partly_right")
    assert "BEGIN HIDDEN TESTS" in page and "_cnncourse_integridad" in page
    assert any(literal in _text(page) for literal in _hidden_literals(course, "partly_right"))
    assert len(page.encode()) > PAGE_LIMIT
    report(course)  # back to the course's choice: hidden
    assert "BEGIN HIDDEN TESTS" not in _page(course, "partly_right")


def test_the_choice_comes_from_nbgrader_config_and_bad_values_are_refused(tmp_path):
    course = load_course(ROOT)
    assert hidden_tests_choice(course) == "hide"
    assert hidden_tests_choice(course, "show") == "show"
    with pytest.raises(ValueError, match="hidden_tests"):
        hidden_tests_choice(course, "yes")
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CnnCourse.feedback_hidden_tests = "show"\n')
    assert hidden_tests_choice(load_course(tmp_path)) == "show"
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CnnCourse.feedback_hidden_tests = "todo"\n')
    with pytest.raises(ValueError, match="feedback_hidden_tests"):
        hidden_tests_choice(load_course(tmp_path))
