"""The sandbox really confines a process here: Landlock, its own uid, resource limits.

These tests run the wrapper of cnncourse.grading.sandbox around a small Python program
(the kernels of autograde are started the same way; tests/test_grading_e2e.py grades
attacking students through it). They need Linux with Landlock, which these machines and
CI have; they fail rather than skip elsewhere only when CNNCOURSE_REQUIRE_SANDBOX is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnncourse.grading.sandbox import Limits, Sandbox, available, landlock_abi, read_status

ROOT = Path(__file__).resolve().parents[1]
CONFINED = available()["confined"] or bool(os.environ.get("CNNCOURSE_REQUIRE_SANDBOX"))
pytestmark = pytest.mark.skipif(not CONFINED, reason="no Landlock on this system")


def _run(tmp_path: Path, code: str, *, limits: Limits = Limits(), uid: bool = True, timeout: int = 60):
    box = Sandbox(
        scratch=tmp_path / "box",
        limits=limits,
        uid=2_500_000 + os.getpid() % 100_000 if uid and os.geteuid() == 0 else None,
        status_file=tmp_path / "status.json",
    )
    program = [sys.executable, "-c", textwrap.dedent(code)]
    done = subprocess.run(box.wrap(program), capture_output=True, text=True, timeout=timeout)
    return done, read_status(box.status_file)


def test_landlock_is_there():
    assert landlock_abi() >= 1


def test_writes_only_in_its_scratch_folder_and_reads_no_course_file(tmp_path):
    secret = tmp_path / "solucion.txt"
    secret.write_text("respuesta")
    victim = tmp_path / "otra_entrega.ipynb"
    victim.write_text("{}")
    done, status = _run(tmp_path, f"""
        import os
        out = []
        for label, action in [
            ("read_secret", lambda: open({str(secret)!r}).read()),
            ("read_course", lambda: open({str(ROOT / "nbgrader_config.py")!r}).read()),
            ("list_course", lambda: os.listdir({str(ROOT)!r})),
            ("overwrite_other", lambda: open({str(victim)!r}, "w").write("hackeado")),
            ("delete_other", lambda: os.remove({str(victim)!r})),
            ("write_tmp", lambda: open("/tmp/cnncourse-sandbox-escape", "w").write("x")),
            ("write_own", lambda: open("propio.txt", "w").write("ok")),
            ("import_numpy", lambda: __import__("numpy").zeros(3).sum()),
        ]:
            try:
                action()
                out.append(label + ":allowed")
            except OSError:
                out.append(label + ":denied")
        print(",".join(out))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().split(",") == [
        "read_secret:denied", "read_course:denied", "list_course:denied", "overwrite_other:denied",
        "delete_other:denied", "write_tmp:denied", "write_own:allowed", "import_numpy:allowed",
    ]
    assert victim.read_text() == "{}" and not Path("/tmp/cnncourse-sandbox-escape").exists()
    assert status["event"] == "exit" and status["landlock"] >= 1


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own needs root")
def test_runs_under_its_own_uid_and_cannot_signal_the_grader(tmp_path):
    done, _ = _run(tmp_path, f"""
        import os
        try:
            os.kill({os.getpid()}, 0)
            print(os.getuid(), "signal:allowed")
        except OSError:
            print(os.getuid(), "signal:denied")
    """)
    uid, verdict = done.stdout.split()
    assert int(uid) != 0 and verdict == "signal:denied"


@pytest.mark.skipif(os.geteuid() != 0, reason="the process limit bites only under a uid of its own")
def test_a_fork_bomb_is_stopped_and_leaves_nothing(tmp_path):
    done, status = _run(tmp_path, """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, limits=Limits(processes=32), timeout=60)
    assert status["event"] == "processes" and done.returncode == 128 + 9
    survivors = subprocess.run(["ps", "-e", "-o", "uid="], capture_output=True, text=True).stdout.split()
    assert str(2_500_000 + os.getpid() % 100_000) not in survivors


def test_memory_and_file_size_limits(tmp_path):
    done, status = _run(tmp_path, """
        try:
            bloque = bytearray(3 * 2**30)
            print("memory:allowed")
        except MemoryError:
            print("memory:denied")
        try:
            with open("grande.bin", "wb") as f:
                f.write(b"x" * (8 * 2**20))
            print("file:allowed")
        except OSError as error:
            print("file:denied", error.errno)
    """, limits=Limits(memory=2 * 2**30, file_size=2**20))
    assert done.stdout.split() == ["memory:denied", "file:denied", "27"], done.stderr
    assert status["event"] == "exit"


def test_filling_the_disk_with_many_files_is_stopped(tmp_path):
    done, status = _run(tmp_path, """
        import itertools
        for i in itertools.count():
            with open(f"relleno{i}.bin", "wb") as f:
                f.write(b"x" * 2**20)
    """, limits=Limits(file_size=2**20, disk=16 * 2**20), timeout=60)
    assert status["event"] == "disk" and done.returncode == 128 + 9


def test_autograde_refuses_or_warns_when_kernels_cannot_be_confined(tmp_path, monkeypatch, capsys):
    from cnncourse.grading import GradingError, autograde, grades, load_course
    from cnncourse.grading.simulate import copy_course

    course = copy_course(load_course(ROOT), tmp_path / "course", ["tamanos_salida"])
    course.submitted_dir.mkdir()
    monkeypatch.setattr(grades, "available", lambda: {"landlock": 0, "own_uid": False, "rlimits": True,
                                                      "confined": False})
    with pytest.raises(GradingError, match="cannot confine"):
        autograde(course, require_confinement=True, progress=False)
    assert autograde(course, progress=False) == []
    assert "UNCONFINED" in capsys.readouterr().err
