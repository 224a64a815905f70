"""Run a learner's function on the grader's cases in a separate, resource-limited process.

The child (``child.py``) gets the learner's definitions and the case inputs, and hands back only
the outputs, as ``.npz`` files that are loaded here with ``allow_pickle=False``: plain numeric
arrays, never objects, so nothing the learner's code built can run in the grader's process.
This isolates mistakes (endless loops, crashes, memory hogs, patched libraries); it is not a
security sandbox against hostile code (see docs/instructors.md).
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHILD_SCRIPT = Path(__file__).with_name("child.py")
# The reference answers and the grader: importing them from the learner's code fails in the child.
BLOCKED_MODULES = ("nutshell_lib.grading", "nutshell_lib.grading.reference", "nutshell_lib.grading.questions")
PRINTED_TAIL = 1500  # characters of the learner's printed output kept for the report
STATUSES = ("ok", "not_implemented", "error")
MAX_OUTPUT_BYTES = 256 * 2 ** 20  # unpacked size of one case's outputs that the grader will load


@dataclass(frozen=True)
class Limits:
    seconds: float = 20.0            # wall clock for one question: start-up, definitions, all cases
    memory_bytes: int = 2 * 2 ** 30  # address space of the child
    file_bytes: int = 64 * 2 ** 20   # largest file the child may write


@dataclass
class CaseRun:
    status: str                       # ok, not_implemented, error, timeout, crashed
    message: str = ""
    outputs: list[np.ndarray] | None = None


@dataclass
class QuestionRun:
    found: bool
    cases: list[CaseRun]
    setup_errors: list[str] = field(default_factory=list)
    printed: str = ""
    verdict: str = ""                 # why the process stopped early, if it did


def child_environment() -> dict[str, str]:
    """One thread per child (the grader runs several at once) and no display for plots."""
    env = dict(os.environ)
    env.update({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                       "NUMBA_NUM_THREADS")})
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    return env


def read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_outputs(path: Path) -> list[np.ndarray] | None:
    """The arrays of a case's .npz, or None when it is unreadable or would unpack too large."""
    try:
        with zipfile.ZipFile(path) as archive:  # a small compressed file can hide a huge array
            if sum(info.file_size for info in archive.infolist()) > MAX_OUTPUT_BYTES:
                return None
        with np.load(path, allow_pickle=False) as archive:
            names = sorted(archive.files, key=lambda name: int(name.split("_")[1]))
            return [archive[name] for name in names]
    except (OSError, ValueError, IndexError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def stop_reason(returncode: int | None, timed_out: bool, limits: Limits) -> str:
    if timed_out or returncode == -signal.SIGXCPU:
        return f"timed out after {limits.seconds:g} s (an endless loop, or far too slow)"
    if returncode == -signal.SIGKILL:
        return "killed (most likely it used too much memory)"
    if returncode is not None and returncode < 0:
        return f"crashed ({signal.Signals(-returncode).name})"
    if returncode:
        return f"the process exited with status {returncode}"
    return ""


def collect(job_dir: Path, n_cases: int, verdict: str) -> tuple[bool, list[str], list[CaseRun]]:
    setup = read_json(job_dir / "setup.json")
    if setup is None:
        return False, [], [CaseRun("crashed", verdict or "the notebook's code stopped the grader") for _ in range(n_cases)]
    cases = []
    for index in range(n_cases):
        status = read_json(job_dir / f"case{index}.json")
        if status is None or status.get("status") not in STATUSES:
            cases.append(CaseRun("timeout" if "timed out" in verdict else "crashed",
                                 verdict or "the process ended before returning a result (did the code exit?)"))
            continue
        outputs = read_outputs(job_dir / f"case{index}.npz") if status["status"] == "ok" else None
        if status["status"] == "ok" and outputs is None:
            cases.append(CaseRun("crashed", "its outputs could not be read back"))
            continue
        cases.append(CaseRun(status["status"], str(status.get("message", ""))[:500], outputs))
    errors = [str(error)[:500] for error in setup.get("errors", [])][:20]
    return bool(setup.get("found")), errors, cases


def run_question(snippets, function: str, cases: list[tuple], limits: Limits) -> QuestionRun:
    """Run ``function`` (after ``snippets``, the learner's definitions) on every case."""
    with tempfile.TemporaryDirectory(prefix="nutshell-grade-") as directory:
        job_dir = Path(directory)
        job = {"snippets": snippets, "function": function, "cases": cases, "blocked_modules": BLOCKED_MODULES,
               "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
               "cpu_seconds": int(limits.seconds) + 1}
        (job_dir / "job.pickle").write_bytes(pickle.dumps(job))
        with open(job_dir / "printed.txt", "wb") as log:
            process = subprocess.Popen([sys.executable, str(CHILD_SCRIPT), str(job_dir)], cwd=job_dir,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env=child_environment(), start_new_session=True)
            try:
                process.wait(timeout=limits.seconds)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_group(process)
        verdict = stop_reason(process.returncode, timed_out, limits)
        found, errors, case_runs = collect(job_dir, len(cases), verdict)
        printed = tail(job_dir / "printed.txt")
    return QuestionRun(found, case_runs, errors, printed, verdict)


def kill_group(process: subprocess.Popen) -> None:
    """Kill the child and anything it started (it leads its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def tail(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - PRINTED_TAIL))
        return handle.read().decode(errors="replace").strip()
