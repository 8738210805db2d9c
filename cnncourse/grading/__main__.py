"""Command line: ``python -m cnncourse.grading {release,check,autograde,report} ...``.

Run it in the course folder (the one with ``nbgrader_config.py``) or pass ``--course``.
Exit status: 0 on success, 1 when ``check`` finds a problem or a command fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from cnncourse.grading.course import GradingError, load_course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnncourse.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: found from here)")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="regenerate exercises/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignments (default: all)")

    check = commands.add_parser("check", help="solutions pass, releases fail and are in sync")
    check.add_argument("assignments", nargs="*", help="assignments (default: all)")

    grade = commands.add_parser("autograde", help="grade submitted/<student>/<assignment>/")
    grade.add_argument("assignments", nargs="*", help="assignments (default: all)")
    grade.add_argument("--submitted", type=Path, default=None, help="submissions folder (default: submitted/)")
    grade.add_argument("--student", action="append", dest="students", help="grade only this student (repeatable)")
    grade.add_argument("--jobs", type=int, default=1, help="students graded at the same time (default: 1)")
    grade.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: nbgrader_config.py)")
    grade.add_argument("--require-confinement", action="store_true",
                       help="refuse to grade where the kernels cannot be confined (no Landlock)")
    grade.add_argument("--no-sandbox", action="store_true", help="run kernels unconfined (trusted notebooks only)")
    grade.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: tcp://HOST:8786, or local:N worker processes here")

    review = commands.add_parser("review", help="list submissions whose points are withheld; accept one")
    review.add_argument("--accept", nargs=2, metavar=("STUDENT", "ASSIGNMENT"), help="give back its withheld points")

    rep = commands.add_parser("report", help="grades CSV and HTML feedback")
    rep.add_argument("--csv", type=Path, default=None, help="CSV path (default: feedback/grades.csv)")
    rep.add_argument("--no-feedback", action="store_true", help="write only the CSV")
    rep.add_argument("--show-hidden-tests", dest="hidden_tests", action="store_const", const="show", default=None,
                     help="show the hidden tests (code, data, tracebacks) in the feedback pages "
                          "(default: CnnCourse.feedback_hidden_tests of nbgrader_config.py, else hidden)")
    rep.add_argument("--hide-hidden-tests", dest="hidden_tests", action="store_const", const="hide",
                     help="leave the hidden tests out of the feedback pages, whatever nbgrader_config.py says")

    args = parser.parse_args(argv)
    try:
        course = load_course(args.course)
        return _COMMANDS[args.command](course, args)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _release(course, args) -> int:
    from cnncourse.grading.releases import release

    for folder in release(course, args.assignments):
        print(f"released {folder.relative_to(course.root)}")
    return 0


def _check(course, args) -> int:
    from cnncourse.grading.checks import check

    report = check(course, args.assignments)
    print(report.format())
    return 0 if report.ok else 1


def _autograde(course, args) -> int:
    from cnncourse.grading.grades import autograde
    from cnncourse.grading.sandbox import available

    box = available()
    if box["confined"] and not args.no_sandbox:
        print(f"kernels confined: Landlock ABI {box['landlock']}, "
              f"{'a uid of their own, ' if box['own_uid'] else ''}memory/file/disk/CPU/process limits",
              file=sys.stderr)
    results = autograde(
        course,
        args.submitted,
        assignments=args.assignments,
        students=args.students,
        jobs=args.jobs,
        timeout=args.timeout,
        sandbox=not args.no_sandbox,
        require_confinement=args.require_confinement,
        cluster=args.cluster,
    )
    if not results:
        print("no submissions to grade")
        return 0
    width = max(len(r.student) for r in results)
    for r in results:
        row = r.row()
        print(f"{r.student:<{width}}  {r.assignment}/{r.notebook}  {row['score']}/{row['max_score']}  {r.status}")
    graded = [r.seconds for r in results if r.seconds]
    if graded:
        print(
            f"{len(results)} notebook(s); median {statistics.median(graded):.2f} s per graded notebook; "
            f"results in {_shown(course.autograded_dir, course)}/, gradebook.db"
        )
    return 0


def _review(course, args) -> int:
    import csv

    from cnncourse.grading.grades import REVIEW_FILE, accept_review

    if args.accept:
        for r in accept_review(course, *args.accept):
            print(f"accepted {r.student} {r.assignment}/{r.notebook}: {r.row()['score']}/{r.row()['max_score']}")
        return 0
    path = course.autograded_dir / REVIEW_FILE
    if not path.is_file():
        print("nothing to review")
        return 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            print(f"{row['student']}  {row['assignment']}/{row['notebook']}  withheld {row['withheld']}/"
                  f"{row['max_score']}  {row['notebook_path']}\n    {row['detail']}")
    return 0


def _report(course, args) -> int:
    from cnncourse.grading.reports import report

    files = report(course, csv_path=args.csv, feedback=not args.no_feedback, hidden_tests=args.hidden_tests)
    print(f"grades: {_shown(files.csv, course)}")
    if files.pages:
        sizes = [page.stat().st_size for page in files.pages]
        print(f"feedback: {len(files.pages)} page(s) under {_shown(course.feedback_dir, course)} "
              f"({sum(sizes)} bytes, largest {max(sizes)} bytes)")
    for problem in files.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def _shown(path: Path, course) -> str:
    """A path relative to the course when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(course.root)) if course.root in path.parents else str(path)


_COMMANDS = {"release": _release, "check": _check, "autograde": _autograde, "report": _report, "review": _review}

if __name__ == "__main__":
    sys.exit(main())
