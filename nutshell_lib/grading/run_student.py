"""Run a learner's functions on the grader's cases in a separate, confined, resource-limited process.

The child (``child.py``) gets the job on stdin and answers on stdout, a stream of frames read here
with a byte budget and validated before anything is believed: JSON headers of known kinds and
types, ``.npy`` arrays of plain numbers whose headers are checked before a byte is allocated. The
grader opens no file the child could have touched, so a child can only spoil its own result.
With a sandbox (``sandbox.py``) the child also cannot see or reach anything else.
"""
from __future__ import annotations

import ast
import json
import math
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .sandbox import CHILD_SCRIPT, CHILD_SCRIPT_INSIDE, LIBRARY, NO_SANDBOX, SandboxMode, bwrap_command, cache_staging, child_python, child_uid

# The reference answers and the grader: importing them from the learner's code fails in the child
# (without a sandbox, by name only; in the sandbox they do not exist).
BLOCKED_MODULES = ("nutshell_lib.grading", "nutshell_lib.grading.reference", "nutshell_lib.grading.questions")
PRINTED_TAIL = 1500  # characters of the learner's printed output kept for the report
STATUSES = ("ok", "not_implemented", "error")
MAX_HEADER_BYTES = 64 * 2 ** 10
MAX_ARRAYS_PER_CASE = 64
MAX_NPY_HEADER = 4096
STDERR_KEPT = 4000


@dataclass(frozen=True)
class Limits:
    seconds: float = 20.0            # wall clock for one question's cases (and for the definitions)
    memory_bytes: int = 2 * 2 ** 30  # address space of each of the child's processes
    file_bytes: int = 64 * 2 ** 20   # largest file the child may write
    processes: int = 64              # processes and threads of the child (per sandbox, or per child user)
    output_bytes: int = 64 * 2 ** 20  # all the child may send back (arrays and text)


@dataclass(frozen=True)
class Isolation:
    """How a child is confined and what it sees as ``nutshell_lib``."""
    mode: SandboxMode = NO_SANDBOX
    library: Path | None = LIBRARY            # the package bound as nutshell_lib (None: none at all)
    numba_caches: tuple[Path, ...] = ()       # cache folders of which each child gets a private copy


class Task(NamedTuple):
    """One question for the child: ``expression`` (a question's call, evaluated in the learner's
    namespace over a case's ``args``) on every case, within ``seconds`` (None: ``Limits.seconds``)."""
    name: str                         # the function that must exist
    cases: list[tuple]
    expression: str
    seconds: float | None = None


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


class ProtocolError(ValueError):
    """The child sent something that is not a valid frame."""


