"""The student's check before submitting (cnncourse.grading.student) says what the grader will.

Notebooks are built the way tests/test_grading_wrong_answers.py builds them: the release
with the reference solution, or with a wrong answer's cells in place of some of it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import STATUS, load_course
from cnncourse.grading.notebooks import is_solution, is_test
from cnncourse.grading.reports import WORDS
from cnncourse.grading.simulate import KINDS, solved, wrong_answers
from cnncourse.grading.student import check_notebook, main

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
WRONG = ROOT / "tests" / "wrong_answers"
FIRST = "tamanos_salida"

#: Wrong answers that pass every visible test: only the hidden tests (run at grading) catch them.
HIDDEN_ONLY = {
    ("conteo_parametros", "usa_torch"),
    ("mapas_activacion", "usa_torch"),
    ("retropropagacion", "db_sin_lote"),
    ("retropropagacion", "ignora_stride"),
    ("retropropagacion", "pool_memoriza_ejemplos"),
    ("tamanos_salida", "memoriza_ejemplos"),
}


def _notebooks(assignment: str, solutions: dict[str, str] | None = None):
    """(release path, release, the release filled with the reference or ``solutions``)."""
    for path in COURSE.release_notebooks(assignment):
        release = nbformat.read(path, as_version=4)
        ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells}
        if set(solutions or {}) <= ids:
            source = nbformat.read(COURSE.source_dir / assignment / path.name, as_version=4)
            return path, release, solved(release, source, solutions)
    raise AssertionError(f"no notebook of {assignment} has cells {sorted(solutions or {})}")


def _write(nb, folder: Path, name: str = f"{FIRST}.ipynb") -> Path:
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def _wrong(assignment: str, name: str):
    return next(a for a in wrong_answers(WRONG / assignment) if a.name == name)


def test_the_reference_solution_passes(tmp_path, capsys):
    _, _, nb = _notebooks(FIRST)
    path = _write(nb, tmp_path)
    assert main([str(path), "--tiempo", "60"]) == 0
    out = capsys.readouterr().out
    assert f"{WORDS['test_cell']} test_conv_sin_relleno (2 puntos): {WORDS['passed']}" in out
    assert "9 de 9 celdas" in out and "20 / 20 puntos" in out
    assert WORDS["hidden_tests"] in out  # the hidden tests are still to come


def test_the_untouched_release_fails(tmp_path, capsys):
    release_path, _, _ = _notebooks(FIRST)
    path = tmp_path / release_path.name
    path.write_bytes(release_path.read_bytes())
    result = check_notebook(path, course=COURSE)
    assert not result.ok and result.outcome == "graded"
    assert result.failed == [c.metadata.nbgrader.grade_id for c in nbformat.read(path, as_version=4).cells
                             if is_test(c)]
    assert "NotImplementedError" in result.cells[0].message
    assert main([str(path)]) == 1
    assert f"0 de {len(result.cells)} celdas" in capsys.readouterr().out


def test_a_wrong_answer_fails_its_visible_tests_with_their_messages(tmp_path):
    answer = _wrong(FIRST, "olvida_2p")
    _, _, nb = _notebooks(FIRST, answer.solutions)
    result = check_notebook(_write(nb, tmp_path), course=COURSE)
    assert result.failed == ["test_conv_relleno_paso", "test_forma_conv", "test_alexnet_227"]
    assert set(result.failed) <= set(answer.fails)
    message = next(c.message for c in result.cells if c.grade_id == "test_conv_relleno_paso")
    assert message.startswith("AssertionError: tamano_salida_conv(") and "debería ser" in message
    assert "Traceback" not in result.format() and f"{WORDS['failed']}\n    AssertionError" in result.format()


def test_a_forbidden_import_is_flagged_without_running_anything(tmp_path, capsys):
    _, _, nb = _notebooks(FIRST)
    cell = next(c for c in nb.cells if is_solution(c) and c.cell_type == "code")
    cell.source = "import ctypes\n" + cell.source
    path = _write(nb, tmp_path)
    result = check_notebook(path, course=COURSE, execute=False)
    assert result.tampering == ["usa ctypes (acceso a la memoria del intérprete)"]
    assert not result.ok and not result.cells
    assert main([str(path), "--sin-ejecutar"]) == 1
    out = capsys.readouterr().out
    assert STATUS["tampering"] in out and "ctypes" in out


def test_a_broken_json_file_gets_a_clear_spanish_message(tmp_path, capsys):
    path = tmp_path / f"{FIRST}.ipynb"
    path.write_text('{"cells": [\n  {"cell_type": "code",\n', encoding="utf-8")
    result = check_notebook(path, course=COURSE)
    assert result.outcome == "invalid_notebook" and not result.ok and not result.executed
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert STATUS["invalid_notebook"] in out
    assert f"«{FIRST}.ipynb» no es un cuaderno de Jupyter válido: no es JSON" in out


def test_deleted_copied_and_edited_cells_are_reported_and_the_real_tests_run(tmp_path):
    answer = _wrong(FIRST, "olvida_2p")
    _, _, nb = _notebooks(FIRST, answer.solutions)
    tests = [c for c in nb.cells if is_test(c)]
    for cell in tests[1:]:
        cell.source = "assert True  # ya pasa\n"  # edited read-only cells: the grader restores them
    nb.cells.remove(tests[0])  # a deleted test cell: restored
    copied = copy.deepcopy(next(c for c in nb.cells if is_solution(c)))
    copied["id"] = "copia"
    nb.cells.append(copied)
    result = check_notebook(_write(nb, tmp_path), course=COURSE)
    assert sorted(result.notes) == ["duplicate_cells", "restored_cells", "tests_restored"]
    text = result.format()
    for code in result.notes:
        assert STATUS[code] in text
    assert result.failed == ["test_conv_relleno_paso", "test_forma_conv", "test_alexnet_227"]


def test_an_infinite_loop_and_a_dying_kernel_are_reported(tmp_path, capsys):
    release_path, release, _ = _notebooks(FIRST)
    source = nbformat.read(COURSE.source_dir / FIRST / release_path.name, as_version=4)
    loop = _write(KINDS["infinite_loop"](release, source, None)[""], tmp_path, "bucle.ipynb")
    result = check_notebook(loop, course=COURSE, timeout=5)
    assert "timeout" in result.notes and not result.ok
    assert result.failed == ["test_entrada_valida"]  # the looping cell defines entrada_valida
    assert STATUS["timeout"] in result.format() and "límite de 5 s" in result.format()
    dies = _write(KINDS["kills_kernel"](release, source, None)[""], tmp_path, "muere.ipynb")
    assert main([str(dies)]) == 1
    out = capsys.readouterr().out
    assert STATUS["kernel_died"] in out and "la nota sería 0" in out
    assert f"test_entrada_valida (3 puntos): {WORDS['failed']}" in out  # never ran


def test_bad_arguments_are_refused(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="path"):
        check_notebook(tmp_path / "no_existe.ipynb")
    path = _write(nbformat.v4.new_notebook(), tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        check_notebook(path, timeout=0)
    assert main([str(tmp_path / "no_existe.ipynb")]) == 2
    assert "No existe el archivo" in capsys.readouterr().err


CASES = [
    pytest.param(assignment, answer, id=f"{assignment}-{answer.name}")
    for assignment in COURSE.assignments()
    for answer in wrong_answers(WRONG / assignment)
]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "answer"), CASES)
def test_every_wrong_answer_is_reported(assignment, answer, tmp_path):
    release_path, _, nb = _notebooks(assignment, answer.solutions)
    result = check_notebook(_write(nb, tmp_path, release_path.name), course=COURSE)
    text = result.format()
    assert WORDS["hidden_tests"] in text, "the student is told that hidden tests run at grading"
    if (assignment, answer.name) in HIDDEN_ONLY:
        assert result.ok, f"{answer.name} now fails a visible test: remove it from HIDDEN_ONLY"
        return
    assert not result.ok, f"{answer.name} passes the visible tests: add it to HIDDEN_ONLY if that is expected"
    assert result.tampering or set(result.failed) & set(answer.fails), (
        f"{answer.name} fails {result.failed}, none of the cells it must fail ({answer.fails})"
    )
