"""%bugdoc instance cost: warm start (fork of a template that loaded the data) vs a fresh process per instance.

Workload: a notebook whose data-loading cell takes over a second (pandas, scikit-learn and a
300,000-row dataset), followed by a parameter-dependent cell (a classifier fit with `alpha`). The
notebook is run once on the prov kernel to record its provenance, and the %bugdoc pipeline is
built from it exactly as the magic does. Then, one instance at a time:

- warm: the fork server runs the data cell once, each instance is a fork running the dependent cell;
- cold: each instance in a new interpreter (spawn) re-running the whole slice;
- bare: the dependent cell alone, in-process, after the data cell (no fork, no pickling): the floor.

Reports medians, cold/warm, and the warm overhead over bare.

usage: python benchmarks/bugdoc_notebook.py [--instances N] [--rows N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from provkernel.bugdoc.engine.execute import call_evaluate
from provkernel.bugdoc.notebook.cells import FORK, SliceRun, worker_shell
from provkernel.bugdoc.notebook.forkserver import ForkServer
from provkernel.bugdoc.notebook.session import Options, prepare
from provkernel.bugdoc.notebook.substitute import substitute
from provkernel.headless import execute_notebook
from provkernel.store.queries import Queries

ALPHAS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


def notebook(rows: int) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("# Parameters\nalpha = 1.0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import time\n_t = time.perf_counter()\n"
            "import pandas as pd\n"
            "from sklearn.datasets import make_classification\n"
            f"X, y = make_classification(n_samples={rows}, n_features=30, random_state=0)\n"
            "frame = pd.DataFrame(X)\n"
            "load_seconds = time.perf_counter() - _t"
        ),
        nbformat.v4.new_code_cell(
            "from sklearn.linear_model import RidgeClassifier\n"
            "model = RidgeClassifier(alpha=alpha).fit(X[:20000], y[:20000])\n"
            "accuracy = model.score(X[20000:40000], y[20000:40000])"
        ),
    ]
    return nb


def timed(fn, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        began = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=12)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pk-bugdoc-bench-"))
    os.environ["PROVKERNEL_DB"] = str(work / "prov.sqlite")
    path = work / "slow_data.ipynb"
    nb = notebook(args.rows)
    nbformat.write(nb, path)
    result = execute_notebook(nb, path, timeout=600)
    assert result.error is None, result.error
    queries = Queries.open()
    notebook_row = queries.find_notebook(str(path))
    epoch = queries.epochs(notebook_row["id"])[-1]
    prepared = prepare(queries, notebook_row, epoch, Options(target="3", declared={"alpha": ALPHAS}))
    queries.close()
    cells = prepared.pipeline.cells
    assert [c.role for c in cells] == ["both", "warm", "fork"], [c.role for c in cells]
    instances = [{"alpha": ALPHAS[i % len(ALPHAS)]} for i in range(args.instances)]

    warm_run = SliceRun(cells, preload=prepared.pipeline.preload)
    server = ForkServer(warm_run.warm_up, workers=1, cwd=str(work))
    warm = timed(lambda i: server.submit(call_evaluate, warm_run, instances[i]).result(), args.instances)
    setup = server.setup_seconds
    server.shutdown()

    cold_run = SliceRun(cells, warm=False)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn, max_tasks_per_child=1) as pool:
        cold = timed(
            lambda i: pool.submit(call_evaluate, cold_run, instances[i]).result(), min(args.instances, 6)
        )

    os.chdir(work)
    shell = worker_shell()
    for cell in cells:
        if cell.role != FORK:
            shell.run_cell(cell.code, store_history=False, silent=True)
    dependent = [c for c in cells if c.role != "warm"]

    def bare_instance(i: int) -> None:
        for cell in dependent:
            code = (
                substitute(cell.code, {n: instances[i][n] for n in cell.parameters})
                if cell.parameters
                else cell.code
            )
            shell.run_cell(code, store_history=False, silent=True)

    bare = timed(bare_instance, args.instances)
    load_seconds = shell.user_ns["load_seconds"]
    w, c, b = statistics.median(warm), statistics.median(cold), statistics.median(bare)
    print(
        f"Command: `python benchmarks/bugdoc_notebook.py --instances {args.instances} --rows {args.rows}`\n"
    )
    print("| measure | median per instance |")
    print("|---|---:|")
    print(f"| data-loading cell (run once) | {load_seconds * 1000:.0f} ms |")
    print(f"| warm start: template warm-up (once) | {setup * 1000:.0f} ms |")
    print(f"| warm start: fork + dependent cells | {w * 1000:.0f} ms |")
    print(f"| cold: fresh process, whole slice | {c * 1000:.0f} ms |")
    print(f"| bare dependent cells, in-process | {b * 1000:.0f} ms |")
    print(
        f"\ncold / warm = **{c / w:.1f}×**; warm overhead over bare = **{(w - b) * 1000:.0f} ms** per instance"
    )


if __name__ == "__main__":
    main()
