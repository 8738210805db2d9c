"""Instructor commands around nbgrader: release, check, autograde and report.

From a terminal, in the course folder (see docs/grading.md)::

    python -m cnncourse.grading release            # solutions/ -> exercises/
    python -m cnncourse.grading check              # solutions pass, releases fail, in sync
    python -m cnncourse.grading autograde          # submitted/ -> autograded/, gradebook.db
    python -m cnncourse.grading report             # grades CSV and HTML feedback

The same as functions: :func:`release`, :func:`check`, :func:`autograde`,
:func:`report`. Tests and benchmarks build simulated classes with
:mod:`cnncourse.grading.simulate`; the book's exercise page uses
:func:`exercise_links`. Submodules load on first use, so that a hidden test importing
:mod:`cnncourse.grading.own_code` does not pay for nbgrader.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Course": "course",
    "GradingError": "course",
    "load_course": "course",
    "release": "release",
    "check": "check",
    "CheckReport": "check",
    "autograde": "autograde",
    "load_results": "autograde",
    "NotebookResult": "autograde",
    "STATUS": "autograde",
    "report": "report",
    "exercise_links": "links",
    "exercise_table": "links",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f"cnncourse.grading.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cnncourse.grading' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
