"""The GitHub Actions workflow that tests the course and publishes the book.

It is checked with a real linter (actionlint, installed by the ``dev`` extra) and against
the README: it must run the README's test command and publish what ``make book`` builds.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    found = found or shutil.which("actionlint")
    assert found, "actionlint is missing: it comes with the dev extra (make env)"
    return found


def test_there_is_a_workflow():
    assert [p.name for p in WORKFLOWS] == ["book.yml"]


def test_actionlint_passes():
    result = subprocess.run(
        [_actionlint(), "-no-color", *map(str, WORKFLOWS)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.evnt.name }}\n"
    )
    result = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "evnt" in result.stdout


def _steps(job: dict) -> list[str]:
    return [s.get("run", "") + s.get("uses", "") for s in job["steps"]]


def test_workflow_runs_the_readme_test_command_and_publishes_the_book():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    flow = yaml.safe_load((ROOT / ".github/workflows/book.yml").read_text())
    jobs = flow["jobs"]
    assert "make test" in _steps(jobs["test"])
    publish = jobs["publish"]
    assert publish["needs"] == "test"
    assert "default_branch" in publish["if"]
    steps = publish["steps"]
    assert "make book" in _steps(publish)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}


def test_readme_says_where_the_book_is_published():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    owner, name = config["repository"]["url"].rstrip("/").split("/")[-2:]
    assert f"https://{owner}.github.io/{name}/" in (ROOT / "README.md").read_text()
