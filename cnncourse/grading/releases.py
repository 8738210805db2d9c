"""Generating the student versions: ``solutions/<a>/`` -> ``exercises/<a>/``.

nbgrader's ``generate_assignment --force`` deletes the release folder before it writes
the new one, so a failed generation leaves nothing behind. Here every generation
happens in a scratch copy of the course; the committed release is replaced only when
the new one is complete, by renaming folders next to it. The output is byte-identical
from run to run, so ``git diff --exit-code exercises/`` (or :func:`check`) shows whether
the committed release is in sync with the solutions.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cnncourse.grading.course import Course, GradingError, error_summary, load_course, run_converter

__all__ = ["generate", "release", "prepare_for_grading"]


def prepare_for_grading(path: Path, *, where: str = "") -> None:
    """Rewrite a source notebook as it is graded: EXPECTED blocks as literals, guards added.

    Raises
    ------
    GradingError
        If an EXPECTED block fails or does not give literal values.
    """
    import nbformat

    from cnncourse.grading.guard import add_guards

    nb = nbformat.read(path, as_version=4)
    try:
        add_guards(nb, where=where)
    except ValueError as error:
        raise GradingError(str(error)) from error
    nbformat.write(nb, str(path))


def generate(course: Course, assignments: list[str], root: Path, *, database: bool = False) -> Path:
    """Generate the release of ``assignments`` inside a scratch course at ``root``.

    The scratch course gets copies of the assignments' source folders; the release
    lands in ``root/<release dir>/<assignment>/`` and, with ``database=True``, the
    assignments and their cells (hidden tests included) in ``root/gradebook.db``, the
    starting point of an autograde.

    Raises
    ------
    GradingError
        If nbgrader fails on an assignment; the message carries its log.
    """
    from nbgrader.converters import GenerateAssignment

    root = Path(root)
    config = course.nbgrader_config(
        root, **{"GenerateAssignment.no_database": not database, "SaveCells.enabled": database}
    )
    for assignment in assignments:
        shutil.copytree(
            course.source_dir / assignment,
            root / course.source_dir.name / assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        if database:  # what will be graded: expected values as data, a guard in every test cell
            for path in sorted((root / course.source_dir.name / assignment).glob("*.ipynb")):
                prepare_for_grading(path, where=f"{assignment}/{path.stem}")
        outcome = run_converter(
            GenerateAssignment, config, assignment_id=assignment, force=True, create_assignment=True
        )
        if not outcome["success"]:
            raise GradingError(
                f"nbgrader could not generate the release of {assignment!r}: "
                f"{error_summary(outcome['log'] + outcome.get('error', ''))}"
            )
    return root / course.release_dir.name


def release(course: Course | Path | str | None = None, assignments: list[str] | None = None) -> list[Path]:
    """Regenerate the committed student versions from the solutions.

    Parameters
    ----------
    course : Course or path, optional
        The course (default: the one around the current folder).
    assignments : list of str, optional
        Names of the assignments (default: all of them).

    Returns
    -------
    list of Path
        The release folders written.

    Raises
    ------
    GradingError
        If an assignment cannot be generated. Its committed release, and those of the
        assignments after it, are left as they were.
    """
    course = course if isinstance(course, Course) else load_course(course)
    written = []
    for assignment in course.resolve(assignments):
        with tempfile.TemporaryDirectory(prefix="cnncourse-release-") as scratch:
            fresh = generate(course, [assignment], Path(scratch)) / assignment
            written.append(_swap_in(fresh, course.release_dir / assignment))
    return written


def _swap_in(fresh: Path, target: Path) -> Path:
    """Replace ``target`` by a copy of ``fresh`` with two renames next to it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.parent / f".{target.name}.incoming"
    outgoing = target.parent / f".{target.name}.outgoing"
    for leftover in (incoming, outgoing):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(fresh, incoming)
    if target.exists():
        target.rename(outgoing)
    incoming.rename(target)
    if outgoing.exists():
        shutil.rmtree(outgoing)
    return target
