"""Chapters 08-11: every number the prose states is computed on the same page.

A number typed into a Markdown cell must be one of

- glued (``{glue:text}`name```): the role is not typed text, so it is never a candidate;
- glued anywhere on the page: it is the text of a glued value, compared by value
  (``0,713`` = ``0.713``);
- printed in its section: it appears in an output of a code cell (stream, table,
  figure-less result) of the same section, the cells between two headings (``#`` to
  ``###``): a number that only some other part of the page happens to print is a
  coincidence, not a computation of what the prose says;
- asserted in its section: it is a literal of an ``assert`` line of a code cell there;
- exempt, for one of the reasons in ``EXEMPTIONS`` below (names, dates, labels and the
  constants of formulas, none of which is a quantity the code could compute).

The executed notebooks come from the book's execution cache (``_build/.jupyter_cache``):
in ``make test`` nbval has executed every chapter and ``conftest.py`` recorded it there,
and ``conftest.py`` runs the tests marked ``uses_book_cache`` after the notebooks. Run on
its own, the test executes a chapter whose current source is not cached and records it,
so the book build reuses that execution.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CACHE = ROOT / "_build" / ".jupyter_cache"
CHAPTERS = ["08_transferencia", "09_ajuste_fino_vgg", "10_explicabilidad",
            "11_casos_de_estudio"]

# Why a typed number may stand without being computed. Each entry: reason -> what it covers.
EXEMPTIONS = {
    "identifier": "digits that are part of a name: VGG16, fc7, conv5_3, ReLU6, top-5, "
                  "Flowers-102 (joined to letters, '_' or '-')",
    "dotted name": "versions and section numbers (torchvision 0.13, sección 5.3.1): in Spanish "
                   "a point only separates groups of three digits, so 0.13 is not a quantity",
    "year": "a four-digit year 1900-2029 (Spanish writes every quantity from 1.000 up with a "
            "point, so a bare 2017 is a date)",
    "label": "the number names an item: sección 5, capítulo 3, estrategia 2, método 4, paso 1, "
             "figura 2, versión 3, Keras 3",
    "formula constant": "0, 1 and 2 inside math: exponents, unit coefficients, index bounds "
                        "($x^2$, $1/M^2$, $n = 1$)",
}
_LABEL_WORDS = ("sección", "secciones", "capítulo", "capítulos", "figura", "figuras", "tabla",
                "apartado", "estrategia", "estrategias", "método", "paso", "versión", "versiones",
                "keras", "tensorflow", "python")

# A number in Spanish notation: 60.965.224 | 0,713 | 97,8 | 12 ; also a dotted name 0.13.
_NUMBER = re.compile(r"(?<![\w.,])(?<![^\W\d]-)(\d+(?:[.,]\d+)*)(?!\w)(?!-[^\W\d])")
_ROLE = re.compile(r"\{[\w:\-]+\}`[^`]*`")
_INLINE_CODE = re.compile(r"``.+?``|`[^`]*`")
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
_SPANISH_VALUE = re.compile(r"^\d{1,3}(?:\.\d{3})*(?:,\d+)?$|^\d+(?:,\d+)?$")


def _canonical(text: str) -> str:
    return format(Decimal(text).normalize(), "f")


def number_values(token: str, *, spanish_only: bool) -> set[str]:
    """Canonical values a numeric token can stand for.

    Prose is read in Spanish notation only (``2.048`` is two thousand and forty-eight);
    outputs also in Python's (``0.498`` printed by a tensor is a decimal)."""
    values = set()
    if _SPANISH_VALUE.match(token):
        values.add(_canonical(token.replace(".", "").replace(",", ".")))
    if not spanish_only:
        if re.fullmatch(r"\d+(\.\d+)?", token):
            values.add(_canonical(token))
        if re.fullmatch(r"\d+,\d+", token):
            values.add(_canonical(token.replace(",", ".")))
    return values


def _prose_pieces(markdown: str) -> list[tuple[str, bool]]:
    """The typed text of a Markdown cell as (text, is_math) pieces: without code, roles
    (glue, cite), link targets, directive options and list or heading enumerators."""
    text = _FENCE.sub(" ", markdown)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = _ROLE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "] ", text)                      # link targets
    text = re.sub(r"^\s*:[\w-]+:.*$", " ", text, flags=re.M)       # :class: warning
    text = re.sub(r"^\s*(?:#+\s*)?\d+\.\s", " ", text, flags=re.M)  # '1. ' and '### 1. '
    text = re.sub(r"(?<=\d)x(?=\d)", " × ", text)                 # 7x7 is two numbers
    pieces, last = [], 0
    for match in _MATH.finditer(text):
        pieces.append((text[last:match.start()], False))
        pieces.append((match.group().replace("{,}", ",").replace("{.}", "."), True))
        last = match.end()
    pieces.append((text[last:], False))
    return pieces


