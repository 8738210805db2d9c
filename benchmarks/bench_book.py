"""Where the time of building the book goes: per chapter, per cell, and per phase.

Three reports:

    .venv/bin/python benchmarks/bench_book.py cache
        Execution seconds of every chapter of the toc, read from the book's execution
        cache (_build/.jupyter_cache, filled by `make book`). A chapter whose cached
        execution was recorded by the test run (nbval) has no time; one whose cache entry
        does not match the notebook on disk is reported as stale. --markdown prints the
        table for the README.

    .venv/bin/python benchmarks/bench_book.py cells book/07_entrenar_alexnet.ipynb [...]
        Executes each notebook once (nothing is written back, the cache is not touched)
        and prints its slowest cells with their seconds: what to shorten first.

    .venv/bin/python benchmarks/bench_book.py cold [--keep DIR]
        A cold `make book` as CI runs it: clones the repository's committed HEAD into a
        scratch folder, runs `make book` there (virtual environment and install included,
        with whatever pip cache the machine has) and splits the wall time into phases:
        install, notebook execution (the chapters that `make book` executes two at a
        time before Sphinx starts, and any that Sphinx executes itself; each chapter's
        seconds from the clone's cache), the rest of Sphinx's reading, writing the pages,
        and what follows (indices, search index, static files). Uncommitted changes are not part of the clone.

Timings depend on the machine and on what else runs on it: each report prints the CPU
count and the load average next to its numbers.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    """One line saying how many CPUs this machine has and how busy it is."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)"


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of the book's table of contents, in reading order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            entries.append(chapter["file"])
            entries += [section["file"] for section in chapter.get("sections", [])]
    return [root / f"{entry}.ipynb" for entry in entries if (root / f"{entry}.ipynb").exists()]


# ------------------------------------------------------------------------------------
# cache: per-chapter seconds from the jupyter cache
# ------------------------------------------------------------------------------------

def cached_seconds(root: Path = ROOT) -> list[tuple[str, float | None, str]]:
    """``(notebook, seconds, status)`` for every toc notebook, from the execution cache.

    ``status`` is ``'executed'`` (seconds recorded by the book build), ``'nbval'`` (the
    test run recorded the outputs, without a time), ``'stale'`` (the cache holds no
    entry matching the notebook as it is now) or ``'no cache'``.
    """
    from jupyter_cache import get_cache

    path = root / "_build" / ".jupyter_cache"
    rows = []
    cache = get_cache(str(path)) if path.is_dir() else None
    for notebook in toc_notebooks(root):
        name = str(notebook.relative_to(root))
        if cache is None:
            rows.append((name, None, "no cache"))
            continue
        try:
            record = cache.match_cache_file(str(notebook))
        except KeyError:
            rows.append((name, None, "stale"))
            continue
        seconds = record.data.get("execution_seconds")
        rows.append((name, seconds, "executed" if seconds is not None else "nbval"))
    return rows


def report_cache(markdown: bool, root: Path = ROOT) -> None:
    rows = cached_seconds(root)
    total = sum(s for _, s, _ in rows if s is not None)
    print(f"# execution seconds per chapter, from {root / '_build' / '.jupyter_cache'} "
          f"(load now: {machine()})")
    if markdown:
        print("| chapter | seconds | share |")
        print("|---|---:|---:|")
        for name, seconds, status in rows:
            shown = f"{seconds:.1f}" if seconds is not None else status
            share = f"{100 * seconds / total:.0f} %" if seconds is not None and total else ""
            print(f"| `{name}` | {shown} | {share} |")
        print(f"| **total** | **{total:.1f}** | |")
        return
    width = max(len(name) for name, _, _ in rows)
    for name, seconds, status in rows:
        shown = f"{seconds:8.1f}" if seconds is not None else f"{status:>8}"
        share = f"{100 * seconds / total:5.1f} %" if seconds is not None and total else ""
        print(f"{name:<{width}}  {shown}  {share}")
    print(f"{'total':<{width}}  {total:8.1f}")


# ------------------------------------------------------------------------------------
# cells: the slowest cells of a notebook
# ------------------------------------------------------------------------------------

def cell_seconds(notebook: Path, timeout: int = 600) -> tuple[float, list[tuple[int, float, str]]]:
    """Execute ``notebook`` in its folder; return its wall seconds and per-cell seconds.

    Each cell is ``(index, seconds, first line of its source)``; the seconds come from
    the kernel's execute-input and execute-reply timestamps that nbclient records.
    """
    import nbformat
    from dateutil.parser import isoparse
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        began = isoparse(timing["iopub.execute_input"])
        ended = isoparse(timing["shell.execute_reply"])
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        cells.append((index, (ended - began).total_seconds(), first[:70]))
    return wall, cells


def report_cells(notebooks: list[str], top: int) -> None:
    print(f"# slowest cells ({machine()})")
    for name in notebooks:
        path = Path(name).resolve()
        wall, cells = cell_seconds(path)
        in_cells = sum(s for _, s, _ in cells)
        print(f"\n{path.name}: {wall:.1f} s wall, {in_cells:.1f} s in cells, "
              f"{wall - in_cells:.1f} s kernel start and overhead")
        for index, seconds, first in sorted(cells, key=lambda c: -c[1])[:top]:
            print(f"  cell {index:3d}  {seconds:6.1f} s  {first}")


