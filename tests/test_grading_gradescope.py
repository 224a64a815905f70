"""The Gradescope bundle: `nutshell autograder` writes it; unpacked into a stand-in for
/autograder, its run_autograder grades a correct, a blank and a hostile submission."""
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from nutshell_lib.cli import main as nutshell
from nutshell_lib.grading import sandbox
from test_grading_grade import ROOT, by_name, submission

SEED = 5150

# Tries to forge the results, read the seed and the kit, and leave a process behind.
HOSTILE = '''
def forge():
    import glob, json
    for path in glob.glob("/autograder/results/*") + ["{root}/results/results.json"]:
        try:
            with open(path, "w") as handle:
                json.dump({{"score": 10.0, "output": "forged"}}, handle)
        except OSError:
            pass


def conv2d_naive(x, w, b, stride=1, padding=0):
    import glob, os, time
    forge()
    if os.fork() == 0:  # and again, for 3 s, from a process that tries to outlive the grader
        os.setsid()
        if os.fork() == 0:
            for _ in range(30):
                time.sleep(0.1)
                forge()
        os._exit(0)
    for path in ["{root}/source/seed", "/autograder/source/seed", *glob.glob("{root}/source/kit/nutshell_lib/grading/*")]:
        try:
            print("LEAK", open(path).read()[:80])
        except OSError:
            pass
    raise NotImplementedError
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    try:
        sandbox.choose_mode()
    except sandbox.SandboxUnavailable as exc:
        pytest.skip(str(exc))
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert nutshell(["autograder", "--exercise", "04_conv", "--seed", str(SEED), "-o", str(path)]) == 0
    return path


def test_the_bundle_holds_the_kit_without_solutions(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert archive.read("seed").decode().strip() == str(SEED)
        assert archive.read("exercise").decode().strip() == "04_conv"
        assert (archive.getinfo("run_autograder").external_attr >> 16) & 0o111
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/nutshell_lib/grading/reference.py",
            "kit/nutshell_lib/grading/child.py"} <= set(names)
    assert not any("solutions" in name or "__pycache__" in name or name.endswith(".ipynb") for name in names)


def run_autograder(tmp_path, bundle, notebook: Path) -> dict:
    root = tmp_path / "autograder"
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    (source / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    shutil.copy(notebook, root / "submission" / notebook.name)
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable,
                   "PYTHONPATH": str(source / "kit")}  # the bundle's copy of the kit, as setup.sh installs it
    completed = subprocess.run(["bash", str(source / "run_autograder")], env=environment, capture_output=True,
                               text=True, timeout=240)
    assert completed.returncode == 0, completed.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_a_correct_submission_gets_full_marks(tmp_path, bundle):
    assert run_autograder(tmp_path, bundle, ROOT / "solutions" / "04_conv.ipynb")["score"] == 10


def test_a_blank_submission_gets_zero(tmp_path, bundle):
    result = run_autograder(tmp_path, bundle, ROOT / "exercises" / "04_conv.ipynb")
    assert result["score"] == 0 and "not implemented" in json.dumps(result)


def test_a_hostile_submission_cannot_forge_its_results_or_read_the_seed(tmp_path, bundle):
    hostile = submission(tmp_path, "04_conv", "hostile", extra_cells=[HOSTILE.format(root=tmp_path / "autograder")])
    result = run_autograder(tmp_path, bundle, hostile)
    time.sleep(1)
    assert json.loads((tmp_path / "autograder" / "results" / "results.json").read_text()) == result
    assert result["score"] == 10 - by_name(result)["conv2d_naive"]["max_score"]  # the others are the solution's
    assert "forged" not in json.dumps(result) and "LEAK" not in json.dumps(result)
    assert str(SEED) not in json.dumps(result)
