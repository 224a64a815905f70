"""What runs inside the learner's process during grading: ``python child.py JOB_DIR``.

It is started by file path, not as ``nutshell_lib.grading.child``, so that it imports only the
standard library and NumPy: nothing the learner's code could patch is used afterwards to judge it.
It reads ``JOB_DIR/job.pickle`` (written by the grader), limits its own resources, runs the
learner's definitions, calls each graded function on its cases, and writes, per case,
``q<k>_case<i>.npz`` (plain arrays) and ``q<k>_case<i>.json`` (a status). Comparing with the reference is the grader's job,
in the grader's own process.
"""
from __future__ import annotations

import json
import linecache
import os
import pickle
import resource
import sys
import traceback

import numpy as np

# Bound before the learner's code runs, so patching numpy.savez there cannot reach these.
_savez = np.savez
_asarray = np.asarray
_eval = eval


def flatten_outputs(value) -> list[np.ndarray]:
    """A returned value as a list of plain numeric arrays.

    A value that NumPy turns into one rectangular numeric array is one output (so a tuple of
    ints such as a shape is one array); other tuples and lists are opened up, recursively. The
    grader flattens the reference's value the same way, so both sides get the same structure.
    """
    try:
        array = _asarray(value)
    except (ValueError, TypeError):  # ragged: arrays of different shapes
        array = None
    if array is not None and array.dtype.kind in "biuf":
        return [np.array(array)]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in flatten_outputs(item)]
    raise TypeError(f"returned {type(value).__name__}, not numbers or arrays")


def limit_resources(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    """Hard limits (soft = hard), which an unprivileged process cannot raise again."""
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, file_bytes)):
        resource.setrlimit(limit, (value, value))


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


def write_status(job_dir: str, name: str, status: dict) -> None:
    temporary = os.path.join(job_dir, name + ".tmp")
    with open(temporary, "w") as handle:
        json.dump(status, handle)
    os.replace(temporary, os.path.join(job_dir, name))


def capture_output(path: str) -> None:
    """Send everything printed from here on (Python or C level) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)


def learner_call(namespace: dict, expression: str):
    """The function of a case's arguments that evaluates ``expression`` (a question's ``call``, such
    as ``"batchnorm_backward(args[0], batchnorm_forward(*args[1:])[1])"``) in the learner's namespace."""
    code = compile(expression, "<grader>", "eval")
    return lambda *args: _eval(code, namespace, {"args": args})


def call_cases(job_dir: str, prefix: str, function, cases) -> None:
    for index, args in enumerate(cases):
        try:
            outputs = flatten_outputs(function(*args))
        except NotImplementedError:
            status = {"status": "not_implemented", "message": "not implemented yet"}
        except MemoryError as exc:
            status = {"status": "error", "message": f"ran out of memory: {exc}"}
        except BaseException as exc:
            status = {"status": "error", "message": describe_error(exc)}
        else:
            _savez(os.path.join(job_dir, f"{prefix}case{index}.npz"), *outputs)
            status = {"status": "ok", "message": ""}
        write_status(job_dir, f"{prefix}case{index}.json", status)


def main(job_dir: str) -> int:
    """Run the definitions once, then each question in turn; ``q<k>.done`` marks one finished, so
    the grader can time every question and restart after the one that hung or crashed."""
    with open(os.path.join(job_dir, "job.pickle"), "rb") as handle:
        job = pickle.load(handle)
    limit_resources(job["memory_bytes"], job["cpu_seconds"], job["file_bytes"])
    sys.meta_path.insert(0, BlockedImports(job["blocked_modules"]))
    capture_output(os.path.join(job_dir, "setup.log"))
    namespace, errors = run_definitions(job["snippets"])
    found = {name: callable(namespace.get(name)) for name, _, _ in job["questions"]}
    write_status(job_dir, "setup.json", {"errors": errors, "found": found})
    for number, (name, expression, cases) in enumerate(job["questions"]):
        capture_output(os.path.join(job_dir, f"q{number}.log"))
        if found[name]:
            call_cases(job_dir, f"q{number}_", learner_call(namespace, expression), cases)
        write_status(job_dir, f"q{number}.done", {})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
