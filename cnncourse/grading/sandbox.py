"""Confining a student's kernel at autograde: Landlock, a uid of its own and resource limits.

A submission's code runs during ``autograde``. Without confinement it runs with the
instructor's permissions: it can overwrite another student's submission, read the
solutions and their hidden tests, edit the gradebook, or take the machine down with a
memory, disk or fork bomb. Here every kernel is started through a small wrapper::

    python -m cnncourse.grading.sandbox --scratch DIR [--read PATH]... [limits] -- KERNEL CMD

The wrapper stays as a supervisor (a parent process) and starts the command in a
child that, before ``exec``:

1. gets resource limits with ``setrlimit``: address space (``--memory``), size of any
   file it writes (``--file-size``; ``SIGXFSZ`` ignored, so writes fail with ``EFBIG``
   instead of killing the kernel), CPU seconds (``--cpu``) and processes
   (``--processes``);
2. when started as root, drops to a uid of its own (``--uid``; root is exempt from the
   process limit, so only an unprivileged uid makes it bite) that owns ``DIR``;
3. sets ``PR_SET_NO_NEW_PRIVS`` and restricts itself with Landlock (Linux 5.13+, no
   privileges needed): it may write only inside ``DIR`` (its scratch folder, also its
   working directory and ``HOME``) and read only the system folders, the Python
   installation and the ``--read`` paths. Where the kernel supports it (Landlock ABI 6),
   it may not signal processes outside its sandbox either.

The supervisor polls the child: when the scratch folder grows past ``--disk`` bytes or
the uid runs close to ``--processes`` processes (a fork bomb), it kills every process of
the sandbox and writes what happened to ``--status FILE`` (JSON), which the grader
reads to give the submission its status. On exit it kills whatever the kernel left
behind.

:func:`available` says what this machine supports; where Landlock is missing (macOS,
old kernels) the wrapper still applies the limits it can and says so in the status
file. For large classes, run autograde in a container as well (docs/grading.md).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

__all__ = [
    "Limits",
    "Sandbox",
    "landlock_abi",
    "available",
    "kill_uid",
    "read_status",
    "SandboxKernelManager",
    "SandboxExecute",
    "main",
]

# Landlock (include/uapi/linux/landlock.h); syscall numbers are the same on x86-64 and arm64.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_TRUNCATE, _IOCTL_DEV = 1 << 14, 1 << 15
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV


def _all_fs_rights(abi: int) -> int:
    """Every file-system right the running kernel's Landlock ABI knows."""
    rights = (1 << 13) - 1  # ABI 1: execute ... make_sym
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel, 0 where there is none.

    Examples
    --------
    >>> landlock_abi() >= 0
    True
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def available() -> dict[str, object]:
    """What confinement this machine gives a kernel.

    Returns
    -------
    dict
        ``landlock`` (ABI version, 0 if none), ``own_uid`` (whether each kernel can run
        under a uid of its own: the process limit bites only then), ``rlimits`` and
        ``confined`` (Landlock present: the kernel cannot read or write outside its
        scratch folder).

    Examples
    --------
    >>> sorted(available())
    ['confined', 'landlock', 'own_uid', 'rlimits']
    """
    abi = landlock_abi()
    return {
        "landlock": abi,
        "own_uid": hasattr(os, "geteuid") and os.geteuid() == 0,
        "rlimits": True,
        "confined": abi > 0,
    }


@dataclass(frozen=True)
class Limits:
    """Resource limits of one kernel; ``None`` leaves that resource unlimited.

    ``memory`` is address space, not resident memory: importing numpy and starting a
    kernel reserve about 1 GiB of it, torch about 3 GiB more.
    """

    memory: int | None = 4 * 2**30
    file_size: int | None = 64 * 2**20
    disk: int | None = 256 * 2**20
    cpu_seconds: int | None = 600
    processes: int | None = 64


