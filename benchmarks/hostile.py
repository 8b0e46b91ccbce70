"""Hostile cells: time of each under the prov kernel against the plain python3 kernel (issue 14).

Each case is a few setup cells and one measured cell, run in a fresh kernel of each kind,
alternating prov and python3, ``--repeat`` times; the table gives the median seconds of the
measured cell (execute request → idle) and their ratio. Kernels are the installed kernelspecs
``provkernel`` and ``python3``; the provenance database is a temporary file.

usage: python benchmarks/hostile.py [--repeat 5] [--case NAME …]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from kernels import start, stop, timed

APPENDS = "lst = []\n" + "\n".join(f"lst.append({i})" for i in range(20_000))
SLOW = (
    "import time\n"
    "class Slow:\n"
    "    def __eq__(self, other):\n        time.sleep(0.5); return False\n"
    "    def __hash__(self):\n        time.sleep(0.5); return 1\n"
)
FIFO = (
    "import os, tempfile, threading\n"
    "fifo = os.path.join(tempfile.mkdtemp(), 'pipe')\n"
    "os.mkfifo(fifo)\n"
    "threading.Thread(target=lambda: open(fifo, 'w').write('hello')).start()\n"
    "print(open(fifo).read())"
)

CASES: dict[str, tuple[list[str], str]] = {
    "20,000 lst.append statements": ([], APPENDS),
    "7 ** (10**6), digit limit lifted": (["import sys; sys.set_int_max_str_digits(0)"], "big = 7 ** (10**6)"),
    "int over 4,300 digits": ([], "big = 10 ** 5000"),
    # an earlier crash loads the diagnosis (once per kernel, timed on its own below)
    "exception with a 10 MB message": (["1 / 0"], "raise ValueError('x' * 10_000_000)"),
    "the first crash in a kernel (the diagnosis is loaded)": ([], "1 / 0"),
    "slow __eq__/__hash__ value, next cell": ([SLOW + "slow = Slow()"], "y = 2"),
    "slow __eq__/__hash__ globals key, next cell": ([SLOW + "globals()[Slow()] = 1"], "y = 2"),
    "reading a FIFO": ([], FIFO),
    "500-term sum": ([], "total = " + " + ".join(f"{i}" for i in range(500))),
    "400 chained calls": (
        ["class C:\n    def f(self):\n        return self\nc = C()"],
        "r = c" + ".f()" * 400,
    ),
    "~ × 500": (["x = 1"], "y = " + "~" * 500 + "x"),
    "nested lambdas × 100": ([], "f = " + "lambda: " * 100 + "1"),
    "lone surrogate in message and file name": (
        ["1 / 0"],
        (
            "import os, tempfile\np = os.path.join(tempfile.mkdtemp(), 'caf\\udce9.txt')\n"
            "open(p, 'w').write('x')\nraise ValueError('bad \\udce9 byte')"
        ),
    ),
}


def run_case(kernel: str, setup: list[str], cell: str, env: dict[str, str], cwd: str) -> float:
    km, kc, _ = start(kernel, env, cwd)
    try:
        for source in setup:
            kc.execute_interactive(source, timeout=600, output_hook=lambda msg: None)
        return timed(kc, cell, allow_errors=True)[0]
    finally:
        stop(km, kc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--case", nargs="*", help="run only cases whose name contains one of these")
    args = parser.parse_args()
    cases = {k: v for k, v in CASES.items() if not args.case or any(c in k for c in args.case)}
    with tempfile.TemporaryDirectory(prefix="pk-hostile-") as tmp:
        env = {**os.environ, "PROVKERNEL_DB": str(Path(tmp) / "prov.sqlite")}
        env.setdefault("IPYTHONDIR", str(Path(tmp) / "ipython"))
        print("| cell | python3 s | prov s | prov ÷ python3 |\n|---|---:|---:|---:|")
        for name, (setup, cell) in cases.items():
            times: dict[str, list[float]] = {"python3": [], "provkernel": []}
            for _ in range(args.repeat):
                for kernel in ("provkernel", "python3"):
                    times[kernel].append(run_case(kernel, setup, cell, env, tmp))
            base, prov = statistics.median(times["python3"]), statistics.median(times["provkernel"])
            print(f"| {name} | {base:.3f} | {prov:.3f} | {prov / base:.2f} |", flush=True)
            print(f"  raw: {times}", file=sys.stderr)


if __name__ == "__main__":
    main()
