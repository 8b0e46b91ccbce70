"""Test isolation for every test: temporary Jupyter/IPython directories and a private provenance database.

The ``provkernel`` kernelspec is written into a temporary ``JUPYTER_PATH`` pointing at this
interpreter, so tests never depend on (or touch) what is installed on the machine.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from provkernel.install import kernel_spec


@pytest.fixture(scope="session", autouse=True)
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Temporary JUPYTER_PATH (with the provkernel spec), IPYTHONDIR and runtime dir for the session."""
    root = tmp_path_factory.mktemp("jupyter-env")
    spec_dir = root / "share" / "kernels" / "provkernel"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps(kernel_spec()))
    values = {
        "JUPYTER_PATH": str(root / "share"),
        "IPYTHONDIR": str(root / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_DATA_DIR": str(root / "data"),
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "PROVKERNEL_DB": str(root / "session.sqlite"),
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def prov_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh provenance database for this test (kernels started afterwards write there)."""
    path = tmp_path / "prov.sqlite"
    monkeypatch.setenv("PROVKERNEL_DB", str(path))
    return path


class _CsvHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a,b\n1,2\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def csv_server() -> Iterator[int]:
    """A loopback HTTP server answering every GET with a small CSV; yields its port."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _CsvHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
