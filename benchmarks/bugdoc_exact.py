"""``provkernel bugdoc`` on the brute-force-checked notebooks, and what ``--vary-package`` costs.

For each notebook of ``tests/bugdoc_notebook/real_notebooks.py``: every combination run by hand (the
ground truth), then ``provkernel bugdoc NOTEBOOK --json`` warm (default) and ``--cold``, each on a fresh
database; reported: whether the answer is exact (causes definitive and minimal, union = failing set),
instances run (new + the notebook's own run) against the space size, and seconds (the whole command, and
the search alone). Then ``--vary-package``: a notebook whose package exists in two versions (built as
wheels here, installed from a local folder), run twice on the same database: the first run builds the
environment, the second reuses it. ``--real-package scikit-learn==1.6.1`` also varies a real package
(downloads it: needs the network).

Run: ``python benchmarks/bugdoc_exact.py [--real-package SPEC]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tests.bugdoc.brute import check_exact, instances
from tests.bugdoc_notebook.real_notebooks import LOGREG, NOTEBOOKS, RealNotebook, cells
from tests.kernel.helpers import build_wheel, write_package


def cli(notebook: Path, args: list[str], db: Path, env: dict[str, str] | None = None) -> tuple[dict, float]:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "provkernel", "bugdoc", str(notebook), "--json", *args],
        capture_output=True,
        text=True,
        cwd=notebook.parent,
        env={**os.environ, **(env or {}), "PROVKERNEL_DB": str(db)},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{notebook.name}: {done.stderr.strip()}")
    return json.loads(done.stdout), time.perf_counter() - began


def exact(nb: RealNotebook, found: dict, truth: dict) -> bool:
    try:
        check_exact(nb.space, lambda i: truth[json.dumps(i, sort_keys=True)], found)
    except AssertionError:
        return False
    return True


def notebooks_table(work: Path) -> str:
    rows = [
        "| notebook | space | failing | algorithm | exact | instances run (warm) | warm s (search) | cold s (search) |",
        "|---|--:|--:|---|:-:|--:|--:|--:|",
    ]
    for nb in NOTEBOOKS:
        truth = {json.dumps(i, sort_keys=True): nb.fails(i) for i in instances(nb.space)}
        for algorithm in ("stacked", "ddt"):
            runs = {}
            for mode in ("warm", "cold"):
                folder = Path(tempfile.mkdtemp(dir=work))
                args = [*nb.cli_args(), "--algorithm", algorithm] + (["--cold"] if mode == "cold" else [])
                runs[mode] = cli(nb.write(folder), args, folder / "prov.sqlite")
            found, warm_s = runs["warm"]
            cold, cold_s = runs["cold"]
            ran = found["new_instances"] + found["history"]["provenance"]
            rows.append(
                f"| {nb.name} | {nb.size()} | {sum(truth.values())} | {algorithm} | "
                f"{'yes' if exact(nb, found, truth) and exact(nb, cold, truth) else 'NO'} | {ran} | "
                f"{warm_s:.1f} ({found['run']['search_seconds']:.1f}) | {cold_s:.1f} ({cold['run']['search_seconds']:.1f}) |"
            )
            print(rows[-1], flush=True)
    return "\n".join(rows)


VARIED = RealNotebook(
    "tinylib_versions",
    cells(
        """
        import importlib.metadata, tinylib
        assert importlib.metadata.version("tinylib") == tinylib.__version__
        result = tinylib.compute(mode, size)
        """
    ),
    {"mode": ["fast", "legacy"], "size": [1, 2, 3]},
    check="result > 0",
)
V1 = "def compute(mode, size):\n    return size\n"
V2 = (
    "def compute(mode, size):\n    if mode == 'legacy' and size > 1:\n"
    "        raise ValueError('legacy mode was removed in 2.0')\n    return size\n"
)


def vary_table(work: Path, real: str | None) -> str:
    wheels, site = work / "wheels", work / "site"
    for version, body in (("1.0", V1), ("2.0", V2)):
        build_wheel(wheels, "tinylib", version, body)
    write_package(site, "tinylib", "1.0", V1)
    rows = [
        "| run | packages | environment | build s | instances run | search s | s per instance |",
        "|---|---|---|--:|--:|--:|--:|",
    ]
    cases = [
        (
            VARIED,
            [*VARIED.cli_args(), "--vary-package", "tinylib==2.0", "--find-links", str(wheels), "--no-index"],
        )
    ]
    if real:
        cases.append((LOGREG, [*LOGREG.cli_args(), "--vary-package", real]))
    for nb, args in cases:
        folder = Path(tempfile.mkdtemp(dir=work))
        path = nb.write(folder)
        for run in ("first", "second"):
            found, _ = cli(path, args, folder / "prov.sqlite", {"PYTHONPATH": str(site)})
            [(spec, env)] = found["run"]["environments"].items()
            n = found["new_instances"]
            per = found["run"]["search_seconds"] / n if n else 0.0
            rows.append(
                f"| {nb.name} ({run}) | {spec} | {'reused' if env['reused'] else 'built'} | {env['seconds']:.2f} | "
                f"{n} | {found['run']['search_seconds']:.1f} | {per:.2f} |"
            )
            print(rows[-1], "→", found["explanation"], flush=True)
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-package", metavar="SPEC", help="e.g. scikit-learn==1.6.1 (needs the network)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bugdoc-exact-") as tmp:
        work = Path(tmp)
        print(notebooks_table(work))
        print()
        print(vary_table(work, args.real_package))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
