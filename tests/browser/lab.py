"""A real JupyterLab server and headless Chromium for browser tests.

JupyterLab runs as a subprocess on a free loopback port with a temporary root, a token and its
own settings (cells always in the DOM, no news or update checks); kernels it starts inherit the
test's ``JUPYTER_PATH``, ``IPYTHONDIR`` and ``PROVKERNEL_DB``. The browser is Debian's
``chromium`` driven by Playwright (no browser download: Playwright's own builds cannot be
fetched on these machines).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium phones home at start-up and, on a closed network, its connections fail
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETTINGS = {
    # every cell stays in the DOM (JupyterLab 4 otherwise renders only the cells in view)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab``."""

    process: subprocess.Popen
    url: str
    token: str
    root: Path
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}{path}?token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_lab(root: Path, state: Path, env: dict[str, str], timeout: float = 90) -> LabServer:
    """Start JupyterLab serving ``root`` (settings, workspaces and log under ``state``)."""
    settings = state / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token = secrets.token_hex(16)
    port = free_port()
    log = state / "jupyterlab.log"
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabServerApp.user_settings_dir={settings}",
        f"--LabServerApp.workspaces_dir={state / 'workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",  # no PyPI queries
        # window.jupyterapp: the tests run the commands a menu entry runs
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        argv.append("--allow-root")
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    server = LabServer(process, f"http://127.0.0.1:{port}", token, root, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.page_url("/api/status"), timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def lab_environment(db: Path) -> dict[str, str]:
    """The server's environment: the test session's Jupyter isolation, this module's database."""
    return {**os.environ, "PROVKERNEL_DB": str(db), "PYTHONUNBUFFERED": "1"}


class NotebookPage:
    """A notebook open in JupyterLab (``/lab/tree/…``) or Notebook 7 (``/notebooks/…``)."""

    def __init__(self, page, server: LabServer, url_path: str) -> None:
        self.page, self.server, self.url_path = page, server, url_path
        self.scope = ".jp-Notebook"

    @property
    def cells_selector(self) -> str:
        return f"{self.scope} .jp-CodeCell"

    def open(self, timeout_ms: int = 90_000) -> None:
        """Load the page and wait until the notebook's kernel is idle."""
        self.page.goto(self.server.page_url(self.url_path))
        self.page.wait_for_selector(".jp-Notebook", timeout=timeout_ms)
        # JupyterLab also restores the other notebooks of its workspace: find this one by its path
        path = self.url_path.split("/tree/", 1)[-1].split("/notebooks/", 1)[-1]
        handle = self.page.wait_for_function(
            """path => {
                const app = window.jupyterapp;
                const panel = app && [...app.shell.widgets('main')].find(w => w.context?.path === path);
                return panel?.sessionContext?.session?.kernel?.status === 'idle' && panel.id;
            }""",
            arg=path,
            timeout=timeout_ms,
        )
        self.scope = f'[id="{handle.json_value()}"] .jp-Notebook'

    def command(self, name: str, args: dict | None = None) -> None:
        """Run a JupyterLab command, as its menu entry does."""
        self.page.evaluate(
            "([name, args]) => window.jupyterapp.commands.execute(name, args)", [name, args or {}]
        )

    def run_all(self, timeout_ms: int = 240_000) -> None:
        """Run every cell (Run ▸ Run All Cells) and wait until each has its execution count."""
        self.command("notebook:run-all-cells")
        self.page.wait_for_function(
            "s => [...document.querySelectorAll(s)].every(e => /\\[\\d+\\]/.test(e.textContent))",
            arg=f"{self.cells_selector} .jp-InputPrompt",
            timeout=timeout_ms,
        )

    def cell(self, source_start: str):
        """The code cell whose source starts with ``source_start``."""
        cells = self.page.locator(self.cells_selector)
        for i in range(cells.count()):
            text = cells.nth(i).locator(".jp-InputArea-editor").inner_text()
            if text.startswith(source_start):
                return cells.nth(i)
        raise LookupError(f"no cell starts with {source_start!r}")

    def outputs(self, source_start: str):
        """The rendered outputs of that cell, in order."""
        return self.cell(source_start).locator(".jp-OutputArea-output")
