"""``check``: is every assignment gradable, and is its committed release the right one?

For each assignment and notebook:

- the grade ids are unique and every nbgrader cell has one;
- every test cell is worth points and has at least one visible assert (a cell holding
  only hidden tests "passes" on an untouched release);
- the points announced in headings, ``## ... (N puntos)``, add up to the test cells'
  points below each heading;
- the solution passes every test, hidden ones included, judged from nbgrader's
  ``Validator`` result (``nbgrader validate`` exits 0 even when tests fail);
- the committed release fails every test (``Validator`` with ``invert``), has no
  stored outputs, contains no solution code and no hidden test, and imports neither
  ``cnncourse`` nor ``nbgrader`` (it must run on Colab and in plain Jupyter);
- the committed release is byte-identical to a fresh generation from the solutions.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cnncourse.grading.course import Course, GradingError, load_course, strip_ansi
from cnncourse.grading.notebooks import (
    HIDDEN_BEGIN,
    SOLUTION_BEGIN,
    grade_id,
    has_visible_assert,
    is_test,
    nbgrader_meta,
    secret_lines,
)

__all__ = ["Problem", "CheckReport", "check"]

_POINTS_HEADING = re.compile(r"^#{1,6} .*\((\d+(?:[.,]\d+)?) puntos?\)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an assignment."""

    assignment: str
    notebook: str
    message: str

    def __str__(self) -> str:
        return f"{self.assignment}/{self.notebook}: {self.message}"


@dataclass
class CheckReport:
    """What :func:`check` looked at and what it found."""

    assignments: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        """A report for a terminal: one line per problem and a summary."""
        lines = [f"  PROBLEM {problem}" for problem in self.problems]
        checked = ", ".join(self.assignments) or "no assignment"
        if self.ok:
            lines.append(f"check passed: {checked}")
        else:
            lines.append(f"check FAILED: {len(self.problems)} problem(s) in {checked}")
        return "\n".join(lines)


def check(course: Course | Path | str | None = None, assignments: list[str] | None = None) -> CheckReport:
    """Check the assignments (default: all); never raises for a problem it finds.

    Examples
    --------
    ``python -m cnncourse.grading check`` prints ``report.format()`` and exits with 1
    when ``report.ok`` is False.
    """
    import nbformat

    course = course if isinstance(course, Course) else load_course(course)
    report = CheckReport(assignments=course.resolve(assignments))
    if not report.assignments:
        report.problems.append(Problem("-", "-", f"no assignment in {course.source_dir}"))
    for assignment in report.assignments:
        add = lambda notebook, message, a=assignment: report.problems.append(  # noqa: E731
            Problem(a, notebook, message)
        )
        sources = course.source_notebooks(assignment)
        releases = {path.name: path for path in course.release_notebooks(assignment)}
        for path in sources:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception as error:  # unreadable source: nothing else to check here
                add(path.name, f"cannot read the source notebook: {error}")
                continue
            _check_metadata(nb, lambda message, n=path.name: add(n, message))
            _check_grading_imports(nb, lambda message, n=path.name: add(n, message))
            _check_solution_passes(course, path, lambda message, n=path.name: add(n, message))
            release = releases.pop(path.name, None)
            if release is None:
                add(path.name, "no released copy: run `python -m cnncourse.grading release`")
                continue
            _check_release(course, nb, release, lambda message, n=path.name: add(n, message))
        for name in releases:
            add(name, "released notebook without a source notebook (stale release?)")
        _check_in_sync(course, assignment, add)
    return report


def _check_metadata(nb, add) -> None:
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        key = grade_id(cell)
        if key is None:
            add(f"cell {index} has nbgrader metadata but no grade_id")
            continue
        if key in seen:
            add(f"grade id {key!r} is used by more than one cell")
        seen.add(key)
        if is_test(cell):
            if not float(meta.get("points", 0)) > 0:
                add(f"test cell {key!r} is worth no points")
            if not has_visible_assert(cell.source):
                add(f"test cell {key!r} has no visible assert (hidden tests alone pass on an empty release)")
        if meta.get("solution") and cell.cell_type == "code" and SOLUTION_BEGIN not in cell.source:
            add(f"solution cell {key!r} has no '{SOLUTION_BEGIN}' region")
    _check_points_headings(nb, add)


def _check_points_headings(nb, add) -> None:
    """Points announced as ``## Parte ... (N puntos)`` match the test cells below."""
    announced: list[tuple[str, float, float]] = []  # heading, announced, counted
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for match in _POINTS_HEADING.finditer(cell.source):
                announced.append((match.group(0).strip(), float(match.group(1).replace(",", ".")), 0.0))
        elif is_test(cell) and announced:
            heading, points, counted = announced[-1]
            announced[-1] = (heading, points, counted + float(nbgrader_meta(cell).get("points", 0)))
    for heading, points, counted in announced:
        if points != counted:
            add(f"heading {heading!r} announces {points:g} points, its test cells are worth {counted:g}")


