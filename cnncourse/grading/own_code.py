"""Did the student write the function, or call a library that does the work?

Hidden tests use :func:`foreign_calls` so that an answer wrapping the course's own
reference (``cnncourse.shapes``) or torch loses the points of that part. It follows the
global names a function's code uses, including those of helper functions defined in
the notebook, so moving the call into a helper or importing it under another name does
not hide it. Importing this module is cheap: it needs only the standard library.
"""

from __future__ import annotations

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
    """
    banned = tuple(modules)
    found: set[str] = set()
    if _origin(function).split(".")[0] in banned:
        return [getattr(function, "__name__", repr(function))]
    _walk(function, banned, found, seen=set())
    return sorted(found)


def _origin(value: object) -> str:
    if isinstance(value, ModuleType):
        return value.__name__
    module = getattr(value, "__module__", None)
    return module if isinstance(module, str) else ""


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
    namespace = getattr(function, "__globals__", {})
    module_name = namespace.get("__name__")
    for name in names:
        if name not in namespace:
            continue
        value = namespace[name]
        if _origin(value).split(".")[0] in banned:
            found.add(name)
        elif isinstance(value, FunctionType) and value.__module__ == module_name:
            _walk(value, banned, found, seen)
