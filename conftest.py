"""Pytest set-up shared by the library doctests, tests/ and the nbval notebook runs.

Each chapter notebook is executed once per test run. nbval executes it cell by cell;
when every cell of a book notebook has passed, the executed notebook is recorded in the
book's execution cache (`_build/.jupyter_cache`, the cache `jupyter-book build` reads in
`execute_notebooks: cache` mode). The book-build test runs last and renders those
outputs instead of executing the notebooks a second time. A notebook that failed or
skipped a cell is not recorded, so the build executes it itself.

``make test`` runs on two processes (``pytest -n 2 --dist loadfile``, pytest-xdist): each
file goes whole to one process, and the chapter notebooks, the tests that read their
executions and the book build form a single unit (:func:`book_unit`), run in the order
above on one process while the other takes the remaining files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent
BOOK = ROOT / "book"
BOOK_CACHE = ROOT / "_build" / ".jupyter_cache"
BOOK_BUILD_TEST = "test_book_builds_without_warnings"

_failed_notebooks: set[str] = set()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "uses_book_cache: reads the executed chapters from the book's execution "
                   "cache; runs after the notebooks, before the book build")


def pytest_collection_modifyitems(session, config, items):
    """Run the tests that read executed chapters after nbval has executed (and recorded)
    them, and the book build after everything else, so both reuse nbval's executions."""
    build = [item for item in items if item.name == BOOK_BUILD_TEST]
    cached = [item for item in items
              if item.get_closest_marker("uses_book_cache") and item not in build]
    rest = [item for item in items if item not in build and item not in cached]
    items[:] = rest + cached + build
    outside = sorted({item.nodeid.split("::", 1)[0] for item in cached + build} - BOOK_UNIT_FILES)
    if outside:
        raise pytest.UsageError(f"{outside} read the book's executions: add them to "
                                "BOOK_UNIT_FILES in conftest.py, or two processes would split them "
                                "from the chapters")


# Files whose tests read the chapters' executions (uses_book_cache) or build the book.
BOOK_UNIT_FILES = {"tests/test_chapter_numbers.py", "tests/test_book.py"}


def book_unit(nodeid: str) -> str:
    """The unit of work of a test on two processes: "book" for the chapter notebooks and
    the tests of :data:`BOOK_UNIT_FILES`, which must run in order on one process (cells
    share the notebook's kernel; the cached-output tests and the build come after the
    chapters); otherwise the test's file, so a module's fixtures are built once."""
    path = nodeid.split("::", 1)[0]
    if path in BOOK_UNIT_FILES or (path.startswith("book/") and path.endswith(".ipynb")):
        return "book"
    return path


if importlib.util.find_spec("xdist") is not None:
    def pytest_xdist_make_scheduler(config, log):
        """``pytest -n 2 --dist loadfile`` (``make test``): whole files to each process, the
        chapters and what reads them as one unit (:func:`book_unit`)."""
        if config.getvalue("dist") != "loadfile":
            return None
        from xdist.scheduler import LoadFileScheduling

        class BookAsOneFile(LoadFileScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return book_unit(nodeid)

        return BookAsOneFile(config, log)


def _is_book_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and Path(str(item.fspath)).parent == BOOK


def pytest_runtest_logreport(report):
    if report.failed or report.skipped:
        _failed_notebooks.add(report.nodeid.split("::")[0])


def pytest_runtest_teardown(item, nextitem):
    """After the last cell of a book notebook, record the executed notebook."""
    if not _is_book_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return
    if item.nodeid.split("::")[0] in _failed_notebooks:
        return
    _record_execution(item.parent)


def _record_execution(notebook_file) -> None:
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    nb = notebook_file.nb
    count = 0
    for child in notebook_file.session.items:
        if child.parent is not notebook_file:
            continue
        if child.test_outputs is None:
            return  # a cell did not run: let the book build execute this notebook
        count += 1
        child.cell.execution_count = count
        outputs = []
        for out in child.test_outputs:
            out = nbformat.from_dict(dict(out))
            if out.output_type == "execute_result":
                out.execution_count = count
            outputs.append(out)
        child.cell.outputs = outputs
    nbformat.validate(nb)
    cache = get_cache(str(BOOK_CACHE))
    cache.cache_notebook_bundle(
        CacheBundleIn(nb, str(Path(str(notebook_file.fspath))), data={"recorded_by": "nbval"}),
        check_validity=False,
        overwrite=True,
    )
