"""Instructor commands around nbgrader, in the order an instructor works.

From a terminal, in the course folder (see docs/grading.md)::

    python -m cnncourse.grading release            # solutions/ -> exercises/
    python -m cnncourse.grading check              # solutions pass, releases fail, in sync
    python -m cnncourse.grading autograde          # submitted/ -> autograded/, gradebook.db
    python -m cnncourse.grading report             # grades CSV and HTML feedback

The same as functions: :func:`release`, :func:`check`, :func:`autograde`, :func:`report`.

The modules, step by step:

1. **release** -- ``releases.py`` regenerates ``exercises/<a>/`` from ``solutions/<a>/``
   with nbgrader's converter; ``notebooks.py`` reads nbgrader's cell metadata and expands
   the ``### BEGIN EXPECTED`` blocks into literal expected values at generation time.
2. **check** -- ``checks.py``: the solutions pass every test, the releases fail them and
   leak nothing, the committed releases are in sync, hidden tests follow the rules.
3. **autograde** -- ``grades.py`` runs the class: it generates a template course once,
   makes one job per student and assignment and runs them (in this process, in worker
   processes with ``jobs``, or on a Dask cluster with ``cluster``: ``cluster.py``). Beside
   it, what one job does: ``job.py`` grades one submission in a scratch course;
   ``staging.py`` repairs the submission before nbgrader sees it; ``sandbox.py`` confines
   each kernel (Landlock, rlimits, own uid, a supervisor); ``guard.py`` looks for
   tampering, inside the kernel and outside it. ``results.py`` keeps what comes back: the
   records, ``gradebook.db`` rebuilt from them, and the review list.
4. **report** -- ``reports.py`` writes ``feedback/grades.csv`` and the students' Spanish
   feedback pages (hidden tests left out unless the instructor asks), with the words the
   student check uses too.

Around them: ``student.py`` is the student's own check before submitting
(``cnncourse-comprobar``: the grader's staging, scan and visible tests, in Spanish);
``course.py`` reads ``nbgrader_config.py``; ``simulate.py`` writes simulated classes for
tests and benchmarks; ``links.py`` makes the book's exercise table; ``own_code.py`` is the
one module a hidden test may import. Importing the package is cheap: nbgrader is
imported only when a command runs, so a hidden test that uses ``own_code`` stays fast.
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