def parse_npy(blob: bytes) -> np.ndarray:
    """An array from ``.npy`` bytes: a plain numeric dtype, and exactly as many bytes as the header
    claims, checked before anything is allocated."""
    magic = b"\x93NUMPY"
    if len(blob) < 10 or not blob.startswith(magic) or blob[6] not in (1, 2, 3):
        raise ProtocolError("an output is not a .npy array")
    size_bytes = 2 if blob[6] == 1 else 4
    header_length = int.from_bytes(blob[8:8 + size_bytes], "little")
    start = 8 + size_bytes + header_length
    if header_length > MAX_NPY_HEADER or start > len(blob):
        raise ProtocolError("an output's .npy header is too long")
    try:
        header = ast.literal_eval(blob[8 + size_bytes:start].decode("latin1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ProtocolError("an output's .npy header cannot be read") from None
    if not (isinstance(header, dict) and set(header) == {"descr", "fortran_order", "shape"}
            and isinstance(header["descr"], str) and isinstance(header["fortran_order"], bool)
            and isinstance(header["shape"], tuple) and len(header["shape"]) <= 32
            and all(type(n) is int and n >= 0 for n in header["shape"])):
        raise ProtocolError("an output's .npy header is malformed")
    try:
        dtype = np.dtype(header["descr"])
    except (TypeError, ValueError):
        raise ProtocolError("an output has an unknown dtype") from None
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"an output has dtype {dtype}, not plain numbers")
    count = math.prod(header["shape"])
    if count * dtype.itemsize != len(blob) - start:
        raise ProtocolError("an output's size does not match its .npy header")
    array = np.frombuffer(blob, dtype, count, start)
    return array.reshape(header["shape"], order="F" if header["fortran_order"] else "C").copy()


class FrameReader:
    """Frames from the child's stdout: a JSON header line, then the raw arrays it announces."""

    def __init__(self, budget: int):
        self.buffer = bytearray()
        self.budget = budget
        self.header: dict | None = None
        self.sizes: list[int] = []

    def feed(self, data: bytes):
        """Yield each frame completed by ``data``, in order (those before a bad one are yielded)."""
        self.budget -= len(data)
        if self.budget < 0:
            raise ProtocolError("sent back more than the grader accepts")
        self.buffer += data
        while True:
            if self.header is None:
                end = self.buffer.find(b"\n", 0, MAX_HEADER_BYTES + 1)
                if end < 0:
                    if len(self.buffer) > MAX_HEADER_BYTES:
                        raise ProtocolError("a message to the grader is too long")
                    return
                self.header, self.sizes = self.parse_header(bytes(self.buffer[:end]))
                del self.buffer[:end + 1]
            if len(self.buffer) < sum(self.sizes):
                return
            arrays, offset = [], 0
            for size in self.sizes:
                arrays.append(parse_npy(bytes(self.buffer[offset:offset + size])))
                offset += size
            del self.buffer[:offset]
            header, self.header, self.sizes = self.header, None, []
            yield header, arrays

    def parse_header(self, line: bytes) -> tuple[dict, list[int]]:
        try:
            header = json.loads(line)
        except (ValueError, RecursionError):
            raise ProtocolError("a message to the grader is not JSON") from None
        if not isinstance(header, dict) or not isinstance(header.get("arrays", []), list):
            raise ProtocolError("a message to the grader has the wrong form")
        sizes = header.get("arrays", [])
        if (len(sizes) > MAX_ARRAYS_PER_CASE or not all(type(s) is int and 0 <= s for s in sizes)
                or sum(sizes) > self.budget):
            raise ProtocolError("a message announces too many or too large arrays")
        return header, sizes


def text(value, limit: int) -> str:
    if not isinstance(value, str):
        raise ProtocolError("a text field is not a string")
    return value[-limit:]


class ChildReport:
    """What one child said, checked: the setup, the cases and output of each question finished."""

    def __init__(self, questions: list[Task]):
        self.questions = questions
        self.setup: dict | None = None
        self.cases: list[dict[int, CaseRun]] = [{} for _ in questions]
        self.printed: list[str] = ["" for _ in questions]
        self.finished = 0

    def accept(self, header: dict, arrays: list[np.ndarray]) -> None:
        kind = header.get("kind")
        if self.setup is None:
            if kind != "setup":
                raise ProtocolError("the first message was not the setup")
            errors, found = header.get("errors"), header.get("found")
            if not (isinstance(errors, list) and isinstance(found, dict)
                    and all(isinstance(value, bool) for value in found.values())):
                raise ProtocolError("the setup message has the wrong types")
            self.setup = {"errors": [text(error, 500) for error in errors[:20]],
                          "found": {task.name: found.get(task.name) is True for task in self.questions},
                          "printed": text(header.get("printed", ""), PRINTED_TAIL)}
            return
        if self.finished == len(self.questions) or header.get("question") != self.finished:
            raise ProtocolError("a message for a question that is not being graded")
        if kind == "done":
            self.printed[self.finished] = text(header.get("printed", ""), PRINTED_TAIL)
            self.finished += 1
        elif kind == "case":
            index, status = header.get("case"), header.get("status")
            n_cases = len(self.questions[self.finished].cases)
            if type(index) is not int or not 0 <= index < n_cases or index in self.cases[self.finished]:
                raise ProtocolError("a result for a case that does not exist")
            if status not in STATUSES or (arrays and status != "ok"):
                raise ProtocolError("a case result has an unknown status")
            message = text(header.get("message", ""), 500)
            self.cases[self.finished][index] = CaseRun(status, message, arrays if status == "ok" else None)
        else:
            raise ProtocolError("a message of an unknown kind")


def child_environment(tmp: str) -> dict[str, str]:
    """A cleared environment: one thread per child (the grader runs several at once), no display."""
    env = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PATH="/usr/bin:/bin",
               HOME=tmp, TMPDIR=tmp, LANG="C.UTF-8")
    return env


