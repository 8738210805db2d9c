"""Did the student write the function, or call a library that does the work?

Hidden tests use :func:`foreign_calls` so that an answer wrapping the course's own
reference (``cnncourse.shapes``) or torch loses the points of that part. It follows the
global names a function's code uses, including those of helper functions defined in
the notebook, so moving the call into a helper or importing it under another name does
not hide it. Importing this module is cheap: it needs only the standard library.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Callable, Iterable

__all__ = ["foreign_calls"]


def foreign_calls(function: Callable, modules: Iterable[str] = ("cnncourse", "torch")) -> list[str]:
    """Names that ``function`` (or notebook functions it calls) takes from ``modules``.

    Parameters
    ----------
    function : callable
        A function defined by the student.
    modules : iterable of str
        Top-level packages the function must not use.

    Returns
    -------
    list of str
        Sorted global names resolving to something from those packages; empty when the
        function is the student's own work. A function imported from those packages
        is itself reported.

    Examples
    --------
    >>> from cnncourse.shapes import conv_output_size
    >>> def wrapped(n, f):
    ...     return conv_output_size(n, f)
    >>> foreign_calls(wrapped)
    ['conv_output_size']
    >>> def helper(n, f):
    ...     return conv_output_size(n, f)
    >>> def indirect(n, f):
    ...     return helper(n, f)
    >>> foreign_calls(indirect)
    ['conv_output_size']
    >>> def own(n, f, p=0, s=1):
    ...     return (n + 2 * p - f) // s + 1
    >>> foreign_calls(own)
    []
    >>> foreign_calls(conv_output_size)
    ['conv_output_size']
    >>> def imports_inside(n, f):
    ...     from cnncourse.shapes import conv_output_size as size
    ...     return size(n, f)
    >>> foreign_calls(imports_inside)
    ['cnncourse.shapes', 'conv_output_size']
    """
    banned = tuple(modules)
    found: set[str] = set()
    if _is_banned(function, banned):
        return [getattr(function, "__name__", repr(function))]
    _walk(function, banned, found, seen=set())
    return sorted(found)


def _is_banned(value: object, banned: tuple[str, ...]) -> bool:
    """Whether ``value`` comes from one of the ``banned`` packages.

    A Python function counts by where its code lives, so that functions defined in a
    notebook (or a doctest) are never mistaken for the package's own.
    """
    code = getattr(value, "__code__", None)
    if code is not None:
        source = Path(code.co_filename).resolve()
        return any(folder in source.parents for folder in _package_folders(banned))
    if isinstance(value, ModuleType):
        origin = value.__name__
    else:
        origin = getattr(value, "__module__", None)
    return isinstance(origin, str) and origin.split(".")[0] in banned


def _package_folders(banned: tuple[str, ...]) -> list[Path]:
    folders = []
    for name in banned:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            folders += [Path(p).resolve() for p in (spec.submodule_search_locations or [])]
    return folders


def _walk(function: object, banned: tuple[str, ...], found: set[str], seen: set[int]) -> None:
    code = getattr(function, "__code__", None)
    if code is None or id(function) in seen:
        return
    seen.add(id(function))
    names: set[str] = set()
    stack = [code]
    while stack:  # the function's code and the code of functions nested in it
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(const for const in current.co_consts if hasattr(const, "co_names"))
    namespace = dict(getattr(function, "__globals__", {}))
    closure = getattr(function, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, closure):  # names from an enclosing function
        try:
            namespace[name] = cell.cell_contents
        except ValueError:  # a variable not assigned yet
            continue
        names.add(name)
    module_name = namespace.get("__name__")
    for name in names:
        if name.split(".")[0] in banned:  # `import cnncourse.shapes` inside the function
            found.add(name)
        if name not in namespace:
            continue
        value = namespace[name]
        if _is_banned(value, banned):
            found.add(name)
        elif isinstance(value, FunctionType) and value.__module__ == module_name:
            _walk(value, banned, found, seen)
