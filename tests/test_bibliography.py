"""The bibliography: references.bib parses, keys follow the convention, every citation in the
book names an entry, and the book is configured to use it."""

import re
from pathlib import Path

import pybtex.database
import yaml

ROOT = Path(__file__).resolve().parents[1]
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def _entries():
    return pybtex.database.parse_file(str(ROOT / "references.bib")).entries


def test_bib_parses_with_lowercase_author_year_keys():
    entries = _entries()
    assert len(entries) >= 30
    for key, entry in entries.items():
        assert re.fullmatch(r"[a-z]+\d{4}[a-z]?", key), key
        assert entry.fields.get("year") or entry.fields.get("date"), key
        assert "title" in entry.fields, key


def test_the_documents_references_are_present():
    seeds = {"bishop2006", "lecun2015", "lecun1998", "krizhevsky2012", "zeiler2014",
             "simonyan2014", "szegedy2015", "he2016", "huang2017", "zhou2016", "spampinato2017"}
    assert seeds <= set(_entries())


def test_every_citation_in_the_book_names_an_entry():
    keys = set(_entries())
    pages = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
    cited = {}
    for page in pages:
        for group in CITE.findall(page.read_text()):
            for key in group.split(","):
                cited.setdefault(key.strip(), page.name)
    missing = {k: v for k, v in cited.items() if k not in keys}
    assert not missing, f"citations without an entry in references.bib: {missing}"


def test_config_uses_the_bib_and_the_toc_lists_the_page():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["references.bib"]
    toc = (ROOT / "_toc.yml").read_text()
    assert "book/bibliografia" in toc
    page = (ROOT / "book" / "bibliografia.md").read_text()
    assert "{bibliography}" in page and ":all:" in page