def _exemption(token: str, before: str, in_math: bool) -> str | None:
    if re.fullmatch(r"\d+(?:\.\d+)+", token) and any(
            len(group) != 3 for group in token.split(".")[1:]):
        return "dotted name"
    if re.fullmatch(r"(19\d\d|20[0-2]\d)", token):
        return "year"
    label = re.search(r"(\w+)\s+$", before)              # the word right before it
    if label and label.group(1).lower() in _LABEL_WORDS:
        return "label"
    if in_math and token in {"0", "1", "2"}:
        return "formula constant"
    return None


def typed_numbers(markdown: str, *, context: bool = False) -> list[tuple]:
    """(token, exemption or None) for every number typed in a Markdown cell, plus the
    text around it with ``context=True``. Numbers joined to a name (``VGG16``) are not
    numbers: the pattern never matches them."""
    found = []
    for piece, in_math in _prose_pieces(markdown):
        for match in _NUMBER.finditer(piece):
            token = match.group(1)
            before = piece[max(0, match.start() - 30):match.start()]
            item = (token, _exemption(token, before, in_math))
            if context:
                around = piece[max(0, match.start() - 40):match.end() + 40]
                item += (" ".join(around.split()),)
            found.append(item)
    return found


def _output_text(output) -> list[str]:
    """The text a reader sees in an output: a stream after its carriage returns (a progress
    bar keeps its last state, as the book renders it), or the text forms of a result.
    Glued values store theirs under a prefixed MIME type (application/papermill.record/)."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return [re.sub(r".*\r(?=[^\n])", "", "".join(text))]
    texts = []
    for kind, value in output.get("data", {}).items():
        value = value if isinstance(value, str) else "".join(value)
        if kind.endswith(("text/plain", "text/markdown", "text/latex")):
            texts.append(value)
        elif kind.endswith("text/html"):
            texts.append(html.unescape(re.sub(r"<[^>]+>", " ", value)))
    return texts


def page_values(nb, cells=None) -> set[str]:
    """Every value a page (or only ``cells`` of it) prints (outputs shown, glued values) or
    asserts (literals of its ``assert`` lines)."""
    values = set()

    def add(text: str) -> None:
        for token in re.findall(r"\d+(?:[.,]\d+)*", text):
            values.update(number_values(token, spanish_only=False))
            for part in re.split(r"[.,]", token):          # '(7, 3)' printed as '7,3'
                values.update(number_values(part, spanish_only=False))

    for cell in nb.cells if cells is None else cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        hidden = bool(tags & {"remove-cell", "remove-output"})
        for output in cell.get("outputs", []):
            glued = "scrapbook" in output.get("metadata", {})
            if glued or not hidden:
                for text in _output_text(output):
                    add(text)
        for line in cell.source.splitlines():
            if re.match(r"\s*assert\b", line):
                add(line.split("#")[0])
    return values


def glued_values(nb) -> set[str]:
    """The values glued anywhere on the page."""
    glued = [c.copy() for c in nb.cells if c.cell_type == "code"]
    for cell in glued:
        cell.outputs = [o for o in cell.get("outputs", []) if "scrapbook" in o.get("metadata", {})]
        cell.source = ""
    return page_values(nb, glued)


def sections(nb) -> list[int]:
    """The section of each cell: a Markdown cell whose first line is a heading (``#`` to
    ``###``) starts a new one."""
    found, current = [], 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.match(r"\s*#{1,3}\s", cell.source):
            current += 1
        found.append(current)
    return found


def unaccounted_numbers(nb) -> list[str]:
    """'cell i: token («context»)' for every typed number that is neither glued, printed
    or asserted in its section, nor exempt."""
    glued, section_of = glued_values(nb), sections(nb)
    in_section = {s: glued | page_values(nb, [c for c, t in zip(nb.cells, section_of) if t == s])
                  for s in set(section_of)}
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token, exemption, context in typed_numbers(cell.source, context=True):
            if not exemption and not number_values(token, spanish_only=True) & in_section[section_of[i]]:
                problems.append(f"cell {i}: {token} («{context}»)")
    return problems


def executed(chapter: str):
    """The executed notebook of a chapter: its current source with the outputs of the
    cached execution of that source (as the book build merges them), or executed now and
    recorded in the cache for the book build."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    path = BOOK / f"{chapter}.ipynb"
    cache = get_cache(str(CACHE))
    try:
        return cache.merge_match_into_notebook(nbformat.read(path, as_version=4))[1]
    except KeyError:                     # no execution of this source in the cache
        pass
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(BOOK), timeout=600, allow_errors=False)
    assert result.err is None, f"{chapter} failed to execute: {result.err!r}"
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"recorded_by": __name__}),
                                check_validity=False, overwrite=True)
    return nb


@pytest.mark.slow
@pytest.mark.uses_book_cache
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_number_in_the_prose_is_computed_on_the_page(chapter):
    nb = executed(chapter)
    typed = [t for c in nb.cells if c.cell_type == "markdown" for t in typed_numbers(c.source)]
    assert len(typed) > 10, "the chapter's prose should state numbers: is the parser broken?"
    assert len(page_values(nb)) > 10, "no outputs: is this an executed notebook?"
    problems = unaccounted_numbers(nb)
    assert not problems, (f"{chapter}: numbers typed in the prose that the page neither "
                          "prints, glues nor asserts:\n" + "\n".join(problems))


# --- the checker itself, on small synthetic pages -------------------------------------

def _page(markdown: str, code: str = "x = 1", outputs=()):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [cell, nbformat.v4.new_markdown_cell(markdown)]
    return nb


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _glued(name, value):
    return {"output_type": "display_data",
            "data": {"application/papermill.record/text/plain": repr(value)},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": ""}}}


def test_a_number_typed_into_the_prose_is_caught():
    page = _page("La red acierta el 73,4 % de las imágenes.", outputs=[_stream("top-1: 12/20\n")])
    assert unaccounted_numbers(page) == ["cell 1: 73,4 («La red acierta el 73,4 % de las imágenes.»)"]


def test_a_glued_printed_or_asserted_number_passes():
    outputs = [_stream("exactitud: 0.734, parámetros: 60.965.224\n"), _glued("acc", "73,4 %")]
    page = _page("Acierta el {glue:text}`acc` ({glue:text}`acc`), 73,4 %, con 60.965.224 "
                 "parámetros, exactitud 0,734; la cabeza tiene 4.097 pesos.",
                 code="assert cabeza == 4097  # 4096 + 1", outputs=outputs)
    assert unaccounted_numbers(page) == []


def test_a_number_printed_only_in_another_section_is_a_coincidence_but_a_glued_one_is_not():
    page = _page("## Primera\n\nLa cabeza tiene 102 salidas.", outputs=[_stream("102 clases\n")])
    other = nbformat.v4.new_code_cell("y = 2")
    other.outputs = [nbformat.from_dict(_stream("102\n")), nbformat.from_dict(_glued("n", "4.096"))]
    page.cells[1:1] = [nbformat.v4.new_markdown_cell("## Otra\n\nTexto."), other]
    # cells: code (prints 102) | ## Otra | code (prints 102, glues 4.096) | ## Primera, types 102
    assert unaccounted_numbers(page) == ["cell 3: 102 («## Primera La cabeza tiene 102 salidas.»)"]
    page.cells[3].source = "## Primera\n\nLa entrada tiene 4.096 valores."
    assert unaccounted_numbers(page) == []


def test_a_number_only_in_a_hidden_output_or_a_comment_is_not_on_the_page():
    hidden = _page("Son 4.097 pesos.", outputs=[_stream("4097\n")])
    hidden.cells[0].metadata["tags"] = ["remove-output"]
    commented = _page("Son 4.097 pesos.", code="assert n > 0  # 4097")
    assert len(unaccounted_numbers(hidden)) == len(unaccounted_numbers(commented)) == 1


def test_a_progress_bar_counts_only_in_its_final_state():
    # the book shows the last state of a bar redrawn with carriage returns
    bar = _stream("época 1/2:  50%| 6/12 [00:03<00:03]\répoca 2/2: 100%| 12/12 [00:07<00:00]\n")
    assert len(unaccounted_numbers(_page("Tras 6 lotes.", outputs=[bar]))) == 1
    assert unaccounted_numbers(_page("Tras 12 lotes.", outputs=[bar])) == []


def test_prose_is_read_in_spanish_notation():
    # 2.048 in the prose is two thousand and forty-eight; 2,5 is two and a half
    page = _page("La capa densa tiene 2.048 neuronas y 2,5 veces más.",
                 outputs=[_stream("2.048 y 25\n")])
    assert unaccounted_numbers(page) == ["cell 1: 2,5 («La capa densa tiene 2.048 neuronas y "
                                         "2,5 veces más.»)"]
    assert number_values("60.965.224", spanish_only=True) == {"60965224"}
    assert number_values("0,713", spanish_only=True) == {"0.713"}


def test_exemptions_are_the_stated_ones():
    text = ("Con VGG16 y `lr=0.01`, fc7 y top-5 {cite:p}`simonyan2014`; torchvision 0.13 "
            "(sección 5.3.1) de 2017; la estrategia 2; $x^2 / 1$.\n\n1. primero\n### 2. Trampa")
    assert sorted(e for _, e in typed_numbers(text)) == sorted(
        ["dotted name", "dotted name", "year", "label", "formula constant", "formula constant"])
    assert set(e for _, e in typed_numbers(text)) <= set(EXEMPTIONS)
    # outside math a 2 is a quantity, inside math a 49 is not a formula constant
    assert typed_numbers("dos capas: 2; $M^2 = 49$") == [("2", None), ("2", "formula constant"),
                                                          ("49", None)]
