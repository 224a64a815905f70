"""Start a private JupyterLab for the browser test and stop it, with every kernel it started.

The server is isolated from the user's own Jupyter set-up: its config, data and runtime dirs are
temporary, it listens on a free loopback port with a random token, it only knows one kernel (this
environment's Python, named ``python3``) and its settings switch off autosave, news and update
checks, and JupyterLab's cell virtualisation (so every cell is in the page and can be inspected).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

KERNEL_NAME = "python3"

SETTING_OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False, "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_private_jupyter_dirs(base: Path) -> dict[str, str]:
    """Create config/data/runtime dirs under ``base``; return the environment variables naming them."""
    dirs = {name: base / name for name in ("config", "data", "runtime")}
    for directory in dirs.values():
        directory.mkdir(parents=True)
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(SETTING_OVERRIDES, indent=1))
    # A kernelspec pinned to this interpreter by absolute path, so no other Python can be picked.
    kernel_dir = dirs["data"] / "kernels" / KERNEL_NAME
    kernel_dir.mkdir(parents=True)
    kernelspec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(kernelspec, indent=1))
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
    }


def process_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[19])


def descendants(root_pid: int) -> dict[int, int]:
    """{pid: start time} of every process below ``root_pid``; kernels get their own sessions, so
    signalling the server's process group would miss them."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        stat = process_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None:
            children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found, stack = {}, [root_pid]
    while stack:
        for child, started in children.get(stack.pop(), []):
            if child not in found:
                found[child] = started
                stack.append(child)
    return found


def kill_if_same_process(pid: int, started: int) -> None:
    """SIGKILL ``pid`` unless it has exited (or its number now belongs to another process)."""
    stat = process_stat(pid)
    if stat is not None and stat[1] == started:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until_answering(process: subprocess.Popen, probe, name: str, log_path, timeout: float) -> None:
    """Call ``probe()`` until it succeeds; fail with the log's path if ``process`` exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
        try:
            probe()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"{name} did not answer within {timeout} s; see {log_path}")


@dataclass
class LabServer:
    root_dir: Path
    state_dir: Path
    log_path: Path
    port: int = field(default_factory=free_loopback_port)
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.base_url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start(self, ready_timeout: float = 90.0) -> None:
        env = {**os.environ, **write_private_jupyter_dirs(self.state_dir)}
        env.pop("JUPYTER_PATH", None)
        env["JUPYTER_PREFER_ENV_PATH"] = "0"  # our data dir (and its pinned kernelspec) comes first
        command = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            f'--KernelSpecManager.allowed_kernelspecs=["{KERNEL_NAME}"]',
            f"--MultiKernelManager.default_kernel_name={KERNEL_NAME}",
            "--ServerApp.allow_root=True",  # CI containers run as root
            "--ServerApp.terminals_enabled=False",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(
            command, cwd=self.root_dir, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_answering(self.process, lambda: self.api("/api/status"), "JupyterLab", self.log_path, ready_timeout)

    def kernelspecs(self) -> dict:
        return self.api("/api/kernelspecs")

    def session_for(self, notebook_path: str) -> dict | None:
        for session in self.api("/api/sessions"):
            if session.get("path") == notebook_path:
                return session
        return None

    def shutdown_kernels(self) -> None:
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        """Shut the kernels down, then the server; kill whatever of ours is still alive after that."""
        if self.process is None:
            return
        ours = descendants(self.process.pid)
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()
                self.api("/api/shutdown", method="POST")
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired, urllib.error.URLError):
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        for pid, started in ours.items():
            kill_if_same_process(pid, started)
        self.log_file.close()
        self.process = None
