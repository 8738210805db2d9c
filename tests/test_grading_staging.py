"""cnncourse.grading.staging: what a messy submission becomes before nbgrader sees it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading import load_course
from cnncourse.grading.notebooks import grade_id, is_solution, is_test
from cnncourse.grading.staging import stage_submission

ROOT = Path(__file__).resolve().parents[1]
COURSE = load_course(ROOT)
NAME = "tamanos_salida"
RELEASE = nbformat.read(COURSE.release_dir / NAME / f"{NAME}.ipynb", as_version=4)


def _stage(tmp_path, files: dict[str, object]):
    folder = tmp_path / "submitted" / "alumna" / NAME
    folder.mkdir(parents=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (str, bytes)):
            (path.write_text if isinstance(content, str) else path.write_bytes)(content)
        else:  # as a file on disk, even when nbformat would complain (duplicate ids)
            path.write_text(json.dumps(content), encoding="utf-8")
    staged = stage_submission(folder, {NAME: RELEASE}, tmp_path / "staged")[NAME]
    out = tmp_path / "staged" / f"{NAME}.ipynb"
    return staged, (nbformat.read(out, as_version=4) if out.exists() else None)


def test_a_clean_submission_is_staged_unchanged(tmp_path):
    staged, nb = _stage(tmp_path, {f"{NAME}.ipynb": RELEASE, ".ipynb_checkpoints/x.ipynb": RELEASE})
    assert (staged.outcome, staged.notes) == ("staged", [])
    assert [c.source for c in nb.cells] == [c.source for c in RELEASE.cells]


@pytest.mark.parametrize("name", [f"{NAME} (1).ipynb", f"{NAME}-Copy1.ipynb", "entrega.ipynb", f"sub/{NAME}.ipynb"])
def test_a_renamed_notebook_is_graded_under_its_name(tmp_path, name):
    staged, nb = _stage(tmp_path, {name: RELEASE})
    assert staged.outcome == "staged" and staged.notes == ["renamed_notebook"]
    assert name in staged.details[0] and nb is not None


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("esto no es json", "no es JSON"),
        ('{"cells": 3}', "falta la lista de celdas"),
        (b"\xff\xfe\x00binario", "no se puede leer como texto"),
        ('{"cells": [{"cell_type": "imagen", "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
         "celda que no es válida ('imagen')"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_reported(tmp_path, content, why):
    staged, nb = _stage(tmp_path, {f"{NAME}.ipynb": content})
    assert staged.outcome == "invalid_notebook" and nb is None
    assert why in staged.details[0]


def test_a_missing_notebook_and_other_files_are_reported(tmp_path):
    staged, nb = _stage(tmp_path, {"numpy.py": "raise ImportError\n", "notas.txt": "hola"})
    assert staged.outcome == "missing_notebook" and nb is None
    assert staged.notes == ["ignored_files"] and "notas.txt, numpy.py" in staged.details[-1]
    assert stage_submission(None, {NAME: RELEASE}, tmp_path / "x")[NAME].outcome == "not_submitted"


def test_copied_cells_keep_only_the_first_nbgrader_identity(tmp_path):
    nb = copy.deepcopy(RELEASE)
    first_test = next(i for i, c in enumerate(nb.cells) if is_test(c))
    nb.cells.insert(first_test + 1, copy.deepcopy(nb.cells[first_test]))  # same id too
    staged, out = _stage(tmp_path, {f"{NAME}.ipynb": nb})
    assert staged.notes == ["duplicate_cells"]
    ids = [grade_id(c) for c in out.cells if grade_id(c)]
    assert len(ids) == len(set(ids)) == len([c for c in RELEASE.cells if grade_id(c)])
    assert len({c.id for c in out.cells}) == len(out.cells)


def test_deleted_cells_come_back_in_place(tmp_path):
    nb = copy.deepcopy(RELEASE)
    gone = {"conv_solucion", "test_conv_sin_relleno", "alexnet_capas", "instrucciones"}
    nb.cells = [c for c in nb.cells if grade_id(c) not in gone]
    staged, out = _stage(tmp_path, {f"{NAME}.ipynb": nb})
    assert staged.notes == ["restored_cells"]
    assert "conv_solucion, test_conv_sin_relleno, alexnet_capas y 1 de texto" in staged.details[0]
    assert [grade_id(c) for c in out.cells] == [grade_id(c) for c in RELEASE.cells]


def test_edited_tests_and_damaged_metadata_are_repaired(tmp_path):
    nb = copy.deepcopy(RELEASE)
    test = next(c for c in nb.cells if is_test(c))
    test.source = "assert True"
    solution = next(c for c in nb.cells if is_solution(c))
    solution.metadata.nbgrader["points"] = 100
    solution.metadata.nbgrader["grade"] = True
    nb.cells[0].metadata.nbgrader = {"grade_id": "otra_tarea", "locked": True}
    staged, out = _stage(tmp_path, {f"{NAME}.ipynb": nb})
    assert staged.notes == ["restored_cells", "tests_restored", "metadata_repaired"]
    repaired = next(c for c in out.cells if grade_id(c) == grade_id(solution))
    assert repaired.metadata.nbgrader == next(
        c for c in RELEASE.cells if grade_id(c) == grade_id(solution)
    ).metadata.nbgrader
    assert "nbgrader" not in out.cells[1].metadata or grade_id(out.cells[1]) != "otra_tarea"


def test_a_notebook_saved_by_another_editor_is_completed(tmp_path):
    cells = [{"cell_type": "markdown", "source": ["# Hola"]}, {"cell_type": "code", "source": "x = 1"}]
    staged, nb = _stage(tmp_path, {f"{NAME}.ipynb": json.dumps({"cells": cells})})
    assert staged.outcome == "staged" and "restored_cells" in staged.notes  # no nbgrader cells at all
    assert any(c.source == "x = 1" for c in nb.cells)
