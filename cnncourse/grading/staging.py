"""Turning whatever a student handed in into notebooks that nbgrader can grade.

nbgrader assumes a tidy submission. Real ones are not: the notebook is renamed
(``tamanos_salida (1).ipynb``), missing, or not a notebook at all; cells were copied
(two cells with one grade id make nbgrader fail with a misleading "old metadata format"
error), deleted (nbgrader does not put back a deleted read-only cell, and its own
restoration of deleted test cells fails when the cell before them is gone too) or had
their metadata mangled; extra files such as a ``numpy.py`` would be copied next to the
notebook and shadow the real module.

:func:`stage_submission` looks at one ``submitted/<student>/<assignment>/`` folder and
writes, for each notebook of the assignment, a repaired copy: only notebooks are
staged (every other file is left out and reported), each nbgrader cell gets the
release's metadata back, copies of a cell become ordinary cells, and cells that were
deleted are put back from the release, in place. nbgrader then restores the
original source of every read-only cell, hidden tests included.
"""

from __future__ import annotations

import copy
import difflib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from cnncourse.grading.notebooks import grade_id, is_locked, nbgrader_meta

__all__ = ["Staged", "stage_submission"]

# Left out without a note: editor and OS debris, and the files nbgrader's own exchange
# writes beside every submitted notebook (timestamp.txt, submission_secret.txt).
_SKIPPED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", "__MACOSX",
                  "timestamp.txt", "submission_secret.txt"}


@dataclass
class Staged:
    """What became of one expected notebook of a submission.

    ``outcome`` is ``"staged"`` (written, ready for nbgrader), ``"missing_notebook"``,
    ``"invalid_notebook"`` or ``"not_submitted"``. ``notes`` are status codes of what
    was repaired on the way, ``details`` their explanations for the student (Spanish).
    """

    name: str
    outcome: str
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def note(self, code: str, detail: str) -> None:
        if code not in self.notes:
            self.notes.append(code)
        self.details.append(detail)


def stage_submission(submission: Path | None, releases: dict[str, object], dest: Path) -> dict[str, Staged]:
    """Stage a submission folder for nbgrader.

    Parameters
    ----------
    submission : Path or None
        ``submitted/<student>/<assignment>/`` (None or absent: nothing was submitted).
    releases : dict
        Notebook name (no ``.ipynb``) -> the released notebook (``NotebookNode``).
    dest : Path
        Folder to write the staged ``<name>.ipynb`` files into.

    Returns
    -------
    dict
        Notebook name -> :class:`Staged`.
    """
    if submission is None or not Path(submission).is_dir():
        return {
            name: Staged(name, "not_submitted", details=["No hay entrega de esta tarea."])
            for name in releases
        }
    submission = Path(submission)
    files = sorted(
        path
        for path in submission.rglob("*")
        if path.is_file() and not any(part in _SKIPPED_NAMES or part.startswith(".")
                                      for part in path.relative_to(submission).parts)
    )
    notebooks = [path for path in files if path.suffix == ".ipynb"]
    chosen = _match_notebooks(list(releases), notebooks, submission)
    ignored = [path for path in files if path not in chosen.values()]

    dest.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Staged] = {}
    for name, release in releases.items():
        path = chosen.get(name)
        if path is None:
            staged[name] = Staged(
                name, "missing_notebook", details=[f"No se encontró el cuaderno {name}.ipynb en la entrega."]
            )
            continue
        result = Staged(name, "staged")
        relative = path.relative_to(submission).as_posix()
        if relative != f"{name}.ipynb":
            result.note("renamed_notebook", f"Se corrigió «{relative}» como {name}.ipynb (el nombre no coincidía).")
        try:
            nb = _read_notebook(path)
        except ValueError as error:
            staged[name] = Staged(
                name, "invalid_notebook", details=[f"«{relative}» no es un cuaderno de Jupyter válido: {error}"]
            )
            continue
        _repair(nb, release, result)
        _write_notebook(nb, dest / f"{name}.ipynb")
        staged[name] = result
    if ignored:
        listing = ", ".join(path.relative_to(submission).as_posix() for path in ignored)
        for result in staged.values():
            result.note("ignored_files", f"Se ignoraron archivos que no forman parte de la corrección: {listing}.")
    return staged


def _match_notebooks(expected: list[str], notebooks: list[Path], root: Path) -> dict[str, Path]:
    """Pair expected notebook names with submitted files; renamed ones by similarity."""
    chosen = {name: root / f"{name}.ipynb" for name in expected if (root / f"{name}.ipynb") in notebooks}
    missing = [name for name in expected if name not in chosen]
    spare = [path for path in notebooks if path not in chosen.values()]
    if len(missing) == 1 and len(spare) == 1:
        chosen[missing[0]] = spare[0]
        return chosen
    for name in missing:
        stems = [path.stem for path in spare]
        close = difflib.get_close_matches(name, stems, n=1, cutoff=0.6)
        if close:
            path = spare.pop(stems.index(close[0]))
            chosen[name] = path
    return chosen


