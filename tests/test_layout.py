"""The library reads in one sitting: no module of cnncourse/ over 600 lines, no function
over 60 lines of code (STYLE.md, "one module per idea").

A function's lines of code are the lines of its definition (nested functions and
classes included) that hold code: its docstring, blank lines and comment-only lines do
not count. Lines inside a multi-line string other than the docstring do count.
"""

import ast
import io
import tokenize
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnncourse"
MAX_MODULE_LINES = 600
MAX_FUNCTION_CODE_LINES = 60

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
             tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def code_lines(source: str) -> set[int]:
    """Numbers (1-based) of the lines of ``source`` that hold a token of code."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _docstring_lines(node: ast.AST) -> set[int]:
    body = getattr(node, "body", [])
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return set(range(body[0].lineno, body[0].end_lineno + 1))
    return set()


def function_lengths(source: str) -> list[tuple[str, int, int]]:
    """``(qualified name, first line, lines of code)`` of every function in ``source``."""
    code = code_lines(source)
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                span = set(range(child.lineno, child.end_lineno + 1))
                n = len((span & code) - _docstring_lines(child))
                found.append((prefix + child.name, child.lineno, n))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def test_the_counter_skips_docstrings_blank_lines_and_comments():
    source = '''
def f(x):
    """Docstring,

    several lines."""
    # a comment

    y = (x +
         1)  # a trailing comment
    text = """a string

# not a comment"""
    return y


class A:
    def g(self):
        def h():
            return 1
        return h
'''
    assert function_lengths(source) == [("f", 2, 7), ("A.g", 17, 4), ("A.g.h", 18, 2)]


def test_the_library_has_modules_to_check():
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"__init__.py", "layers/__init__.py", "transfer/__init__.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, (
        f"{path.relative_to(PACKAGE.parent)} has {lines} lines (at most "
        f"{MAX_MODULE_LINES}): split it along its ideas into a package whose __init__ "
        f"re-exports the public names"
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_function_over_60_lines_of_code(path):
    long = [f"{name} (line {line}): {n} lines of code"
            for name, line, n in function_lengths(path.read_text(encoding="utf-8"))
            if n > MAX_FUNCTION_CODE_LINES]
    assert not long, (
        f"{path.relative_to(PACKAGE.parent)}: functions over {MAX_FUNCTION_CODE_LINES} "
        f"lines of code (docstring, blank and comment lines excluded): {'; '.join(long)}"
    )
