"""Provenance overhead of the prov kernel against the plain python3 kernel (MLProvLab, Kerzel et al., Tables 1-2).

Workload: the Fibonacci notebooks of 25 and 100 cells from ``../shared/bench/fib_notebook.py``
(ten variables per cell, every cell reading all ten of the previous one). A *sequence* runs a
notebook for 20 epochs, one kernel start per epoch, the provenance database growing across
epochs; prov and python3 epochs alternate so both see the same machine state. An epoch's time
runs from the first execute request to the last reply. For each epoch index we report the median
over sequences of prov/python3, at 1, 2, 3, 4, 5, 10 and 20 epochs, and the ratio of the total
times over every epoch of every sequence (the least noisy single figure).

Also measured in the same run: kernel start time (start → kernel_info reply) of both kernels,
and the database size after 10 epochs of the 100-cell notebook.

usage: python benchmarks/overhead.py [--sequences N] [--epochs 20] [--cells 25 100] [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kernels import start

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORKLOAD = ROOT.parent / "shared" / "bench" / "fib_notebook.py"
REPORT_AT = (1, 2, 3, 4, 5, 10, 20)


def load_workload(path: Path):
    spec = importlib.util.spec_from_file_location("fib_notebook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fib_notebook


def run_epoch(kernel: str, sources: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One kernel lifetime executing every cell; returns (execution seconds, start seconds)."""
    km, kc, started = start(kernel, env)
    try:
        began = time.perf_counter()
        for source in sources:
            reply = kc.execute_interactive(source, timeout=120, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{kernel}: cell failed: {reply['content']}")
        elapsed = time.perf_counter() - began
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    return elapsed, started


def database_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def sequence(cells: int, epochs: int, make_notebook, workdir: Path) -> dict:
    """Alternate prov and python3 epochs of one notebook; the prov database persists across them."""
    sources = [cell.source for cell in make_notebook(cells).cells]
    db = workdir / f"prov-{cells}.sqlite"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "PROVKERNEL_DB": str(db), "JPY_SESSION_NAME": str(workdir / f"fib{cells}.ipynb")}
    result = {"prov": [], "python3": [], "start_prov": [], "start_python3": [], "db_after_10": None}
    for epoch in range(1, epochs + 1):
        order = ("provkernel", "python3") if epoch % 2 else ("python3", "provkernel")
        for kernel in order:
            elapsed, started = run_epoch(kernel, sources, env)
            key = "prov" if kernel == "provkernel" else "python3"
            result[key].append(elapsed)
            result[f"start_{key}"].append(started)
        if epoch == 10:
            result["db_after_10"] = database_size(db)
    return result


def interleaved(cells: int, rounds: int, make_notebook, workdir: Path) -> dict:
    """Per-cell cost in two live kernels, cells alternating one by one: start-up and drift cancel out."""
    sources = [cell.source for cell in make_notebook(cells).cells]
    env = {
        **os.environ,
        "PROVKERNEL_DB": str(workdir / "interleaved.sqlite"),
        "JPY_SESSION_NAME": str(workdir / "interleaved.ipynb"),
    }
    kernels = {
        name: start(kernel, env)[:2] for name, kernel in (("python3", "python3"), ("prov", "provkernel"))
    }
    times: dict[str, list[float]] = {name: [] for name in kernels}
    try:
        for source in sources[:2]:  # definitions, and a first run that warms both kernels
            for _, kc in kernels.values():
                kc.execute_interactive(source, timeout=120, output_hook=lambda msg: None)
        for turn in range(rounds * (len(sources) - 2)):
            source = sources[2 + turn % (len(sources) - 2)]
            order = list(kernels.items()) if turn % 2 else list(reversed(kernels.items()))
            for name, (_, kc) in order:
                began = time.perf_counter()
                kc.execute_interactive(source, timeout=120, output_hook=lambda msg: None)
                times[name].append(time.perf_counter() - began)
    finally:
        for km, kc in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    mean = {name: statistics.mean(v) for name, v in times.items()}
    return {
        "cells": len(times["prov"]),
        "python3_ms": mean["python3"] * 1000,
        "prov_ms": mean["prov"] * 1000,
        "extra_ms": (mean["prov"] - mean["python3"]) * 1000,
        "ratio": mean["prov"] / mean["python3"],
    }


