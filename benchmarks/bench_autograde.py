"""Seconds per notebook to autograde a simulated class.

Builds a scratch copy of the course, hands in the assignment for ``--students``
simulated students (cycling through perfect, partly right, untouched and the awkward
submissions of cnncourse.grading.simulate; the infinite loop is left out, since it
costs the cell timeout by design), grades them with ``python -m cnncourse.grading
autograde``'s function and prints the median seconds per graded notebook and the wall
time of the whole run.

    .venv/bin/python benchmarks/bench_autograde.py                  # 30 students, 1 job
    .venv/bin/python benchmarks/bench_autograde.py --jobs 2
    .venv/bin/python benchmarks/bench_autograde.py --assignment retropropagacion
    .venv/bin/python benchmarks/bench_autograde.py --assignment all           # every assignment
    .venv/bin/python benchmarks/bench_autograde.py --students 300 --jobs 2    # a large class
    .venv/bin/python benchmarks/bench_autograde.py --students 24 --cluster local:2     # Dask, 2 workers
    .venv/bin/python benchmarks/bench_autograde.py --cluster tcp://HOST:8786          # a real cluster

With ``--cluster`` it also prints the coordinator's own time per notebook (packing the
template, sending the tasks, receiving and writing back the results: everything outside
the workers) and a class of 2,000 notebooks projected from the measured rate.

Kernels run confined (cnncourse.grading.sandbox) as in a real autograde; the first line
says which confinement this machine gives.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from cnncourse.grading import autograde, load_course
from cnncourse.grading.sandbox import available
from cnncourse.grading.simulate import KINDS, copy_course, write_submission, wrong_answers

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="tamanos_salida", help="an assignment, or 'all'")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--cluster", default=None, help="Dask scheduler address or local:N")
    args = parser.parse_args()
    print(f"confinement: {available()}")
    everything = load_course(ROOT).assignments()
    for assignment in everything if args.assignment == "all" else [args.assignment]:
        bench(assignment, args.students, args.jobs, args.cluster)


def bench(assignment: str, students: int, jobs: int, cluster: str | None = None) -> None:
    """Grade a simulated class of one assignment and print the timings."""
    kinds = [kind for kind in KINDS if kind != "infinite_loop"]
    wrong = wrong_answers(ROOT / "tests" / "wrong_answers" / assignment)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as scratch:
        course = copy_course(load_course(ROOT), Path(scratch) / "course", [assignment])
        for i in range(students):
            kind = kinds[i % len(kinds)]
            write_submission(course, assignment, f"alumno{i:03d}-{kind}", kind, course.submitted_dir,
                             wrong=wrong[i % len(wrong)])
        start = time.perf_counter()
        results = autograde(course, assignments=[assignment], jobs=jobs, progress=False, cluster=cluster)
        wall = time.perf_counter() - start
    seconds = sorted(r.seconds for r in results if r.seconds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"assignment {assignment}: {len(results)} notebooks, {len(seconds)} run through nbgrader, "
          f"{f'cluster={cluster}' if cluster else f'jobs={jobs}'}, {os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"median {statistics.median(seconds):.2f} s per graded notebook "
          f"(min {seconds[0]:.2f}, max {seconds[-1]:.2f})")
    print(f"wall {wall:.1f} s for the class: {wall / len(results):.2f} s per notebook, template and "
          "gradebook included")
    if cluster:
        _cluster_report(len(results), wall)


def _cluster_report(notebooks: int, wall: float) -> None:
    """The coordinator's overhead, the workers' time and the projection to 2,000 notebooks."""
    from cnncourse.grading.cluster import last_run

    grading = last_run["wall"] - last_run["start"]
    own = sum(last_run[key] for key in ("checks", "pack", "send", "receive", "write"))
    rate = notebooks / grading
    print(f"cluster: {rate:.2f} notebooks/s once connected ({grading:.1f} s; connecting or starting the "
          f"cluster {last_run['start']:.1f} s more); coordinator overhead {1000 * own / notebooks:.1f} ms per "
          f"notebook (checks {last_run['checks']:.2f} s, pack {last_run['pack']:.2f} s, send "
          f"{last_run['send']:.2f} s, receive {last_run['receive']:.2f} s, write {last_run['write']:.2f} s); "
          f"workers {last_run['worker'] / notebooks:.2f} s per notebook")
    print(f"projection: 2,000 notebooks in {2000 / rate / 60:.0f} min at this rate")

if __name__ == "__main__":
    main()