# ------------------------------------------------------------------------------------
# cold: the phases of a cold `make book`
# ------------------------------------------------------------------------------------

# Lines of the build log that open each phase (the first match wins; Sphinx's colour
# codes are stripped first).
_MARKERS = [
    ("execution start", re.compile(r"jcache notebook add|jupyter-book build")),
    ("sphinx start", re.compile(r"jupyter-book build")),
    ("reading", re.compile(r"^reading sources\.\.\.")),
    ("after reading", re.compile(r"^(looking for now-outdated|pickling environment)")),
    ("writing", re.compile(r"^writing output\.\.\. \[")),
    ("after writing", re.compile(r"^(generating indices|writing additional pages)")),
    ("end", re.compile(r"^build (succeeded|finished)")),
]
_EXECUTED = re.compile(r"(\S+\.ipynb): Executed notebook in ([\d.]+) seconds")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def timed_lines(command: list[str], cwd: Path, log: Path) -> list[tuple[float, str]]:
    """Run ``command``, echo and log its output, return each line with its time."""
    lines = []
    start = time.perf_counter()
    # Unbuffered: Python writing to a pipe holds its output back, and Sphinx's phases would
    # all arrive, and be timed, at the end.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1, env=env) as process, log.open("w") as out:
        for line in process.stdout:
            t = time.perf_counter() - start
            line = _ANSI.sub("", line.rstrip("\n"))
            lines.append((t, line))
            out.write(f"{t:8.1f} {line}\n")
        process.wait()
    lines.append((time.perf_counter() - start, f"exit status {process.returncode}"))
    if process.returncode != 0:
        tail = "\n".join(line for _, line in lines[-30:])
        raise SystemExit(f"make book failed (log: {log}):\n{tail}")
    return lines


def phases(lines: list[tuple[float, str]]) -> tuple[dict[str, float], dict[str, float]]:
    """Split a timed `make book` log into phase seconds and per-notebook seconds."""
    marks = {"start": 0.0}
    executed = {}
    for t, line in lines:
        for name, pattern in _MARKERS:
            if name not in marks and pattern.search(line):
                marks[name] = t
        found = _EXECUTED.search(line)
        if found:
            executed[Path(found.group(1)).name] = float(found.group(2))
    marks.setdefault("end", lines[-1][0])
    missing = [name for name, _ in _MARKERS if name not in marks]
    if missing:
        raise SystemExit(f"the build log has no line for: {', '.join(missing)}")
    execution = sum(executed.values())
    result = {
        "install (venv + pip)": marks["execution start"],
        "notebook execution before Sphinx (jcache, two at a time)":
            marks["sphinx start"] - marks["execution start"],
        "Sphinx start-up (config, extensions, bibtex)": marks["reading"] - marks["sphinx start"],
        "notebook execution inside Sphinx (one at a time)": execution,
        "reading, without execution (parsing, glue, MyST)":
            marks["after reading"] - marks["reading"] - execution,
        "consistency checks, pickling": marks["writing"] - marks["after reading"],
        "writing pages": marks["after writing"] - marks["writing"],
        "indices, search index, static files": marks["end"] - marks["after writing"],
        "total": lines[-1][0],
    }
    return result, executed


def report_cold(keep: str | None, python: str) -> None:
    print(f"# cold `make book` of the committed HEAD ({machine()})")
    scratch = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-book-"))
    clone = scratch / "cnncourse"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    log = scratch / "make-book.log"
    lines = timed_lines(["make", "book", f"PYTHON={python}"], clone, log)
    result, executed = phases(lines)
    print("execution seconds per chapter (from the clone's cache; those run inside Sphinx too):")
    for name, seconds, status in cached_seconds(clone):
        shown = f"{seconds:7.1f} s" if seconds is not None else status
        print(f"    {name:<36} {shown}")
    total = result["total"]
    for name, seconds in result.items():
        print(f"{name:<52} {seconds:7.1f} s  {100 * seconds / total:5.1f} %")
    print(f"after: {machine()}")
    print(f"log: {log}" + ("" if keep else f" (scratch folder {scratch}; remove it when done)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="report", required=True)
    cache = sub.add_parser("cache", help="per-chapter seconds from the execution cache")
    cache.add_argument("--markdown", action="store_true", help="a Markdown table")
    cache.add_argument("--root", type=Path, default=ROOT,
                       help="the repository whose cache to read (e.g. a cold clone's)")
    cells = sub.add_parser("cells", help="execute notebooks and list their slowest cells")
    cells.add_argument("notebooks", nargs="+")
    cells.add_argument("--top", type=int, default=8)
    cold = sub.add_parser("cold", help="phases of a cold `make book` in a fresh clone")
    cold.add_argument("--keep", help="clone into this folder (default: a new temporary one)")
    cold.add_argument("--python", default="python3", help="the interpreter make uses for the venv")
    args = parser.parse_args()
    if args.report == "cache":
        report_cache(args.markdown, args.root.resolve())
    elif args.report == "cells":
        report_cells(args.notebooks, args.top)
    else:
        report_cold(args.keep, args.python)


if __name__ == "__main__":
    main()
