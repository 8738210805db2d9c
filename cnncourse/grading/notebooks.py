"""Reading nbgrader notebooks: which cell is what, solution and hidden-test regions,
filling solution cells, and scoring an executed notebook the way nbgrader does.

An nbgrader cell carries ``metadata.nbgrader`` with a ``grade_id``; *solution* cells
hold the student's code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
*test* cells (``grade: true``) are locked and worth ``points``, and may hide part of
their code between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = [
    "nbgrader_meta",
    "grade_id",
    "is_solution",
    "is_test",
    "is_locked",
    "cells_by_id",
    "strip_markers",
    "visible_source",
    "secret_lines",
    "has_visible_assert",
    "fill_solutions",
    "NotebookScore",
    "score_notebook",
]

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def nbgrader_meta(cell: Mapping[str, Any]) -> dict:
    """The cell's nbgrader metadata (empty for an ordinary cell)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Mapping[str, Any]) -> str | None:
    return nbgrader_meta(cell).get("grade_id") or None


def is_solution(cell: Mapping[str, Any]) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: Mapping[str, Any]) -> bool:
    """An autograded test cell: a code cell with ``grade: true``."""
    return bool(nbgrader_meta(cell).get("grade")) and cell.get("cell_type") == "code"


def is_locked(cell: Mapping[str, Any]) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) or (bool(meta.get("grade")) and not meta.get("solution"))


def cells_by_id(nb: Any) -> dict[str, Any]:
    """Map each grade id to its first cell."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        key = grade_id(cell)
        if key is not None and key not in found:
            found[key] = cell
    return found


def _regions(source: str, begin: str, end: str) -> Iterator[tuple[int, int]]:
    """(first, last) line indices of each ``begin``...``end`` region, markers included."""
    lines = source.splitlines()
    start = None
    for index, line in enumerate(lines):
        if line.strip() == begin and start is None:
            start = index
        elif line.strip() == end and start is not None:
            yield start, index
            start = None


def strip_markers(source: str) -> str:
    """The source with the solution marker lines removed: what a perfect student wrote.

    Examples
    --------
    >>> print(strip_markers("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION"))
    def f():
        return 1
    """
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END)
    )


def visible_source(source: str) -> str:
    """The source without its hidden-test regions: what the student sees.

    Examples
    --------
    >>> visible_source("assert f(1) == 2\\n### BEGIN HIDDEN TESTS\\nassert f(5) == 6\\n### END HIDDEN TESTS")
    'assert f(1) == 2'
    """
    lines = source.splitlines()
    hidden = {i for first, last in _regions(source, HIDDEN_BEGIN, HIDDEN_END) for i in range(first, last + 1)}
    return "\n".join(line for i, line in enumerate(lines) if i not in hidden)


def secret_lines(nb: Any, *, min_length: int = 20) -> set[str]:
    """Stripped lines that only occur inside solution or hidden-test regions.

    A release that contains one of them leaks a solution or a hidden test. Lines shorter
    than ``min_length`` (``return x``, ``else:``) are too common to tell anything.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in nb.cells:
        lines = cell.source.splitlines()
        secret = {
            i
            for begin, end in ((SOLUTION_BEGIN, SOLUTION_END), (HIDDEN_BEGIN, HIDDEN_END))
            for first, last in _regions(cell.source, begin, end)
            for i in range(first + 1, last)
        }
        for i, line in enumerate(lines):
            (inside if i in secret else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= min_length}


def has_visible_assert(source: str) -> bool:
    """Whether the visible part of a test cell asserts anything.

    ``assert`` statements and calls such as ``np.testing.assert_allclose`` count.

    Examples
    --------
    >>> has_visible_assert("x = f(2)\\nassert x == 4, 'f(2) debería ser 4'")
    True
    >>> has_visible_assert("### BEGIN HIDDEN TESTS\\nassert f(3) == 9\\n### END HIDDEN TESTS")
    False
    >>> has_visible_assert("np.testing.assert_allclose(f(2), 4.0)")
    True
    """
    code = visible_source(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython syntax (magics): fall back to the text
        return re.search(r"^\s*assert\b|\bassert_\w+\(", code, re.MULTILINE) is not None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith("assert"):
                return True
    return False


def fill_solutions(nb: Any, solutions: Mapping[str, str]) -> Any:
    """A copy of ``nb`` whose solution cells hold the given code.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A source or release notebook.
    solutions : mapping
        ``grade_id -> source`` for the solution cells to replace.

    Raises
    ------
    KeyError
        If a grade id is not a solution cell of the notebook.
    """
    filled = copy.deepcopy(nb)
    cells = {grade_id(c): c for c in filled.cells if is_solution(c)}
    unknown = sorted(set(solutions) - set(cells))
    if unknown:
        raise KeyError(f"not solution cells of this notebook: {unknown}; it has {sorted(cells)}")
    for key, source in solutions.items():
        cells[key].source = source
    return filled


@dataclass(frozen=True)
class NotebookScore:
    """Points per test cell of an executed notebook."""

    cells: dict[str, tuple[float, float]]  # grade_id -> (score, max_score)

    @property
    def score(self) -> float:
        return sum(score for score, _ in self.cells.values())

    @property
    def max_score(self) -> float:
        return sum(top for _, top in self.cells.values())

    @property
    def failed(self) -> list[str]:
        """Test cells that did not get all their points."""
        return [key for key, (score, top) in self.cells.items() if score < top]


def score_notebook(nb: Any, *, timeout: int = 60, cwd: Path | str | None = None) -> NotebookScore:
    """Execute a notebook in a fresh kernel and score its test cells as nbgrader does.

    A test cell earns its points when it runs without an error (nbgrader also
    counts output on stderr as a failure). Used to check that plausible wrong answers
    lose points, without the whole autograde pipeline.
    """
    from nbgrader.preprocessors import Execute
    from nbgrader.utils import determine_grade, setenv

    from cnncourse.grading.course import ensure_tools_on_path

    executed = copy.deepcopy(nb)
    resources = {"metadata": {"path": str(cwd or Path.cwd())}}
    with setenv(NBGRADER_EXECUTION="autograde"), ensure_tools_on_path():
        executed, _ = Execute(timeout=timeout).preprocess(executed, resources)
    cells = {}
    for cell in executed.cells:
        if is_test(cell):
            score, top = determine_grade(cell)
            cells[grade_id(cell)] = (float(score or 0.0), float(top))
    return NotebookScore(cells)
