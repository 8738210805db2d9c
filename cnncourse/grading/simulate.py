"""Simulated students and plausible wrong answers, to test that grading holds up.

A *wrong answer* is a small Python file, ``tests/wrong_answers/<assignment>/<name>.py``,
that replaces some solution cells of an assignment with a plausible mistake::

    \"\"\"Forgot the 2p: every padded case is wrong.\"\"\"

    FAILS = ["test_conv_relleno_paso", "test_forma_conv"]

    # %% conv_solucion
    def tamano_salida_conv(n, f, p=0, s=1):
        return (n - f) // s + 1

Each ``# %% <grade_id>`` line starts the new source of that solution cell (the rest of
the notebook keeps the reference solution); ``FAILS`` lists the test cells that must
lose their points.

A *simulated class* is a ``submitted/`` folder with one student per kind of
:data:`KINDS`, built from an assignment's release and solutions, so the same
end-to-end test runs on every assignment of the course.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncourse.grading.course import Course, load_course
from cnncourse.grading.notebooks import (
    fill_solutions,
    grade_id,
    is_locked,
    is_solution,
    is_test,
    strip_markers,
)

__all__ = [
    "WrongAnswer",
    "load_wrong_answer",
    "wrong_answers",
    "solved",
    "KINDS",
    "ATTACKS",
    "write_submission",
    "copy_course",
]

_CELL_MARKER = re.compile(r"^# %% (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible mistake: new sources for some solution cells."""

    name: str
    description: str
    solutions: dict[str, str]  # grade id -> source
    fails: list[str]  # test cells that must lose points


def load_wrong_answer(path: Path | str) -> WrongAnswer:
    """Read a wrong-answer file (format in the module docstring)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    parts = _CELL_MARKER.split(text)
    header, cells = parts[0], parts[1:]
    module = ast.parse(header)
    description = ast.get_docstring(module) or ""
    fails: list[str] = []
    for node in module.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "FAILS" for t in node.targets):
            fails = list(ast.literal_eval(node.value))
    if not cells:
        raise ValueError(f"{path}: no '# %% <grade_id>' cell in this wrong answer")
    solutions = {cells[i]: cells[i + 1].strip("\n") + "\n" for i in range(0, len(cells), 2)}
    return WrongAnswer(name=path.stem, description=description, solutions=solutions, fails=fails)


def wrong_answers(folder: Path | str) -> list[WrongAnswer]:
    """All the wrong answers in a folder, sorted by name."""
    return [load_wrong_answer(path) for path in sorted(Path(folder).glob("*.py")) if path.name != "__init__.py"]


def solved(release: Any, source: Any, solutions: dict[str, str] | None = None) -> Any:
    """A release notebook as a student who copied the reference solution would hand in.

    ``solutions`` (grade id -> source) replaces some of those cells, e.g. with a
    :class:`WrongAnswer`'s.
    """
    reference = {grade_id(c): strip_markers(c.source) for c in source.cells if is_solution(c)}
    reference.update(solutions or {})
    return fill_solutions(release, {k: v for k, v in reference.items() if k in _solution_ids(release)})


def _solution_ids(nb) -> set[str]:
    return {grade_id(c) for c in nb.cells if is_solution(c)}


def _last_solution(nb):
    return [c for c in nb.cells if is_solution(c) and c.cell_type == "code"][-1]


# Each kind: (release, source, wrong answer or None) -> {file name: notebook, str or None}
# for the first notebook of the assignment (others are handed in solved); None as the
# value of the expected notebook's name means "not handed in".


def _perfect(release, source, wrong):
    return {"": solved(release, source)}


def _untouched(release, source, wrong):
    return {"": copy.deepcopy(release)}


def _partly_right(release, source, wrong):
    return {"": solved(release, source, wrong.solutions)}


def _infinite_loop(release, source, wrong):
    nb = solved(release, source)
    cell = _last_solution(nb)
    cell.source = "while True:  # se queda aquí para siempre\n    pass\n" + cell.source
    return {"": nb}


def _kills_kernel(release, source, wrong):
    nb = solved(release, source)
    cell = _last_solution(nb)
    cell.source = "import os\nos._exit(1)\n" + cell.source
    return {"": nb}


def _exception_everywhere(release, source, wrong):
    nb = solved(release, source)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = 'raise RuntimeError("algo salió mal")\n' + cell.source
    return {"": nb}


def _deleted_cells(release, source, wrong):
    nb = solved(release, source)
    nb.cells = [c for c in nb.cells if not (is_test(c) or (is_locked(c) and c.cell_type == "markdown"))]
    return {"": nb}


def _duplicated_cells(release, source, wrong):
    nb = solved(release, source)
    for is_kind in (is_solution, is_test):  # copy-paste keeps the metadata, not the id
        first = next(i for i, c in enumerate(nb.cells) if is_kind(c))
        duplicate = copy.deepcopy(nb.cells[first])
        duplicate["id"] = f"{duplicate.get('id', 'celda')}-copia"
        nb.cells.insert(first + 1, duplicate)
    return {"": nb}


def _edited_tests(release, source, wrong):
    nb = solved(release, source, wrong.solutions)
    for cell in nb.cells:
        if is_test(cell):
            cell.source = "assert True  # ya pasa\n"
    return {"": nb}


def _shadow_module(release, source, wrong):
    shadow = 'raise ImportError("este módulo de la entrega no debería importarse")\n'
    return {"": solved(release, source), "numpy.py": shadow, "cnncourse.py": shadow, "torch.py": shadow}


def _renamed_notebook(release, source, wrong):
    return {"": None, "{name} (1).ipynb": solved(release, source)}


def _missing_notebook(release, source, wrong):
    return {"": None}


def _invalid_notebook(release, source, wrong):
    return {"": "esto no es un cuaderno: lo guardé como texto\n"}


# Attacks: written the way a determined student would, each prepended to a solution cell
# (``@VICTIM@`` and ``@SECRET@`` are filled by write_submission's ``targets``).


def _attack(code: str, *, wrong_answer: bool = False, first: bool = False, after: str = ""):
    def kind(release: Any, source: Any, wrong: WrongAnswer | None) -> dict[str, Any]:
        nb = solved(release, source, wrong.solutions if wrong_answer else None)
        cells = [c for c in nb.cells if is_solution(c) and c.cell_type == "code"]
        cell = cells[0] if first else cells[-1]
        cell.source = code + "\n" + cell.source + after
        return {"": nb}

    return kind


_OVERWRITE = """
import glob, os
for _ruta in glob.glob("@VICTIM@" + "/**/*.ipynb", recursive=True) + ["@VICTIM@"]:
    try:
        with open(_ruta, "w") as _f:
            _f.write("{}")
    except OSError:
        pass