def stop_reason(returncode: int | None, timed_out: bool, seconds: float) -> str:
    if timed_out or returncode == -signal.SIGXCPU:
        return f"timed out after {seconds:g} s (an endless loop, or far too slow)"
    if returncode == -signal.SIGKILL:
        return "killed (most likely it used too much memory)"
    if returncode is not None and returncode < 0:
        return f"crashed ({signal.Signals(-returncode).name})"
    if returncode:
        return f"the process exited with status {returncode}"
    return ""


def private_caches(caches: tuple[Path, ...], folder: Path, uid: int | None) -> dict[Path, Path]:
    """Without a sandbox: a copy in ``folder`` of each Numba cache folder, for one child to write
    to (Numba loads kernels only from a cache it can write), keyed by the cache folder it copies."""
    copies = {}
    for number, cache in enumerate(caches):
        copy = folder / str(number)
        shutil.copytree(cache, copy, ignore=shutil.ignore_patterns("*.pyc", "*.tmp"))
        if uid is not None:
            for parent, _, files in os.walk(copy):
                for name in [parent, *(os.path.join(parent, f) for f in files)]:
                    os.chown(name, uid, uid)
        copies[cache] = copy
    return copies


def user_cache_layout(copies: dict[Path, Path], folder: Path) -> None:
    """Without a mount namespace the copies cannot stand where the caches are: rename each in-tree
    cache copy (``pkg/__pycache__``) to the name Numba looks for under ``NUMBA_CACHE_DIR=folder``."""
    from numba.core.caching import _CacheLocator

    for cache, copy in copies.items():
        if cache.name == "__pycache__":
            copy.rename(folder / _CacheLocator.get_suitable_cache_subpath(str(cache.parent / "kernel.py")))


CHILD_PYTHON = child_python()


def start_child(job_dir: Path, snippets, questions, limits: Limits, isolation: Isolation) -> subprocess.Popen:
    """Start the child (in the sandbox, or as its own user, or unconfined) and send it the job."""
    mode = isolation.mode
    uid = child_uid() if mode.drops_user else None
    job = {"snippets": snippets, "questions": [(task.name, task.expression, task.cases) for task in questions],
           "blocked_modules": BLOCKED_MODULES,
           "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes, "processes": limits.processes,
           "cpu_seconds": int(limits.seconds + sum(task.seconds or limits.seconds for task in questions)) + 1,
           "printed_tail": PRINTED_TAIL,
           "uid": None, "library_parent": str(LIBRARY.parent) if isolation.library else None, "numba_caches": []}
    popen = {}
    if mode.bwrap:
        job.update(uid=uid, tmp="/tmp",
                   numba_caches=[(cache_staging(n), str(cache)) for n, cache in enumerate(isolation.numba_caches)])
        command = bwrap_command(mode, [CHILD_PYTHON, "-I", CHILD_SCRIPT_INSIDE], library=isolation.library,
                                caches=isolation.numba_caches, environment=child_environment("/tmp"))
        cwd, environment = job_dir, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        cwd = job_dir / "tmp"
        cwd.mkdir(0o700)
        job["tmp"], environment = str(cwd), child_environment(str(cwd))
        command = [CHILD_PYTHON, "-I", str(CHILD_SCRIPT)]
        if isolation.library is not None and isolation.library != LIBRARY:
            job["library_parent"] = str(isolation.library.parent)  # the stand-in shadows the library by path
        if uid is not None:  # "user" mode: the child starts as its own user, in a folder of its own
            job_dir.chmod(0o711)
            os.chown(cwd, uid, uid)
            popen = {"user": uid, "group": uid, "extra_groups": []}
            # child.py is passed as text: grading/ may be (and should be) unreadable to the child's user
            command = [CHILD_PYTHON, "-I", "-c", CHILD_SCRIPT.read_text()]
            if isolation.numba_caches:
                caches = cwd / "numba"
                user_cache_layout(private_caches(isolation.numba_caches, caches, uid), caches)
                environment["NUMBA_CACHE_DIR"] = str(caches)
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment, start_new_session=True, **popen)
    process.child_uid = uid if mode.name == "user" else None  # whose processes to kill afterwards
    threading.Thread(target=send_job, args=(process, pickle.dumps(job)), daemon=True).start()
    return process


