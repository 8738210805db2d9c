"""The bibliography in Spanish: pybtex's ``plain`` style with Spanish connective words.

sphinxcontrib-bibtex formats entries with a pybtex style; ``plain`` writes English words
around the data ("Alex Krizhevsky, Ilya Sutskever, and Geoffrey E. Hinton", "In Advances
in ...", "volume 97 of ...", "pages 1-9", "Technical Report"). This style is ``plain``
with those words in Spanish ("y", "En", "vol. 97 de", "págs.", "Informe técnico"); titles
and venues stay as published. Registered as the pybtex style ``plain_es``
(``bibtex_default_style: plain_es`` in ``_config.yml``). The citations in the text get
the same treatment: ``author_year_es`` is sphinxcontrib-bibtex's ``author_year``
referencing style with "Nair y Hinton" for two authors
(``bibtex_reference_style: author_year_es``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import date, pages
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from pybtex.style.template import (
    field,
    first_of,
    join,
    names,
    optional,
    optional_field,
    sentence,
    tag,
    together,
    words,
)


class SpanishStyle(PlainStyle):
    """``plain`` (sorted by author, year, title) with Spanish connective words.

    >>> from pybtex.database import parse_string
    >>> bib = parse_string('''@inproceedings{k, author = {A. Uno and B. Dos and C. Tres},
    ...   title = {T}, booktitle = {B}, volume = {7}, series = {S}, pages = {1--9},
    ...   year = {2012}}''', "bibtex")
    >>> entry = next(iter(SpanishStyle().format_entries(bib.entries.values())))
    >>> entry.text.render_as("text")
    'A. Uno, B. Dos y C. Tres. T. En B, vol. 7 de S, 1–9. 2012.'
    """

    def format_names(self, role: str, as_sentence: bool = True) -> Any:
        formatted = names(role, sep=", ", sep2=" y ", last_sep=" y ")
        return sentence[formatted] if as_sentence else formatted

    def format_editor(self, e: Any, as_sentence: bool = True) -> Any:
        editors = self.format_names("editor", as_sentence=False)
        if "editor" not in e.persons:
            return editors
        word = "eds." if len(e.persons["editor"]) > 1 else "ed."
        result = join(sep=" ")[editors, f"({word})"]
        return sentence[result] if as_sentence else result

    def format_volume_and_series(self, e: Any, as_sentence: bool = True) -> Any:
        volume_and_series = optional[
            words[together["vol.", field("volume")], optional[words["de", field("series")]]]
        ]
        number_and_series = optional[
            words[together["núm.", field("number")], optional[words["de", field("series")]]]
        ]
        result = first_of[volume_and_series, number_and_series, optional_field("series")]
        return sentence(capfirst=True)[result] if as_sentence else result

    def format_chapter_and_pages(self, e: Any) -> Any:
        return join(sep=", ")[
            optional[together["cap.", field("chapter")]],
            optional[together["págs.", pages]],
        ]

    def format_edition(self, e: Any) -> Any:
        return optional[words[field("edition", apply_func=lambda x: x.lower()), "edición"]]

    def get_article_template(self, e: Any) -> Any:
        volume_and_pages = first_of[
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            words["págs.", pages],
        ]
        return toplevel[
            self.format_names("author"),
            self.format_title(e, "title"),
            sentence[tag("em")[field("journal")], optional[volume_and_pages], date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def _in_book(self, e: Any, last: Any) -> Any:
        return words[
            "En",
            sentence[
                optional[self.format_editor(e, as_sentence=False)],
                self.format_btitle(e, "booktitle", as_sentence=False),
                self.format_volume_and_series(e, as_sentence=False),
                last,
            ],
        ]

    def get_inproceedings_template(self, e: Any) -> Any:
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            words[
                self._in_book(e, optional[pages]),
                self.format_address_organization_publisher_date(e),
            ],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_incollection_template(self, e: Any) -> Any:
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            self._in_book(e, self.format_chapter_and_pages(e)),
            sentence[
                optional_field("publisher"),
                optional_field("address"),
                self.format_edition(e),
                date,
            ],
            self.format_web_refs(e),
        ]

    def get_techreport_template(self, e: Any) -> Any:
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            sentence[
                words[first_of[optional_field("type"), "Informe técnico"],
                      optional_field("number")],
                field("institution"),
                optional_field("address"),
                date,
            ],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


def _spanish_person() -> PersonStyle:
    return PersonStyle(sep2=" y ", last_sep=" y ")


@dataclasses.dataclass
class SpanishAuthorYear(AuthorYearReferenceStyle):
    """``author_year`` citations with Spanish separators ("Nair y Hinton, 2010").

    >>> SpanishAuthorYear().person.sep2
    ' y '
    """

    person: PersonStyle = dataclasses.field(default_factory=_spanish_person)


register_plugin("pybtex.style.formatting", "plain_es", SpanishStyle, force=True)
register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_es",
                       SpanishAuthorYear, force=True)


def setup(app: Any) -> dict[str, Any]:
    return {"parallel_read_safe": True, "parallel_write_safe": True}
