"""Hidden tests that do not trust the student's kernel, and tampering found in a submission.

Three pieces, all applied by the grader and none written by hand in an assignment:

- :func:`expand_expected` turns the ``### BEGIN EXPECTED`` ... ``### END EXPECTED`` blocks of
  a hidden test into literal data, computed in the grader's process when the assignment is
  generated (docs/grading.md, *Hidden tests that do not trust the kernel*);
- :func:`guard_code` is the integrity check appended to the hidden region of every test
  cell: from inside the kernel it checks that built-ins, the modules the tests use and
  IPython's hooks are the real ones, and fails the cell with a marker the grader reads;
- :func:`scan_submission` reads the code a student wrote, outside the kernel (so nothing
  the submission runs can hide it), for attempts to change the grading environment.

A submission that either finds gets the status ``tampering``: its points are withheld
for the instructor's review (``autograded/review.csv``).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from typing import Any

__all__ = [
    "EXPECTED_BEGIN",
    "EXPECTED_END",
    "TAMPER_MARKER",
    "expand_expected",
    "guard_code",
    "add_guards",
    "grading_imports",
    "scan_submission",
]

EXPECTED_BEGIN = "### BEGIN EXPECTED"
EXPECTED_END = "### END EXPECTED"
TAMPER_MARKER = "MANIPULACION-DEL-ENTORNO"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def _is_literal(value: Any) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def expand_expected(source: str, *, where: str = "cell") -> str:
    """Replace each ``EXPECTED`` block by literal assignments of the names it defines.

    Parameters
    ----------
    source : str
        A cell's source.
    where : str
        Named in error messages (e.g. ``"tamanos_salida/test_pool"``).

    Raises
    ------
    ValueError
        If a block is not closed, fails, or defines a value that is not a Python literal.

    Examples
    --------
    >>> src = "### BEGIN EXPECTED\\nn = 4\\n_e = [k * k for k in range(n)]\\n### END EXPECTED\\nassert f(2) == _e[2]"
    >>> print(expand_expected(src))
    _e = [0, 1, 4, 9]  # calculado al generar la tarea
    assert f(2) == _e[2]
    """
    lines = source.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip() != EXPECTED_BEGIN:
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        try:
            end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == EXPECTED_END)
        except StopIteration:
            raise ValueError(f"{where}: '{EXPECTED_BEGIN}' without '{EXPECTED_END}'") from None
        code = textwrap.dedent("\n".join(lines[index + 1 : end]))
        namespace: dict[str, Any] = {"__name__": "__expected__"}
        try:
            exec(compile(code, f"<expected {where}>", "exec"), namespace)
        except Exception as error:
            raise ValueError(f"{where}: the EXPECTED block fails: {type(error).__name__}: {error}") from error
        for name, value in namespace.items():
            if not name.startswith("_") or name.startswith("__") or name == "_":
                continue  # only the block's results, _like_this, become data
            if not _is_literal(value):
                raise ValueError(
                    f"{where}: EXPECTED value {name!r} is a {type(value).__name__}, not a Python literal "
                    "(numbers, strings, tuples, lists, dicts, sets): convert it, e.g. with .tolist()"
                )
            out.append(f"{indent}{name} = {value!r}  # calculado al generar la tarea")
        index = end + 1
    return "\n".join(out)


# The guard runs inside the kernel, after a test's own asserts. It takes what it compares
# from places a submission cannot rebind: ``(0).__class__.__class__`` is the real ``type``,
# ``(lambda: 0).__builtins__`` the built-ins this cell really uses.
_GUARD = r'''
def _cnncourse_integridad(_huellas, _nativas, _tipos):
    _tipo = (0).__class__.__class__
    _b = (lambda: 0).__builtins__
    _nativa = _tipo([].append)
    _mal = []
    if _tipo(_b) is not _tipo({}) or _tipo(_b.get("len")) is not _nativa or _b["len"].__self__.__dict__ is not _b:
        _mal.append("__builtins__")
    else:
        for _n in _nativas.split():
            _nombre, _, _modulo = _n.partition("@")
            _v = _b.get(_nombre)
            if _tipo(_v) is not _nativa or _v.__name__ != _nombre or _v.__self__.__name__ != (_modulo or "builtins"):
                _mal.append(_nombre)
        for _n in _tipos.split():
            _v = _b.get(_n)
            if _tipo(_v) is not _tipo or _v.__flags__ & 512 or _v.__name__ != _n:
                _mal.append(_n)
    if _mal:
        raise AssertionError("MANIPULACION-DEL-ENTORNO: funciones básicas sustituidas: " + ", ".join(_mal))
    _sys = _b["__import__"]("sys")
    _mal = [_m for _m, _h in _huellas.items() if _m in _sys.modules and _cnncourse_huella(_sys.modules[_m]) not in _h]
    _ip = _b.get("get_ipython")
    _sh = _ip() if _ip is not None else None
    if _sh is not None:
        _ok = ("IPython", "ipykernel", "matplotlib_inline", "matplotlib", "traitlets")
        def _propio(_f):
            _c = getattr(getattr(_f, "__func__", _f), "__code__", None)
            return _c is None and _tipo(_f) is _nativa or _c is not None and any(
                "/" + _p + "/" in _c.co_filename for _p in _ok)
        for _n in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
                   "showsyntaxerror", "transform_cell", "should_run_async", "get_exception_only"):
            if _n in _sh.__dict__ or not _propio(getattr(_tipo(_sh), _n, None)):
                _mal.append("IPython." + _n)
        if _sh.custom_exceptions != () or _sh.ast_transformers != [] or _sh.input_transformers_post != []:
            _mal.append("IPython: ganchos de excepciones o de transformación")
        _m = _sh.input_transformer_manager
        for _f in [*_m.cleanup_transforms, *_m.line_transforms, *_m.token_transformers]:
            if not _propio(_f) and not _propio(getattr(_f, "__init__", None)):
                _mal.append("IPython: transformación de código")
        for _evento, _lista in _sh.events.callbacks.items():
            if any(not _propio(_f) for _f in _lista):
                _mal.append("IPython: evento " + _evento)
    if _mal:
        raise AssertionError("MANIPULACION-DEL-ENTORNO: módulos o ganchos sustituidos: " + ", ".join(_mal))


def _cnncourse_huella(_modulo):
    _tipo = (0).__class__.__class__
    _lineas = []
    for _k, _v in sorted(_modulo.__dict__.items()):
        _t = _tipo(_v)
        if _k.startswith("__") or _t is _tipo(_tipo) or _t.__name__ == "module":
            continue
        _c = getattr(_v, "__code__", None)
        _donde = (_c.co_filename.rsplit("/", 1)[-1] + ":" + str(_c.co_firstlineno)) if _t.__name__ == "function" and _c else ""
        _lineas.append(_k + ":" + _t.__name__ + ":" + str(getattr(_v, "__name__", "")) + ":" + _donde)
    return __import__("hashlib").sha256("\n".join(_lineas).encode()).hexdigest()[:16]
'''

#: Modules whose functions the hidden tests rely on; the guard fingerprints each one.
WATCHED = ("numpy", "numpy.testing", "math", "random", "inspect", "cnncourse.grading.own_code")


# Built-ins that ipykernel itself replaces in every kernel.
_KERNEL_OWN = {"input", "breakpoint"}


# Libraries a submission may import that legitimately replace a watched function:
# importing torch wraps ``inspect.getfile`` (torch.package). Their fingerprints are
# accepted too, so a student who imports torch is not taken for a cheat.
_LEGITIMATE_PATCHERS = ("torch",)


def _reference() -> tuple[dict[str, str], str, str]:
    """Fingerprints of the watched modules and the built-in names, from this process."""
    import builtins
    import importlib

    namespace: dict[str, Any] = {}
    exec(_GUARD, namespace)
    prints = {name: namespace["_cnncourse_huella"](importlib.import_module(name)) for name in WATCHED}
    natives, types_ = [], []
    for name, value in sorted(vars(builtins).items()):
        if name.startswith("_") and name != "__import__" or name in _KERNEL_OWN:
            continue
        if type(value) is type(len):
            module = value.__self__.__name__
            natives.append(name if module == "builtins" else f"{name}@{module}")
        elif type(value) is type and not value.__flags__ & 512 and value.__name__ == name:
            types_.append(name)
    return prints, " ".join(natives), " ".join(types_)


_REFERENCE: list[tuple[dict[str, list[str]], str, str]] = []


def _reference_in_fresh_interpreter(*preimports: str) -> tuple[dict[str, str], str, str]:
    """:func:`_reference` computed in a new interpreter (like a fresh kernel), after
    importing ``preimports``: never from the grader's own process, whose imports (pytest,
    torch, ...) may have replaced watched functions."""
    script = (
        "import importlib, importlib.util, json, sys\n"
        "for name in sys.argv[2:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        pass\n"
        "spec = importlib.util.spec_from_file_location('_guard', sys.argv[1])\n"
        "guard = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(guard)\n"
        "print(json.dumps(guard._reference()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, __file__, *preimports],
                            capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"could not fingerprint a clean interpreter: {result.stderr[-2000:]}")
    prints, natives, types_ = json.loads(result.stdout.strip().splitlines()[-1])
    return prints, natives, types_


def _references() -> tuple[dict[str, list[str]], str, str]:
    """Accepted fingerprints of each watched module (plain interpreter, and after each of
    :data:`_LEGITIMATE_PATCHERS`), and the built-ins of a plain interpreter."""
    prints, natives, types_ = _reference_in_fresh_interpreter()
    accepted = {name: [value] for name, value in prints.items()}
    for library in _LEGITIMATE_PATCHERS:
        for name, value in _reference_in_fresh_interpreter(library)[0].items():
            if value not in accepted[name]:
                accepted[name].append(value)
    return accepted, natives, types_


def guard_code() -> str:
    """The integrity check appended to each test cell's hidden region (Python source).

    Examples
    --------
    >>> code = guard_code()
    >>> namespace = {}
    >>> exec(code, namespace)  # passes in a clean interpreter
    >>> TAMPER_MARKER in code
    True
    """
    if not _REFERENCE:
        _REFERENCE.append(_references())
    prints, natives, types_ = _REFERENCE[0]
    return (
        "# Comprobación de integridad del entorno de corrección (añadida al generar la tarea)"
        + _GUARD
        + f"\n_cnncourse_integridad({prints!r},\n    {natives!r},\n    {types_!r})\n"
    )


def add_guards(nb: Any, *, where: str = "") -> None:
    """Expand the EXPECTED blocks of every test cell and append the guard, in place.

    A test cell without hidden tests gets a hidden region holding only the guard, so the
    release (which drops hidden regions) does not change.
    """
    guard = guard_code()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade"):
            continue
        source = expand_expected(cell.source, where=f"{where}/{meta.get('grade_id')}")
        lines = source.splitlines()
        ends = [i for i, line in enumerate(lines) if line.strip() == HIDDEN_END]
        if ends:
            lines[ends[-1]:ends[-1]] = ["", *guard.splitlines()]
        else:
            lines += [HIDDEN_BEGIN, *guard.splitlines(), HIDDEN_END]
        cell.source = "\n".join(lines)


_GRADING_IMPORT = re.compile(r"^\s*(?:from|import)\s+(torch|cnncourse)(\.[\w.]+)?", re.MULTILINE)


def grading_imports(source: str) -> list[str]:
    """Modules of ``cnncourse`` (other than ``grading.own_code``) or ``torch`` that the
    hidden regions of a test cell import at grading time (EXPECTED blocks excluded).

    Examples
    --------
    >>> grading_imports("x = 1\\n### BEGIN HIDDEN TESTS\\nimport torch as _t\\n### END HIDDEN TESTS")
    ['torch']
    >>> grading_imports("### BEGIN HIDDEN TESTS\\nfrom cnncourse.grading.own_code import foreign_calls\\n"
    ...                 "### BEGIN EXPECTED\\nfrom cnncourse.shapes import conv_output_size\\n### END EXPECTED\\n"
    ...                 "### END HIDDEN TESTS")
    []
    """
    found: list[str] = []
    hidden = expected = False
    for line in source.splitlines():
        mark = line.strip()
        if mark in (HIDDEN_BEGIN, HIDDEN_END):
            hidden = mark == HIDDEN_BEGIN
        elif mark in (EXPECTED_BEGIN, EXPECTED_END):
            expected = mark == EXPECTED_BEGIN
        elif hidden and not expected:
            match = _GRADING_IMPORT.match(line)
            if match and f"{match.group(1)}{match.group(2) or ''}" != "cnncourse.grading.own_code":
                found.append(f"{match.group(1)}{match.group(2) or ''}")
            elif "__import__(" in line and ("torch" in line or "cnncourse" in line):
                found.append(line.strip())
    return found


# ---------------------------------------------------------------------------------------
# Reading the submission from outside the kernel

_MODULES = {
    "builtins": "el módulo builtins (funciones básicas de Python)",
    "__builtin__": "el módulo builtins",
    "ctypes": "ctypes (acceso a la memoria del intérprete)",
    "gc": "gc (búsqueda de objetos del intérprete)",
    "importlib": "importlib (carga de módulos a mano)",
    "IPython": "IPython (el intérprete que ejecuta la corrección)",
    "ipykernel": "ipykernel (el kernel que ejecuta la corrección)",
    "jupyter_client": "jupyter_client",
    "zmq": "zmq (los mensajes del kernel)",
    "unittest": "unittest.mock (sustitución de funciones)",
    "mock": "mock (sustitución de funciones)",
    "atexit": "atexit",
    "signal": "signal (señales del proceso)",
    "threading": "threading (código que sigue ejecutándose en segundo plano)",
    "_thread": "_thread",
    "nbgrader": "nbgrader (el corrector)",
    "cnncourse": "cnncourse (el código del curso)",
}
_NAMES = {
    "__builtins__": "__builtins__",
    "get_ipython": "get_ipython() (el intérprete que ejecuta la corrección)",
    "exec": "exec()",
    "eval": "eval()",
    "compile": "compile()",
    "__import__": "__import__()",
    "setattr": "setattr()",
    "delattr": "delattr()",
    "globals": "globals()",
    "vars": "vars()",
    "breakpoint": "breakpoint()",
}
_SYS = {"modules", "settrace", "setprofile", "_getframe", "meta_path", "path_hooks", "excepthook",
        "displayhook", "stdout", "stderr", "addaudithook", "path_importer_cache", "builtin_module_names"}
_DUNDER = {"__code__", "__globals__", "__closure__", "__class__", "__dict__", "__defaults__",
           "__kwdefaults__", "__builtins__", "__self__", "__func__", "__subclasses__", "__bases__", "__mro__"}


def scan_submission(sources: list[str]) -> list[str]:
    """What the student's code does to the grading environment, in Spanish (empty: nothing).

    Parameters
    ----------
    sources : list of str
        The code cells the student could edit (solution cells and their own cells).

    Examples
    --------
    >>> scan_submission(["def f(n):\\n    return n + 1"])
    []
    >>> scan_submission(["import numpy as np\\nnp.allclose = lambda *a, **k: True"])
    ['cambia np.allclose, de un módulo importado']
    >>> scan_submission(["import builtins\\nbuiltins.range = lambda *a: []"])
    ['usa el módulo builtins (funciones básicas de Python)', 'cambia builtins.range, de un módulo importado']
    """
    found: list[str] = []
    add = lambda text: found.append(text) if text not in found else None  # noqa: E731
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            if re.search(r"^\s*[%!]", source, re.MULTILINE):
                add("usa comandos mágicos o de shell de IPython (% o !)")
            else:
                continue  # a plain syntax error only costs the student the tests
            tree = ast.parse("\n".join(line for line in source.splitlines() if not re.match(r"\s*[%!]", line)) or "pass")
        _scan_tree(tree, add)
    return found


def _scan_tree(tree: ast.AST, add) -> None:
    modules: set[str] = {"sys", "np", "numpy", "math", "random", "inspect", "os"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in _MODULES:
                    add(f"usa {_MODULES[top]}")
            for alias in node.names:
                modules.add((alias.asname or alias.name).split(".")[0])
            if isinstance(node, ast.ImportFrom) and node.module == "sys":
                for alias in node.names:
                    if alias.name in _SYS:
                        add(f"usa sys.{alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _NAMES:
            add(f"usa {_NAMES[node.id]}")
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "sys" and node.attr in _SYS:
                add(f"usa sys.{node.attr}")
            if node.attr in _DUNDER:
                add(f"accede a {node.attr} de un objeto")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in _targets(targets):
                if isinstance(target, (ast.Attribute, ast.Subscript)) and _root_name(target) in modules:
                    add(f"cambia {ast.unparse(target)}, de un módulo importado")
                if isinstance(target, ast.Name) and target.id in ("__builtins__", "__name__", "__spec__"):
                    add(f"reasigna {target.id}")


def _targets(targets: list[ast.AST]):
    """The assigned expressions, tuples unpacked (``a, np.x = ...``)."""
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _targets(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _targets([target.value])
        else:
            yield target


def _root_name(node: ast.AST) -> str | None:
    """The name an assigned ``a.b[c].d`` hangs from (``a``); indices and arguments do not count."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
