"""Driving real kernels in tests: start over IPC, execute, collect outputs, read the database."""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import nbformat
from jupyter_client.manager import KernelManager

from provkernel.capture.identity import SESSION_ENV
from provkernel.crashes.render import MIME_TYPE


@dataclass
class Reply:
    """What one execute request produced."""

    status: str
    count: int | None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def stdout(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stdout")

    def stderr(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stderr")

    def data(self, mime: str) -> list[Any]:
        return [o["data"][mime] for o in self.outputs if mime in o.get("data", {})]


def observable(reply: Reply) -> tuple:
    """What a user's own code shows: status, error name, stream text and rich output data (the prov
    kernel's crash diagnosis, an addition of its own, left out)."""
    data = [o["data"].get("text/plain") for o in reply.outputs if "data" in o and MIME_TYPE not in o["data"]]
    return reply.status, (reply.error or {}).get("ename"), reply.stdout(), reply.stderr(), data


class Kernel:
    """A real kernel process (``provkernel`` or ``python3``) for one test."""

    def __init__(
        self,
        name: str = "provkernel",
        cwd: Path | None = None,
        notebook: Path | None = None,
        extra_arguments: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._socket_dir = tempfile.mkdtemp(prefix="pkt-")
        self.km = KernelManager(kernel_name=name, transport="ipc", ip=os.path.join(self._socket_dir, "k"))
        kernel_env = {**os.environ, **(env or {})}
        if notebook is not None:
            kernel_env[SESSION_ENV] = str(notebook)
        self._start_args = {
            "extra_arguments": ["--HistoryManager.hist_file=:memory:", *(extra_arguments or [])],
            "env": kernel_env,
            "cwd": str(cwd or Path.cwd()),
        }
        self.km.start_kernel(**self._start_args)
        self._connect()

    def _connect(self) -> None:
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def execute(
        self, code: str, cell_id: str | None = None, timeout: float = 60, stop_on_error: bool = True
    ) -> Reply:
        """Run ``code`` as the cell ``cell_id``; returns the reply with all iopub outputs."""
        msg_id = self.send(code, cell_id, stop_on_error)
        return self.collect(msg_id, timeout)

    def send(self, code: str, cell_id: str | None = None, stop_on_error: bool = True) -> str:
        """Send an execute request without waiting (to queue several)."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": stop_on_error,
        }
        msg = self.kc.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def collect(self, msg_id: str, timeout: float = 60) -> Reply:
        """Wait for the reply to ``msg_id`` and the outputs it caused."""
        deadline = time.monotonic() + timeout
        reply = None
        while reply is None:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]
        outputs: list[dict[str, Any]] = []
        error = None
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError("no idle status after the reply") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind in ("stream", "display_data", "update_display_data", "execute_result"):
                outputs.append(content)
            elif kind == "error":
                error = content
        return Reply(reply["status"], reply.get("execution_count"), outputs, error)

    def restart(self) -> None:
        """Restart the kernel process (a new epoch)."""
        self.kc.stop_channels()
        self.km.restart_kernel(
            now=False, **{k: v for k, v in self._start_args.items() if k != "extra_arguments"}
        )
        self._connect()

    def shutdown(self) -> None:
        """Stop the kernel cleanly."""
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=False)
        finally:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def query(db: Path, sql: str, *args: Any) -> list[tuple]:
    """Rows from the provenance database (opened read-only for the assertion)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def notebook(*sources: str, tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    """A notebook with the given code cells (each with a fresh cell id)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for index, cell_tags in (tags or {}).items():
        nb.cells[index].metadata["tags"] = cell_tags
    return nb


def flush(kernel: Kernel) -> None:
    """Make the kernel write everything recorded so far, as ``%prov`` does before reading."""
    reply = kernel.execute("%prov status")
    assert reply.status == "ok", reply.error


def write_package(root: Path, name: str, version: str, body: str) -> None:
    """A tiny installed package: ``name/__init__.py`` and ``name-version.dist-info/METADATA``."""
    for old in root.glob(f"{name}-*.dist-info"):
        shutil.rmtree(old)
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "__init__.py").write_text(f"__version__ = {version!r}\n{body}")
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def build_wheel(folder: Path, name: str, version: str, body: str) -> Path:
    """A pure-Python wheel of ``name`` (``name/__init__.py`` with ``__version__`` and ``body``), written
    by hand as the wheel format says, so no build backend or network is needed."""
    import base64
    import hashlib
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n{body}",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: provkernel-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel
