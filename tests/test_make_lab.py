"""`make lab`, run as a learner runs it: the server it starts must show the whole course.

The file browser's root is the repository (so exercises/ and solutions/ are reachable) and the
URL printed in the terminal, token included, opens the start notebook, also with --no-browser.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
START = "notebooks/00_learning.ipynb"

pytestmark = pytest.mark.skipif(shutil.which("make") is None or not (REPO / ".venv" / "bin" / "jupyter").exists(),
                                reason="needs make and the kit's .venv (make install)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture
def make_lab(tmp_path):
    """Start `make lab` with a private Jupyter state, yield (port, the URL it printed), stop it."""
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "lab.log"
    args = "--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port_retries=0"
    with open(log, "w") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}", f"ARGS={args}"],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        url = None
        while url is None and time.monotonic() < deadline:
            assert process.poll() is None, f"make lab exited with {process.returncode}:\n{log.read_text()}"
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S*token=\S+", log.read_text())
            url = found.group(0) if found else None
            time.sleep(0.3)
        assert url, f"make lab printed no URL within 120 s:\n{log.read_text()}"
        yield port, url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_make_lab_serves_the_repository_and_prints_the_start_notebook(make_lab):
    port, url = make_lab
    found = re.fullmatch(rf"http://127\.0\.0\.1:{port}/lab/tree/{START}\?token=([0-9a-f]+)", url)
    assert found, f"the printed URL does not open {START}: {url}"
    token = found.group(1)

    base = f"http://127.0.0.1:{port}/api/contents"
    status, body = get(f"{base}/", token)
    root = {item["name"] for item in json.loads(body)["content"]}
    assert {"notebooks", "exercises", "solutions", "README.md"} <= root
    status, body = get(f"{base}/exercises", token)
    exercises = {item["name"] for item in json.loads(body)["content"]}
    assert exercises == {path.name for path in (REPO / "exercises").glob("*.ipynb")}
    status, body = get(f"{base}/{START}?content=0", token)
    assert status == 200 and json.loads(body)["type"] == "notebook"

    status, page = get(url, token)  # the printed link itself opens JupyterLab
    assert status == 200 and b"JupyterLab" in page
