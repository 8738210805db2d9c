"""The instructor's workflow end to end, on a scratch copy of the course.

release -> a simulated class -> autograde -> report, asserting each student's exact score
and status. The first assignment gets a student of every troublesome kind; every other
assignment of the course gets a smaller class (perfect and partly right) automatically,
from its release and its wrong answers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import autograde, load_course, load_results, release, report
from cnncourse.grading.notebooks import fill_solutions, score_notebook
from cnncourse.grading.simulate import KINDS, copy_course, write_submission, wrong_answers

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
FIRST = "tamanos_salida"
TIMEOUT = 5  # seconds per cell: the student with the infinite loop costs this much

# student kind -> (score out of 20, status) for "Tamaños de salida"; the partly right
# and the test-editing students answer with the wrong answer "olvida_2p".
EXPECTED = {
    "perfect": (20, "graded"),
    "untouched": (0, "graded"),
    "partly_right": (9, "graded"),
    "infinite_loop": (17, "graded; timeout"),
    "kills_kernel": (0, "kernel_died"),
    "exception_everywhere": (0, "graded; tests_restored"),
    "deleted_cells": (20, "graded; restored_cells"),
    "duplicated_cells": (20, "graded; duplicate_cells"),
    "edited_tests": (9, "graded; tests_restored"),
    "shadow_module": (20, "graded; ignored_files"),
    "renamed_notebook": (20, "graded; renamed_notebook"),
    "missing_notebook": (0, "missing_notebook"),
    "invalid_notebook": (0, "invalid_notebook"),
}


def _wrong(assignment: str, name: str | None = None):
    answers = wrong_answers(ROOT / "tests" / "wrong_answers" / assignment)
    return next(a for a in answers if name in (None, a.name))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The first assignment released, handed in by a class of every kind, and graded."""
    course = copy_course(COURSE, tmp_path_factory.mktemp("course"), [FIRST])
    release(course, [FIRST])
    wrong = _wrong(FIRST, "olvida_2p")
    for kind in KINDS:
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong)
    (course.submitted_dir / "sin_tarea").mkdir()  # a student who handed in something else
    results = autograde(course, assignments=[FIRST], timeout=TIMEOUT)
    return course, results


@pytest.mark.slow
def test_every_student_gets_the_exact_score_and_status(graded_class):
    course, results = graded_class
    got = {r.student: (r.score, r.status) for r in results}
    assert got == {**EXPECTED, "sin_tarea": (0, "not_submitted")}
    assert all(r.max_score == 20 and r.notebook == FIRST for r in results)
    assert all(r.detail for r in results), "every status is explained to the student"
    assert load_results(course) == results


@pytest.mark.slow
def test_the_details_say_what_happened(graded_class):
    _, results = graded_class
    detail = {r.student: r.detail for r in results}
    assert f"límite de {TIMEOUT} s" in detail["infinite_loop"] and "entrada_solucion" in detail["infinite_loop"]
    assert "kernel" in detail["kills_kernel"] and "nota es 0" in detail["kills_kernel"]
    assert "numpy.py" in detail["shadow_module"] and "cnncourse.py" in detail["shadow_module"]
    assert "tamanos_salida (1).ipynb" in detail["renamed_notebook"]
    assert "no es JSON" in detail["invalid_notebook"]
    assert "test_conv_sin_relleno" in detail["deleted_cells"]
    assert "conv_solucion" in detail["duplicated_cells"]


@pytest.mark.slow
def test_gradebook_and_graded_notebooks_agree_with_the_results(graded_class):
    from nbgrader.api import Gradebook

    course, results = graded_class
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        for r in results:
            submission = gb.find_submission_notebook(FIRST, FIRST, r.student)
            assert (submission.score, submission.max_score) == (r.score, 20), r.student
    graded = {p.parent.parent.name for p in course.autograded_dir.glob(f"*/{FIRST}/{FIRST}.ipynb")}
    ungradable = {"kills_kernel", "missing_notebook", "invalid_notebook", "sin_tarea"}
    assert graded == set(EXPECTED) - ungradable
    # the restored notebook runs the hidden tests, not the student's edited ones
    nb = nbformat.read(course.autograded_dir / "edited_tests" / FIRST / f"{FIRST}.ipynb", as_version=4)
    assert "### BEGIN HIDDEN TESTS" in "".join(c.source for c in nb.cells)


@pytest.mark.slow
def test_report_writes_the_csv_and_feedback_for_everyone(graded_class):
    course, results = graded_class
    files = report(course)
    assert files.problems == []
    with files.csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "assignment", "notebook", "score", "max_score", "status", "detail"]
    assert {(row["student"], row["score"], row["status"]) for row in rows} == {
        (r.student, str(int(r.score)), r.status) for r in results
    }
    for r in results:
        page = (course.feedback_dir / r.student / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
        if r.graded:  # nbgrader's feedback: the points of every test
            assert "Score: " in page and "test_conv_sin_relleno" in page, r.student
        else:
            assert "No se pudo corregir este cuaderno" in page and r.detail.split(".")[0] in page, r.student
        index = (course.feedback_dir / r.student / "index.html").read_text(encoding="utf-8")
        assert f"{FIRST}/{FIRST}.html" in index and 'lang="es"' in index


@pytest.mark.slow
def test_regrading_some_students_changes_nothing_else(graded_class):
    course, before = graded_class
    again = autograde(course, assignments=[FIRST], students=["perfect", "kills_kernel"], jobs=2, timeout=TIMEOUT)
    assert [(r.student, r.score, r.status) for r in again] == [
        ("kills_kernel", 0, "kernel_died"),
        ("perfect", 20, "graded"),
    ]
    after = load_results(course)
    strip = lambda rs: [(r.student, r.score, r.status, r.detail, r.cells) for r in rs]  # noqa: E731
    assert strip(after) == strip(before)


OTHERS = [a for a in COURSE.assignments() if a != FIRST]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", OTHERS or [pytest.param(None, marks=pytest.mark.skip("one assignment"))])
def test_small_class_of_every_other_assignment(assignment, tmp_path):
    course = copy_course(COURSE, tmp_path / "course", [assignment])
    wrong = _wrong(assignment)
    # an untouched release scores 0 by test_check_passes; awkward kinds: the first assignment
    kinds = ["perfect", "partly_right"]
    for kind in kinds:
        write_submission(course, assignment, kind, kind, course.submitted_dir, wrong=wrong)
    results = autograde(course, assignments=[assignment], timeout=60)
    by_student: dict[str, list] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    total = {s: (sum(r.score for r in rs), sum(r.max_score for r in rs)) for s, rs in by_student.items()}
    top = total["perfect"][1]
    assert top > 0
    assert total["perfect"] == (top, top)
    assert all(r.status == "graded" for r in results)
    # the partly right student gets what the wrong answer scores on its own
    first = course.source_notebooks(assignment)[0]
    expected = score_notebook(fill_solutions(nbformat.read(first, as_version=4), wrong.solutions),
                              cwd=first.parent).score
    assert by_student["partly_right"][0].score == expected < by_student["partly_right"][0].max_score