def summarise(runs: list[dict], epochs: int) -> dict:
    ratios = {}
    for k in REPORT_AT:
        if k <= epochs:
            ratios[k] = statistics.median(r["prov"][k - 1] / r["python3"][k - 1] for r in runs)
    per_cell_ms = {kind: statistics.median(t for r in runs for t in r[kind]) for kind in ("prov", "python3")}
    starts = {
        kind: statistics.median(t for r in runs for t in r[f"start_{kind}"]) for kind in ("prov", "python3")
    }
    sizes = [r["db_after_10"] for r in runs if r["db_after_10"] is not None]
    return {
        "ratio_by_epoch": ratios,
        "ratio_all_epochs": sum(sum(r["prov"]) for r in runs) / sum(sum(r["python3"]) for r in runs),
        "median_epoch_seconds": per_cell_ms,
        "start_seconds": starts,
        "db_bytes_after_10_epochs": statistics.median(sizes) if sizes else None,
    }


def markdown(results: dict, args: argparse.Namespace) -> str:
    lines = [
        (
            f"Command: `python benchmarks/overhead.py --sequences {args.sequences} --epochs {args.epochs} "
            f"--cells {' '.join(map(str, args.cells))}`"
        ),
        "",
    ]
    header = "| cells | " + " | ".join(f"{k} ep." for k in REPORT_AT if k <= args.epochs) + " | all epochs |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for cells, summary in results.items():
        ratios = summary["ratio_by_epoch"]
        lines.append(
            f"| {cells} | "
            + " | ".join(f"{ratios[k]:.3f}" for k in sorted(ratios))
            + f" | {summary['ratio_all_epochs']:.3f} |"
        )
    lines.append("")
    for cells, summary in results.items():
        s, t = summary["start_seconds"], summary["median_epoch_seconds"]
        lines.append(
            f"- {cells} cells: median epoch {t['python3'] * 1000:.0f} ms (python3) vs {t['prov'] * 1000:.0f} ms "
            f"(prov); kernel start {s['python3'] * 1000:.0f} ms vs {s['prov'] * 1000:.0f} ms "
            f"(+{(s['prov'] - s['python3']) * 1000:.0f} ms)"
        )
        if summary["db_bytes_after_10_epochs"]:
            lines.append(f"  - database after 10 epochs: {summary['db_bytes_after_10_epochs'] / 1e6:.2f} MB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=5, help="20-epoch sequences per notebook size")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--cells", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--workload", type=Path, default=DEFAULT_WORKLOAD)
    parser.add_argument("--quick", action="store_true", help="1 sequence of 5 epochs of the 25-cell notebook")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--from-json", type=Path, help="summarise the raw results of an earlier run")
    parser.add_argument(
        "--interleaved",
        type=int,
        metavar="ROUNDS",
        help="instead: per-cell cost in two live kernels, ROUNDS passes over the 100-cell notebook",
    )
    args = parser.parse_args()
    if args.quick:
        args.sequences, args.epochs, args.cells = 1, 5, [25]
    if args.from_json:
        raw = {int(k): v for k, v in json.loads(args.from_json.read_text())["raw"].items()}
        args.cells, args.sequences = sorted(raw), len(next(iter(raw.values())))
        print(markdown({cells: summarise(runs, args.epochs) for cells, runs in raw.items()}, args))
        return
    make_notebook = load_workload(args.workload)
    if args.interleaved:
        with tempfile.TemporaryDirectory(prefix="pk-overhead-") as workdir:
            result = interleaved(100, args.interleaved, make_notebook, Path(workdir))
        print(
            f"Command: `python benchmarks/overhead.py --interleaved {args.interleaved}`: {result['cells']} cells "
            f"per kernel, mean round trip {result['python3_ms']:.3f} ms (python3) vs {result['prov_ms']:.3f} ms "
            f"(prov): +{result['extra_ms']:.3f} ms per cell, ratio {result['ratio']:.3f}"
        )
        return
    workdir = Path(tempfile.mkdtemp(prefix="pk-overhead-"))
    os.environ.setdefault("IPYTHONDIR", str(workdir / "ipython"))
    results, raw = {}, {}
    try:
        for cells in args.cells:
            runs = []
            for number in range(args.sequences):
                print(f"{cells} cells: sequence {number + 1}/{args.sequences}", file=sys.stderr, flush=True)
                runs.append(sequence(cells, args.epochs, make_notebook, workdir))
            raw[cells] = runs
            results[cells] = summarise(runs, args.epochs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": results, "raw": raw}, indent=1))
    print(markdown(results, args))


if __name__ == "__main__":
    main()