@dataclass(frozen=True)
class Sandbox:
    """Where and how one kernel is confined; :meth:`wrap` turns a command into the wrapper's."""

    scratch: Path
    read: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    uid: int | None = None
    status_file: Path | None = None

    def wrap(self, command: Sequence[str]) -> list[str]:
        """The command line that runs ``command`` inside this sandbox.

        Examples
        --------
        >>> box = Sandbox(Path("/tmp/x"), limits=Limits(memory=None, file_size=1024, disk=None,
        ...               cpu_seconds=None, processes=None))
        >>> box.wrap(["python", "-c", "pass"])[2:]  # after: python .../sandbox.py
        ['--scratch', '/tmp/x', '--file-size', '1024', '--', 'python', '-c', 'pass']
        """
        argv = [sys.executable, _ENTRY, "--scratch", str(self.scratch)]
        for path in self.read:
            argv += ["--read", str(path)]
        for option, value in (("--memory", self.limits.memory), ("--file-size", self.limits.file_size),
                              ("--disk", self.limits.disk), ("--cpu", self.limits.cpu_seconds),
                              ("--processes", self.limits.processes), ("--uid", self.uid)):
            if value is not None:
                argv += [option, str(value)]
        if self.status_file is not None:
            argv += ["--status", str(self.status_file)]
        return argv + ["--", *command]


# What a Python kernel needs to read besides its own installation: no /etc/shadow, no disks.
_ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd", "group",
        "nsswitch.conf", "hosts", "host.conf", "resolv.conf", "gai.conf", "ssl", "ca-certificates",
        "mime.types", "os-release", "fonts", "matplotlibrc"]
_DEV = ["null", "zero", "full", "random", "urandom"]


# The wrapper runs this file as a script: it needs only the standard library, and starting
# it does not import the rest of cnncourse.grading (``python -m cnncourse.grading.sandbox``
# does the same, with a runpy warning because the package imports this module first).
_ENTRY = os.path.abspath(__file__)


def _system_read_paths() -> list[str]:
    """Files and folders every Python process needs to read: the system and this Python."""
    import cnncourse

    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys"]
    paths += [f"/etc/{name}" for name in _ETC] + [f"/dev/{name}" for name in _DEV]
    paths += [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
              os.path.dirname(os.path.abspath(cnncourse.__file__))]
    return paths


def _unreachable_for_others(path: str) -> bool:
    """Whether a folder above ``path`` denies search to other users (e.g. Python under /root)."""
    path = os.path.realpath(path)
    for parent in Path(path).parents:
        if not os.stat(parent).st_mode & 0o001:
            return True
    return False


_CAP_DAC_READ_SEARCH = 2


