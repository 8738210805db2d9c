"""The course on disk: its nbgrader configuration, its assignments and nbgrader plumbing.

Everything in :mod:`cnncourse.grading` starts from a :class:`Course`, which reads the
course's ``nbgrader_config.py`` (the single place where directory names, the course id,
the cell timeout and the stubs live) and knows where the source (``solutions/``) and
release (``exercises/``) folders are. Each assignment is one folder,
``solutions/<assignment>/*.ipynb``.

The helpers at the bottom run nbgrader's converters in this process (importing
nbgrader costs seconds; a process per student would pay that every time) and turn
their outcome into a dictionary, never an exception.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

__all__ = ["Course", "GradingError", "load_course", "find_course_root"]


class GradingError(RuntimeError):
    """A grading command could not do what was asked; the message says why."""


@dataclass(frozen=True)
class Course:
    """A course directory and its nbgrader configuration.

    Use :func:`load_course` to make one.
    """

    root: Path
    config: Any  # traitlets.config.Config

    def setting(self, section: str, name: str, default: Any) -> Any:
        """A value of nbgrader_config.py, or nbgrader's default when the file omits it."""
        values = self.config.get(section, {})
        return values[name] if name in values else default

    @property
    def source_dir(self) -> Path:
        """Folder holding the instructor's notebooks, one subfolder per assignment."""
        return self.root / self.setting("CourseDirectory", "source_directory", "source")

    @property
    def release_dir(self) -> Path:
        """Folder holding the student versions, one subfolder per assignment."""
        return self.root / self.setting("CourseDirectory", "release_directory", "release")

    @property
    def submitted_dir(self) -> Path:
        return self.root / self.setting("CourseDirectory", "submitted_directory", "submitted")

    @property
    def autograded_dir(self) -> Path:
        return self.root / self.setting("CourseDirectory", "autograded_directory", "autograded")

    @property
    def feedback_dir(self) -> Path:
        return self.root / self.setting("CourseDirectory", "feedback_directory", "feedback")

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def course_id(self) -> str:
        return self.setting("CourseDirectory", "course_id", "default_course")

    @property
    def timeout(self) -> int:
        """Seconds a cell may run at autograde (``Execute.timeout``)."""
        return int(self.setting("Execute", "timeout", 30))

    def assignments(self) -> list[str]:
        """Names of the assignments: folders of the source directory holding notebooks."""
        if not self.source_dir.is_dir():
            return []
        return sorted(
            path.name
            for path in self.source_dir.iterdir()
            if path.is_dir() and not path.name.startswith(".") and any(path.glob("*.ipynb"))
        )

    def resolve(self, assignments: list[str] | None) -> list[str]:
        """The assignments asked for (all of them for None), checked to exist."""
        known = self.assignments()
        if not assignments:
            return known
        unknown = [name for name in assignments if name not in known]
        if unknown:
            raise GradingError(
                f"unknown assignment(s) {unknown}: the source directory {self.source_dir} "
                f"holds {known or 'none'}"
            )
        return list(assignments)

    def source_notebooks(self, assignment: str) -> list[Path]:
        """The instructor's notebooks of one assignment, sorted by name."""
        return sorted((self.source_dir / assignment).glob("*.ipynb"))

    def release_notebooks(self, assignment: str) -> list[Path]:
        """The committed student notebooks of one assignment, sorted by name."""
        return sorted((self.release_dir / assignment).glob("*.ipynb"))

    def nbgrader_config(self, root: Path | str | None = None, **overrides: Any) -> Any:
        """A copy of the course configuration rooted at ``root`` (default: the course).

        ``overrides`` are ``"Section.name": value`` pairs, e.g.
        ``{"Execute.timeout": 5}`` given as ``**{"Execute.timeout": 5}``.
        """
        from traitlets.config import Config

        config = Config()
        config.merge(self.config)
        root = Path(root or self.root).resolve()
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        for key, value in overrides.items():
            section, name = key.split(".")
            setattr(getattr(config, section), name, value)
        return config


def find_course_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds ``nbgrader_config.py``.

    Raises
    ------
    GradingError
        If no folder up to the file-system root has one.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise GradingError(f"no nbgrader_config.py in {here} or any folder above it")


