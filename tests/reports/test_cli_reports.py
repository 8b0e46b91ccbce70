"""The reports from the shell: formats, files, exports, clearing, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET

import nbformat
import pytest

from tests.reports.conftest import History

PROVKERNEL = [sys.executable, "-m", "provkernel"]


def cli(history: History, *args: str, db=None, extra: str | None = None) -> subprocess.CompletedProcess:
    """``provkernel ARGS --db DB`` in a subprocess, from the notebook's directory."""
    argv = [*PROVKERNEL, *args, "--db", str(db or history.db)]
    if extra is not None:  # run some Python first, then the CLI (to take a package away)
        argv = [
            sys.executable,
            "-c",
            f"{extra}\nimport sys\nfrom provkernel.cli import main\nsys.exit(main(sys.argv[1:]))",
            *argv[3:],
        ]
    return subprocess.run(argv, capture_output=True, text=True, cwd=history.work, timeout=120, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["graph", "mnist_history.ipynb", "--epoch", "9"], "has no epoch 9; it has epochs 1 to 4"),
        (["graph", "mnist_history.ipynb", "--at", "x"], "--at takes an execution count"),
        (
            ["graph", "mnist_history.ipynb", "--at", "99"],
            "epoch 4 has no execution [99]; counts run from 1 to",
        ),
        (["graph", "mnist_history.ipynb", "--slice", "nope"], "no cell 'nope' ran in epoch 4"),
        (["graph", "mnist_history.ipynb", "--var", "a", "--slice", "1"], "not allowed with argument"),
        (["graph", "mnist_history.ipynb", "-o", "g.png"], "needs Graphviz's dot"),
        (["graph", "mnist_history.ipynb", "-o", "g.xyz"], "cannot tell the format of g.xyz"),
        (["values", "mnist_history.ipynb"], "the following arguments are required: NAME"),
        (["values", "mnist_history.ipynb", "nothing_like_it"], "defined 'nothing_like_it'"),
        (["diff", "mnist_history.ipynb", "3:2", "9:"], "did not run in epoch 9"),
        (["diff", "mnist_history.ipynb", "1:"], "A must name one execution"),
        (["outputs", "mnist_history.ipynb", "--hash", "zz"], "hexadecimal prefix"),
        (["imports", "mnist_history.ipynb", "--epoch", "0"], "has no epoch 0"),
        (["export", "mnist_history.ipynb", "x.ttl", "--format", "turtle"], "invalid choice: 'turtle'"),
        (["export", "mnist_history.ipynb", "/no/such/dir/x.json"], "cannot write /no/such/dir/x.json"),
        (["clear", "mnist_history.ipynb"], "export them first"),
    ],
)
def test_bad_input_is_one_line_without_a_traceback(mnist_history, args, message):
    done = cli(mnist_history, *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_unknown_notebook_lists_the_known_ones(mnist_history):
    done = cli(mnist_history, "history", "other.ipynb")
    assert done.returncode == 1
    assert "nothing is recorded for other.ipynb" in done.stderr and str(mnist_history.notebook) in done.stderr


def test_graph_text_in_a_terminal_and_raw_formats_on_stdout(mnist_history):
    text = cli(mnist_history, "graph", "mnist_history.ipynb")
    assert text.returncode == 0 and "reads from" in text.stdout and "[14]" in text.stdout
    svg = cli(mnist_history, "graph", "mnist_history.ipynb", "--format", "svg")
    ET.fromstring(svg.stdout)  # not wrapped or cropped at the terminal width
    dot = cli(mnist_history, "graph", "mnist_history.ipynb", "--epoch", "2", "--format", "dot")
    assert dot.stdout.startswith("digraph") and dot.stdout.rstrip().endswith("}")
    at = json.loads(cli(mnist_history, "graph", "mnist_history.ipynb", "--at", "5", "--json").stdout)
    assert at["at"]["count"] == 5 and at["state"]["X_train"]["count"] == 5
    assert max(n["count"] for n in at["nodes"]) == 5
    written = cli(mnist_history, "graph", "mnist_history.ipynb", "--data", "-o", "out.mmd")
    assert "wrote the mermaid graph" in written.stdout
    assert '[("digit_names.csv")]' in (mnist_history.work / "out.mmd").read_text()


def test_exports_in_every_format(mnist_history):
    from prov.model import ProvDocument

    assert cli(mnist_history, "export", "mnist_history.ipynb", "prov.json").returncode == 0
    doc = ProvDocument.deserialize(source=str(mnist_history.work / "prov.json"), format="json")
    records = doc.get_records()
    activities = [r for r in records if r.get_type().localpart == "Activity"]
    assert len(activities) == mnist_history.executions + 3 + 12  # three flushes, twelve magics
    assert any("pk:contentHash" in str(r) and "digit_names" in str(r) for r in records)
    provn = cli(mnist_history, "export", "mnist_history.ipynb", "prov.provn", "--epoch", "2")
    assert "wrote prov-n" in provn.stdout
    assert "wasInformedBy" in (mnist_history.work / "prov.provn").read_text()
    turtle = cli(mnist_history, "export", "mnist_history.ipynb", "prov.ttl")
    try:
        import rdflib
    except ImportError:  # PROV-RDF is an extra of prov: without it, a message says what to install
        assert turtle.returncode == 2 and 'pip install "provkernel[export]"' in turtle.stderr
    else:
        assert turtle.returncode == 0
        assert len(rdflib.Graph().parse(mnist_history.work / "prov.ttl")) > 500
    plain = cli(mnist_history, "export", "mnist_history.ipynb", "-", "--format", "json")
    assert len(json.loads(plain.stdout)["executions"]) == len(activities)


def test_export_without_the_prov_package_says_what_to_install(mnist_history):
    done = cli(
        mnist_history,
        "export",
        "mnist_history.ipynb",
        "x.json",
        extra="import sys; sys.modules['prov'] = None",
    )
    assert done.returncode == 2 and 'pip install "provkernel[export]"' in done.stderr


def test_outputs_saved_in_the_notebook_file_are_traced_to_their_execution(mnist_history, tmp_path):
    figure = mnist_history.replies["e2-figure"].outputs
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("...", id="figure")
    cell.outputs = [
        nbformat.v4.output_from_msg({"header": {"msg_type": "display_data"}, "content": o})
        for o in figure
        if "data" in o
    ]
    nb.cells = [cell]
    nbformat.write(nb, mnist_history.notebook)  # as JupyterLab would save it
    try:
        saved = json.loads(cli(mnist_history, "outputs", "mnist_history.ipynb", "--saved", "--json").stdout)[
            "saved"
        ]
    finally:
        os.remove(mnist_history.notebook)
    assert [(s["mime"], [(p["epoch"], p["count"]) for p in s["produced_by"]]) for s in saved] == [
        ("image/png", [mnist_history.runs["e2-figure"]])
    ]


def test_clear_forgets_the_notebook_and_its_code(mnist_history, tmp_path):
    db = tmp_path / "copy.sqlite"
    source = sqlite3.connect(mnist_history.db)
    source.backup(target := sqlite3.connect(db))
    source.close()
    target.close()
    done = cli(mnist_history, "clear", "mnist_history.ipynb", "--yes", db=db)
    assert done.returncode == 0 and "forgot" in done.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM code").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM symbols").fetchone()[0] == 0
    conn.close()
    assert "nothing is recorded" in cli(mnist_history, "history", "mnist_history.ipynb", db=db).stderr
    assert cli(mnist_history, "history", "mnist_history.ipynb").returncode == 0
