"""Instructor commands around nbgrader: release, check, autograde and report.

From a terminal, in the course folder (see docs/grading.md)::

    python -m cnncourse.grading release            # solutions/ -> exercises/
    python -m cnncourse.grading check              # solutions pass, releases fail, in sync
    python -m cnncourse.grading autograde          # submitted/ -> autograded/, gradebook.db
    python -m cnncourse.grading report             # grades CSV and HTML feedback

The same as functions: :func:`release`, :func:`check`, :func:`autograde`,
:func:`report`. Tests and benchmarks build simulated classes with
:mod:`cnncourse.grading.simulate`; the book's exercise page uses
:func:`exercise_table`. Importing the package is cheap: nbgrader is imported only when a
command runs, so a hidden test that uses :mod:`cnncourse.grading.own_code` stays fast.
"""

from cnncourse.grading.checks import CheckReport, check
from cnncourse.grading.course import Course, GradingError, load_course
from cnncourse.grading.grades import STATUS, NotebookResult, autograde, load_results
from cnncourse.grading.links import exercise_links, exercise_table
from cnncourse.grading.releases import release
from cnncourse.grading.reports import report

__all__ = [
    "Course",
    "GradingError",
    "load_course",
    "release",
    "check",
    "CheckReport",
    "autograde",
    "load_results",
    "NotebookResult",
    "STATUS",
    "report",
    "exercise_links",
    "exercise_table",
]