def _read_notebook(path: Path):
    """Read a notebook as nbformat 4, or raise ValueError saying what is wrong with it."""
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"no se puede leer como texto ({type(error).__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"no es JSON ({error.msg}, línea {error.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("no tiene la estructura de un cuaderno (falta la lista de celdas)")
    for cell in data["cells"]:  # fill in what editors other than Jupyter leave out
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            kind = cell.get("cell_type") if isinstance(cell, dict) else type(cell).__name__
            raise ValueError(f"tiene una celda que no es válida ({kind!r})")
        cell.setdefault("metadata", {})
        cell.setdefault("source", "")
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    data.setdefault("metadata", {})
    data.setdefault("nbformat", 4)
    data.setdefault("nbformat_minor", 4)
    try:
        with warnings.catch_warnings():  # nbformat warns about (and fixes) duplicate cell ids
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(data), as_version=4)
            nbformat.validate(nb)
    except Exception as error:  # nbformat raises many kinds of errors on broken files
        raise ValueError(f"nbformat no lo acepta ({type(error).__name__}: {error})") from None
    return nb


def _repair(nb, release, result: Staged) -> None:
    """Give nbgrader cells the release's metadata back; undo copies and deletions."""
    released = {grade_id(cell): cell for cell in release.cells if grade_id(cell)}
    seen: set[str] = set()
    duplicates, damaged, edited = [], [], []
    for cell in nb.cells:
        if "nbgrader" not in cell.metadata:
            continue
        key = grade_id(cell) if isinstance(cell.metadata.nbgrader, dict) else None
        original = released.get(key)
        if original is None:
            damaged.append(key or "?")
            del cell.metadata["nbgrader"]
        elif key in seen:
            duplicates.append(key)
            del cell.metadata["nbgrader"]
        else:
            seen.add(key)
            if _meta_without_checksum(cell) != _meta_without_checksum(original) or (
                cell.cell_type != original.cell_type
            ):
                damaged.append(key)
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            if is_locked(original) and cell.source != original.source:
                edited.append(key)
    restored = _restore_deleted(nb, release, seen)
    _unique_cell_ids(nb)
    if duplicates:
        result.note(
            "duplicate_cells",
            f"Había celdas copiadas ({', '.join(sorted(set(duplicates)))}); se corrigió la primera "
            "de cada una y las copias se ejecutaron como celdas normales.",
        )
    if restored:
        kinds = {grade_id(cell): cell.cell_type for cell in release.cells}
        code = [key for key in restored if kinds[key] == "code"]
        text = len(restored) - len(code)
        listing = ", ".join(code) + (f" y {text} de texto" if code and text else f"{text} de texto" if text else "")
        result.note(
            "restored_cells",
            f"Faltaban celdas del cuaderno ({listing}); se restauraron antes de corregir.",
        )
    if edited:
        result.note(
            "tests_restored",
            f"Se habían modificado celdas de solo lectura ({', '.join(edited)}); se corrigió con las originales.",
        )
    if damaged:
        result.note(
            "metadata_repaired",
            f"Los metadatos de corrección de algunas celdas estaban dañados ({', '.join(damaged)}); "
            "se repararon.",
        )


def _meta_without_checksum(cell) -> dict:
    meta = dict(nbgrader_meta(cell))
    meta.pop("checksum", None)
    meta.pop("cell_type", None)
    return meta


def _restore_deleted(nb, release, present: set[str]) -> list[str]:
    """Insert the release's nbgrader cells that are gone, after their predecessor."""
    restored = []
    for index, original in enumerate(release.cells):
        key = grade_id(original)
        if key is None or key in present:
            continue
        position = 0
        for previous in reversed(release.cells[:index]):
            previous_key = grade_id(previous)
            if previous_key in present:
                position = 1 + next(i for i, c in enumerate(nb.cells) if grade_id(c) == previous_key)
                break
        nb.cells.insert(position, copy.deepcopy(original))
        present.add(key)
        restored.append(key)
    return restored


def _unique_cell_ids(nb) -> None:
    """Cell ids must be unique (copied cells share one): renumber the repeats."""
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if cell_id is None and nb.get("nbformat_minor", 0) < 5:
            continue
        if not cell_id or cell_id in seen:
            cell_id = f"copia-{index}"
            while cell_id in seen:
                cell_id += "-b"
            cell["id"] = cell_id
        seen.add(cell_id)


def _write_notebook(nb, path: Path) -> None:
    import nbformat

    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    _unique_cell_ids(nb)
    nbformat.write(nb, str(path))
