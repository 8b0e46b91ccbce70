"""MLProvLab's 13 questions about a notebook's history, each answered by one ``provkernel`` call.

The history is ``examples/mnist_history.ipynb`` driven through four epochs (see conftest.py);
each answer comes from the command line with ``--json`` (the same report objects ``%prov``
shows) and is checked against what the driver actually did.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import platform
from datetime import datetime

import pytest

from provkernel.capture.outputs import content_hash
from provkernel.cli import main
from tests.reports.conftest import History


@pytest.fixture
def ask(mnist_history: History, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """Run ``provkernel REPORT NOTEBOOK ARGS… --json`` in this process and return the parsed JSON."""
    monkeypatch.chdir(mnist_history.work)  # the notebook is named relative to the cwd, as a user would

    def call(report: str, *args: str) -> dict:
        capsys.readouterr()
        code = main([report, "mnist_history.ipynb", *args, "--json", "--db", str(mnist_history.db)])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)

    return call


def test_the_history_has_four_epochs_and_over_fifty_executions(mnist_history, ask):
    answer = ask("history", "--all")
    assert [e["epoch"] for e in answer["epochs"]] == [1, 2, 3, 4]
    real = [x for x in answer["executions"] if not x["first_line"].startswith("%")]
    assert len(real) == mnist_history.executions >= 50


def test_q1_kernel_version_in_epoch_1(ask):
    answer = ask("env", "--epoch", "1")
    epoch1 = next(e for e in answer["epochs"] if e["epoch"] == 1)
    assert epoch1["kernel"] == "provkernel"
    assert epoch1["ipykernel"] == importlib.metadata.version("ipykernel")


def test_q2_external_modules_used_in_epoch_1(ask):
    answer = ask("imports", "--epoch", "1")
    assert sorted(answer["external"]) == ["matplotlib", "numpy", "pandas", "sklearn"]
    assert all(lib["uses"] > 0 for lib in answer["libraries"] if lib["name"] in answer["external"])


def test_q3_imported_but_unused_modules_in_epoch_3(ask):
    assert ask("imports", "--epoch", "3")["unused"] == ["scipy"]
    assert ask("imports", "--epoch", "2")["unused"] == []  # scipy was added before epoch 3


def test_q4_most_used_module_in_epoch_3(ask):
    answer = ask("imports", "--epoch", "3")
    sklearn = next(lib for lib in answer["libraries"] if lib["name"] == "sklearn")
    # load, split, model and evaluate twice (re-run): five executions read sklearn names
    assert answer["most_used"] == "sklearn" and sklearn["uses"] == 5


def test_q5_data_sources_used_and_whether_they_changed(mnist_history, ask):
    answer = ask("data")
    sources = {s["display"]: s for s in answer["sources"]}
    assert [name for name, s in sources.items() if s["reads"]] == ["digit_names.csv"]
    # the SVG that `%provgraph -o graph.svg` wrote at the end is provkernel's own output, not the notebook's data
    assert "graph.svg" not in sources and list(sources) == ["digit_names.csv"]
    source = sources["digit_names.csv"]
    assert source["location"] == str(mnist_history.work / "digit_names.csv")
    assert (source["first"]["epoch"], source["first"]["count"]) == mnist_history.runs["e1-names"]
    assert source["variables"] == ["label_of", "names"]
    # the file was rewritten in French between epochs 2 and 3, and read twice in epoch 3
    assert source["reads"] == 5 and source["versions"] == 2
    (change,) = source["changes"]
    assert (change["before"]["epoch"], change["after"]["epoch"]) == (2, 3)


def test_q6_the_execution_and_epoch_that_drew_a_figure(mnist_history, ask):
    png = mnist_history.replies["e2-figure"].data("image/png")[0]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    answer = ask("outputs", "--hash", content_hash(png)[:16])
    producers = {(o["epoch"], o["count"]) for o in answer["outputs"]}
    assert producers == {mnist_history.runs["e2-figure"]}  # unique: its title names the classifier


def test_q7_the_version_of_a_library(ask):
    answer = ask("imports", "--epoch", "1")
    sklearn = next(lib for lib in answer["libraries"] if lib["name"] == "sklearn")
    assert sklearn["distribution"] == "scikit-learn"
    assert sklearn["version"] == importlib.metadata.version("scikit-learn")


def test_q8_python_versions_used(ask):
    assert ask("env")["pythons"] == [f"{platform.python_implementation()} {platform.python_version()}"]


def test_q9_when_the_notebook_was_last_executed(mnist_history, ask):
    last = datetime.fromisoformat(ask("history")["last_executed"]).timestamp()
    # the magics run after the last cell are executions too
    assert mnist_history.last_sent <= last <= mnist_history.finished + 60


def test_q10_python_and_kernel_differences_across_executions(ask):
    changes = ask("env")["changes"]
    kernel = [(c["epoch"], c["before"], c["after"]) for c in changes if c["field"] == "kernel"]
    assert kernel == [(3, "provkernel", "extension"), (4, "extension", "provkernel")]
    assert not [c for c in changes if c["field"] in ("python", "ipykernel")]


def test_q11_cells_in_epoch_4_that_depend_on_x_train(mnist_history, ask):
    answer = ask("graph", "--epoch", "4", "--var", "X_train")
    assert [c["cell_id"] for c in answer["var"]["dependents"]] == ["model", "evaluate", "figure"]
    assert [w["cell_id"] for w in answer["var"]["writers"]] == ["split", "split"]
    evaluate = next(c for c in answer["var"]["dependents"] if c["cell_id"] == "evaluate")
    assert evaluate["counts"] == [7, 9, 10, 14]  # including the run that crashed on a typo


def test_q12_accuracy_in_epoch_2_with_random_forest(mnist_history, ask):
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    answer = ask("values", "accuracy", "--epoch", "2")
    forest = [v for v in answer["values"] if v["inputs"]["classifier"] == "'RandomForestClassifier'"]
    assert len(forest) == 1 and forest[0]["inputs"]["test_size"] == "0.3"
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_train, y_train)
    assert forest[0]["value"] == repr(float(accuracy_score(y_test, model.predict(X_test))))
    assert (forest[0]["epoch"], forest[0]["count"]) == mnist_history.runs["e2-evaluate"]


def test_q13_whether_the_split_ratio_changed(ask):
    answer = ask("values", "test_size")
    assert answer["changed"] and answer["sequence"] == ["0.25", "0.3", "0.2"]
    assert [(v["epoch"], v["value"]) for v in answer["values"] if v["changed"]] == [(1, "0.3"), (4, "0.2")]
