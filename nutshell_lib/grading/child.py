"""What runs inside the learner's process during grading: ``python -I child.py``.

It is started by file path, not as ``nutshell_lib.grading.child``, so that it imports only the
standard library and NumPy: nothing the learner's code could patch is used afterwards to judge it.
In the sandbox (``sandbox.py``) it is the only file of ``grading/`` that exists.

The protocol, which the grader (``run_student.py``) parses and validates, never trusting it:

- stdin: one pickle, the job (the learner's definitions; per question the function's name, the
  expression that calls the learner's code on a case's ``args``, and the cases; the limits);
- stdout: frames, each a JSON header on one line (``{"kind": ...}``), followed by the raw ``.npy``
  bytes of the arrays whose sizes the header lists in ``"arrays"``. Kinds, in order: ``setup``
  (``errors``, ``found``: which functions exist, ``printed``), then per question ``case``
  (``question``, ``case``, ``status``, ``message``, ``arrays``) for each case and ``done``
  (``question``, ``printed``: the tail of what that question printed).

The learner's own printing goes to a file in the child's private ``/tmp``, a fresh one per
question, so that a flood fills only that question's file. Comparing with the reference is the
grader's job, in the grader's own process.
"""
from __future__ import annotations

import io
import json
import linecache
import os
import pickle
import resource
import signal
import sys
import tempfile
import traceback

import numpy as np

# Bound before the learner's code runs, so patching NumPy there cannot reach these.
_write_array = np.lib.format.write_array
_asarray = np.asarray
_eval = eval


def _only_integers(value) -> bool:
    return all(_only_integers(item) if isinstance(item, (tuple, list)) else isinstance(item, (int, np.integer))
               for item in value)


def flatten_outputs(value) -> list[np.ndarray]:
    """A returned value as a list of plain numeric arrays.

    A tuple or list is opened up, recursively, so (dq, dk, dv) is three outputs even when their
    shapes agree, and (loss, norm) two, whether they are Python floats, NumPy scalars or 0-d
    arrays. Only integers stay together: a tuple such as a shape (2, 3) is one output (a ragged
    one is opened up). The grader flattens the reference's value the same way, so both sides get
    the same structure.
    """
    if isinstance(value, (tuple, list)) and not _only_integers(value):
        return [leaf for item in value for leaf in flatten_outputs(item)]
    try:
        array = _asarray(value)
    except (ValueError, TypeError):  # ragged, e.g. shapes of different lengths
        array = None
    if array is not None and array.dtype.kind in "biuf":
        return [np.array(array)]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in flatten_outputs(item)]
    raise TypeError(f"returned {type(value).__name__}, not numbers or arrays")


def limit_resources(memory_bytes: int, cpu_seconds: int, file_bytes: int, processes: int) -> None:
    """Hard limits (soft = hard), which an unprivileged process cannot raise again. A file that
    reaches its limit makes the write fail (OSError) instead of killing the process."""
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_NPROC, processes),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def become_user(uid: int) -> None:
    """Drop from root to ``uid`` for good (no groups, no capabilities left)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


class BlockedImports:
    """A meta-path finder that refuses some modules: the reference answers are not the learner's
    to call. (Code that means harm can remove it; see the docs on what the grader isolates.)"""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name in self.names:
            raise ImportError(f"{name} cannot be imported by graded code")
        return None


def remember_source(label: str, source: str) -> None:
    """Put the snippet's lines into linecache so tracebacks can quote the learner's line."""
    lines = list(linecache.cache.get(label, (0, None, [], label))[2])
    new = source.splitlines(True)
    lines += ["\n"] * (len(new) - len(lines))
    for index, line in enumerate(new):
        if line.strip():
            lines[index] = line
    linecache.cache[label] = (sum(map(len, lines)), None, lines, label)


def run_definitions(snippets) -> tuple[dict, list[str]]:
    """Exec each (label, source) in one namespace; a failing one is reported and skipped."""
    namespace = {"__name__": "__main__"}
    errors = []
    for label, source in snippets:
        remember_source(label, source)
        try:
            exec(compile(source, label, "exec"), namespace)
        except BaseException as exc:  # SystemExit and the like too: the next snippet still runs
            errors.append(f"{label}: {type(exc).__name__}: {exc}")
    return namespace, errors


def describe_error(exc: BaseException) -> str:
    """The exception and the learner's line that raised it (frames inside notebook cells)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    where = f" ({frames[-1].filename} line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class Channel:
    """The frames sent to the grader on a private copy of stdout."""

    def __init__(self, descriptor: int):
        self.descriptor = descriptor

    def send(self, header: dict, arrays=()) -> None:
        blobs = []
        for array in arrays:
            buffer = io.BytesIO()
            _write_array(buffer, array, allow_pickle=False)
            blobs.append(buffer.getvalue())
        data = json.dumps({**header, "arrays": [len(blob) for blob in blobs]}).encode() + b"\n"
        for chunk in (data, *blobs):
            view = memoryview(chunk)
            while view:
                view = view[os.write(self.descriptor, view):]


