"""Run a learner's functions on the grader's cases in a separate, resource-limited process.

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
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHILD_SCRIPT = Path(__file__).with_name("child.py")
# The reference answers and the grader: importing them from the learner's code fails in the child.
BLOCKED_MODULES = ("nutshell_lib.grading", "nutshell_lib.grading.reference", "nutshell_lib.grading.questions")
PRINTED_TAIL = 1500  # characters of the learner's printed output kept for the report
STATUSES = ("ok", "not_implemented", "error")
POLL_SECONDS = 0.02
MAX_OUTPUT_BYTES = 256 * 2 ** 20  # unpacked size of one case's outputs that the grader will load


@dataclass(frozen=True)
class Limits:
    seconds: float = 20.0            # wall clock for one question's cases (and for the definitions)
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


def collect_cases(job_dir: Path, prefix: str, n_cases: int, verdict: str) -> list[CaseRun]:
    cases = []
    for index in range(n_cases):
        status = read_json(job_dir / f"{prefix}case{index}.json")
        if status is None or status.get("status") not in STATUSES:
            cases.append(CaseRun("timeout" if "timed out" in verdict else "crashed",
                                 verdict or "the process ended before returning a result (did the code exit?)"))
            continue
        outputs = read_outputs(job_dir / f"{prefix}case{index}.npz") if status["status"] == "ok" else None
        if status["status"] == "ok" and outputs is None:
            cases.append(CaseRun("crashed", "its outputs could not be read back"))
            continue
        cases.append(CaseRun(status["status"], str(status.get("message", ""))[:500], outputs))
    return cases


def watch(process: subprocess.Popen, job_dir: Path, n_questions: int, limits: Limits) -> tuple[bool, int, str]:
    """Follow the child question by question, each with its own time limit.

    Returns (set_up, finished, verdict): whether the definitions ran, how many questions finished,
    and why the process stopped before the rest (empty when it did not).
    """
    clock, set_up, finished = time.monotonic(), False, 0
    while True:
        if not set_up and (job_dir / "setup.json").exists():
            set_up, clock = True, time.monotonic()
        while set_up and finished < n_questions and (job_dir / f"q{finished}.done").exists():
            finished, clock = finished + 1, time.monotonic()
        if finished == n_questions:
            return True, finished, ""
        returncode = process.poll()
        if returncode is not None:  # look once more: it may have finished just before exiting
            set_up = set_up or (job_dir / "setup.json").exists()
            while set_up and finished < n_questions and (job_dir / f"q{finished}.done").exists():
                finished += 1
            return set_up, finished, stop_reason(returncode, False, limits) if finished < n_questions else ""
        if time.monotonic() - clock > limits.seconds:
            return set_up, finished, stop_reason(None, True, limits)
        time.sleep(POLL_SECONDS)


def start_child(job_dir: Path, snippets, questions, limits: Limits) -> subprocess.Popen:
    job = {"snippets": snippets, "questions": questions, "blocked_modules": BLOCKED_MODULES,
           "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
           "cpu_seconds": int(limits.seconds * (len(questions) + 1)) + 1}
    (job_dir / "job.pickle").write_bytes(pickle.dumps(job))
    return subprocess.Popen([sys.executable, str(CHILD_SCRIPT), str(job_dir)], cwd=job_dir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_environment(), start_new_session=True)


def run_submission(snippets, questions: list[tuple[str, str, list[tuple]]], limits: Limits) -> list[QuestionRun]:
    """Run each (function name, call expression, cases) after ``snippets``, the learner's definitions.

    One child process runs the definitions once and the questions in order. When a question hangs
    or kills the process, that question gets the verdict and a fresh child takes the rest.
    """
    runs: list[QuestionRun] = []
    while len(runs) < len(questions):
        pending = questions[len(runs):]
        with tempfile.TemporaryDirectory(prefix="nutshell-grade-") as directory:
            job_dir = Path(directory)
            process = start_child(job_dir, snippets, pending, limits)
            try:
                set_up, finished, verdict = watch(process, job_dir, len(pending), limits)
            finally:
                kill_group(process)
            if not set_up:  # the definitions themselves hang or crash: every question fails alike
                printed = tail(job_dir / "setup.log")
                return runs + [QuestionRun(False, [CaseRun("crashed", verdict) for _ in cases], [], printed,
                                           verdict or "the notebook's code stopped the grader")
                               for _, _, cases in pending]
            setup = read_json(job_dir / "setup.json") or {}
            errors = [str(error)[:500] for error in setup.get("errors", [])][:20]
            found = setup.get("found", {})
            for number, (name, _, cases) in enumerate(pending[:finished + 1]):
                stopped = verdict if number == finished else ""
                runs.append(QuestionRun(bool(found.get(name)) if isinstance(found, dict) else False,
                                        collect_cases(job_dir, f"q{number}_", len(cases), stopped),
                                        errors, tail(job_dir / f"q{number}.log"), stopped))
    return runs[:len(questions)]


def kill_group(process: subprocess.Popen) -> None:
    """Kill the child and anything it started (it leads its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def tail(path: Path) -> str:
    """The end of what the learner's code printed, if anything."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - PRINTED_TAIL))
            return handle.read().decode(errors="replace").strip()
    except OSError:
        return ""
