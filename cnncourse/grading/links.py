"""Launch links for the released exercises, for the book's "Ejercicios" page.

The repository URL and branch come from ``repository:`` in the book's ``_config.yml``
(the only place they are written) and the Colab and Binder hosts from
``launch_buttons:``; the exercises are whatever notebooks ``exercises/`` holds when
the book is built, so a new assignment appears on the page as soon as it is released.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from cnncourse.grading.course import find_course_root, load_course

__all__ = ["ExerciseLink", "exercise_links", "exercise_table"]


@dataclass(frozen=True)
class ExerciseLink:
    """One released notebook and where to open it."""

    assignment: str
    path: str  # relative to the repository root
    title: str
    points: float
    colab: str
    binder: str
    download: str


def exercise_links(root: Path | str | None = None) -> list[ExerciseLink]:
    """Links for every released notebook, in course order.

    A notebook's place comes from ``metadata.cnncourse.order`` in its source
    (1 for the first exercise, ...); notebooks without it come last, by path.

    Parameters
    ----------
    root : path, optional
        The repository (default: found from the current folder, which is ``book/``
        when the book runs the page).

    Raises
    ------
    ValueError
        If ``repository.url`` in ``_config.yml`` is not a GitHub repository (Colab and
        Binder open notebooks from GitHub).

    Examples
    --------
    >>> link = next(l for l in exercise_links() if l.assignment == "tamanos_salida")
    >>> link.path
    'exercises/tamanos_salida/tamanos_salida.ipynb'
    >>> link.colab.startswith("https://colab.research.google.com/github/")
    True
    >>> link.points
    20.0
    """
    import yaml

    root = find_course_root(root)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repository = config.get("repository", {})
    url = str(repository.get("url", "")).rstrip("/").removesuffix(".git")
    prefix = "https://github.com/"
    if not url.startswith(prefix) or url.count("/") != 4:
        raise ValueError(f"repository.url in _config.yml must be https://github.com/<owner>/<repo>, got {url!r}")
    slug = url[len(prefix):]
    branch = repository.get("branch", "main")
    buttons = config.get("launch_buttons", {})
    colab = str(buttons.get("colab_url", "https://colab.research.google.com")).rstrip("/")
    binder = str(buttons.get("binderhub_url", "https://mybinder.org")).rstrip("/")
    interface = "lab/tree" if buttons.get("notebook_interface", "classic") == "jupyterlab" else "tree"
    course = load_course(root)
    links = []
    for notebook in sorted(course.release_dir.glob("*/*.ipynb"), key=_position):
        folder = notebook.parent
        if not folder.name.startswith("."):
            path = notebook.relative_to(root).as_posix()
            title, points = _title_and_points(notebook)
            links.append(
                ExerciseLink(
                    assignment=folder.name,
                    path=path,
                    title=title,
                    points=points,
                    colab=f"{colab}/github/{slug}/blob/{branch}/{path}",
                    binder=f"{binder}/v2/gh/{slug}/{branch}?urlpath={interface}/{path}",
                    download=f"{url}/raw/{branch}/{path}",
                )
            )
    return links


def _position(notebook: Path) -> tuple[float, str]:
    """Notebooks sort by ``metadata.cnncourse.order`` (course order), then by path."""
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    order = metadata.get("cnncourse", {}).get("order", float("inf"))
    return (float(order), notebook.as_posix())


def _title_and_points(notebook: Path) -> tuple[str, float]:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    title = notebook.stem
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = next((line for line in source.splitlines() if line.startswith("# ")), None)
        if cell["cell_type"] == "markdown" and heading:
            title = heading[2:].strip()
            break
    points = sum(
        float(cell["metadata"]["nbgrader"].get("points", 0))
        for cell in nb["cells"]
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
    )
    return title, points


@dataclass(frozen=True)
class ExerciseTable:
    """The exercises as an HTML table in a notebook, as text in a terminal."""

    links: tuple[ExerciseLink, ...]

    def _repr_html_(self) -> str:
        rows = "\n".join(
            "<tr>"
            f"<td>{html.escape(link.title)}<br><code>{html.escape(link.path)}</code></td>"
            f"<td>{link.points:g}</td>"
            f'<td><a href="{html.escape(link.colab)}">Colab</a> · '
            f'<a href="{html.escape(link.binder)}">Binder</a> · '
            f'<a href="{html.escape(link.download)}">descargar</a></td>'
            "</tr>"
            for link in self.links
        )
        return (
            '<table class="table">\n<thead><tr><th>Ejercicio</th><th>Puntos</th><th>Abrir</th></tr></thead>\n'
            f"<tbody>\n{rows}\n</tbody>\n</table>"
        )

    def __repr__(self) -> str:
        return "\n".join(f"{link.title} ({link.points:g} puntos): {link.colab}" for link in self.links)


def exercise_table(root: Path | str | None = None) -> ExerciseTable:
    """The table of released exercises with Colab, Binder and download links."""
    return ExerciseTable(tuple(exercise_links(root)))