def send_job(process: subprocess.Popen, job: bytes) -> None:
    try:
        process.stdin.write(job)
        process.stdin.close()
    except OSError:  # the child died before reading it: its exit status tells why
        pass


def watch(process: subprocess.Popen, report: ChildReport, limits: Limits) -> tuple[str, str]:
    """Read the child's frames, each question with its own time limit. Returns (verdict, stderr):
    why the process stopped before finishing (empty when it did not), and what it said on stderr
    before its output was redirected (Python failing to start, for instance)."""
    reader = FrameReader(limits.output_bytes)
    streams = {process.stdout.fileno(): "out", process.stderr.fileno(): "err"}
    stderr = bytearray()
    clock = time.monotonic()
    while True:
        progress = (report.setup is not None, report.finished)
        if report.finished == len(report.questions):
            return "", ""
        seconds = (report.questions[report.finished].seconds if report.setup is not None else None) or limits.seconds
        remaining = seconds - (time.monotonic() - clock)
        if remaining <= 0:
            return stop_reason(None, True, seconds), ""
        if not streams:
            process.wait()
            returncode = process.returncode
            if process.args[0] != CHILD_PYTHON and returncode > 128:  # bwrap reports a signal as 128 + its number
                returncode = 128 - returncode
            return (stop_reason(returncode, False, seconds)
                    or "the process ended before returning a result (did the code exit?)"), stderr.decode(errors="replace")
        ready, _, _ = select.select(list(streams), [], [], remaining)
        for descriptor in ready:
            data = os.read(descriptor, 1 << 16)
            if not data:
                del streams[descriptor]
            elif streams[descriptor] == "err":
                stderr += data[:max(0, STDERR_KEPT - len(stderr))]
            else:
                try:
                    for header, arrays in reader.feed(data):
                        report.accept(header, arrays)
                except ProtocolError as exc:
                    return f"it sent the grader something it does not accept ({exc})", ""
        if (report.setup is not None, report.finished) != progress:
            clock = time.monotonic()


def run_submission(snippets, questions: list[Task], limits: Limits,
                   isolation: Isolation = Isolation()) -> list[QuestionRun]:
    """Run each question's cases after ``snippets``, the learner's definitions.

    One child process runs the definitions once and the questions in order. When a question hangs
    or kills the process, that question gets the verdict and a fresh child takes the rest.
    """
    runs: list[QuestionRun] = []
    while len(runs) < len(questions):
        pending = questions[len(runs):]
        report = ChildReport(pending)
        with tempfile.TemporaryDirectory(prefix="nutshell-grade-") as directory:
            process = start_child(Path(directory), snippets, pending, limits, isolation)
            try:
                verdict, stderr = watch(process, report, limits)
            finally:
                kill_group(process)
        if report.setup is None:  # the definitions themselves hang or crash: every question fails alike
            verdict = verdict or "the notebook's code stopped the grader"
            printed = stderr.strip()[-PRINTED_TAIL:]
            return runs + [QuestionRun(False, [CaseRun("crashed", verdict) for _ in cases], [], printed, verdict)
                           for _, cases, *_ in pending]
        for number, (name, cases, *_) in enumerate(pending[:report.finished + 1]):
            stopped = verdict if number == report.finished else ""
            runs.append(QuestionRun(report.setup["found"][name], collected_cases(report.cases[number], len(cases), stopped),
                                    report.setup["errors"], report.printed[number].strip(), stopped))
    return runs[:len(questions)]


def collected_cases(cases: dict[int, CaseRun], n_cases: int, verdict: str) -> list[CaseRun]:
    missing = CaseRun("timeout" if "timed out" in verdict else "crashed",
                      verdict or "the process ended before returning a result (did the code exit?)")
    return [cases.get(index, missing) for index in range(n_cases)]


def kill_group(process: subprocess.Popen) -> None:
    """Kill the child and anything it started (it leads its own session; in the sandbox, every
    process of its PID namespace dies with it)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.child_uid is not None:  # "user" mode: every process of the child's own user id
        subprocess.run([sys.executable, "-I", "-S", "-c", "import os; os.kill(-1, 9)"], user=process.child_uid,
                       group=process.child_uid, extra_groups=[], env={}, cwd="/", check=False)
    process.wait()
    for stream in (process.stdout, process.stderr):
        stream.close()
