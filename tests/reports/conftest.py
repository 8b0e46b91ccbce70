"""The history the report tests ask questions about: ``examples/mnist_history.ipynb`` driven through
four epochs (three on the prov kernel, one in a stock ``python3`` kernel with ``%load_ext
provkernel``) and 51 executions, changing parameters, data, imports and code between them.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from tests.kernel.helpers import Kernel, Reply, flush

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORDER = ("parameters", "imports", "load", "names", "split", "model", "evaluate", "figure")
FRENCH = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]


@dataclass
class History:
    """What the driver did, to check the answers against."""

    db: Path
    notebook: Path
    work: Path
    executions: int = 0
    replies: dict[str, Reply] = field(default_factory=dict)  # label → reply
    runs: dict[str, tuple[int, int]] = field(default_factory=dict)  # label → (epoch, execution count)
    last_sent: float = 0.0
    finished: float = 0.0


class Driver:
    """Runs cells of the example by id in one kernel, remembering replies under labels."""

    def __init__(self, history: History, kernel: Kernel, epoch: int, sources: dict[str, str]) -> None:
        self.history, self.kernel, self.epoch, self.sources = history, kernel, epoch, sources

    def run(self, cell: str, label: str | None = None, ok: bool = True) -> Reply:
        self.history.last_sent = time.time()
        reply = self.kernel.execute(self.sources[cell], cell, timeout=180)
        if ok:
            assert reply.status == "ok", (cell, reply.error)
        self.history.executions += 1
        if label:
            self.history.replies[label] = reply
            self.history.runs[label] = (self.epoch, reply.count)
        return reply

    def run_all(self, prefix: str) -> None:
        for cell in ORDER:
            self.run(cell, f"{prefix}-{cell}")

    def magic(self, line: str, label: str) -> Reply:
        reply = self.kernel.execute(line, timeout=120)
        self.history.replies[label] = reply
        return reply


def set_parameters(sources: dict[str, str], **values: str) -> None:
    lines = []
    for line in sources["parameters"].splitlines():
        name = line.split("=")[0].strip()
        lines.append(f"{name} = {values[name]}" if name in values else line)
    sources["parameters"] = "\n".join(lines)


def drive(work: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> History:
    """Four epochs, 51 executions of the example's cells, plus the magics the tests look at."""
    shutil.copy(EXAMPLES / "digit_names.csv", work / "digit_names.csv")
    nb = nbformat.read(EXAMPLES / "mnist_history.ipynb", as_version=4)
    sources = {c.id: c.source for c in nb.cells if c.cell_type == "code"}
    notebook = work / "mnist_history.ipynb"
    history = History(db, notebook, work)
    monkeypatch.setenv("PROVKERNEL_DB", str(db))

    # epoch 1: as written (LogisticRegression, test_size 0.25), then a larger test set
    with Kernel(cwd=work, notebook=notebook) as kernel:
        d = Driver(history, kernel, 1, sources)
        d.run_all("e1")
        set_parameters(sources, test_size="0.3")
        for cell in ("parameters", "split", "model", "evaluate", "figure"):
            d.run(cell, f"e1b-{cell}")
        d.run("figure", "e1c-figure")
        flush(kernel)  # everything on disk before the kernel goes (a `%prov status` execution)

    # epoch 2: a random forest, then back to logistic regression
    with Kernel(cwd=work, notebook=notebook) as kernel:
        d = Driver(history, kernel, 2, sources)
        set_parameters(sources, classifier='"RandomForestClassifier"')
        d.run_all("e2")
        set_parameters(sources, classifier='"LogisticRegression"')
        for cell in ("parameters", "model", "evaluate", "figure"):
            d.run(cell, f"e2b-{cell}")
        flush(kernel)

    # between epochs the data changes, and an import nobody uses is added
    (work / "digit_names.csv").write_text(
        "digit,name\n" + "".join(f"{i},{n}\n" for i, n in enumerate(FRENCH))
    )
    sources["imports"] += "\nimport scipy.stats as stats"

    # epoch 3: a stock python3 kernel recording through the extension; some cells re-run
    with Kernel("python3", cwd=work, notebook=notebook) as kernel:
        assert kernel.execute("%load_ext provkernel").status == "ok"
        d = Driver(history, kernel, 3, sources)
        d.run_all("e3")
        d.run("names", "e3b-names")
        d.run("figure", "e3b-figure")
        d.run("evaluate", "e3b-evaluate")
        flush(kernel)

    # epoch 4: a smaller test set, a typo that crashes, the fix, then re-runs
    with Kernel(cwd=work, notebook=notebook) as kernel:
        d = Driver(history, kernel, 4, sources)
        set_parameters(sources, test_size="0.2")
        d.run_all("e4")
        fixed = sources["evaluate"]
        sources["evaluate"] = fixed.replace("accuracy_score(", "acuracy_score(")
        assert d.run("evaluate", "e4-typo", ok=False).error["ename"] == "NameError"
        sources["evaluate"] = fixed
        for cell in ("evaluate", "figure", "split", "model", "evaluate"):
            d.run(cell, f"e4b-{cell}")
        history.finished = time.time()
        # what a user sees in the notebook (asserted in test_magics)
        for label, line in (
            ("graph", "%provgraph"),
            ("graph-data", "%provgraph --data --libraries"),
            ("graph-mermaid", "%provgraph --format mermaid"),
            ("graph-var", "%provgraph --var X_train --format json"),
            ("graph-slice", "%provgraph --slice evaluate --format text"),
            ("graph-bad", "%provgraph --format png"),
            ("graph-bad-var", "%provgraph --var no_such_name"),
            ("graph-file", "%provgraph -o graph.svg"),
            ("values", "%prov values accuracy --epoch 2"),
            ("diff", "%prov diff 9 10"),
            ("diff-bad", "%prov diff 2:x"),
            ("history", "%prov history"),
        ):
            d.magic(line, label)
    return history


@pytest.fixture(scope="session")
def mnist_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The driven history (built once per test session, ~30 s)."""
    work = tmp_path_factory.mktemp("mnist-history")
    with pytest.MonkeyPatch.context() as mp:
        return drive(work, work / "prov.sqlite", mp)
