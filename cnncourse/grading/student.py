"""The student's own check before submitting: ``cnncourse-comprobar mi_cuaderno.ipynb``.

It looks at a notebook the way ``autograde`` will, with the grader's own code, and
answers in Spanish with the words of the feedback pages:

1. the file is still a Jupyter notebook with its graded cells: the notebook is staged
   by :func:`cnncourse.grading.staging.stage_submission`, whose notes (copied, deleted
   or edited cells, damaged metadata, another name) are the grader's;
2. the student's code does not change the grading environment: the grader's outside
   scan, :func:`cnncourse.grading.guard.scan_submission`;
3. the visible tests pass: the notebook (its read-only cells put back as released, as
   the grader does) runs in a fresh kernel with a timeout per cell, in an empty folder,
   and each test cell is reported passed or failed with its message.

The hidden tests run only when the instructor grades. Exit status: 0 when nothing would
lose points in the visible tests, 1 otherwise, 2 for a usage error (no such file).

The notebook's code runs with the permissions of whoever runs the check, unconfined (it
is meant for one's own notebook); the instructor grades others' notebooks with
``autograde``, whose kernels are sandboxed.

Which assignment the notebook belongs to is found from its graded cells (or its name)
among the released notebooks of the course: the course around the current folder, the
source checkout this package belongs to, or ``--curso DIR``.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncourse.grading.course import Course, GradingError, find_course_root, load_course
from cnncourse.grading.notebooks import grade_id, is_locked, is_test, nbgrader_meta
from cnncourse.grading.reports import WORDS, failure_message, status_words

__all__ = ["CellResult", "StudentCheck", "check_notebook", "main"]

#: What a cell interrupted at the timeout shows (nbclient interrupts the kernel: KeyboardInterrupt).
_TIMEOUT_ERRORS = ("CellTimeoutError", "KeyboardInterrupt")


@dataclass
class CellResult:
    """One test cell after running the visible tests."""

    grade_id: str
    points: float
    passed: bool
    message: str = ""  # why it failed (failure_message), empty when it passed


@dataclass
class StudentCheck:
    """What the check found in one notebook.

    ``outcome`` is ``"graded"`` (it can be graded) or a code of
    :data:`~cnncourse.grading.STATUS` that says why not; ``notes`` are status codes of
    what the grader will repair, ``details`` the grader's explanations; ``tampering``
    the grader's findings about the grading environment.
    """

    path: Path
    assignment: str | None = None
    notebook: str | None = None
    outcome: str = "graded"
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    executed: bool = False

    @property
    def failed(self) -> list[str]:
        """Test cells whose visible tests fail."""
        return [cell.grade_id for cell in self.cells if not cell.passed]

    @property
    def ok(self) -> bool:
        """True when nothing found here would lose points (the hidden tests aside)."""
        return self.outcome == "graded" and not self.tampering and not self.failed and "timeout" not in self.notes

    def format(self) -> str:
        """The report for the student, in Spanish."""
        lines = [f"Comprobación de {self.path.name}"
                 + (f" (tarea {self.assignment}, cuaderno {self.notebook}.ipynb)" if self.assignment else "")]
        if self.outcome != "graded":
            lines.append(f"✘ {status_words(self.outcome)}.")
        for code in self.notes:
            lines.append(f"! {status_words(code)}.")
        lines += [f"  {detail}" for detail in self.details]
        if self.tampering:
            lines.append(f"✘ {status_words('tampering')}: {'; '.join(self.tampering)}.")
        for cell in self.cells:
            mark, state = ("✔", WORDS["passed"]) if cell.passed else ("✘", WORDS["failed"])
            line = f"{mark} {WORDS['test_cell']} {cell.grade_id} ({_points(cell.points)}): {state}"
            lines.append(line + (f"\n    {cell.message}" if cell.message else ""))
        if self.cells:
            won = sum(cell.points for cell in self.cells if cell.passed)
            total = sum(cell.points for cell in self.cells)
            lines.append(f"Pruebas visibles: {len(self.cells) - len(self.failed)} de {len(self.cells)} celdas "
                         f"{WORDS['passed']}s ({_number(won)} / {_points(total)}).")
        if self.executed:
            lines.append(WORDS["hidden_tests"])
        lines.append("Resultado: " + ("nada de lo comprobado hace perder puntos." if self.ok else
                                      "hay problemas que harían perder puntos; corrígelos antes de entregar."))
        return "\n".join(lines)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}".replace(".", ",")


def _points(value: float) -> str:
    return f"{_number(value)} {WORDS['points'] if value != 1 else WORDS['point']}"


def check_notebook(
    path: Path | str,
    *,
    course: Course | Path | str | None = None,
    release: Path | str | None = None,
    timeout: int = 60,
    execute: bool = True,
) -> StudentCheck:
    """Check a notebook before it is submitted, as ``autograde`` will grade it.

    Parameters
    ----------
    path : path
        The student's notebook.
    course : Course or path, optional
        The course whose released notebooks it is compared with (default: the course
        around the current folder, else the source checkout of this package).
    release : path, optional
        The released notebook to compare with (default: found in the course from the
        notebook's graded cells or its name).
    timeout : int, optional
        Seconds each cell may run (``autograde`` uses ``Execute.timeout``).
    execute : bool, optional
        Run the visible tests (default). False only checks the file and the code.

    Returns
    -------
    StudentCheck

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``timeout`` is not a positive integer.
    """
    import nbformat

    from cnncourse.grading.guard import scan_submission
    from cnncourse.grading.staging import stage_submission

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such notebook {str(path)!r}")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise ValueError(f"timeout must be a positive integer (seconds), got {timeout!r}")
    result = StudentCheck(path=path)
    assignment, name, released = _find_release(path, course, release)
    result.assignment, result.notebook = assignment, name or path.stem
    with tempfile.TemporaryDirectory(prefix="cnncourse-comprobar-") as scratch:
        submission = Path(scratch) / "entrega"
        submission.mkdir()
        (submission / path.name).write_bytes(path.read_bytes())
        reference = released if released is not None else _self_release(path)
        staged = stage_submission(submission, {result.notebook: reference}, Path(scratch) / "corregir")
        stage = staged[result.notebook]
        result.notes, result.details = list(stage.notes), list(stage.details)
        if stage.outcome != "staged":
            result.outcome = stage.outcome
            return result
        if released is None:
            result.details.append("No se encontró la versión publicada de este cuaderno: no se comprobó si "
                                  "faltan celdas o se editaron las de solo lectura.")
        nb = nbformat.read(Path(scratch) / "corregir" / f"{result.notebook}.ipynb", as_version=4)
        result.tampering = scan_submission([c.source for c in nb.cells if c.cell_type == "code" and not is_locked(c)])
        if released is not None:
            _restore_read_only(nb, released)
        if execute:
            _run_tests(nb, result, timeout=timeout, cwd=Path(scratch) / "ejecutar")
    return result


def _self_release(path: Path) -> Any:
    """Without a release: the notebook itself (or an empty one if it does not read)."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # staging explains what is wrong with the file
        return nbformat.v4.new_notebook()


def _find_release(path: Path, course: Course | Path | str | None, release: Path | str | None):
    """(assignment, notebook name, released notebook) for ``path``; Nones if not found."""
    import nbformat

    if release is not None:
        release = Path(release)
        return release.parent.name, release.stem, nbformat.read(release, as_version=4)
    candidates = _released_notebooks(course)
    if not candidates:
        return None, None, None
    ids = _grade_ids(path)
    best = max(candidates, key=lambda key: len(ids & candidates[key][1]))
    if not ids & candidates[best][1]:
        names = {key[1]: key for key in candidates}
        close = difflib.get_close_matches(path.stem, list(names), n=1, cutoff=0.6)
        if not close:
            return None, None, None
        best = names[close[0]]
    return best[0], best[1], nbformat.read(candidates[best][0], as_version=4)


def _released_notebooks(course: Course | Path | str | None) -> dict[tuple[str, str], tuple[Path, set[str]]]:
    """(assignment, name) -> (release path, its grade ids), for every released notebook."""
    if not isinstance(course, Course):
        try:
            course = load_course(course) if course is not None else load_course(_default_course_root())
        except GradingError:
            return {}
    found = {}
    for assignment in course.assignments():
        for release in course.release_notebooks(assignment):
            found[(assignment, release.stem)] = (release, _grade_ids(release))
    return found


def _default_course_root() -> Path:
    """The course around the current folder, else the checkout this package is part of."""
    try:
        return find_course_root()
    except GradingError:
        return Path(__file__).resolve().parents[2]


def _grade_ids(path: Path) -> set[str]:
    """The grade ids of a notebook file (empty if it does not read as JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = data.get("cells", []) if isinstance(data, dict) else []
        return {grade_id(cell) for cell in cells if isinstance(cell, dict) and grade_id(cell)}
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return set()


def _restore_read_only(nb: Any, release: Any) -> None:
    """Put back the released source of every read-only cell, as nbgrader does at grading."""
    released = {grade_id(cell): cell for cell in release.cells if grade_id(cell)}
    for cell in nb.cells:
        original = released.get(grade_id(cell))
        if original is not None and is_locked(original):
            cell.source = original.source


def _run_tests(nb: Any, result: StudentCheck, *, timeout: int, cwd: Path) -> None:
    """Run the notebook in a fresh kernel and record each test cell's result."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    cwd.mkdir(parents=True, exist_ok=True)
    executed = copy.deepcopy(nb)
    client = NotebookClient(
        executed,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"la celda superó {timeout} s",
                          "traceback": []},
        resources={"metadata": {"path": str(cwd)}},
    )
    saved = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # what a notebook sees when it is graded
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log is not the student's business
    except DeadKernelError:
        result.outcome = "kernel_died"
        result.details.append("Al corregir, un cuaderno cuyo kernel se cierra no se puede puntuar: la nota "
                              "sería 0. Busca os._exit(), sys.exit() o un uso enorme de memoria.")
    finally:
        if saved is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved
    result.executed = True
    timed_out = [grade_id(c) or f"celda {i + 1}" for i, c in enumerate(executed.cells)
                 if any(out.get("ename") in _TIMEOUT_ERRORS for out in c.get("outputs", []))]
    if timed_out:
        result.notes.append("timeout")
        result.details.append(f"Una celda ({', '.join(timed_out)}) superó el límite de {timeout} s y se interrumpió "
                              "(¿un bucle infinito?); las pruebas que dependen de ella no pasan.")
    for cell in executed.cells:
        if is_test(cell):
            message = failure_message(cell.get("outputs", []))
            if cell.get("execution_count") is None and not message:
                message = f"no se ejecutó: {status_words('kernel_died')}"
            points = float(nbgrader_meta(cell).get("points", 0))
            result.cells.append(CellResult(grade_id(cell), points, passed=not message, message=message))


