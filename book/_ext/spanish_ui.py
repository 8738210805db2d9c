"""Spanish for the few interface strings the book's themes leave in English.

``language: es`` translates most of Sphinx's and the theme's strings, and ``_config.yml``
sets the ones that have an option (myst-nb's code toggle, sphinx-togglebutton's hint).
A handful have neither a Spanish catalogue entry nor an option: Sphinx's heading
permalinks, sphinx-book-theme's launch buttons and sidebar toggles, sphinx-togglebutton's
button label. They only ever appear as the value of an HTML attribute (a tooltip or an
accessible label), so after the build this extension rewrites exactly those attribute
values, nothing in the text of a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: English attribute value -> Spanish.
STRINGS = {
    "Link to this heading": "Enlace a este encabezado",
    "Link to this equation": "Enlace a esta ecuación",
    "Link to this image": "Enlace a esta imagen",
    "Link to this table": "Enlace a esta tabla",
    "Link to this code": "Enlace a este código",
    "Toggle hidden content": "Mostrar u ocultar el contenido",
    "Toggle primary sidebar": "Mostrar u ocultar el índice del libro",
    "Toggle secondary sidebar": "Mostrar u ocultar el índice de la página",
    "Launch on Colab": "Abrir en Colab",
    "Launch on Binder": "Abrir en Binder",
    "Launch interactive content": "Abrir el contenido interactivo",
    "Page": "Página",
    "Main": "Principal",
}
ATTRIBUTES = ("title", "aria-label", "data-bs-title", "alt")


def translate(html: str) -> str:
    """Replace the English attribute values of :data:`STRINGS` in one page.

    >>> translate('<a title="Link to this heading">#</a><p>Page</p>')
    '<a title="Enlace a este encabezado">#</a><p>Page</p>'
    """
    for english, spanish in STRINGS.items():
        for attribute in ATTRIBUTES:
            html = html.replace(f'{attribute}="{english}"', f'{attribute}="{spanish}"')
    return html


def _rewrite(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = translate(text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.connect("build-finished", _rewrite)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