def load_course(root: Path | str | None = None) -> Course:
    """Read ``<root>/nbgrader_config.py`` (root: found from the current folder).

    Examples
    --------
    >>> course = load_course()
    >>> course.source_dir.name, course.release_dir.name
    ('solutions', 'exercises')
    >>> "tamanos_salida" in course.assignments()
    True
    """
    from traitlets.config import PyFileConfigLoader

    root = find_course_root() if root is None else Path(root).resolve()
    config_file = root / "nbgrader_config.py"
    if not config_file.is_file():
        raise GradingError(f"{root} is not a course: it has no nbgrader_config.py")
    config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    return Course(root=root, config=config)


@contextmanager
def ensure_tools_on_path() -> Iterator[None]:
    """Within the block, nbgrader's database creation works, and fast, from this process.

    A new gradebook records the head revision of nbgrader's database migrations, which
    nbgrader finds by running the ``alembic`` script: a second interpreter start (seconds
    on a busy machine), and a failure when the virtual environment's scripts folder is
    not on PATH (``make test`` calls ``.venv/bin/python`` directly). Inside the block the
    revision is read in-process from the same migration scripts, and the scripts folder
    is on PATH for anything else nbgrader runs; both are restored on the way out.

    Examples
    --------
    >>> import os
    >>> before = os.environ.get("PATH")
    >>> with ensure_tools_on_path():
    ...     inside = os.environ["PATH"]
    >>> os.environ.get("PATH") == before
    True
    """
    import nbgrader.api

    scripts = str(Path(sys.executable).parent)
    saved_path = os.environ.get("PATH")
    saved_version = nbgrader.api.get_alembic_version
    if scripts not in (saved_path or "").split(os.pathsep):
        os.environ["PATH"] = scripts + (os.pathsep + saved_path if saved_path else "")
    nbgrader.api.get_alembic_version = _alembic_head
    try:
        yield
    finally:
        nbgrader.api.get_alembic_version = saved_version
        if saved_path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved_path


@functools.lru_cache(maxsize=1)
def _alembic_head() -> str:
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def run_converter(converter_class: type, config: Any, **attributes: Any) -> dict[str, Any]:
    """Run one nbgrader converter in this process and report how it went.

    Parameters
    ----------
    converter_class : type
        ``GenerateAssignment``, ``Autograde`` or ``GenerateFeedback``.
    config : traitlets.config.Config
        Configuration with ``CourseDirectory.root`` set.
    **attributes
        ``assignment_id``, ``student_id`` and ``notebook_id`` go to the course
        directory; anything else (``force``, ``create_student``) to the converter.

    Returns
    -------
    dict
        ``success`` (bool), ``log`` (str) and, on failure, ``error`` (traceback).
    """
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    with quiet_warnings(), ensure_tools_on_path():
        coursedir = CourseDirectory(config=config)
        for name in ("assignment_id", "student_id", "notebook_id"):
            if name in attributes:
                setattr(coursedir, name, attributes.pop(name))
        converter = converter_class(coursedir=coursedir, config=config)
        for name, value in attributes.items():
            setattr(converter, name, value)
        result = capture_log(converter)
    result.setdefault("log", "")
    return result


@contextmanager
def quiet_warnings() -> Iterator[None]:
    """Silence the warnings nbgrader's own code triggers (SQLAlchemy, nbformat ids)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


_ERROR_LINE = re.compile(r"^\s*(?:\[ERROR\] )?([\w.]*(?:Error|Exception|Missing\w*)): (.+)$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def error_summary(log: str) -> str:
    """The distinct ``SomethingError: message`` lines of an nbgrader log, one per line."""
    seen: list[str] = []
    for name, message in _ERROR_LINE.findall(strip_ansi(log)):
        line = f"{name.rsplit('.', 1)[-1]}: {message.strip()}"
        if "NbGraderException" not in name and line not in seen:
            seen.append(line)
    return "\n".join(seen) or "(no error message in nbgrader's log)"


def strip_ansi(text: str) -> str:
    """Text without terminal colour codes (nbgrader colours its tracebacks)."""
    return _ANSI.sub("", text)
