"""The tests catch mistakes: each plausible wrong answer in tests/wrong_answers/ loses points.

A wrong answer replaces some solution cells of the instructor's notebook (hidden tests
included) and is graded the way nbgrader grades; the test cells it lists in ``FAILS``
must lose their points. Adding an assignment means adding a folder
``tests/wrong_answers/<assignment>/`` with at least three files (see
cnncourse.grading.simulate and docs/grading.md); nothing here changes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import load_course
from cnncourse.grading.guard import add_guards
from cnncourse.grading.notebooks import fill_solutions, score_notebook
from cnncourse.grading.simulate import wrong_answers

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
WRONG = ROOT / "tests" / "wrong_answers"
MIN_WRONG_ANSWERS = 3

CASES = [
    pytest.param(assignment, answer, id=f"{assignment}-{answer.name}")
    for assignment in COURSE.assignments()
    for answer in wrong_answers(WRONG / assignment)
]


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_every_assignment_has_plausible_wrong_answers(assignment):
    answers = wrong_answers(WRONG / assignment)
    assert len(answers) >= MIN_WRONG_ANSWERS, f"add wrong answers in tests/wrong_answers/{assignment}/"
    for answer in answers:
        assert answer.description, f"{answer.name}: say what the mistake is in the docstring"
        assert answer.fails, f"{answer.name}: list the test cells it must fail in FAILS"


def _source_notebook(assignment: str, answer) -> nbformat.NotebookNode:
    """The source notebook holding the cells the wrong answer replaces."""
    for path in COURSE.source_notebooks(assignment):
        nb = nbformat.read(path, as_version=4)
        ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
        if set(answer.solutions) <= ids:
            return nb
    raise AssertionError(f"{answer.name}: no notebook of {assignment} has cells {sorted(answer.solutions)}")


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "answer"), CASES)
def test_wrong_answer_loses_points(assignment, answer):
    nb = _source_notebook(assignment, answer)  # the solution itself passes: see test_check_passes
    add_guards(nb, where=assignment)  # as graded: expected values as data, integrity guards
    graded = score_notebook(fill_solutions(nb, answer.solutions), timeout=60, cwd=COURSE.source_dir / assignment)
    assert graded.score < graded.max_score, f"{answer.name} passes every test: the tests miss this mistake"
    missed = sorted(set(answer.fails) - set(graded.failed))
    assert not missed, f"{answer.name} ({answer.description}) does not lose points in {missed}"
