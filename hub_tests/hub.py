"""A real JupyterHub for the workshop test, private to one run, stopped with everything it started.

It listens on loopback ports only and keeps its database, cookie secret and the learners' homes in
one temporary folder. Learners are created through the REST API by a service holding the admin
role (as an instructor's provisioning script would); each learner's server is a separate process
(JupyterHub's SimpleLocalProcessSpawner) with its own home, started through the kit's `start`
script (workshop threads), as a process that cannot write the shared install (see `as_learner`).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ui_tests.lab_server import (descendants, free_loopback_port, kill_if_same_process, process_stat,
                                 wait_until_answering)

REPO = Path(__file__).resolve().parents[1]
PROXY = REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
SERVICE = "workshop-admin"


def as_learner() -> list[str]:
    """Command prefix for a learner's server: when the hub runs as root, drop every capability so
    file permissions bind the learner as they bind any user (the shared install stays read-only)."""
    if os.geteuid() != 0:
        return []
    return [shutil.which("setpriv") or "setpriv", "--inh-caps=-all", "--bounding-set=-all"]


CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = "sqlite:///{state}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.JupyterHub.pid_file = "{state}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
c.Spawner.cmd = {cmd!r}
c.Spawner.args = {args!r}
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.default_url = "/lab"
c.JupyterHub.services = [{{"name": "{service}", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["{service}"]}}]
"""


@dataclass
class Hub:
    state: Path                      # database, secrets, logs and homes/<learner>
    site: Path                       # the shared, read-only install learners import the kit from
    port: int = field(default_factory=free_loopback_port)
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def homes(self) -> Path:
        return self.state / "homes"

    def api(self, path: str, method: str = "GET", body: dict | None = None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method,
                                         headers={"Authorization": f"token {token or self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def write_config(self) -> Path:
        bin_dir = Path(sys.executable).parent
        config = CONFIG.format(
            port=self.port, hub_port=free_loopback_port(), proxy_api_port=free_loopback_port(),
            proxy=str(PROXY), state=self.state, homes=self.homes, service=SERVICE, token=self.token,
            cmd=[*as_learner(), str(REPO / "start"), str(bin_dir / "jupyterhub-singleuser")],
            args=["--allow-root"] if os.geteuid() == 0 else [],
            environment={"PYTHONPATH": str(self.site), "PATH": f"{bin_dir}:{os.environ['PATH']}",
                         "JUPYTER_PREFER_ENV_PATH": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        )
        path = self.state / "jupyterhub_config.py"
        path.write_text(config)
        return path

    def start(self, ready_timeout: float = 120.0) -> None:
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} is missing: run `make test-hub` (it installs the proxy from npm)")
        self.homes.mkdir(parents=True)
        config = self.write_config()
        self.log = open(self.state / "hub.log", "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
            cwd=self.state, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_until_answering(self.process, lambda: self.api("/"), "JupyterHub", self.state / "hub.log", ready_timeout)

    def add_learner(self, name: str) -> str:
        """Create the user and a token of their own (what they log in with); returns the token."""
        self.api("/users", method="POST", body={"usernames": [name]})
        return self.api(f"/users/{name}/tokens", method="POST", body={"note": "workshop test", "expires_in": 3600})["token"]

    def stop(self) -> list[int]:
        """Stop the servers, the proxy and the hub; kill what is left. Returns the pids that had
        to be killed after the orderly shutdown (none is the healthy answer)."""
        if self.process is None:
            return []
        ours = descendants(self.process.pid)
        try:
            self.api("/shutdown", method="POST", body={"servers": True, "proxy": True})
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired, urllib.error.URLError):
            self.process.kill()
            self.process.wait()
        survivors = [pid for pid, started in ours.items() if (process_stat(pid) or (0, None))[1] == started]
        for pid in survivors:
            kill_if_same_process(pid, ours[pid])
        self.log.close()
        self.process = None
        return survivors

