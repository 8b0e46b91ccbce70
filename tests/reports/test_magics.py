"""``%provgraph`` and ``%prov`` in a real kernel: what JupyterLab and ``jupyter console`` receive."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from provkernel.render import vendor_mime
from tests.kernel.helpers import Kernel, query
from tests.reports.conftest import History

GRAPH = vendor_mime("graph")


def bundle(history: History, label: str) -> dict:
    reply = history.replies[label]
    assert reply.status == "ok", reply.error
    (output,) = [o for o in reply.outputs if "data" in o]
    return output["data"]


def usage_error(history: History, label: str) -> str:
    reply = history.replies[label]
    # IPython reports a magic's UsageError as one line on stderr, without a traceback
    assert reply.status == "error" and reply.stderr().startswith("UsageError: ")
    assert len(reply.stderr().strip().splitlines()) == 1
    return reply.stderr()


def test_provgraph_shows_inline_svg_with_text_and_json_but_no_mermaid(mnist_history):
    data = bundle(mnist_history, "graph")
    assert set(data) == {"text/html", "image/svg+xml", "text/plain", GRAPH}
    assert data["text/html"].count("<svg") == 1 and "overflow:auto" in data["text/html"]
    ET.fromstring(data["image/svg+xml"])
    graph = data[GRAPH]
    cells = [n for n in graph["nodes"] if n["kind"] == "cell"]
    # one node per cell, its latest run in epoch 4; the %provgraph cells themselves are not dataflow
    assert [(n["cell_id"], n["count"]) for n in cells] == [
        ("parameters", 1),
        ("imports", 2),
        ("load", 3),
        ("names", 4),
        ("figure", 11),
        ("split", 12),
        ("model", 13),
        ("evaluate", 14),
    ]
    flags = {n["cell_id"]: set(n["flags"]) for n in cells}
    assert flags["names"] == {"data"} and "output" in flags["figure"] and "output" in flags["model"]
    # the figure drawn at [11] read predictions from [10] and X_test from [5], since replaced by [14] and [12]
    ids = {n["cell_id"]: n["id"] for n in cells}
    stale = {(e["source"], e["target"]) for e in graph["edges"] if e["stale"]}
    assert stale == {(ids["evaluate"], ids["figure"]), (ids["split"], ids["figure"])}
    assert "[14]" in data["text/plain"] and "reads from" in data["text/plain"]  # jupyter console


def test_provgraph_data_and_libraries(mnist_history):
    graph = bundle(mnist_history, "graph-data")[GRAPH]
    data = [n for n in graph["nodes"] if n["kind"] == "data"]
    assert [n["name"] for n in data] == ["digit_names.csv"]
    libraries = {n["name"] for n in graph["nodes"] if n["kind"] == "library"}
    assert {"numpy", "pandas", "matplotlib", "sklearn"} <= libraries


def test_provgraph_formats_on_request(mnist_history):
    mermaid = bundle(mnist_history, "graph-mermaid")
    assert set(mermaid) == {"text/vnd.mermaid", "text/plain"}
    assert mermaid["text/vnd.mermaid"].lstrip("-\ntile:").count("flowchart TD") == 1
    var = bundle(mnist_history, "graph-var")[GRAPH]
    assert [c["cell_id"] for c in var["var"]["dependents"]] == ["model", "evaluate", "figure"]
    crashed = [n for n in var["nodes"] if "error" in n["flags"]]
    assert [(n["count"], n["status"]) for n in crashed] == [(9, "error")]


def test_provgraph_slice_of_a_cell_by_id(mnist_history):
    data = bundle(mnist_history, "graph-slice")
    steps = data[GRAPH]["slice"]
    assert [s["count"] for s in steps] == [1, 2, 3, 12, 13, 14]
    assert all(not s["code_changed"] for s in steps)
    assert "re-run 6 execution(s)" in data["text/plain"]


def test_provgraph_writes_a_file(mnist_history):
    data = bundle(mnist_history, "graph-file")
    assert "wrote the svg graph" in data["text/plain"]
    ET.parse(mnist_history.work / "graph.svg")


def test_bad_arguments_are_one_line_usage_errors(mnist_history):
    assert "invalid choice: 'png'" in usage_error(mnist_history, "graph-bad")
    assert "no execution of epoch 4 defined or read 'no_such_name'" in usage_error(
        mnist_history, "graph-bad-var"
    )
    assert "'2:x' is not an execution" in usage_error(mnist_history, "diff-bad")


def test_prov_reports_in_the_kernel(mnist_history):
    values = bundle(mnist_history, "values")[vendor_mime("values")]
    assert [v["epoch"] for v in values["values"]] == [2, 2]
    diff = bundle(mnist_history, "diff")[vendor_mime("diff")]["diff"]
    assert "-accuracy = acuracy_score(y_test, predictions)" in diff
    assert "+accuracy = accuracy_score(y_test, predictions)" in diff
    history = bundle(mnist_history, "history")
    assert "executions of epoch 4" in history["text/plain"]
    # real tables, not a terminal dump in a <pre>
    assert history["text/html"].count("<table") == 2 and "<pre" not in history["text/html"]
    assert 'title="import numpy as np\n' in history["text/html"]  # a cell's whole code on hover


def test_clear_inside_a_running_kernel_keeps_recording(prov_db, tmp_path):
    notebook = tmp_path / "scratch.ipynb"
    with Kernel(cwd=tmp_path, notebook=notebook) as kernel:
        for code in ("secret_plan = 'world domination'", "n = len(secret_plan)"):
            assert kernel.execute(code).status == "ok"
        refused = kernel.execute("%prov clear")
        assert refused.status == "error" and "export them first" in refused.stderr()
        cleared = kernel.execute("%prov clear --yes")
        assert cleared.status == "ok" and "this kernel goes on recording" in cleared.data("text/plain")[0]
        assert kernel.execute("m = n + 1").status == "ok"  # n still lives in the kernel
        history = kernel.execute("%prov history").data(vendor_mime("history"))[0]
        status = kernel.execute("%prov status").data(vendor_mime("status"))[0]
    assert [x["first_line"] for x in history["executions"]] == [
        "%prov clear --yes",
        "m = n + 1",
        "%prov history",
    ]
    assert status["kernel_capture_errors"] == 0 and not status["recent_capture_errors"]
    code = query(prov_db, "SELECT text FROM code")
    assert not [t for (t,) in code if "world domination" in t]  # forgotten code is gone from the file