for _pid in os.listdir("/proc"):  # buscar la carpeta del curso en los demás procesos
    try:
        _cwd = os.readlink(f"/proc/{_pid}/cwd")
        for _ruta in glob.glob(_cwd + "/submitted/*/*/*.ipynb"):
            open(_ruta, "w").write("{}")
    except OSError:
        pass
"""
_DELETE = """
import os, shutil
for _ruta in ["@VICTIM@", "@SECRET@"]:
    try:
        shutil.rmtree(_ruta) if os.path.isdir(_ruta) else os.remove(_ruta)
    except OSError:
        pass
"""
_READ = """
import os
for _ruta in ["@SECRET@", "@VICTIM@"]:
    for _raiz, _carpetas, _archivos in os.walk(_ruta) if os.path.isdir(_ruta) else [("", [], [_ruta])]:
        for _nombre in _archivos:
            try:
                print("FUGA", open(os.path.join(_raiz, _nombre)).read()[:80])
            except OSError:
                pass
"""
_SWAP_MODULE = """
import sys, types
_falso = types.ModuleType("cnncourse.grading.own_code")
_falso.foreign_calls = lambda *args, **kwargs: []
sys.modules["cnncourse.grading.own_code"] = _falso
"""
_PATCH_BUILTINS = """
import builtins
_isinstance = builtins.isinstance
builtins.isinstance = lambda objeto, clase: True if clase is ValueError else _isinstance(objeto, clase)
"""
_OBFUSCATED = """
_b = __import__("built" + "ins")
_real = getattr(_b, "ty" + "pe")
"""
_IPYTHON_HOOK = """
get_ipython().set_custom_exc((AssertionError,), lambda shell, etype, evalue, tb, tb_offset=None: None)
"""
_AST_HOOK = """
import ast as _ast
class _SinAsserts(_ast.NodeTransformer):
    def visit_Assert(self, node):
        return _ast.Pass()
get_ipython().ast_transformers.append(_SinAsserts())
"""
_PATCH_NUMPY = """
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
"""
_EQ_ALWAYS = """
class _Siempre(int):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = int.__hash__
"""
_MEMORY_AT_ONCE = "_bloque = bytearray(64 * 2**30)\n"
_MEMORY_NUMPY = "import numpy as _np\n_matriz = _np.ones((2**17, 2**17))\n"
_BIG_FILE = """
with open("relleno.bin", "wb") as _f:
    while True:
        _f.write(b"x" * 2**22)
"""
_MANY_FILES = """
import itertools
for _i in itertools.count():
    with open(f"relleno{_i}.bin", "wb") as _f:
        _f.write(b"x" * 2**22)
"""
_FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
_FORK_SUBPROCESS = """
import subprocess, sys
_hijos = []
while True:
    try:
        _hijos.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]))
    except OSError:
        pass
