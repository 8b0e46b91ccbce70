"""Fixtures for the crash-diagnosis tests: live kernels and a provenance-like history recorder.

Isolation (temporary JUPYTER_PATH, IPYTHONDIR, PROVKERNEL_DB) comes from the session fixture in
``tests/conftest.py``.

Crashes are produced for real: code runs in a stock ``python3`` kernel (jupyter_client/nbclient) and
the tests classify the error outputs it sends back.
"""

from __future__ import annotations

import hashlib
import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from provkernel.crashes.bindings import bindings_in
from provkernel.crashes.context import ABORTED, ERROR, OK, Binding, CrashContext, Epoch, Execution, FileAccess


class LiveKernel:
    """A stock ``python3`` kernel; :meth:`run` executes code and returns the reply plus any error output."""

    def __init__(self, cwd: Path, extra_env: dict[str, str] | None = None) -> None:
        env = {**os.environ, **(extra_env or {})}
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code: str, timeout: float = 120) -> dict[str, Any]:
        """Execute ``code``; returns ``{"count", "status", "error"}`` (error = the iopub error content or None)."""
        errors: list[dict[str, Any]] = []

        def hook(message: dict[str, Any]) -> None:
            if message["msg_type"] == "error":
                errors.append(message["content"])

        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        content = reply["content"]
        return {
            "count": content.get("execution_count"),
            "status": content["status"],
            "error": errors[-1] if errors else None,
        }

    def evaluate(self, expression: str) -> str:
        """The ``text/plain`` repr of an expression, evaluated silently (no execution count used)."""
        reply = self.kc.execute_interactive(
            "", silent=True, user_expressions={"value": expression}, timeout=60
        )
        return reply["content"]["user_expressions"]["value"]["data"]["text/plain"]

    def restart(self) -> None:
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=60)
        while True:  # drop iopub traffic from the old process
            try:
                self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="session")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKernel]:
    """One kernel shared by the tests that only need real tracebacks."""
    live = LiveKernel(tmp_path_factory.mktemp("kernel-cwd"))
    yield live
    live.close()


class HistoryRecorder:
    """Runs cells in a live kernel and keeps the facts a provenance store keeps, to build a CrashContext.

    Tracks epochs (one per kernel process), execution counts, status, times, static bindings, per-epoch
    ``sys.executable`` and library versions (read inside the kernel), and content hashes of the files
    each cell reads. It stands in for the kernel's provenance adapter in these tests.
    """

    def __init__(self, kernel: LiveKernel, workdir: Path, libraries: tuple[str, ...]) -> None:
        self.kernel = kernel
        self.workdir = workdir
        self.libraries = libraries
        self.epoch = 0
        self.executions: list[Execution] = []
        self.bindings: list[Binding] = []
        self.files: list[FileAccess] = []
        self.epochs: dict[int, Epoch] = {}
        self.errors: dict[int, dict[str, Any]] = {}
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.epoch += 1
        executable = self.kernel.evaluate("__import__('sys').executable").strip("'")
        versions = {}
        for library in self.libraries:
            text = self.kernel.evaluate(
                f"(lambda m: m.version({library!r}) if any(True for _ in m.distributions(name={library!r})) "
                f"else None)(__import__('importlib.metadata').metadata)"
            )
            if text != "None":
                versions[library] = text.strip("'")
        self.epochs[self.epoch] = Epoch(self.epoch, executable, versions, time.time())

    def restart(self) -> None:
        self.kernel.restart()
        self._new_epoch()

    def run(self, code: str, cell_id: str, reads: tuple[str, ...] = ()) -> Execution:
        started = time.time()
        digests = {path: self._digest(path) for path in reads}
        result = self.kernel.run(code)
        status = OK if result["status"] == "ok" else (ERROR if result["error"] else ABORTED)
        ename = result["error"]["ename"] if result["error"] else None
        execution = Execution(result["count"], cell_id, None, self.epoch, status, started, code, ename)
        self.executions.append(execution)
        if result["error"]:
            self.errors[id(execution)] = result["error"]
        for bound in bindings_in(code):
            self.bindings.append(
                Binding(bound.name, bound.kind, execution, bound.module, bound.operation, bound.line)
            )
        for path, digest in digests.items():
            self.files.append(FileAccess(path, execution, "r", digest, started))
        return execution

    def _digest(self, path: str) -> str | None:
        file = self.workdir / path
        return hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None

    def context(self, crash: Execution) -> CrashContext:
        return CrashContext(
            crash=crash,
            history=[e for e in self.executions if e is not crash],
            bindings=list(self.bindings),
            aliases={b.name: b.module for b in self.bindings if b.module},
            epochs=dict(self.epochs),
            current_epoch=self.epoch,
            files=list(self.files),
            exists={a.path: (self.workdir / a.path).exists() for a in self.files},
            source="kernel",
        )

    def error_of(self, execution: Execution) -> dict[str, Any]:
        return self.errors[id(execution)]


@pytest.fixture(scope="session")
def kernel_factory() -> type[LiveKernel]:
    """The live-kernel class, for tests that need their own kernel (cwd, environment)."""
    return LiveKernel


@pytest.fixture(scope="session")
def recorder_factory() -> type[HistoryRecorder]:
    """The history-recorder class."""
    return HistoryRecorder
