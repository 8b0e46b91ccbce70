"""What crash diagnosis costs in a long notebook (issue 13): nothing before the first crash, and per crash.

A 200-cell notebook (pandas, NumPy, scikit-learn, helper functions, markdown between) is run cell by cell
on the prov kernel and saved with its outputs, as JupyterLab would; then crashes of four kinds are
provoked ``--repeat`` times each, in turn:

- ``name``: a name defined only by a cell of the saved notebook that never ran (saved-notebook lookup);
- ``column``: a column a DataFrame lost in an earlier cell (live object, code of 200+ executions);
- ``text``: text in a frame given to scikit-learn (live facts: the column holding the value);
- ``unfitted``: an estimator whose fit cell never ran.

Reported: whether the crash modules were imported before the first crash, their import time in the
warmed kernel (paid once, at the first crash), and per kind the first and the median and maximum of the
other diagnosis times, as the kernel measures them (end of the cell → diagnosis shown and queued for
storage; ``CrashDiagnoser.seconds``). The provenance database is a temporary file.

usage: python benchmarks/crash_cost.py [--cells 200] [--repeat 10] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.kernel.helpers import Kernel

SETUP = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
    (
        "rng = np.random.default_rng(0)\nsales = pd.DataFrame({'region': rng.choice(['n', 's'], 500), "
        "'amount': rng.normal(10, 2, 500), 'units': rng.integers(1, 9, 500)})"
    ),
]
CRASHES = {
    "name": "late_summary.describe()",
    "column": "sales_copy['amount'].mean()",
    "text": "LogisticRegression().fit(sales_copy, rng.integers(0, 2, 500))",
    "unfitted": "late_model.predict(sales[['units']])",
}
PROBE = (
    "from provkernel.capture.extension import recorder_for\n"
    "_d = [l for l in recorder_for(get_ipython()).listeners if type(l).__name__ == 'LazyDiagnoser'][0]\n"
    "print(__import__('json').dumps(list(_d._diagnoser.seconds)))"
)
IMPORT_PROBE = (
    "import sys, time, json\n"
    "_loaded = 'provkernel.crashes.classify' in sys.modules\n"
    "_t = time.perf_counter()\nimport provkernel.crashes.kernel\n"
    "print(json.dumps([_loaded, time.perf_counter() - _t]))"
)


def notebook_cells(count: int) -> list[tuple[str, str]]:
    """(kind, source) of a notebook with ``count`` code cells; the last ones never run (saved only)."""
    cells = [("code", code) for code in SETUP]
    templates = [
        "step_{i} = sales.groupby('region')['amount'].mean() * {i}",
        "def helper_{i}(frame):\n    return frame['units'].sum() + {i}",
        "value_{i} = helper_{j}(sales) if {i} > 3 else {i}",
        "arr_{i} = np.arange({i} + 10).reshape(-1, 1)\narr_{i}.sum()",
        "print('row', {i}, len(sales))",
        "sales_{i} = sales.head({i} + 5).copy()",
    ]
    index = 0
    while sum(kind == "code" for kind, _ in cells) < count - 4:
        if index % 10 == 0:
            cells.append(("markdown", f"## Part {index // 10}"))
        j = max(index - 1 - (index - 1) % 6 + 1, 1)
        cells.append(("code", templates[index % len(templates)].format(i=index, j=j)))
        index += 1
    cells += [
        ("code", "sales_copy = sales.copy()\nsales_copy.drop(columns=['amount'], inplace=True)"),
        ("code", "late_summary = sales.describe()"),  # never runs
        ("code", "late_model = LogisticRegression()"),
        ("code", "late_model.fit(sales[['units']], sales['region'])"),  # never runs
    ]
    return cells


def build(path: Path, count: int) -> tuple[nbformat.NotebookNode, set[int]]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    never = set()
    for kind, source in notebook_cells(count):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        nb.cells.append(nbformat.v4.new_code_cell(source))
        if source.startswith(("late_summary", "late_model.fit")):
            never.add(len(nb.cells) - 1)
    nbformat.write(nb, path)
    return nb, never


def run(cells: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="crash-cost-") as folder:
        work = Path(folder)
        path = work / "long.ipynb"
        nb, never = build(path, cells)
        env = {"PROVKERNEL_DB": str(work / "prov.sqlite")}
        with Kernel(cwd=work, notebook=path, env=env) as kernel:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or index in never:
                    continue
                reply = kernel.execute(cell.source, cell.id)
                assert reply.status == "ok", (cell.source, reply.error)
                cell.execution_count = reply.count
                if reply.stdout():
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=reply.stdout())]
            nbformat.write(nb, path)  # saved, as after a session in JupyterLab
            size = path.stat().st_size
            loaded, import_s = json.loads(kernel.execute(IMPORT_PROBE).stdout())
            order = []
            for _ in range(repeat):
                for kind, code in CRASHES.items():
                    reply = kernel.execute(code, f"crash-{kind}")
                    assert reply.status == "error", (kind, reply.outputs)
                    order.append(kind)
            seconds = json.loads(kernel.execute(PROBE).stdout())
    times: dict[str, list[float]] = {kind: [] for kind in CRASHES}
    for kind, value in zip(order, seconds[-len(order) :], strict=True):
        times[kind].append(value)
    return {
        "cells": cells,
        "notebook_bytes": size,
        "imported_before_first_crash": loaded,
        "import_seconds": import_s,
        "times": times,
    }


def report(result: dict, markdown: bool) -> str:
    lines = [
        (
            f"{result['cells']}-cell notebook ({result['notebook_bytes'] // 1024} KiB saved); crash modules imported before the first crash: "
            f"{'yes' if result['imported_before_first_crash'] else 'no'}; their import at the first crash: "
            f"{1000 * result['import_seconds']:.1f} ms"
        ),
    ]
    if markdown:
        lines += [
            "",
            "| crash | first (ms) | median of the rest (ms) | max of the rest (ms) |",
            "|---|--:|--:|--:|",
        ]
    for kind, values in result["times"].items():
        rest = values[1:] or values
        first, median, worst = 1000 * values[0], 1000 * statistics.median(rest), 1000 * max(rest)
        if markdown:
            lines.append(f"| {kind} | {first:.1f} | {median:.1f} | {worst:.1f} |")
        else:
            lines.append(f"  {kind:<9} first {first:6.1f} ms   median {median:6.1f} ms   max {worst:6.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    print(report(run(args.cells, args.repeat), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