class Printed:
    """Everything printed from ``start`` on (Python or C level) goes to a fresh file."""

    def __init__(self, folder: str, keep: int):
        self.path, self.keep = os.path.join(folder, "printed.log"), keep

    def start(self) -> None:
        """A fresh file, and fresh ``sys.stdout``/``sys.stderr`` on it: what the last question left
        in their buffers (a flood that filled its file) is dropped, not charged to the next."""
        try:
            os.unlink(self.path)  # whatever the last question left there, a link included
        except FileNotFoundError:
            pass
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.dup2(descriptor, 1)
        os.dup2(descriptor, 2)
        os.close(descriptor)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True, errors="replace")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True, errors="backslashreplace")

    def tail(self) -> str:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # the file is full: what is in it is still worth showing
            pass
        with open(self.path, "rb") as handle:  # whatever it is now: the child only reads what it may
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - self.keep))
            return handle.read().decode(errors="replace")


def learner_call(namespace: dict, expression: str):
    """The function of a case's arguments that evaluates ``expression`` (a question's call, such as
    ``"batchnorm_backward(args[0], batchnorm_forward(*args[1:])[1])"``) in the learner's namespace."""
    code = compile(expression, "<grader>", "eval")
    return lambda *args: _eval(code, namespace, {"args": args})


def call_cases(channel: Channel, number: int, function, cases) -> None:
    for index, args in enumerate(cases):
        outputs = []
        try:
            outputs = flatten_outputs(function(*args))
        except NotImplementedError:
            status = {"status": "not_implemented", "message": "not implemented yet"}
        except MemoryError as exc:
            status = {"status": "error", "message": f"ran out of memory: {exc}"}
        except BaseException as exc:
            status = {"status": "error", "message": describe_error(exc)}
        else:
            status = {"status": "ok", "message": ""}
        channel.send({"kind": "case", "question": number, "case": index, **status}, outputs)


def main() -> int:
    """Run the definitions once, then each question in turn; a ``done`` frame marks one finished,
    so the grader can time every question and restart after the one that hung or crashed."""
    job = pickle.load(sys.stdin.buffer)
    channel = Channel(os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    if job["uid"] is not None:
        become_user(job["uid"])
    for staging, cache in job["numba_caches"]:  # the sandbox's writable RAM copy of the kernel cache
        for name in os.listdir(staging):
            if not os.path.isfile(os.path.join(staging, name)):
                continue
            with open(os.path.join(staging, name), "rb") as source, open(os.path.join(cache, name), "wb") as copy:
                copy.write(source.read())
    if job["library_parent"]:
        sys.path.insert(0, job["library_parent"])
    limit_resources(job["memory_bytes"], job["cpu_seconds"], job["file_bytes"], job["processes"])
    sys.meta_path.insert(0, BlockedImports(job["blocked_modules"]))
    printed = Printed(job["tmp"] or tempfile.gettempdir(), job["printed_tail"])
    printed.start()
    namespace, errors = run_definitions(job["snippets"])
    found = {name: callable(namespace.get(name)) for name, _, _ in job["questions"]}
    channel.send({"kind": "setup", "errors": errors, "found": found, "printed": printed.tail()})
    for number, (name, expression, cases) in enumerate(job["questions"]):
        printed.start()
        if found[name]:
            call_cases(channel, number, learner_call(namespace, expression), cases)
        channel.send({"kind": "done", "question": number, "printed": printed.tail()})
    return 0


if __name__ == "__main__":
    os._exit(main())  # no flushing at exit: the learner's last print cannot change the status
