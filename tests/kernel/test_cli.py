"""`provkernel install`, `provkernel run` and papermill, as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from jupyter_client.manager import KernelManager

from provkernel.install import SPEC_DIR
from tests.kernel.helpers import notebook, query

PROVKERNEL = [sys.executable, "-m", "provkernel"]


def cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        check=False,
        args=[*PROVKERNEL, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_install_writes_a_spec_pinned_to_this_python_and_uninstall_removes_it(tmp_path):
    done = cli("install", "--prefix", str(tmp_path), "--name", "prov-test", "--display-name", "Prov Test")
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/prov-test/kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "provkernel.kernel"]
    assert spec["language"] == "python" and spec["display_name"] == "Prov Test"
    shipped = json.loads((SPEC_DIR / "kernel.json").read_text())  # what `pip install` registers
    assert {**shipped, "argv": spec["argv"], "display_name": "Prov Test"} == spec
    listed = subprocess.run(
        check=False,
        args=[sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "JUPYTER_PATH": str(tmp_path / "share/jupyter")},
    )
    assert "prov-test" in json.loads(listed.stdout)["kernelspecs"]
    assert "provkernel" in json.loads(listed.stdout)["kernelspecs"]  # the test session's own spec
    removed = cli(
        "install", "--uninstall", "--name", "prov-test", env={"JUPYTER_PATH": str(tmp_path / "share/jupyter")}
    )
    assert removed.returncode == 0, removed.stderr
    assert not (tmp_path / "share/jupyter/kernels/prov-test").exists()


def test_spec_declares_transport_encryption_and_the_kernel_serves_it(prov_db):
    """A server with ``transport_encryption = "required"`` refuses kernels whose spec lacks curve."""
    km = KernelManager(kernel_name="provkernel", transport_encryption="required")
    km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
    try:
        assert km.curve_publickey is not None
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("answer = 6 * 7", timeout=60)
        assert reply["content"]["status"] == "ok"
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=False)
    assert query(prov_db, "SELECT count(*) FROM executions")[0][0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "the following arguments are required: NOTEBOOK"),
        (["run", "missing.ipynb"], "no such notebook: missing.ipynb"),
        (["run", "nb.ipynb", "-p", "1bad", "2"], "must be a Python identifier"),
        (["install", "--name", "bad name"], "use letters, digits"),
        (["history-of-everything"], "invalid choice"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(tmp_path, args, message):
    nbformat.write(notebook("x = 1"), tmp_path / "nb.ipynb")
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_run_injects_parameters_writes_output_and_records(prov_db, tmp_path):
    nb = notebook(
        "alpha = 0.1\nname = 'default'", "result = alpha * 10\nprint(name, result)", tags={0: ["parameters"]}
    )
    nbformat.write(nb, tmp_path / "params.ipynb")
    done = cli(
        "run",
        "params.ipynb",
        "-p",
        "alpha",
        "0.5",
        "-y",
        "name: from-yaml",
        "-o",
        "out.ipynb",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["notebook"] == str(tmp_path / "params.ipynb")
    assert summary["parameters"] == {"name": "from-yaml", "alpha": 0.5}
    assert summary["executions"] == 3 and summary["errors"] == 0 and summary["epoch"] == 1
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[1].metadata["tags"] == ["injected-parameters"]
    assert out.cells[2].outputs[0]["text"] == "from-yaml 5.0\n"
    values = query(
        prov_db, "SELECT s.value FROM symbols s JOIN names n ON n.id = s.name_id WHERE n.name = 'result'"
    )
    assert values == [("5.0",)]
    cell_ids = [r[0] for r in query(prov_db, "SELECT cell_id FROM executions ORDER BY id")]
    assert cell_ids == [c.id for c in out.cells]


def test_run_reports_a_failing_cell_and_exits_1(prov_db, tmp_path):
    nbformat.write(notebook("a = 1", "a / 0", "never = True"), tmp_path / "fails.ipynb")
    done = cli("run", "fails.ipynb", cwd=tmp_path)
    assert done.returncode == 1
    assert "failed: ZeroDivisionError: division by zero" in done.stdout
    assert "first failing code cell: index 1" in done.stdout
    assert query(prov_db, "SELECT status FROM executions ORDER BY id") == [("ok",), ("error",)]


def test_papermill_with_the_prov_kernel_records_provenance(prov_db, tmp_path):
    pytest.importorskip("papermill")
    nb = notebook("n = 2", "square = n * n", tags={0: ["parameters"]})
    nbformat.write(nb, tmp_path / "pm.ipynb")
    base = [sys.executable, "-m", "papermill", "-k", "provkernel", "pm.ipynb", "out.ipynb", "-p", "n", "7"]
    for extra in ([], ["--engine", "provkernel"]):
        done = subprocess.run(
            check=False, args=base + extra, capture_output=True, text=True, cwd=tmp_path, timeout=300
        )
        assert done.returncode == 0, done.stderr
    notebooks = [r[0] for r in query(prov_db, "SELECT path FROM notebooks ORDER BY id")]
    # plain papermill names no notebook (filed under the working directory); our engine does
    assert notebooks == [str(tmp_path), str(tmp_path / "pm.ipynb")]
    squares = query(
        prov_db,
        "SELECT e.notebook_id, s.value FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id JOIN epochs e ON e.id = x.epoch_id "
        "WHERE n.name = 'square' ORDER BY x.id",
    )
    assert [v for _, v in squares] == ["49", "49"]
    with_engine = query(
        prov_db,
        "SELECT x.cell_id FROM executions x JOIN epochs e ON e.id = x.epoch_id "
        "JOIN notebooks n ON n.id = e.notebook_id WHERE n.path LIKE '%pm.ipynb' ORDER BY x.id",
    )
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert [r[0] for r in with_engine] == [c.id for c in out.cells]
