"""The instructor's workflow end to end, on a scratch copy of the course.

release -> a simulated class -> autograde -> report, asserting each student's exact score
and status. The first assignment gets a student of every troublesome kind; every other
assignment of the course gets a smaller class (perfect and partly right) automatically,
from its release and its wrong answers.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import autograde, load_course, load_results, release, report
from cnncourse.grading.guard import add_guards
from cnncourse.grading.notebooks import fill_solutions, score_notebook
from cnncourse.grading.simulate import KINDS, copy_course, write_submission, wrong_answers

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
FIRST = "tamanos_salida"
TIMEOUT = 5  # seconds per cell: the student with the infinite loop costs this much

# student kind -> (score out of 20, status) for "Tamaños de salida"; the partly right
# and the test-editing students answer with the wrong answer "olvida_2p".
EXPECTED = {
    "perfect": (20, "graded"),
    "untouched": (0, "graded"),
    "partly_right": (9, "graded"),
    "infinite_loop": (17, "graded; timeout"),
    "kills_kernel": (0, "kernel_died"),
    "exception_everywhere": (0, "graded; tests_restored"),
    "deleted_cells": (20, "graded; restored_cells"),
    "duplicated_cells": (20, "graded; duplicate_cells"),
    "edited_tests": (9, "graded; tests_restored"),
    "shadow_module": (20, "graded; ignored_files"),
    "renamed_notebook": (20, "graded; renamed_notebook"),
    "missing_notebook": (0, "missing_notebook"),
    "invalid_notebook": (0, "invalid_notebook"),
}


def _wrong(assignment: str, name: str | None = None):
    answers = wrong_answers(ROOT / "tests" / "wrong_answers" / assignment)
    return next(a for a in answers if name in (None, a.name))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The first assignment released, handed in by a class of every kind, and graded."""
    course = copy_course(COURSE, tmp_path_factory.mktemp("course"), [FIRST])
    release(course, [FIRST])
    wrong = _wrong(FIRST, "olvida_2p")
    for kind in KINDS:
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong)
    (course.submitted_dir / "sin_tarea").mkdir()  # a student who handed in something else
    results = autograde(course, assignments=[FIRST], timeout=TIMEOUT)
    return course, results


@pytest.mark.slow
def test_every_student_gets_the_exact_score_and_status(graded_class):
    course, results = graded_class
    got = {r.student: (r.score, r.status) for r in results}
    assert got == {**EXPECTED, "sin_tarea": (0, "not_submitted")}
    assert all(r.max_score == 20 and r.notebook == FIRST for r in results)
    assert all(r.detail for r in results), "every status is explained to the student"
    assert load_results(course) == results


@pytest.mark.slow
def test_the_details_say_what_happened(graded_class):
    _, results = graded_class
    detail = {r.student: r.detail for r in results}
    assert f"límite de {TIMEOUT} s" in detail["infinite_loop"] and "entrada_solucion" in detail["infinite_loop"]
    assert "kernel" in detail["kills_kernel"] and "nota es 0" in detail["kills_kernel"]
    assert "numpy.py" in detail["shadow_module"] and "cnncourse.py" in detail["shadow_module"]
    assert "tamanos_salida (1).ipynb" in detail["renamed_notebook"]
    assert "no es JSON" in detail["invalid_notebook"]
    assert "test_conv_sin_relleno" in detail["deleted_cells"]
    assert "conv_solucion" in detail["duplicated_cells"]


@pytest.mark.slow
def test_gradebook_and_graded_notebooks_agree_with_the_results(graded_class):
    from nbgrader.api import Gradebook

    course, results = graded_class
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        for r in results:
            submission = gb.find_submission_notebook(FIRST, FIRST, r.student)
            assert (submission.score, submission.max_score) == (r.score, 20), r.student
    graded = {p.parent.parent.name for p in course.autograded_dir.glob(f"*/{FIRST}/{FIRST}.ipynb")}
    ungradable = {"kills_kernel", "missing_notebook", "invalid_notebook", "sin_tarea"}
    assert graded == set(EXPECTED) - ungradable
    # the restored notebook runs the hidden tests, not the student's edited ones
    nb = nbformat.read(course.autograded_dir / "edited_tests" / FIRST / f"{FIRST}.ipynb", as_version=4)
    assert "### BEGIN HIDDEN TESTS" in "".join(c.source for c in nb.cells)


