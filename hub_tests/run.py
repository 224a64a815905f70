"""`make test-hub`: a workshop on a real JupyterHub, simulated.

An admin installs the kit read-only into a shared folder and warms its kernels there; a JupyterHub
starts; the learners log in through the REST API at the same time, start their servers and run
notebook 01 and exercise 04 (unsolved, then solved) through their own kernels, concurrently.
Checked: every cell of every learner ran without error, no kernel died, no learner's process compiled a kernel, each kernel used
the workshop's 2 threads and imported the shared install, and nothing the hub started outlives it.
Reported per learner: time to server ready, time to first output, seconds per notebook, CPU
seconds, peak memory of their server and kernels. The last line sums it up.

    python -m hub_tests.run [--learners 8] [--json sizing.json] [--notebooks notebooks/06_cnn.ipynb ...]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hub_tests.hub import REPO, Hub
from hub_tests.learner import Learner, LearnerRun

# Exercise 04 twice: as handed out (unsolved), then as the learner finishes it (the solution, whose
# demo cells call the kit's compiled convolution).
NOTEBOOKS = ["notebooks/01_sigmoid.ipynb", "exercises/04_conv.ipynb", "solutions/04_conv.ipynb"]
WORKSHOP_THREADS = 2  # what `start` gives each kernel by default


def install_shared_kit(site: Path) -> None:
    """As a hub admin would: a regular (not editable) install into a folder, warmed, read-only."""
    for command, env in (
        ([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", str(site), str(REPO)], None),
        ([sys.executable, "-m", "nutshell_lib", "warm"], {**os.environ, "PYTHONPATH": str(site)}),
    ):
        done = subprocess.run(command, env=env, cwd=site.parent, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    for folder, _, files in os.walk(site):
        for name in files:
            os.chmod(Path(folder) / name, 0o444)
        os.chmod(folder, 0o555)


def problems(runs: list[LearnerRun], site: Path, notebooks: int) -> list[str]:
    found = []
    for run in runs:
        if run.failure:
            found.append(f"{run.name}: {run.failure}")
        for notebook in run.notebooks:
            found += [f"{run.name} {notebook.path}: {error}" for error in notebook.errors]
            if notebook.kernel_died:
                found.append(f"{run.name} {notebook.path}: the kernel died")
            report = notebook.report
            if not report:
                continue
            if report["compiled"]:
                found.append(f"{run.name} {notebook.path}: compiled {', '.join(report['compiled'])}")
            if (report["numba_threads"], report["blas_threads"]) != (WORKSHOP_THREADS, WORKSHOP_THREADS):
                found.append(f"{run.name} {notebook.path}: {report['numba_threads']} Numba and "
                             f"{report['blas_threads']} BLAS threads, expected {WORKSHOP_THREADS} each")
            if report["kit"] and not report["kit"].startswith(str(site)):
                found.append(f"{run.name} {notebook.path}: imported the kit from {report['kit']}, not the shared install")
        if len(run.notebooks) != notebooks and not run.failure:
            found.append(f"{run.name}: ran {len(run.notebooks)} of {notebooks} notebooks")
    return found


def learner_line(run: LearnerRun) -> str:
    times = "  ".join(f"{n.path.removesuffix('.ipynb')} {n.seconds:5.1f} s ({n.report.get('cpu_s', 0):4.1f} CPU-s, "
                      f"kernel {n.report.get('kernel_peak_kb', 0) / 1024:4.0f} MB)" for n in run.notebooks)
    server = max((n.report.get("server_peak_kb", 0) for n in run.notebooks), default=0) / 1024
    first = f"{run.first_output_s:5.1f}" if run.first_output_s is not None else "  n/a"
    return f"{run.name:10s} ready {run.ready_s:5.1f} s  first output {first} s  {times}  server {server:4.0f} MB"


async def attend_all(hub: Hub, learners: int, notebooks: list[str]) -> list[LearnerRun]:
    tokens = {f"learner{i}": hub.add_learner(f"learner{i}") for i in range(learners)}
    crowd = [Learner(name, token, hub.url, REPO) for name, token in tokens.items()]
    return list(await asyncio.gather(*(learner.attend(notebooks) for learner in crowd)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=8)
    parser.add_argument("--json", help="write every learner's measurements here")
    parser.add_argument("--notebooks", nargs="+", default=NOTEBOOKS,
                        help="notebooks each learner runs, in order (default: %(default)s); for sizing a hub")
    args = parser.parse_args(argv)

    state = Path(tempfile.mkdtemp(prefix="nutshell-hub-"))
    state.chmod(0o755)
    site = state / "site"
    hub = Hub(state=state, site=site)
    try:
        install_shared_kit(site)
        hub.start()
        runs = asyncio.run(attend_all(hub, args.learners, args.notebooks))
    finally:
        survivors = hub.stop()
        for folder, _, _ in os.walk(state):
            os.chmod(folder, 0o755)
        log = (state / "hub.log").read_text() if (state / "hub.log").exists() else ""
        shutil.rmtree(state, ignore_errors=True)

    for run in runs:
        print(learner_line(run))
    found = problems(runs, site, len(args.notebooks))
    if survivors:
        found.append(f"{len(survivors)} processes outlived the hub's shutdown: {survivors}")
    if args.json:
        Path(args.json).write_text(json.dumps([{"name": r.name, "ready_s": r.ready_s, "first_output_s": r.first_output_s,
                                                "notebooks": [n.__dict__ for n in r.notebooks]} for r in runs], indent=1))
    for problem in found:
        print("PROBLEM:", problem)
    if found and log:
        print("--- last lines of the hub's log ---\n" + "\n".join(log.splitlines()[-40:]))
    cells = sum(n.cells for r in runs for n in r.notebooks)
    errors = sum(len(n.errors) for r in runs for n in r.notebooks) + sum(bool(r.failure) for r in runs)
    compiled = sum(len(n.report.get("compiled", [])) for r in runs for n in r.notebooks)
    slowest = max(runs, key=lambda r: sum(n.seconds for n in r.notebooks) + r.ready_s)
    per_notebook = ", ".join(f"{n.path.removesuffix('.ipynb')} {n.seconds:.1f} s" for n in slowest.notebooks)
    first = f"{slowest.first_output_s:.1f}" if slowest.first_output_s is not None else "n/a"
    print(f"hub test: {len(runs)} learners, {cells} cells run, {errors} errors, {compiled} kernels compiled "
          f"in learners' processes; slowest learner ({slowest.name}): ready {slowest.ready_s:.1f} s, "
          f"first output {first} s, {per_notebook}" + ("" if not found else f"; FAILED ({len(found)} problems)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