def _keep_read_search() -> None:
    """After setuid: keep CAP_DAC_READ_SEARCH across exec (reads stay confined by Landlock).

    Needed only where the Python installation lives below a folder other users cannot
    enter (``/root/.pyenv``); the process limit still applies, since it exempts only
    CAP_SYS_RESOURCE and CAP_SYS_ADMIN.
    """

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    libc = _libc()
    bit = 1 << _CAP_DAC_READ_SEARCH
    data = (Data * 2)(Data(bit, bit, bit), Data(0, 0, 0))
    if libc.capset(ctypes.byref(Header(0x20080522, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    if libc.prctl(47, 2, _CAP_DAC_READ_SEARCH, 0, 0) != 0:  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE
        raise OSError(ctypes.get_errno(), "prctl(PR_CAP_AMBIENT_RAISE) failed")


def _restrict(scratch: str, read: Sequence[str]) -> int:
    """Landlock this process: read ``read`` and the system, write only ``scratch``. Returns the ABI."""
    abi = landlock_abi()
    if abi <= 0:
        return 0
    libc = _libc()
    handled = _all_fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=handled, handled_access_net=0,
                        scoped=(_SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET) if abi >= 6 else 0)
    size = 24 if abi >= 6 else 8
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    readable = _EXECUTE | _READ_FILE | _READ_DIR
    rules = [(path, readable) for path in (*_system_read_paths(), *read)]
    rules += [("/dev/null", _READ_FILE | _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)), (scratch, handled)]
    seen: set[tuple[str, int]] = set()
    for path, rights in rules:
        real = os.path.realpath(path)
        if (real, rights) in seen or not os.path.exists(real):
            continue
        seen.add((real, rights))
        if not os.path.isdir(real):
            rights &= _FILE_RIGHTS
        fd = os.open(real, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PathBeneathAttr(allowed_access=rights & handled, parent_fd=fd)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {real}")
        finally:
            os.close(fd)
    try:
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _set_limits(args) -> None:
    pairs = [(resource.RLIMIT_AS, args.memory), (resource.RLIMIT_FSIZE, args.file_size),
             (resource.RLIMIT_CPU, args.cpu), (resource.RLIMIT_NPROC, args.processes),
             (resource.RLIMIT_CORE, 0)]
    for which, value in pairs:
        if value is not None:
            resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too large write fails with EFBIG


def _kernel_environment(scratch: str) -> None:
    for name in ("HOME", "TMPDIR", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR",
                 "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "XDG_CACHE_HOME"):
        os.environ[name] = scratch if name in ("HOME", "TMPDIR") else os.path.join(scratch, "." + name.lower())
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"


def _own_connection_file(command: list[str], scratch: str, uid: int | None) -> list[str]:
    """Copy the kernel's connection file (``-f PATH``) into the scratch folder, readable by ``uid``."""
    command = list(command)
    for index, arg in enumerate(command):
        path = None
        if arg == "-f" and index + 1 < len(command):
            path, target = command[index + 1], index + 1
        elif arg.startswith("--f="):
            path, target = arg[len("--f="):], index
        if path and os.path.isfile(path):
            copy = os.path.join(scratch, ".kernel-connection.json")
            shutil.copyfile(path, copy)
            os.chmod(copy, 0o600)
            if uid is not None:
                os.chown(copy, uid, uid)
            command[target] = copy if target != index else f"--f={copy}"
            break
    return command


def _child(args, command: list[str]) -> None:
    """Runs in the forked child: limits, uid, Landlock, then exec. Never returns."""
    try:
        os.chdir(args.scratch)
        _kernel_environment(args.scratch)
        _set_limits(args)
        if args.uid is not None and os.geteuid() == 0:
            keep = _unreachable_for_others(command[0] if os.path.isabs(command[0]) else sys.executable)
            if keep:
                _libc().prctl(8, 1, 0, 0, 0)  # PR_SET_KEEPCAPS
            os.setgroups([])
            os.setgid(args.uid)
            os.setuid(args.uid)
            if keep:
                _keep_read_search()
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
        abi = _restrict(args.scratch, args.read)
        if abi == 0 and args.require:
            raise OSError("Landlock is not available and --require was given")
        os.execvp(command[0], command)
    except BaseException as error:  # report and leave: the parent sees exit status 126
        print(f"cnncourse sandbox: cannot start {command[0]}: {error}", file=sys.stderr, flush=True)
    os._exit(126)


def kill_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (a sandbox's leftovers); needs root.

    Done from a short-lived child that takes the uid, so ``kill(-1)`` reaches exactly
    that uid's processes (and the processes cannot kill it first: it is not theirs to
    signal until it has dropped to their uid, and then it signals first).
    """
    if os.geteuid() != 0 or uid == 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _count_uid_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _folder_size(folder: str) -> int:
    total = 0
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


def _write_status(path: str | None, record: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(record), encoding="utf-8")


def read_status(path: Path | str) -> dict | None:
    """What a sandbox's supervisor recorded (``None`` if it recorded nothing).

    Keys: ``event`` (``"disk"``, ``"processes"``, ``"exit"``), ``signal`` (the signal that
    ended the kernel, if any), ``landlock`` (ABI used, 0 for none).
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _supervise(args, child: int) -> int:
    """Wait for the kernel; stop it when it fills the disk or forks without end."""
    forward = lambda signum, frame: _signal_quietly(child, signum)  # noqa: E731
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    record: dict = {"event": "exit", "landlock": landlock_abi()}
    polls = 0
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            break
        polls += 1
        event = None
        if args.disk is not None and polls % 2 == 0 and _folder_size(args.scratch) > args.disk:
            event = "disk"
        elif (args.processes is not None and args.uid is not None and os.geteuid() == 0
              and _count_uid_processes(args.uid) >= max(args.processes // 2, 1)):
            event = "processes"
        if event:
            record["event"] = event
            _write_status(args.status, record)
            if args.uid is not None:
                kill_uid(args.uid)
            _signal_quietly(child, signal.SIGKILL)
            _, status = os.waitpid(child, 0)
            break
        time.sleep(0.05 if polls < 40 else 0.1)
    if args.uid is not None:
        kill_uid(args.uid)
    _reap_orphans()
    if os.WIFSIGNALED(status):
        record["signal"] = os.WTERMSIG(status)
    _write_status(args.status, record)
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _reap_orphans() -> None:
    """Collect the kernel's orphans (the supervisor is their subreaper), so no zombie stays."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def _signal_quietly(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the wrapper (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("usage: python -m cnncourse.grading.sandbox --scratch DIR [options] -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(prog="python -m cnncourse.grading.sandbox")
    parser.add_argument("--scratch", required=True, help="the only folder the command may write in")
    parser.add_argument("--read", action="append", default=[], help="another folder it may read")
    parser.add_argument("--memory", type=int, help="address space, bytes")
    parser.add_argument("--file-size", type=int, help="largest file it may write, bytes")
    parser.add_argument("--disk", type=int, help="most bytes in the scratch folder")
    parser.add_argument("--cpu", type=int, help="CPU seconds")
    parser.add_argument("--processes", type=int, help="processes and threads of its uid")
    parser.add_argument("--uid", type=int, help="uid to run as (when started as root)")
    parser.add_argument("--status", help="JSON file where the supervisor records what happened")
    parser.add_argument("--require", action="store_true", help="refuse to run without Landlock")
    args = parser.parse_args(options)
    if not command:
        parser.error("no command after --")
    args.scratch = os.path.realpath(args.scratch)
    os.makedirs(args.scratch, exist_ok=True)
    if args.uid is not None and os.geteuid() == 0:
        os.chown(args.scratch, args.uid, args.uid)
        os.chmod(args.scratch, 0o700)
    else:
        args.uid = None if os.geteuid() == 0 else args.uid
    command = _own_connection_file(command, args.scratch, args.uid)
    if sys.platform.startswith("linux"):
        _libc().prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the kernel's orphans come back here
    child = os.fork()
    if child == 0:
        _child(args, command)
    return _supervise(args, child)




def _nbgrader_classes() -> dict[str, type]:
    """The kernel manager and nbgrader preprocessor that start kernels through the wrapper.

    Built on first use: importing jupyter_client and nbgrader costs the wrapper process
    (which runs once per kernel) time it does not need.
    """
    if _CLASSES:
        return _CLASSES
    from jupyter_client.manager import AsyncKernelManager
    from nbgrader.preprocessors import Execute
    from traitlets import List, Unicode

    class SandboxKernelManager(AsyncKernelManager):
        """Starts every kernel through the sandbox wrapper (options in ``sandbox_argv``)."""

        sandbox_argv = List(Unicode(), default_value=[], help="the wrapper command, without '--'").tag(config=True)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command = super().format_kernel_cmd(extra_arguments)
            return [*self.sandbox_argv, "--", *command] if self.sandbox_argv else command

    class SandboxExecute(Execute):
        """nbgrader's ``Execute`` with kernels started by :class:`SandboxKernelManager`."""

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
            super().__init__(*args, **kwargs)

    SandboxKernelManager.__module__ = SandboxExecute.__module__ = __name__
    _CLASSES.update(SandboxKernelManager=SandboxKernelManager, SandboxExecute=SandboxExecute)
    return _CLASSES


_CLASSES: dict[str, type] = {}


def __getattr__(name: str):
    if name in ("SandboxKernelManager", "SandboxExecute"):
        return _nbgrader_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
