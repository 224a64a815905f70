"""A shared, read-only install: learners load the kernels the admin compiled, and compile none.

The kit is copied to a folder, warmed there by its owner (the admin's `nutshell warm`), made
read-only, then imported by a process that cannot write it, with a home of its own (a learner):
as the user `nobody` where that user can run this Python, otherwise as root with every
capability dropped (so file permissions bind it as they bind any user). It runs every kernel
`nutshell warm` compiles and counts Numba's compile events.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import nutshell_lib

SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(sys.platform != "linux" or SETPRIV is None, reason="needs Linux and setpriv")

LEARNER_SESSION = """
from numba.core import event
with event.install_recorder("numba:compile") as recorder:
    from nutshell_lib.warmup import compile_all_kernels
    compile_all_kernels()
compiled = sorted({e.data["dispatcher"].py_func.__qualname__ for _, e in recorder.buffer if e.is_start})
print("compiled:", ",".join(compiled) or "none")
"""


def as_learner() -> list[str]:
    """The command prefix that runs a process as a user who cannot write the install."""
    nobody = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"]
    if os.geteuid() == 0:
        # nobody must reach this environment, not just an interpreter (a checkout under a private
        # folder runs the base Python without the kit's packages)
        reaches_environment = subprocess.run([*nobody, sys.executable, "-c", "import numba, numpy"],
                                             capture_output=True).returncode == 0
        return nobody if reaches_environment else [SETPRIV, "--inh-caps=-all", "--bounding-set=-all"]
    return []  # not root: the owner of a read-only folder cannot write it either


def make_read_only(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(Path(folder) / name, 0o444)
        os.chmod(folder, 0o555)


@pytest.fixture
def shared_install():
    base = Path(tempfile.mkdtemp(prefix="nutshell-shared-"))
    base.chmod(0o755)  # other users must be able to reach the install and their homes below it
    site = base / "site"
    shutil.copytree(Path(nutshell_lib.__file__).parent, site / "nutshell_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    try:
        yield base, site
    finally:
        for folder, _, _ in os.walk(base):
            os.chmod(folder, 0o755)
        shutil.rmtree(base)


def run(command, site: Path, home: Path) -> str:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site), "HOME": str(home),
           "NUMBA_NUM_THREADS": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_learners_load_the_admins_kernels_from_a_read_only_install(shared_install):
    base, site = shared_install
    admin_home, learner_home = base / "admin", base / "learner"
    admin_home.mkdir()
    learner_home.mkdir()
    prefix = as_learner()
    if prefix[:2] == [SETPRIV, "--reuid=65534"]:
        os.chown(learner_home, 65534, 65534)

    run([sys.executable, "-m", "nutshell_lib", "warm"], site, admin_home)
    shipped = sorted(path.name for path in (site / "nutshell_lib" / "kernels" / "__pycache__").glob("*.nbi"))
    assert shipped, "the admin's warm left no kernel cache in the install"
    make_read_only(site)

    first = run([*prefix, sys.executable, "-c", LEARNER_SESSION], site, learner_home)
    assert first.strip() == "compiled: none"
    copies = sorted(path.name for path in learner_home.rglob("*.nbi"))
    assert copies == shipped, "the learner's cache should hold the admin's kernels"
    again = run([*prefix, sys.executable, "-c", LEARNER_SESSION], site, learner_home)
    assert again.strip() == "compiled: none"