def _check_grading_imports(nb, add) -> None:
    """Hidden tests import neither reference code nor torch at grading time, unless they say why."""
    from cnncourse.grading.guard import grading_imports

    for cell in nb.cells:
        if not is_test(cell):
            continue
        imports = grading_imports(cell.source)
        reason = cell.get("metadata", {}).get("cnncourse", {}).get("grading_imports")
        if imports and not (isinstance(reason, str) and reason.strip()):
            add(f"test cell {grade_id(cell)!r} imports {sorted(set(imports))} at grading time: compute "
                "expected values in a '### BEGIN EXPECTED' block, or say why in the cell metadata "
                "\"cnncourse\": {\"grading_imports\": \"...\"} (docs/grading.md)")


def _check_solution_passes(course: Course, path: Path, add) -> None:
    """The solution passes every test as graded (EXPECTED blocks as literals, guards added)."""
    import shutil

    from nbgrader.validator import Validator

    from cnncourse.grading.course import ensure_tools_on_path
    from cnncourse.grading.releases import prepare_for_grading

    with tempfile.TemporaryDirectory(prefix="cnncourse-check-") as scratch:
        graded = Path(scratch) / path.name
        shutil.copy(path, graded)
        try:
            prepare_for_grading(graded, where=path.stem)
        except GradingError as error:
            add(str(error))
            return
        try:
            with ensure_tools_on_path():
                results = Validator(config=course.nbgrader_config()).validate(str(graded))
        except Exception as error:  # nbgrader refuses the notebook (e.g. corrupt metadata)
            add(f"nbgrader cannot validate the solution: {type(error).__name__}: {error}")
            return
    for cell in results.get("failed", []):
        error = strip_ansi(cell.get("raw_error", "")).strip().splitlines()
        add(f"the solution fails a test: {_first_line(cell['source'])!r}: {error[-1] if error else ''}")
    if results.get("type_changed"):
        add("cells changed type against their nbgrader metadata")


def _check_release(course: Course, source_nb, release: Path, add) -> None:
    import nbformat
    from nbgrader.validator import Validator

    try:
        released = nbformat.read(release, as_version=4)
    except Exception as error:
        add(f"cannot read the released notebook: {error}")
        return
    text = "\n".join(cell.source for cell in released.cells)
    for marker in (SOLUTION_BEGIN, "### END SOLUTION", HIDDEN_BEGIN, "### END HIDDEN TESTS"):
        if marker in text:
            add(f"the release contains the marker {marker!r}")
    released_lines = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    for line in sorted(secret_lines(source_nb) & released_lines):
        add(f"the release leaks a solution or hidden-test line: {line!r}")
    if any(cell.get("outputs") for cell in released.cells if cell.cell_type == "code"):
        add("the release has stored outputs")
    code = "\n".join(cell.source for cell in released.cells if cell.cell_type == "code")
    for package in ("cnncourse", "nbgrader"):
        if re.search(rf"^\s*(import|from)\s+{package}\b", code, re.MULTILINE):
            add(f"the release imports {package}: students on Colab or plain Jupyter do not have it")
    try:
        # checksums are the sync check's business: judge what the tests do
        validator = Validator(config=course.nbgrader_config(), invert=True, ignore_checksums=True)
        results = validator.validate(str(release))
    except Exception as error:
        add(f"nbgrader cannot validate the release: {type(error).__name__}: {error}")
        return
    for cell in results.get("passed", []):
        add(f"a test passes on the untouched release: {_first_line(cell['source'])!r}")


def _check_in_sync(course: Course, assignment: str, add) -> None:
    from cnncourse.grading.releases import generate

    with tempfile.TemporaryDirectory(prefix="cnncourse-check-") as scratch:
        try:
            fresh = generate(course, [assignment], Path(scratch)) / assignment
        except GradingError as error:
            add("-", f"nbgrader cannot generate the release: {error}")
            return
        committed = course.release_dir / assignment
        fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        committed_files = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
        for name in sorted(fresh_files | committed_files):
            if name not in committed_files:
                add(str(name), "missing from the committed release: run `python -m cnncourse.grading release`")
            elif name not in fresh_files:
                add(str(name), "in the committed release but not generated from the solutions (stale?)")
            elif (fresh / name).read_bytes() != (committed / name).read_bytes():
                add(str(name), "committed release out of sync with the solutions: run "
                    f"`python -m cnncourse.grading release {assignment}`")


def _first_line(source: str) -> str:
    return next((line for line in source.splitlines() if line.strip()), "")[:80]
