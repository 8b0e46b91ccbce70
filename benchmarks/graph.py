"""How long ``%provgraph`` and each ``%prov`` report take on a long history.

Workload: MLProvLab's 100-cell Fibonacci notebook (``shared/bench/fib_notebook.py``) executed
headless on the prov kernel for 20 epochs (about 2,000 executions, one database). Then, in this
process, each report is built from the database and rendered the way a notebook shows it (the
full MIME bundle: SVG or HTML, text, JSON), repeated and the median taken. Finally one real
kernel, attached to the same database, runs ``%provgraph`` and ``%prov history`` to time what a
user waits for (execute request to reply, including the kernel's flush and reading the database).

Targets (issue 3): graph ≤ 200 ms, each report ≤ 100 ms.

usage: python benchmarks/graph.py [--epochs 20] [--cells 100] [--repeat 7] [--rebuild] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import os
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIB = ROOT.parent / "shared" / "bench" / "fib_notebook.py"
GRAPH_TARGET_MS, REPORT_TARGET_MS = 200.0, 100.0

# (label, report, arguments): what a user would type after %prov (or %provgraph for "graph")
CASES = [
    ("%provgraph", "graph", []),
    ("%provgraph --epoch 10", "graph", ["--epoch", "10"]),
    ("%provgraph --var v5", "graph", ["--var", "v5"]),
    ("%provgraph --slice 50", "graph", ["--slice", "50"]),
    ("%provgraph --at 50 --data --libraries", "graph", ["--at", "50", "--data", "--libraries"]),
    ("%provgraph --format mermaid", "graph", ["--format", "mermaid"]),
    ("%prov history", "history", []),
    ("%prov history --all", "history", ["--all"]),
    ("%prov env", "env", []),
    ("%prov imports", "imports", []),
    ("%prov data", "data", []),
    ("%prov values v0", "values", ["v0"]),
    ("%prov values v0 --epoch 20", "values", ["v0", "--epoch", "20"]),
    ("%prov diff 1:50 20:", "diff", ["1:50", "20:"]),
    ("%prov outputs", "outputs", []),
    ("%prov status", "status", []),
]
EXPORTS = [("%prov export FILE --format json", "json"), ("%prov export FILE (prov-json)", "prov-json")]


def load_fib_notebook():
    spec = importlib.util.spec_from_file_location("fib_notebook", FIB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fib_notebook


def build_history(out: Path, epochs: int, cells: int) -> tuple[Path, Path]:
    """Run the notebook ``epochs`` times (one kernel per epoch) into one database."""
    from provkernel.headless import execute_notebook

    db, notebook = out / "prov.sqlite", out / f"fib{cells}.ipynb"
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(str(db) + suffix)
    os.environ["PROVKERNEL_DB"] = str(db)
    nb = load_fib_notebook()(cells)  # one notebook, run again each epoch: its cell ids stay the same
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        result = execute_notebook(copy.deepcopy(nb), notebook, timeout=120)
        if result.error:
            sys.exit(f"epoch {epoch} failed: {result.error}")
        print(f"  epoch {epoch}/{epochs} recorded", file=sys.stderr, end="\r")
    print(f"  recorded {epochs} epochs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return db, notebook


def time_case(
    db: Path, notebook: Path, report: str, argv: list[str], repeat: int
) -> tuple[list[float], dict]:
    """Milliseconds to open the database, build the report and render its notebook MIME bundle."""
    from provkernel.magics import parse
    from provkernel.reports import ReportContext, report_module
    from provkernel.store.queries import Queries

    module = report_module(report)
    args = parse(report, module.add_arguments, argv)
    times, bundle = [], {}
    for _ in range(repeat + 1):  # the first run warms imports and SQLite's page cache
        start = time.perf_counter()
        queries = Queries.open(db)
        try:
            context = ReportContext(queries, queries.find_notebook(str(notebook)))
            # a notebook has a kernel: graph then renders SVG, as %provgraph does
            context.recorder = object() if report == "graph" else None
            built = module.build(context, args)
        finally:
            queries.close()
        bundle = built._repr_mimebundle_()
        times.append((time.perf_counter() - start) * 1000)
    return times[1:], bundle


def time_in_kernel(db: Path, notebook: Path, repeat: int) -> dict[str, float]:
    """Median execute-request-to-reply time of magics in a real prov kernel on the same database."""
    sys.path.insert(0, str(ROOT))
    from tests.kernel.helpers import Kernel

    # on a copy: the kernel adds an epoch, and the history measured above must stay as recorded
    copy_db = db.with_name("kernel.sqlite")
    source, target = sqlite3.connect(db), sqlite3.connect(copy_db)
    source.backup(target)
    source.close()
    target.close()
    os.environ["PROVKERNEL_DB"] = str(copy_db)
    results = {}
    with Kernel(cwd=notebook.parent, notebook=notebook) as kernel:
        kernel.execute("x = 1")
        for line in ("%provgraph --epoch 20", "%prov history --epoch 20", "%prov values v0"):
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                reply = kernel.execute(line)
                times.append((time.perf_counter() - start) * 1000)
                assert reply.status == "ok", reply.error
            results[line] = statistics.median(times)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="record the history again")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "graph")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    db, notebook = options.out / "prov.sqlite", options.out / f"fib{options.cells}.ipynb"
    if options.rebuild or not db.exists():
        db, notebook = build_history(options.out, options.epochs, options.cells)

    from provkernel.store.queries import Queries

    q = Queries.open(db)
    counts = q.counts()
    q.close()
    size_mb = sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}")) / 1e6
    rows = []
    for label, report, argv in CASES:
        times, bundle = time_case(db, notebook, report, argv, options.repeat)
        target = GRAPH_TARGET_MS if report == "graph" else REPORT_TARGET_MS
        size = sum(len(str(v)) for v in bundle.values()) / 1000
        rows.append((label, statistics.median(times), max(times), target, size))
    exports = []
    for label, fmt in EXPORTS:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                time_case(
                    db, notebook, "export", [str(options.out / f"export-{fmt}.json"), "--format", fmt], 0
                )
            times.append((time.perf_counter() - start) * 1000)
        exports.append(
            (label, statistics.median(times), os.path.getsize(options.out / f"export-{fmt}.json") / 1e6)
        )
    kernel = time_in_kernel(db, notebook, options.repeat)

    print("## Reports and `%provgraph` on a long history (`benchmarks/graph.py`)\n")
    print(
        f"MLProvLab's {options.cells}-cell Fibonacci notebook, recorded headless for {options.epochs} epochs into one "
        f"database: {counts['executions']:,} executions, {counts['symbols']:,} symbol events, "
        f"{size_mb:.1f} MB. Time to open the database, build the report and render the MIME bundle a notebook "
        f"displays (SVG or HTML, text, JSON); median (max) of {options.repeat} runs after a warm-up; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores.\n"
    )
    print("| call | median ms | max ms | target ms | within | bundle kB |")
    print("|---|---:|---:|---:|:---:|---:|")
    for label, median, worst, target, size in rows:
        print(
            f"| `{label}` | {median:.1f} | {worst:.1f} | {target:.0f} | {'yes' if median <= target else '**no**'} | {size:.0f} |"
        )
    print("\nWriting the whole history to a file (not an interactive view; no target):\n")
    print("| call | median ms | file MB |")
    print("|---|---:|---:|")
    for label, median, size in exports:
        print(f"| `{label}` | {median:.0f} | {size:.1f} |")
    print("\nIn a real prov kernel on the same database (execute request → reply, median):\n")
    print("| magic | ms |")
    print("|---|---:|")
    for line, median in kernel.items():
        print(f"| `{line}` | {median:.1f} |")
    worst_graph = max(m for label, m, _, t, _ in rows if t == GRAPH_TARGET_MS)
    worst_report = max(m for label, m, _, t, _ in rows if t == REPORT_TARGET_MS)
    print(
        f"\nWorst graph {worst_graph:.0f} ms ({worst_graph / GRAPH_TARGET_MS:.2f} of the target), "
        f"worst report {worst_report:.0f} ms ({worst_report / REPORT_TARGET_MS:.2f} of the target)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
