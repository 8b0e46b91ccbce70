"""Starting kernels and timing cells for the benchmark scripts (run as ``python benchmarks/X.py``)."""

from __future__ import annotations

import queue
import time

from jupyter_client.manager import KernelManager

HISTORY = "--HistoryManager.hist_file=:memory:"


def start(kernel: str, env: dict[str, str], cwd: str | None = None, extra: list[str] | None = None):
    """Start an installed kernel; returns (manager, client, seconds until it answered kernel_info)."""
    km = KernelManager(kernel_name=kernel)
    began = time.perf_counter()
    km.start_kernel(extra_arguments=[HISTORY, *(extra or [])], env=env, cwd=cwd)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc, time.perf_counter() - began


def stop(km, kc) -> None:
    """Stop a kernel started by :func:`start`."""
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def timed(kc, code: str, timeout: float = 600, allow_errors: bool = False) -> tuple[float, str]:
    """Run ``code``; (seconds from the request to the kernel's idle status, text printed on stdout).
    A cell that raises stops the benchmark unless ``allow_errors``."""
    began = time.perf_counter()
    msg_id = kc.execute(code, allow_stdin=False)
    deadline = began + timeout
    out = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.perf_counter()))
        except queue.Empty:
            raise TimeoutError(f"no reply within {timeout} s") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error" and not allow_errors:
            raise RuntimeError(f"cell failed: {msg['content']['ename']}: {msg['content']['evalue']}\n{code}")
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return time.perf_counter() - began, "".join(out)
