"""cnncourse.grading: the course's nbgrader set-up, release and check.

`check` runs here on every assignment of the course: the solutions pass their tests,
the committed releases fail them, leak nothing and are in sync with the solutions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import GradingError, check, load_course, release
from cnncourse.grading.notebooks import (
    cells_by_id,
    grade_id,
    has_visible_assert,
    is_solution,
    is_test,
    secret_lines,
    visible_source,
)
from cnncourse.grading.own_code import foreign_calls
from cnncourse.grading.simulate import copy_course

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
ASSIGNMENTS = COURSE.assignments()
FIRST = "tamanos_salida"


def test_course_layout_comes_from_nbgrader_config():
    assert COURSE.source_dir == ROOT / "solutions"
    assert COURSE.release_dir == ROOT / "exercises"
    assert COURSE.course_id == "cnncourse"
    assert 10 <= COURSE.timeout <= 600
    assert FIRST in ASSIGNMENTS
    stub = COURSE.setting("ClearSolutions", "code_stub", {})["python"]
    assert "raise NotImplementedError()" in stub and "ESCRIBE" in stub


def test_every_assignment_is_a_folder_with_its_release():
    assert not list(COURSE.source_dir.glob("*.ipynb")), "nbgrader never finds notebooks directly in solutions/"
    for assignment in ASSIGNMENTS:
        names = [p.name for p in COURSE.source_notebooks(assignment)]
        assert names, assignment
        assert [p.name for p in COURSE.release_notebooks(assignment)] == names, assignment


def test_unknown_assignment_is_a_clear_error():
    with pytest.raises(GradingError, match="unknown assignment.*no_such"):
        COURSE.resolve(["no_such"])


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_check_passes(assignment):
    report = check(COURSE, [assignment])
    assert report.ok, report.format()


def test_first_assignment_does_not_import_torch():
    """A light assignment stays light: autograde must not pay for importing torch."""
    text = (COURSE.source_dir / FIRST / f"{FIRST}.ipynb").read_text(encoding="utf-8")
    assert "import torch" not in text and "from torch" not in text


def test_released_notebooks_run_without_nbgrader_or_cnncourse():
    """The student version needs neither the nbgrader extension nor this package."""
    nb = nbformat.read(COURSE.release_dir / FIRST / f"{FIRST}.ipynb", as_version=4)
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "cnncourse" not in code and "nbgrader" not in code
    assert nb.metadata.kernelspec.name == "python3"


def test_first_assignment_tests_are_visible_hidden_and_in_spanish():
    nb = nbformat.read(COURSE.source_dir / FIRST / f"{FIRST}.ipynb", as_version=4)
    tests = [cell for cell in nb.cells if is_test(cell)]
    assert sum(cell.metadata.nbgrader.points for cell in tests) == 20
    for cell in tests:
        assert has_visible_assert(cell.source), grade_id(cell)
        assert "### BEGIN HIDDEN TESTS" in cell.source, grade_id(cell)
        assert "debería" in visible_source(cell.source), f"{grade_id(cell)}: Spanish failure messages"
    solutions = {grade_id(c) for c in nb.cells if is_solution(c)}
    assert {"conv_solucion", "pool_solucion", "same_solucion", "trazar_solucion", "entrada_solucion"} <= solutions


def test_notebook_helpers_find_secrets_and_visible_asserts():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            "def f(x):\n    ### BEGIN SOLUTION\n    return x * x + 1  # the secret formula\n"
            "    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell(
            "assert f(2) == 5\n### BEGIN HIDDEN TESTS\nassert f(10) == 101, 'hidden case'\n### END HIDDEN TESTS"
        ),
    ])
    assert secret_lines(nb) == {"return x * x + 1  # the secret formula", "assert f(10) == 101, 'hidden case'"}
    assert visible_source(nb.cells[1].source) == "assert f(2) == 5"
    assert not has_visible_assert("### BEGIN HIDDEN TESTS\nassert f(1)\n### END HIDDEN TESTS")
    assert has_visible_assert("%time x = f(1)\nassert x == 2")  # IPython syntax: text fallback
    assert cells_by_id(nb) == {}


def test_foreign_calls_sees_through_aliases_and_modules():
    import cnncourse.shapes as formas

    def via_module(n, f):
        return formas.conv_output_size(n, f)

    def nested(n, f):
        def inner():
            return formas.same_padding(f)

        return inner()

    assert foreign_calls(via_module) == ["formas"]
    assert foreign_calls(nested) == ["formas"]
    assert foreign_calls(via_module, modules=["torch"]) == []
    assert foreign_calls(len) == []


def _tamper(path: Path, edit) -> None:
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, str(path))


def test_release_is_deterministic_and_swaps_in_a_complete_folder(tmp_path):
    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    committed = (course.release_dir / FIRST / f"{FIRST}.ipynb").read_bytes()
    (course.release_dir / FIRST / "stale.txt").write_text("left over from an old release")
    written = release(course, [FIRST])
    assert written == [course.release_dir / FIRST]
    assert (course.release_dir / FIRST / f"{FIRST}.ipynb").read_bytes() == committed
    assert not (course.release_dir / FIRST / "stale.txt").exists()
    assert sorted(p.name for p in course.release_dir.iterdir()) == [FIRST], "no scratch folders left"


def test_failed_release_keeps_the_committed_release(tmp_path):
    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    release_file = course.release_dir / FIRST / f"{FIRST}.ipynb"
    before = release_file.read_bytes()

    def duplicate_a_grade_id(nb):
        nb.cells.append(nbformat.from_dict(json.loads(json.dumps(nb.cells[3]))))
        nb.cells[-1].id = "copy"

    _tamper(course.source_dir / FIRST / f"{FIRST}.ipynb", duplicate_a_grade_id)
    with pytest.raises(GradingError, match="could not generate the release of 'tamanos_salida'"):
        release(course, [FIRST])
    assert release_file.read_bytes() == before


@pytest.mark.slow
def test_check_reports_each_kind_of_problem(tmp_path):
    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    source = course.source_dir / FIRST / f"{FIRST}.ipynb"

    def break_things(nb):
        cells = cells_by_id(nb)
        cells["pool_solucion"].source = cells["pool_solucion"].source.replace("s = f", "s = 1")
        test = cells["test_alexnet_224"]
        test.source = "pass\n" + test.source[test.source.index("### BEGIN HIDDEN TESTS"):]
        cells["parte2_enunciado"].source = cells["parte2_enunciado"].source.replace("(2 puntos)", "(5 puntos)")

    _tamper(source, break_things)
    release(course, [FIRST])
    leaked = "return (n + 2 * p - f) // s + 1"
    _tamper(course.release_dir / FIRST / f"{FIRST}.ipynb",
            lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source + f"\n\n    {leaked}\n"))
    shutil.copytree(course.source_dir / FIRST, course.source_dir / "copiado")
    (course.source_dir / "copiado" / f"{FIRST}.ipynb").rename(course.source_dir / "copiado" / "copiado.ipynb")

    def duplicate(nb):
        nb.cells.insert(3, nbformat.from_dict(json.loads(json.dumps(nb.cells[2]))))
        nb.cells[3].id = "copy"

    _tamper(course.source_dir / "copiado" / "copiado.ipynb", duplicate)

    report = check(course)
    text = report.format()
    assert not report.ok
    for expected in [
        "tamanos_salida/tamanos_salida.ipynb: the solution fails a test",
        "test cell 'test_alexnet_224' has no visible assert",
        "a test passes on the untouched release",
        "announces 5 points, its test cells are worth 2",
        f"the release leaks a solution or hidden-test line: {leaked!r}",
        "committed release out of sync with the solutions",
        "copiado/copiado.ipynb: grade id 'conv_solucion' is used by more than one cell",
        "copiado/copiado.ipynb: no released copy",
        "nbgrader cannot generate the release",
    ]:
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert text.splitlines()[-1].startswith("check FAILED")


@pytest.mark.slow
def test_command_line_exit_status_and_messages(tmp_path, capsys):
    from cnncourse.grading.__main__ import main

    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    assert main(["--course", str(course.root), "release", FIRST]) == 0
    assert f"released exercises/{FIRST}" in capsys.readouterr().out
    assert main(["--course", str(course.root), "release", "nada"]) == 1
    assert "unknown assignment" in capsys.readouterr().err
    _tamper(course.release_dir / FIRST / f"{FIRST}.ipynb", lambda nb: nb.cells.pop())
    assert main(["--course", str(course.root), "check", FIRST]) == 1
    out = capsys.readouterr().out
    assert "committed release out of sync" in out and out.splitlines()[-1].startswith("check FAILED")
    assert main(["--course", str(course.root), "report"]) == 1
    assert "nothing graded yet" in capsys.readouterr().err
    assert main(["--course", str(course.root), "autograde"]) == 1
    assert "no submissions folder" in capsys.readouterr().err
    assert main(["--course", str(tmp_path), "check"]) == 1
    assert "has no nbgrader_config.py" in capsys.readouterr().err


def test_exercise_links_follow_the_config_and_the_released_notebooks(tmp_path):
    import yaml

    from cnncourse.grading import exercise_links, exercise_table

    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["repository"].update(url="https://github.com/profe/curso-cnn", branch="curso-2027")
    (course.root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    extra = course.release_dir / "zz_nuevo"  # a later assignment, without an order
    extra.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Ejercicio nuevo\n\nTexto.")])
    nbformat.write(nb, str(extra / "zz_nuevo.ipynb"))

    links = exercise_links(course.root / "solutions")  # found from a subfolder, as book/ is
    assert [(link.assignment, link.title) for link in links] == [
        (FIRST, "Ejercicio: tamaños de salida de convoluciones y pooling"),
        ("zz_nuevo", "Ejercicio nuevo"),
    ]
    first = links[0]
    assert first.points == 20
    path = f"exercises/{FIRST}/{FIRST}.ipynb"
    assert first.colab == f"https://colab.research.google.com/github/profe/curso-cnn/blob/curso-2027/{path}"
    assert first.binder == f"https://mybinder.org/v2/gh/profe/curso-cnn/curso-2027?urlpath=lab/tree/{path}"
    assert first.download == f"https://github.com/profe/curso-cnn/raw/curso-2027/{path}"
    page = exercise_table(course.root)._repr_html_()
    assert page.count("<tr>") == 3 and "Colab</a>" in page and "Binder</a>" in page

    config["repository"]["url"] = "https://gitlab.com/profe/curso-cnn"
    (course.root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ValueError, match="must be https://github.com/<owner>/<repo>"):
        exercise_links(course.root)


def test_repository_url_lives_only_in_the_book_config():
    url = load_course(ROOT) and __import__("yaml").safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in [ROOT / "book" / "ejercicios.ipynb", *(ROOT / "cnncourse" / "grading").glob("*.py")]:
        assert url not in path.read_text(encoding="utf-8"), path


def test_partial_regrade_refuses_when_the_solutions_changed(tmp_path):
    from dataclasses import asdict

    from cnncourse.grading import NotebookResult, autograde

    course = copy_course(COURSE, tmp_path / "course", [FIRST])
    for student in ("ana", "beto"):
        (course.submitted_dir / student / FIRST).mkdir(parents=True)
    course.autograded_dir.mkdir()
    old = NotebookResult("beto", FIRST, FIRST, 20, 20, "graded", "Corregido.", source_hash="solutions-of-last-year")
    (course.autograded_dir / "grading_results.json").write_text(json.dumps([asdict(old)]))
    with pytest.raises(GradingError, match=r"solutions of \['tamanos_salida'\] changed"):
        autograde(course, students=["ana"])
    with pytest.raises(GradingError, match=r"for student\(s\) \['zoe'\]"):
        autograde(course, students=["zoe"])


def test_check_flags_grading_time_imports_unless_the_cell_says_why():
    from cnncourse.grading.checks import _check_grading_imports

    nb = nbformat.read(COURSE.source_dir / FIRST / f"{FIRST}.ipynb", as_version=4)
    cell = cells_by_id(nb)["test_pool"]
    cell.source = cell.source.replace("### END HIDDEN TESTS", "import torch as _t\n### END HIDDEN TESTS")
    found: list[str] = []
    _check_grading_imports(nb, found.append)
    assert len(found) == 1 and "'test_pool' imports ['torch'] at grading time" in found[0]
    cell.metadata["cnncourse"] = {"grading_imports": "la prueba construye un modelo de referencia"}
    found.clear()
    _check_grading_imports(nb, found.append)
    assert found == []


def test_ensure_tools_on_path_restores_path_and_nbgrader():
    import os

    import nbgrader.api

    from cnncourse.grading.course import ensure_tools_on_path

    path, version = os.environ.get("PATH"), nbgrader.api.get_alembic_version
    with ensure_tools_on_path():
        assert nbgrader.api.get_alembic_version is not version
    assert os.environ.get("PATH") == path and nbgrader.api.get_alembic_version is version


def _run_guard(prelude: str) -> subprocess.CompletedProcess:
    from cnncourse.grading.guard import guard_code

    script = prelude + "\n" + guard_code()
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)


def test_guard_accepts_a_kernel_that_imports_torch():
    # importing torch replaces inspect.getfile (torch.package): a legitimate import, not
    # tampering, whatever the grader's own process had imported when it made the guard
    result = _run_guard("import torch, numpy, inspect")
    assert result.returncode == 0, result.stderr[-2000:]


def test_guard_flags_a_patched_inspect_function():
    result = _run_guard("import inspect\ninspect.getsource = lambda obj: ''")
    assert result.returncode != 0
    assert "MANIPULACION-DEL-ENTORNO" in result.stderr and "inspect" in result.stderr