@pytest.mark.slow
def test_report_writes_the_csv_and_feedback_for_everyone(graded_class):
    course, results = graded_class
    files = report(course)
    assert files.problems == []
    with files.csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "assignment", "notebook", "score", "max_score", "status", "detail"]
    assert {(row["student"], row["score"], row["status"]) for row in rows} == {
        (r.student, str(int(r.score)), r.status) for r in results
    }
    for r in results:
        page = (course.feedback_dir / r.student / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
        if r.graded:  # nbgrader's feedback: the points of every test
            assert "Nota: " in page and "Tu respuesta" in page and "test_conv_sin_relleno" in page, r.student
        else:
            assert "No se pudo corregir este cuaderno" in page and r.detail.split(".")[0] in page, r.student
        index = (course.feedback_dir / r.student / "index.html").read_text(encoding="utf-8")
        assert f"{FIRST}/{FIRST}.html" in index and 'lang="es"' in index


@pytest.mark.slow
def test_regrading_some_students_changes_nothing_else(graded_class):
    course, before = graded_class
    again = autograde(course, assignments=[FIRST], students=["perfect", "kills_kernel"], jobs=2, timeout=TIMEOUT)
    assert [(r.student, r.score, r.status) for r in again] == [
        ("kills_kernel", 0, "kernel_died"),
        ("perfect", 20, "graded"),
    ]
    after = load_results(course)
    strip = lambda rs: [(r.student, r.score, r.status, r.detail, r.cells) for r in rs]  # noqa: E731
    assert strip(after) == strip(before)


OTHERS = [a for a in COURSE.assignments() if a != FIRST]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", OTHERS or [pytest.param(None, marks=pytest.mark.skip("one assignment"))])
def test_small_class_of_every_other_assignment(assignment, tmp_path):
    course = copy_course(COURSE, tmp_path / "course", [assignment])
    wrong = _wrong(assignment)
    # an untouched release scores 0 by test_check_passes; awkward kinds: the first assignment
    kinds = ["perfect", "partly_right"]
    for kind in kinds:
        write_submission(course, assignment, kind, kind, course.submitted_dir, wrong=wrong)
    results = autograde(course, assignments=[assignment], timeout=60)
    by_student: dict[str, list] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    total = {s: (sum(r.score for r in rs), sum(r.max_score for r in rs)) for s, rs in by_student.items()}
    top = total["perfect"][1]
    assert top > 0
    assert total["perfect"] == (top, top)
    assert all(r.status == "graded" for r in results)
    # the partly right student gets what the wrong answer scores on its own
    first = course.source_notebooks(assignment)[0]
    graded_source = nbformat.read(first, as_version=4)
    add_guards(graded_source, where=assignment)  # what is graded: expected values as data, guards
    expected = score_notebook(fill_solutions(graded_source, wrong.solutions), cwd=first.parent).score
    assert by_student["partly_right"][0].score == expected < by_student["partly_right"][0].max_score


# Attacking students of the first assignment: each with its exact status, score and the
# points its tests would have given (withheld for review). The partly right ones answer
# with "olvida_2p" (9 points on their own) and cheat on top of it.
ATTACKS = {
    "attack_overwrite_other": (20, "graded", 0),
    "attack_delete_other": (20, "graded", 0),
    "attack_read_solutions": (20, "graded", 0),
    "attack_swap_module": (0, "tampering", 0),
    "attack_patch_builtins": (0, "tampering", 0),
    "attack_obfuscated": (0, "tampering", 9),
    "attack_ipython_exc_hook": (0, "tampering", 0),
    "attack_ipython_ast_hook": (0, "tampering", 0),
    "attack_patch_numpy": (0, "tampering", 0),
    "attack_eq_always_true": (5, "graded", 0),
    "attack_memory_at_once": (17, "graded; memory_limit", 0),
    "attack_memory_numpy": (17, "graded; memory_limit", 0),
    "attack_big_file": (17, "graded; disk_limit", 0),
    "attack_many_files": (0, "disk_limit", 0),
    "attack_fork_bomb": (0, "process_limit", 0),
    "attack_fork_subprocess": (0, "process_limit", 0),
}
HONEST = {"perfect": (20, "graded", 0), "partly_right": (9, "graded", 0)}


def _fingerprint(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory):
    """Honest students and attackers aiming at them, at the solutions and at the grader."""
    from cnncourse.grading.simulate import ATTACKS as KINDS_OF_ATTACK

    course = copy_course(COURSE, tmp_path_factory.mktemp("attacked"), [FIRST])
    wrong = _wrong(FIRST, "olvida_2p")
    for kind in HONEST:
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong)
    targets = {"victim": str(course.submitted_dir / "perfect"), "secret": str(course.source_dir)}
    for kind in KINDS_OF_ATTACK:
        write_submission(course, FIRST, kind, kind, course.submitted_dir, wrong=wrong, targets=targets)
    before = {name: _fingerprint(course.root / name) for name in ("submitted/perfect", "submitted/partly_right",
                                                                   "solutions", "exercises")}
    results = autograde(course, assignments=[FIRST], timeout=TIMEOUT, jobs=2, require_confinement=True)
    return course, results, before


