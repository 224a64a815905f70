"""One simulated learner: logs in with their own token, starts their server through the hub's REST
API, puts the course's notebooks into their home through the server's contents API, and runs each
notebook's cells, in order, in a kernel of their server over the kernel websocket (what JupyterLab
does when a learner picks Run All).

Around each notebook's cells the kernel also runs two cells of the harness: one that counts Numba
compilations from the start, and one that reports what the kernel saw (the kit's kernels compiled,
apart from functions a notebook defines and compiles itself, as 04 does; threads,
where the kit was imported from, its CPU time and the peak memory of the kernel and the server).
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

CELL_TIMEOUT = 300.0

COUNT_COMPILES = """\
from numba.core import event as _harness_event

class _HarnessCompiles(_harness_event.Listener):
    kit, other = [], []  # the kit's kernels; the notebook's own (and Numba's helpers for them)

    def on_start(self, event):
        function = event.data["dispatcher"].py_func
        from_kit = (function.__module__ or "").startswith("nutshell_lib")
        (self.kit if from_kit else self.other).append(function.__qualname__)

    def on_end(self, event):
        pass

_harness_event.register("numba:compile", _HarnessCompiles())
"""

REPORT = """\
def _harness_report():
    import json, os, resource, sys
    import numba, threadpoolctl

    def memory_kb(pid, field):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    usage = resource.getrusage(resource.RUSAGE_SELF)
    kit = sys.modules.get("nutshell_lib")
    print(json.dumps({
        "compiled": _HarnessCompiles.kit,
        "compiled_by_the_notebook": len(_HarnessCompiles.other),
        "numba_threads": numba.get_num_threads(),
        "blas_threads": max((pool["num_threads"] for pool in threadpoolctl.threadpool_info()), default=0),
        "kit": getattr(kit, "__file__", None),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "kernel_peak_kb": memory_kb(os.getpid(), "VmHWM"),
        "kernel_rest_kb": memory_kb(os.getpid(), "VmRSS"),
        "server_peak_kb": memory_kb(os.getppid(), "VmHWM"),
    }))

_harness_report()
"""


@dataclass
class NotebookRun:
    path: str
    cells: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    kernel_died: bool = False
    report: dict = field(default_factory=dict)


@dataclass
class LearnerRun:
    name: str
    ready_s: float = 0.0
    first_output_s: float | None = None
    notebooks: list[NotebookRun] = field(default_factory=list)
    failure: str | None = None


class Learner:
    def __init__(self, name: str, token: str, hub_url: str, repo: Path):
        self.name, self.token, self.hub_url, self.repo = name, token, hub_url, repo
        self.http = AsyncHTTPClient(force_instance=True)
        self.run = LearnerRun(name)
        self.started = 0.0

    async def call(self, url: str, method: str = "GET", body: dict | None = None):
        request = HTTPRequest(url, method=method, headers={"Authorization": f"token {self.token}"},
                              body=None if body is None else json.dumps(body),
                              allow_nonstandard_methods=True, request_timeout=60)
        response = await self.http.fetch(request)
        return json.loads(response.body) if response.body else None

    def server_api(self, path: str) -> str:
        return f"{self.hub_url}/user/{self.name}/api{path}"

    async def start_server(self, timeout: float = 300.0) -> None:
        await self.call(f"{self.hub_url}/hub/api/users/{self.name}/server", method="POST", body={})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            user = await self.call(f"{self.hub_url}/hub/api/users/{self.name}")
            if user["servers"].get("", {}).get("ready"):
                self.run.ready_s = time.monotonic() - self.started
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"{self.name}'s server was not ready after {timeout} s")

    async def upload(self, relative: str) -> None:
        """Put a notebook of the course into the learner's home, as nbgitpuller would."""
        folder = str(Path(relative).parent)
        await self.call(self.server_api(f"/contents/{quote(folder)}"), method="PUT", body={"type": "directory"})
        content = json.loads((self.repo / relative).read_text())
        await self.call(self.server_api(f"/contents/{quote(relative)}"), method="PUT",
                        body={"type": "notebook", "format": "json", "content": content})

    async def run_notebook(self, relative: str) -> NotebookRun:
        result = NotebookRun(relative)
        await self.upload(relative)
        session = await self.call(self.server_api("/sessions"), method="POST",
                                  body={"path": relative, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
        kernel_id = session["kernel"]["id"]
        ws_url = self.server_api(f"/kernels/{kernel_id}/channels").replace("http://", "ws://", 1)
        socket = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"}))
        cells = ["".join(cell["source"]) for cell in json.loads((self.repo / relative).read_text())["cells"]
                 if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]
        try:
            await self.execute(socket, COUNT_COMPILES, result, "count compiles")
            began = time.monotonic()
            for number, source in enumerate(cells, start=1):
                await self.execute(socket, source, result, f"cell {number}", learner_cell=True)
                if result.kernel_died:
                    break
            result.seconds = time.monotonic() - began
            if not result.kernel_died:
                printed = "".join(await self.execute(socket, REPORT, result, "report", stream="stdout"))
                result.report = json.loads(printed.strip().splitlines()[-1])  # the kernel may split a print
                kernel = await self.call(self.server_api(f"/kernels/{kernel_id}"))
                result.kernel_died = kernel["execution_state"] == "dead"
        finally:
            socket.close()
            await self.call(self.server_api(f"/sessions/{session['id']}"), method="DELETE")
        return result

    async def execute(self, socket, code: str, result: NotebookRun, label: str, learner_cell: bool = False,
                      stream: str | None = None) -> list[str]:
        """Run ``code``; return the texts it printed (on ``stream`` only, when given: "stdout" or
        "stderr"). Errors are recorded in ``result``, not raised."""
        msg_id = uuid.uuid4().hex
        await socket.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        texts, replied, idle = [], False, False
        deadline = time.monotonic() + CELL_TIMEOUT
        while not (replied and idle):
            raw = await asyncio.wait_for(socket.read_message(), timeout=max(1.0, deadline - time.monotonic()))
            if raw is None:
                result.kernel_died = True
                result.errors.append(f"{label}: the kernel's websocket closed")
                return texts
            message = json.loads(raw)
            kind = message["header"]["msg_type"]
            if kind == "status" and message["content"]["execution_state"] in ("dead", "restarting"):
                result.kernel_died = True
                result.errors.append(f"{label}: kernel {message['content']['execution_state']}")
                return texts
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if learner_cell and kind in ("stream", "display_data", "execute_result", "error") \
                    and self.run.first_output_s is None:
                self.run.first_output_s = time.monotonic() - self.started
            if kind == "stream" and stream in (None, message["content"]["name"]):
                texts.append(message["content"]["text"])
            elif kind == "error":
                result.errors.append(f"{label}: {message['content']['ename']}: {message['content']['evalue']}")
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                idle = True
        if learner_cell:
            result.cells += 1
        return texts

    async def attend(self, notebooks: list[str]) -> LearnerRun:
        self.started = time.monotonic()
        try:
            await self.start_server()
            for relative in notebooks:
                self.run.notebooks.append(await self.run_notebook(relative))
        except Exception as exc:  # one learner's failure is reported with the others', not raised
            self.run.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self.http.close()
        return self.run
