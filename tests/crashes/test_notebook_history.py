"""History rules decided from real notebooks executed with nbclient (out of order, skipped cells, earlier errors)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from provkernel.crashes import classify
from provkernel.crashes.context import ERROR, NOT_RUN, OK
from provkernel.crashes.notebook_context import error_outputs, notebook_context


def execute(cells: list[str], order: list[int], workdir: Path) -> nbformat.NotebookNode:
    """Run the code cells in ``order`` (indices may repeat or be missing) in one fresh python3 kernel.

    Cells starting with ``#md`` become markdown cells.
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("#md") else nbformat.v4.new_code_cell(c)
        for c in cells
    ]
    client = NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout=120,
        resources={"metadata": {"path": str(workdir)}},
    )
    with client.setup_kernel():
        for index in order:
            client.execute_cell(nb.cells[index], index)
    return nb


def diagnose_last_error(nb: nbformat.NotebookNode, workdir: Path):
    error = error_outputs(nb)[-1]
    context = notebook_context(nb, error.position, base_dir=workdir)
    return classify(error.ename, error.evalue, list(error.traceback), context), context


SCENARIOS = {
    # name: (cells, execution order, fine root cause, crash type, words the evidence must contain)
    "future-cell": (
        ["import numpy as np", "y = x * 2", "x = np.arange(3)"],
        [0, 1],
        "nb specific - need execute future cells",
        "variable not found",
        ["`x`", "cell 3", "has not run"],
    ),
    "ran-after": (
        ["data = [1, 2, 3]", "total = sum(data)"],
        [1, 0],
        "nb specific - execution order",
        "variable not found",
        ["cell 1 (In [2])", "ran only after this cell (In [1])"],
    ),
    "skipped-cell": (
        ["#md setup", "threshold = 5", "print(threshold)"],
        [2],
        "nb specific - execution order",
        "variable not found",
        ["cell 2", "has not run"],
    ),
    "previous-error": (
        ["import pandas as pd", "df = pd.read_csv('missing.csv')", "df.head()"],
        [0, 1, 2],
        "nb specific - previous cell error",
        "variable not found",
        ["cell 2 (In [2])", "FileNotFoundError"],
    ),
    "run-all-stopped": (
        [
            "import pandas as pd",
            "raw = pd.read_csv('missing.csv')",
            "def clean(frame):\n    return frame",
            "clean(raw)",
        ],
        [0, 1, 3],
        "nb specific - previous cell error",
        "name error",
        ["`clean`", "cell 3", "below cell 2 (In [2])"],
    ),
    "did-not-import": (
        ["arr = np.zeros(3)"],
        [0],
        "did not import",
        "module not found",
        ["no cell in this notebook imports `np`", "numpy"],
    ),
    "import-below": (
        ["values = train_test_split([1, 2, 3, 4])", "from sklearn.model_selection import train_test_split"],
        [0],
        "nb specific - need execute future cells",
        "name error",
        ["`train_test_split` is imported only further down, in cell 2"],
    ),
    "typo": (
        ["random_search = {'C': [1, 10]}", "print(random_serch)"],
        [0, 1],
        "typo",
        "variable not found",
        ["`random_search`", "cell 1 (In [1])"],
    ),
    "undefined": (
        ["import math", "print(x_train_norm)"],
        [0, 1],
        "undefined variable",
        "variable not found",
        ["no cell in this notebook defines `x_train_norm`"],
    ),
    "rerun-drop": (
        [
            "import pandas as pd\ndf = pd.DataFrame({'a': [1], 'b': [2]})",
            "df.drop(columns=['b'], inplace=True)",
        ],
        [0, 1, 1],
        "nb specific - execution order",
        "key error",
        ["removes 'b' from `df`", "`df.drop(columns=['b'], inplace=True)`", "second run"],
    ),
    "file-from-later-cell": (
        [
            "import pandas as pd",
            "pd.read_csv('features.csv')",
            "pd.DataFrame({'a': [1]}).to_csv('features.csv')",
        ],
        [0, 1],
        "nb specific - execution order",
        "io error",
        ["`features.csv` is written by cell 3"],
    ),
    "unfitted-after-error": (
        [
            "from sklearn.linear_model import LinearRegression\nmodel = LinearRegression()",
            "model.fit([[1], ['a']], [1, 2])",
            "model.predict([[1]])",
        ],
        [0, 1, 2],
        "nb specific - previous cell error",
        "model initialization error",
        ["`model` is fitted in cell 2 (In [2]), which failed"],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_history_decides_root_cause(name: str, tmp_path: Path) -> None:
    cells, order, root_detail, crash_type, words = SCENARIOS[name]
    nb = execute(cells, order, tmp_path)
    diagnosis, _ = diagnose_last_error(nb, tmp_path)
    evidence = " | ".join(diagnosis.evidence)
    assert diagnosis.root_cause_detail == root_detail, evidence
    assert diagnosis.crash_type == crash_type, evidence
    assert diagnosis.basis == "history"
    assert diagnosis.library is None  # NB-specific and undefined-name crashes carry no library
    for word in words:
        assert word in evidence


def test_builder_records_cells_counts_and_bindings(tmp_path: Path) -> None:
    cells, order, *_ = SCENARIOS["previous-error"]
    nb = execute(cells + ["unused = 1"], order, tmp_path)
    context = notebook_context(nb, 2, base_dir=tmp_path)
    assert context.source == "notebook" and context.current_epoch is None
    assert context.crash is not None and (context.crash.count, context.crash.status) == (3, ERROR)
    statuses = {e.position: (e.count, e.status, e.ename) for e in context.history}
    assert statuses == {0: (1, OK, None), 1: (2, ERROR, "FileNotFoundError"), 3: (None, NOT_RUN, None)}
    assert [(b.name, b.kind, b.execution.position) for b in context.bindings_of("df")] == [
        ("df", "assign", 1)
    ]
    assert context.aliases["pd"] == "pandas"
    assert [(f.path, f.mode) for f in context.files] == [("missing.csv", "r")]
    assert context.exists == {"missing.csv": False}


def test_same_error_without_history_is_a_guess(tmp_path: Path) -> None:
    cells, order, *_ = SCENARIOS["undefined"]
    nb = execute(cells, order, tmp_path)
    error = error_outputs(nb)[-1]
    guess = classify(error.ename, error.evalue, list(error.traceback))
    assert guess.basis == "traceback"
    assert guess.root_cause_detail == "nb specific - execution order"  # the most common cause of a NameError


# Saved notebooks carry the code: the static rules of issue 13 decide there too (as `provkernel scan` does).
STATIC = {
    # name: (cells, execution order, fine root cause, crash type, library, words the evidence must contain)
    "rerun-reassigned-drop": (
        [
            "import pandas as pd\nfeatures = pd.DataFrame({'id': [1], 'age': [30]})",
            "features = features.drop(columns=['id'])",
        ],
        [0, 1, 1],
        "nb specific - execution order",
        "key error",
        None,
        ["removes 'id' from `features`", "a second run finds it gone"],
    ),
    "drop-in-loop": (
        [
            "import pandas as pd\nsurvey = pd.DataFrame({'q1': [1], 'notes': ['a']})",
            "for question in ['q1', 'q2']:\n    survey = survey.drop(columns=['notes'])",
        ],
        [0, 1],
        "wrong implementation",
        "key error",
        "pandas",
        ["the loop runs `survey = survey.drop(columns=['notes'])` on every pass"],
    ),
    "none-from-inplace": (
        [
            "import pandas as pd\norders = pd.DataFrame({'qty': [1.0, None]})\nclean = orders.dropna(inplace=True)",
            "clean.head()",
        ],
        [0, 1],
        "misunderstanding of APIs",
        "attribute error",
        None,
        ["`clean` is None: cell 1 (In [1]) assigned it the result of `orders.dropna(inplace=True)`"],
    ),
    "fit-cell-not-run": (
        [
            "from sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()",
            "clf.fit([[0], [1]], [0, 1])",
            "clf.predict([[1]])",
        ],
        [0, 2],
        "nb specific - execution order",
        "model initialization error",
        None,
        ["`clf` is fitted in cell 2 (`clf.fit([[0], [1]], [0, 1])`), which had not run"],
    ),
    "column-cell-not-run": (
        [
            "import pandas as pd\nloans = pd.DataFrame({'income': [50.0], 'debt': [10.0]})",
            "loans['ratio'] = loans['debt'] / loans['income']",
            "loans['ratio'].mean()",
        ],
        [0, 2],
        "nb specific - execution order",
        "key error",
        None,
        ["'ratio' is added to `loans` in cell 2 (`loans['ratio'] = loans['debt'] / loans['income']`)"],
    ),
    "skipped-split": (
        [
            (
                "import pandas as pd\nfrom sklearn.model_selection import train_test_split\n"
                "churn = pd.DataFrame({'tenure': range(8), 'churned': [0, 1] * 4})"
            ),
            "X_train, X_test, y_train, y_test = train_test_split(churn[['tenure']], churn['churned'], test_size=0.25)",
            "X_train.describe()",
        ],
        [0, 2],
        "nb specific - execution order",
        "variable not found",
        None,
        ["`X_train` is assigned in cell 2 (`X_train, X_test, … = train_test_split(…)`), which has not run"],
    ),
}


@pytest.mark.parametrize("name", list(STATIC))
def test_static_rules_decide_on_saved_notebooks(name: str, tmp_path: Path) -> None:
    cells, order, root_detail, crash_type, library, words = STATIC[name]
    nb = execute(cells, order, tmp_path)
    diagnosis, _ = diagnose_last_error(nb, tmp_path)
    evidence = " | ".join(diagnosis.evidence)
    assert (diagnosis.root_cause_detail, diagnosis.crash_type, diagnosis.library) == (
        root_detail,
        crash_type,
        library,
    )
    for word in words:
        assert word in evidence
