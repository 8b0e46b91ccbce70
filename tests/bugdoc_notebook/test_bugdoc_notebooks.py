"""%bugdoc and `provkernel bugdoc` on real notebooks, real scikit-learn and real worker processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.bugdoc_notebook.test_forkserver import server_processes
from tests.kernel.helpers import Kernel, query

pytest.importorskip("sklearn")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


BUGDOC = "application/vnd.provkernel.bugdoc+json"


def code_cells(name: str) -> list:
    return [c for c in nbformat.read(EXAMPLES / name, as_version=4).cells if c.cell_type == "code"]


def report_of(reply) -> dict:
    """The JSON of the %bugdoc report (the live display ends as the report)."""
    bundles = [o["data"] for o in reply.outputs if BUGDOC in o.get("data", {})]
    assert bundles, reply.outputs
    return bundles[-1][BUGDOC]


def run_cli(notebook: Path, *args: str) -> subprocess.CompletedProcess:
    """``provkernel bugdoc NOTEBOOK --json ARGS`` in the notebook's folder."""
    return subprocess.run(
        [sys.executable, "-m", "provkernel", "bugdoc", str(notebook), "--json", *args],
        capture_output=True,
        text=True,
        cwd=notebook.parent,
        timeout=600,
        check=False,
    )


def bugdoc_cli(notebook: Path, *args: str) -> dict:
    done = run_cli(notebook, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_solver_penalty_in_the_kernel_then_reused_and_the_namespace_untouched(prov_db, tmp_path):
    setup, load, fit = code_cells("bugdoc_solver_penalty.ipynb")
    with Kernel(cwd=tmp_path, notebook=tmp_path / "logreg.ipynb") as k:
        k.execute(
            re.sub(r"penalty = .*", "penalty = 'l2'", setup.source), cell_id=setup.id
        )  # it worked before
        k.execute(load.source, cell_id=load.id)
        assert k.execute(fit.source, cell_id=fit.id).status == "ok"
        k.execute(setup.source, cell_id=setup.id)
        assert k.execute(fit.source, cell_id=fit.id).status == "error"
        before = k.execute(
            "{k: (type(v).__name__, id(v)) for k, v in globals().items() if not k.startswith('_')}"
        )
        first = report_of(
            k.execute("%bugdoc -p solver liblinear -p solver saga -p solver newton-cg -p C 0.1", timeout=600)
        )
        second = report_of(
            k.execute("%bugdoc -p solver liblinear -p solver saga -p solver newton-cg -p C 0.1", timeout=600)
        )
        after = k.execute(
            "{k: (type(v).__name__, id(v)) for k, v in globals().items() if not k.startswith('_')}"
        )
        still = k.execute("solver, penalty, C")
    assert first["status"] == "definitive"
    assert first["causes"] == [
        [
            {"param": "solver", "op": "!=", "value": "liblinear"},
            {"param": "solver", "op": "!=", "value": "saga"},
            {"param": "penalty", "op": "==", "value": "l1"},
        ]
    ]
    assert "solver ∈ {'lbfgs', 'newton-cg'} ∧ penalty = 'l1'" in first["headline"]
    assert first["history"]["provenance"] == 2 and first["new_instances"] > 0
    # in execution order: the data cell (ran once), the re-run parameters cell, the failing fit
    assert first["run"]["mode"] == "warm" and [s["role"] for s in first["slice"]] == ["warm", "both", "fork"]
    # the second run finds everything it needs in the stored instances
    assert (
        second["new_instances"] < first["new_instances"]
        and second["history"]["stored"] >= first["new_instances"]
    )
    assert second["causes"] == first["causes"]
    # %bugdoc ran nothing in the user's namespace (the names and objects are the very same)
    assert before.data("text/plain") == after.data("text/plain")
    assert still.data("text/plain") == ["('lbfgs', 'l1', 1.0)"]
    runs = query(prov_db, "SELECT COUNT(*) FROM bugdoc_runs")
    assert runs == [(2,)]


def test_imputation_by_model_from_the_command_line(prov_db, tmp_path):
    notebook = tmp_path / "impute.ipynb"
    notebook.write_text((EXAMPLES / "bugdoc_imputation.ipynb").read_text())
    found = bugdoc_cli(
        notebook,
        "-p",
        "impute",
        "mean",
        "-p",
        "impute",
        "none",
        "-p",
        "model_name",
        "logistic",
        "-p",
        "model_name",
        "forest",
        "-p",
        "model_name",
        "boosting",
    )
    assert found["status"] == "definitive"
    assert found["explanation"] == "impute = 'none' ∧ model_name = 'logistic'"
    assert all(
        not i["succeeded"]
        for i in found["instances"]
        if i["instance"]["impute"] == "none" and i["instance"]["model_name"] == "logistic"
    )


def test_a_bad_metric_with_check(prov_db, tmp_path):
    notebook = tmp_path / "metric.ipynb"
    notebook.write_text((EXAMPLES / "bugdoc_bad_metric.ipynb").read_text())
    found = bugdoc_cli(
        notebook,
        "--check",
        "accuracy >= 0.9",
        "-p",
        "scale_features",
        "True",
        "-p",
        "model_name",
        "svc",
        "-p",
        "model_name",
        "tree",
    )
    assert found["status"] == "definitive"
    assert found["explanation"] == "scale_features = False ∧ model_name ≠ 'tree'"
    failing = [i for i in found["instances"] if not i["succeeded"]]
    assert failing and all(i["detail"].startswith("check failed: accuracy >= 0.9") for i in failing)


HANG_OR_CRASH = [
    "# Parameters\nmode = 'ok'\nsize = 1",
    (
        "import ctypes, time\nif mode == 'hang':\n    time.sleep(120)\nif mode == 'crash' and size > 1:\n"
        "    ctypes.string_at(0)\nresult = size * 2"
    ),
]


def test_timeouts_and_segfaults_are_instance_outcomes(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        k.execute(HANG_OR_CRASH[0])
        k.execute(HANG_OR_CRASH[1])
        found = report_of(
            k.execute(
                "%bugdoc --target 2 --check 'result > 0' --timeout 3 -p mode hang -p mode crash -p size 2",
                timeout=600,
            )
        )
    details = {(i["instance"]["mode"], i["instance"]["size"]): i["detail"] for i in found["instances"]}
    assert details[("hang", 1)] == "timeout after 3 s" or details[("hang", 2)] == "timeout after 3 s"
    assert details[("crash", 2)] == "crashed (SIGSEGV)"
    assert details[("crash", 1)] == "" and details[("ok", 1)] == ""


def test_interrupt_stops_the_search_and_every_worker(prov_db, tmp_path):
    before = set(server_processes())
    with Kernel(cwd=tmp_path) as k:
        k.execute("# Parameters\nwait = 0.1\nmode = 'a'")
        k.execute("import time\ntime.sleep(wait)\nvalue = 1 if mode == 'a' else 2")
        msg = k.send("%bugdoc --target 2 --check 'value > 1' --workers 2 -p wait 30 -p wait 40 -p mode b")
        deadline = time.monotonic() + 60
        while not set(server_processes()) - before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(server_processes()) - before, "the search never started its workers"
        time.sleep(1.0)
        k.km.interrupt_kernel()
        reply = k.collect(msg, timeout=60)
        alive = k.execute("1 + 1")
        assert alive.data("text/plain") == ["2"]
    assert reply.status == "error" and reply.error["ename"] == "KeyboardInterrupt"
    deadline = time.monotonic() + 10
    while set(server_processes()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(server_processes()) - before, "worker processes survived the interrupt"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%bugdoc --budget -1", "--budget must be 0 or more"),
        ("%bugdoc --check 'acc >'", "is not a Python expression"),
        ("%bugdoc -p nosuch 1", "nosuch: not a literal assignment"),
        ("%bugdoc --memory-limit lots", "is not a size"),
        ("%bugdoc --vary-package scikit-learn", "write NAME==VERSION[,VERSION…]"),
        (
            "%bugdoc --vary-package no-such-dist==1.0",
            "no-such-dist: not installed in the kernel's environment",
        ),
    ],
)
def test_bad_input_is_one_line(prov_db, tmp_path, line, message):
    with Kernel(cwd=tmp_path) as k:
        k.execute("# Parameters\nalpha = 1")
        k.execute("beta = alpha / 0")
        reply = k.execute(line)
    assert reply.status == "error" and reply.error is None
    assert message in reply.stderr() and len(reply.stderr().strip().splitlines()) == 1


def test_cell_magic_declares_the_space_in_yaml(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        k.execute("# Parameters\ndivisor = 2\nscale = 1.0")
        assert k.execute("ratio = scale / divisor").status == "ok"
        found = report_of(
            k.execute("%%bugdoc --target 2 --check 'ratio < 1'\ndivisor: [0, 1, 4]\nscale: [0.5, 3.0]")
        )
    assert found["status"] == "definitive"
    failing = {
        (i["instance"]["divisor"], i["instance"]["scale"]) for i in found["instances"] if not i["succeeded"]
    }
    assert (0, 1.0) in failing or (0, 0.5) in failing  # ZeroDivisionError
    assert all(d == 0 or s / d >= 1 for d, s in failing)
    assert found["parameters"] == {"divisor": ["2", "0", "1", "4"], "scale": ["1.0", "0.5", "3.0"]}