@pytest.mark.slow
def test_every_attacker_gets_its_exact_status_and_score(attacked_class):
    _, results, _ = attacked_class
    got = {r.student: (r.score, r.status, r.withheld) for r in results}
    assert got == {**ATTACKS, **HONEST}
    for r in results:
        assert r.detail and r.max_score == 20, r.student
        if r.status.startswith("tampering"):
            assert "retenida" in r.detail and "revise" in r.detail


@pytest.mark.slow
def test_attackers_change_nothing_of_anyone_else(attacked_class):
    course, results, before = attacked_class
    for name, files in before.items():
        assert _fingerprint(course.root / name) == files, f"{name} changed during autograde"
    graded = nbformat.read(course.autograded_dir / "attack_read_solutions" / FIRST / f"{FIRST}.ipynb", as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in graded.cells])
    assert "FUGA" not in outputs, "a kernel could read the solutions or another submission"
    files = report(course)
    assert files.problems == []
    honest = (course.feedback_dir / "perfect" / FIRST / f"{FIRST}.html").read_text(encoding="utf-8")
    assert "(Nota: 20.0 / 20.0)" in honest


@pytest.mark.slow
def test_the_instructor_gets_a_review_list_and_can_accept(attacked_class):
    from cnncourse.grading.grades import accept_review

    course, results, _ = attacked_class
    with (course.autograded_dir / "review.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {s for s, (_, status, _) in ATTACKS.items() if status == "tampering"}
    assert rows["attack_obfuscated"]["withheld"] == "9" and Path(rows["attack_obfuscated"]["notebook_path"]).is_file()
    accepted = accept_review(course, "attack_obfuscated", FIRST)
    assert [(r.score, r.status) for r in accepted] == [(9, "graded; reviewed")]
    assert "attack_obfuscated" not in (course.autograded_dir / "review.csv").read_text(encoding="utf-8")


def _chromium() -> str | None:
    import shutil

    return next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no headless chromium (apt-get install chromium)")
def test_feedback_reads_in_spanish_and_renders_formulas_offline_in_a_browser(graded_class):
    import subprocess

    course, results = graded_class
    page = course.feedback_dir / "perfect" / FIRST / f"{FIRST}.html"
    if not page.is_file():  # test_report_writes_the_csv_and_feedback_for_everyone wrote it already
        report(course)
    assert (course.feedback_dir / "_static" / "mathjax" / "tex-chtml-full.js").is_file()
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--virtual-time-budget=15000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = done.stdout
    assert "Tu respuesta" in dom and "Celda de pruebas" in dom and "Nota: " in dom, done.stderr[-2000:]
    for english in ("Student's answer", "Grade cell", "Test cell", "Score:"):
        assert english not in dom
    assert "<mjx-container" in dom, "MathJax did not render the formulas"
    assert "$$" not in dom.split("<body", 1)[1].split("<script", 1)[0] or "<mjx-container" in dom
