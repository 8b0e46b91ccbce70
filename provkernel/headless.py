"""Running notebooks headless on the prov kernel with nbclient.

Plain nbclient sends no cell ids, keeps an on-disk IPython history for non-``python3`` kernels
and names no notebook; :class:`ProvNotebookClient` sends each cell's id with its execute
request, and :func:`execute_notebook` starts the kernel over IPC (no port races, no
unencrypted-TCP warning) with ``JPY_SESSION_NAME`` set to the notebook's path, so provenance is
filed under the notebook.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from provkernel.capture.identity import SESSION_ENV

MEMORY_HISTORY = "--HistoryManager.hist_file=:memory:"


class CellIdMixin:
    """For nbclient-based clients: send each cell's id (``cellId``) with its execute request, as JupyterLab does."""

    _cell_id: str | None = None

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        send_execute = kc.execute

        def execute(
            code: str,
            silent: bool = False,
            store_history: bool = True,
            user_expressions=None,
            allow_stdin=None,
            stop_on_error: bool = True,
        ) -> str:
            if self._cell_id is None:
                return send_execute(code, silent, store_history, user_expressions, allow_stdin, stop_on_error)
            content = {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": kc.allow_stdin if allow_stdin is None else allow_stdin,
                "stop_on_error": stop_on_error,
            }
            msg = kc.session.msg("execute_request", content, metadata={"cellId": self._cell_id})
            kc.shell_channel.send(msg)
            return msg["header"]["msg_id"]

        kc.execute = execute
        return kc

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self._cell_id = cell.get("id")
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self._cell_id = None

    # nbclient binds its synchronous methods to its own async ones at class creation; papermill
    # calls the synchronous ones, so they must lead to the overrides above.
    def start_new_kernel_client(self):
        return run_sync(self.async_start_new_kernel_client)()

    def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        return run_sync(self.async_execute_cell)(cell, cell_index, execution_count, store_history)


class ProvNotebookClient(CellIdMixin, NotebookClient):
    """nbclient's NotebookClient, sending cell ids."""


@dataclass
class RunResult:
    """Outcome of one headless run."""

    notebook: nbformat.NotebookNode
    path: str  # the identity provenance is filed under
    error: str | None = None  # one line: "CellExecutionError in cell 3: ValueError: …"
    failed_cell: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def execute_notebook(nb: nbformat.NotebookNode, path: str | os.PathLike, **options: Any) -> RunResult:
    """Execute ``nb`` (in place) as the notebook at ``path``, recording provenance under that path.

    Keyword options are those of :func:`async_execute_notebook`.
    """
    return asyncio.run(async_execute_notebook(nb, path, **options))


async def async_execute_notebook(
    nb: nbformat.NotebookNode,
    path: str | os.PathLike,
    *,
    kernel_name: str = "provkernel",
    timeout: float | None = None,
    allow_errors: bool = False,
    env: Mapping[str, str] | None = None,
    extra_arguments: list[str] | None = None,
) -> RunResult:
    """Async form of :func:`execute_notebook`."""
    identity = str(Path(path).resolve())
    kernel_env = {**os.environ, **(env or {}), SESSION_ENV: identity}
    socket_dir = tempfile.mkdtemp(prefix="pk-")  # unix socket paths must stay short
    km = AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(socket_dir, "k"))
    client = ProvNotebookClient(
        nb,
        km=km,
        timeout=timeout,
        allow_errors=allow_errors,
        kernel_name=kernel_name,
        extra_arguments=[MEMORY_HISTORY, *(extra_arguments or [])],
        resources={"metadata": {"path": str(Path(identity).parent)}},
    )
    result = RunResult(nb, identity)
    try:
        await client.async_execute(env=kernel_env)
    except CellExecutionError as exc:
        result.error = _one_line(exc)
        result.failed_cell = _failed_cell(nb)
    except (CellTimeoutError, DeadKernelError) as exc:
        result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        result.failed_cell = _failed_cell(nb)
    finally:
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=False)
        finally:
            shutil.rmtree(socket_dir, ignore_errors=True)
    return result


def _one_line(exc: CellExecutionError) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = (getattr(exc, "evalue", "") or "").strip().splitlines()
    return f"{ename}: {evalue[0] if evalue else ''}".strip()


def first_error_output(nb: nbformat.NotebookNode) -> tuple[int, dict] | None:
    """The first error output of the notebook, with its cell's index among the code cells."""
    code_cells = (cell for cell in nb.cells if cell.cell_type == "code")
    for index, cell in enumerate(code_cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, output
    return None


def _failed_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index among code cells of the first cell with an error output."""
    found = first_error_output(nb)
    return found[0] if found is not None else None
