"""The book: sources are clean, the toc is honest, and the build passes with warnings as
errors and shows what a reader expects (Spanish, figures, formulas, launch buttons)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
# The English interface strings the book's Sphinx extension (book/_ext) puts in Spanish.
_ENGLISH_UI = ["Link to this heading", "Toggle primary sidebar", "Toggle secondary sidebar",
               "Launch on Binder", "Launch on Colab", "Toggle hidden content"]


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
        for chapter in part["chapters"]:
            files += [s["file"] for s in chapter.get("sections", [])]
    return files


def _source(entry: str) -> Path:
    matches = [p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.exists()]
    assert len(matches) == 1, f"toc entry {entry!r} must match exactly one .ipynb or .md file"
    return matches[0]


def test_toc_lists_only_existing_pages_and_every_chapter():
    listed = {_source(entry) for entry in _toc_files()}
    on_disk = {p for p in (ROOT / "book").glob("*") if p.suffix in {".ipynb", ".md"}}
    assert on_disk - listed == set(), "pages in book/ missing from _toc.yml"


def test_chapter_notebooks_are_committed_without_outputs():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        stored = [c for c in nb["cells"] if c["cell_type"] == "code" and
                  (c.get("outputs") or c.get("execution_count"))]
        assert not stored, f"{path.name}: {len(stored)} code cells with stored outputs"
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name


def test_config_is_spanish_with_launch_buttons():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"]["language"] == "es"
    assert config["repository"]["url"].startswith("https://")
    assert config["repository"]["path_to_book"] == ""
    assert {"colab_url", "binderhub_url"} <= set(config["launch_buttons"])
    assert {"dollarmath", "amsmath", "colon_fence"} <= set(config["parse"]["myst_enable_extensions"])
    assert config["execute"]["execute_notebooks"] == "cache"
    mathjax = ROOT / "book" / "_static" / config["sphinx"]["config"]["mathjax_path"]
    assert mathjax.is_file(), "MathJax must be served with the book (offline readers)"


@pytest.mark.slow
def test_book_builds_without_warnings():
    """Full build (every page re-read, notebooks executed through the cache) with -W."""
    exe = Path(sys.executable).with_name("jupyter-book")
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    result = subprocess.run(
        [str(exe), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    html = BUILD / "html"
    assert (html / "index.html").is_file()
    for entry in _toc_files():
        page = html / f"{entry}.html"
        assert page.is_file(), f"no HTML for {entry}"
        text = page.read_text()
        assert '<html lang="es"' in text, entry
        assert "cdn.jsdelivr.net/npm/mathjax" not in text, f"{entry}: MathJax from a CDN"
        if 'class="math' in text:
            assert "mathjax/tex-chtml-full.js" in text, f"{entry}: formulas without MathJax"
        leftover = [e for e in _ENGLISH_UI if f'title="{e}"' in text or f'aria-label="{e}"' in text]
        assert not leftover, f"{entry}: interface strings in English: {leftover}"
        if _source(entry).suffix == ".ipynb":
            assert "colab.research.google.com/github/" in text, f"{entry}: no Colab button"
            assert "Traceback" not in text, f"{entry}: an error is shown in the page"
    bibliography = (html / "book" / "bibliografia.html").read_text()
    assert "Krizhevsky, Ilya Sutskever y Geoffrey" in bibliography, "bibliography in Spanish"
    assert ", and " not in bibliography and ". In " not in bibliography
    chapter = (html / "book" / "01_imagenes_digitales.html").read_text()
    images = re.findall(r'<img [^>]*src="\.\./_images/([^"]+\.png)"', chapter)
    assert len(images) >= 5, "chapter 1 must show its figures"
    assert all((html / "_images" / name).stat().st_size > 5000 for name in images)