"""

#: Attack kinds: what each does is in its name; see tests/test_grading_e2e.py for what each gets.
ATTACKS = {
    "attack_overwrite_other": _attack(_OVERWRITE),
    "attack_delete_other": _attack(_DELETE),
    "attack_read_solutions": _attack(_READ),
    "attack_swap_module": _attack(_SWAP_MODULE, wrong_answer=True, first=True),
    "attack_patch_builtins": _attack(_PATCH_BUILTINS, wrong_answer=True, first=True),
    "attack_obfuscated": _attack(_OBFUSCATED, wrong_answer=True, first=True),
    "attack_ipython_exc_hook": _attack(_IPYTHON_HOOK, wrong_answer=True, first=True),
    "attack_ipython_ast_hook": _attack(_AST_HOOK, wrong_answer=True, first=True),
    "attack_patch_numpy": _attack(_PATCH_NUMPY, wrong_answer=True, first=True),
    "attack_eq_always_true": _attack(_EQ_ALWAYS, wrong_answer=True, first=True, after="""

_calcular = tamano_salida_conv


def tamano_salida_conv(n, f, p=0, s=1):  # "Tamaños de salida": un resultado que se da por bueno siempre
    return _Siempre(_calcular(n, f, p, s))
"""),
    "attack_memory_at_once": _attack(_MEMORY_AT_ONCE),
    "attack_memory_numpy": _attack(_MEMORY_NUMPY),
    "attack_big_file": _attack(_BIG_FILE),
    "attack_many_files": _attack(_MANY_FILES),
    "attack_fork_bomb": _attack(_FORK_BOMB),
    "attack_fork_subprocess": _attack(_FORK_SUBPROCESS),
}

#: Kinds of simulated students; ``partly_right`` and ``edited_tests`` need a wrong answer.
KINDS = {
    "perfect": _perfect,
    "untouched": _untouched,
    "partly_right": _partly_right,
    "infinite_loop": _infinite_loop,
    "kills_kernel": _kills_kernel,
    "exception_everywhere": _exception_everywhere,
    "deleted_cells": _deleted_cells,
    "duplicated_cells": _duplicated_cells,
    "edited_tests": _edited_tests,
    "shadow_module": _shadow_module,
    "renamed_notebook": _renamed_notebook,
    "missing_notebook": _missing_notebook,
    "invalid_notebook": _invalid_notebook,
}


def write_submission(
    course: Course,
    assignment: str,
    student: str,
    kind: str,
    submitted: Path | str,
    *,
    wrong: WrongAnswer | None = None,
    targets: dict[str, str] | None = None,
) -> Path:
    """Write ``submitted/<student>/<assignment>/`` as a student of ``kind`` would.

    The first notebook of the assignment gets the treatment; any other notebooks are
    handed in solved. ``kind`` is one of :data:`KINDS` or :data:`ATTACKS`; attacks take
    ``targets``: ``victim`` (another student's submission) and ``secret`` (e.g. the
    solutions folder). Returns the submission folder.
    """
    import nbformat

    kinds = {**KINDS, **ATTACKS}
    if kind not in kinds:
        raise ValueError(f"kind must be one of {sorted(kinds)}, got {kind!r}")
    if kind in ATTACKS and wrong is None:
        raise ValueError(f"kind {kind!r} needs a wrong answer (wrong=...)")
    if kind in ("partly_right", "edited_tests") and wrong is None:
        raise ValueError(f"kind {kind!r} needs a wrong answer (wrong=...)")
    folder = Path(submitted) / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    releases = course.release_notebooks(assignment)
    for index, release_path in enumerate(releases):
        release = nbformat.read(release_path, as_version=4)
        source = nbformat.read(course.source_dir / assignment / release_path.name, as_version=4)
        if index == 0:
            files = kinds[kind](release, source, wrong)
            if kind in ATTACKS:
                fill = {"victim": "/nonexistent", "secret": "/nonexistent", **(targets or {})}
                for cell in files[""].cells:
                    cell.source = cell.source.replace("@VICTIM@", fill["victim"]).replace("@SECRET@", fill["secret"])
        else:
            files = {"": solved(release, source)}
        for name, content in files.items():
            name = (name or f"{release_path.stem}.ipynb").format(name=release_path.stem)
            if content is None:
                continue
            if isinstance(content, str):
                (folder / name).write_text(content, encoding="utf-8")
            else:
                nbformat.write(content, str(folder / name))
    return folder


def copy_course(course: Course, dest: Path | str, assignments: list[str] | None = None) -> Course:
    """A scratch copy of a course (config, solutions and releases) to grade in.

    Only the given assignments (default: all) are copied, so a test of one assignment
    does not depend on the others.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(course.root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for assignment in course.resolve(assignments):
        for folder in (course.source_dir, course.release_dir):
            if (folder / assignment).is_dir():
                shutil.copytree(folder / assignment, dest / folder.name / assignment)
    return load_course(dest)