def main(argv: list[str] | None = None) -> int:
    """``cnncourse-comprobar CUADERNO...``: check notebooks before submitting them."""
    parser = argparse.ArgumentParser(
        prog="cnncourse-comprobar",
        description="Comprueba un cuaderno antes de entregarlo, como lo hará la corrección automática.",
    )
    parser.add_argument("cuadernos", nargs="+", type=Path, help="cuadernos (.ipynb) que vas a entregar")
    parser.add_argument("--curso", type=Path, default=None, help="carpeta del curso (la de nbgrader_config.py)")
    parser.add_argument("--publicado", type=Path, default=None, help="el cuaderno publicado con el que comparar")
    parser.add_argument("--tiempo", type=int, default=60, help="segundos por celda (por defecto, 60)")
    parser.add_argument("--sin-ejecutar", action="store_true", help="no ejecutar las pruebas visibles")
    args = parser.parse_args(argv)
    status = 0
    for path in args.cuadernos:
        if not path.is_file():
            print(f"✘ No existe el archivo {path}.", file=sys.stderr)
            status = max(status, 2)
            continue
        result = check_notebook(path, course=args.curso, release=args.publicado, timeout=args.tiempo,
                                execute=not args.sin_ejecutar)
        print(result.format())
        status = max(status, 0 if result.ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
