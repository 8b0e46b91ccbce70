"""BugDoc synthetic benchmark: our engine vs the reference ``bugdoc==0.1``, side by side.

Pipelines follow the paper's generator as the issue describes it (:func:`provkernel.bugdoc.engine.synthetic.generate`):
each parameter ordinal (ints) or categorical (strings) with probability ½, all with the same number of values;
a root cause that is a single predicate, one conjunction of 2–4 predicates, or a disjunction of 2–4 clauses
of 1–3 predicates; comparators ``= ≠`` (categorical) and ``= ≤ >`` (ordinal); degenerate pipelines (always or
never failing) dropped. Sizes: default 20 pipelines per group, 3–10 parameters, 5–20 values; ``--quick`` 3 per
group, 3–6 parameters, 5–10 values; ``--full`` the issue's ranges, 10 per group, 3–15 parameters, 5–30 values.
Every pipeline starts from a few previous instances: 4 random ones plus one failing one (the failure that
prompted the debugging). Our engine receives them as history (defaults: Stacked k=2, ``tests=60``); the
reference starts from an empty history file (its 0.1 loader corrupts string values) and runs its pairwise
covering array over the whole space instead, as it always does (Shortcut k=1, Stacked k=4, DDT FindOne and
FindAll, each answer simplified by its ``prune_tree``). A reference run that stalls (its dispatcher never
resends a lost task) past 60 s (300 s with ``--full``) or exhausts 6 GB is stopped; that pipeline is then left
out of both sides for that method, and the stopped runs are listed.

Scoring follows the paper's ``read_results.py`` (the region of an answer is compared with each true
clause): an answer is a true positive if its region lies inside a not-yet-matched clause and it uses no more
parameters than the clause; otherwise a false positive if its region contains a succeeding instance, else
"correct but not minimal" (neither). Regions are checked exactly (box algebra) rather than on a pairwise
sample, and the ``list.remove``-while-iterating skip of the original is not reproduced. FindOne: found =
pipelines with a TP, P = found/(found+FP), R = found/pipelines; FindAll: micro-averaged P and R over clauses.
Instances: ours = new instances beyond the 5 of history; reference = every instance it ran.

Run: ``python benchmarks/bugdoc_synthetic.py`` (default), ``--quick`` (smoke), ``--full`` (slow for the
reference), ``--no-reference`` (ours only), ``--fig5`` (new instances vs parameters, 5 values, like the
paper's Figure 5; plot in ``benchmarks/out/bugdoc_fig5.png`` when matplotlib is installed). The reference's
virtualenv is created under ``benchmarks/out/venv-bugdoc`` on first use and its results are cached there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from provkernel.bugdoc import find_root_causes
from provkernel.bugdoc.engine.explain import covered
from provkernel.bugdoc.engine.predicates import Box
from provkernel.bugdoc.engine.space import Space
from provkernel.bugdoc.engine.synthetic import DNFPipeline, generate

GROUPS = ("single", "conjunction", "disjunction")
OURS = [
    ("shortcut", "one"),
    ("stacked", "one"),
    ("ddt", "one"),
    ("shortcut", "all"),
    ("stacked", "all"),
    ("ddt", "all"),
]
REFERENCE = {
    ("shortcut", "one"): "shortcut",
    ("stacked", "one"): "stacked",
    ("ddt", "one"): "ddt_one",
    ("shortcut", "all"): "shortcut",
    ("stacked", "all"): "stacked",
    ("ddt", "all"): "ddt_all",
}
OUT = ROOT / "out"
VENV = OUT / "venv-bugdoc"


def make_pipelines(seed: int, per_group: int, params: tuple[int, int], values: tuple[int, int]) -> list[dict]:
    rng = random.Random(seed)
    pipes = []
    for group in GROUPS:
        made = 0
        while made < per_group:
            n, v = rng.randint(*params), rng.randint(*values)
            generated = generate(rng, n, v, group)
            if generated is None:
                continue
            space, dnf = generated
            pipes.append(
                {
                    "id": f"{group}{made}",
                    "group": group,
                    "seed": rng.randrange(2**31),
                    "space": space,
                    "dnf": [[list(c) for c in clause] for clause in dnf],
                    "history": make_history(rng, space, dnf),
                }
            )
            made += 1
    return pipes


def make_history(rng: random.Random, space: dict, dnf) -> list[tuple[dict, bool]]:
    """Four random instances and one failing instance (built to satisfy a random clause)."""
    evaluate = DNFPipeline(tuple(tuple(c) for c in dnf))
    sp = Space.of(space)
    rows = []
    for _ in range(4):
        inst = {k: rng.choice(v) for k, v in space.items()}
        rows.append((inst, evaluate(inst)))
    box = Box.of_conditions(sp, rng.choice(dnf)).as_dict()
    key = tuple(
        rng.choice(sorted(box[p])) if p in box else rng.randrange(len(sp.params[p].values))
        for p in range(len(sp))
    )
    inst = sp.instance(key)
    rows.append((inst, evaluate(inst)))
    return rows


def score(space: dict, dnf, answers) -> tuple[int, int, int]:
    """(tp, fp, fn) of ``answers`` (lists of (param, op, value)) against the true DNF."""
    sp = Space.of(space)
    clauses = [
        (Box.of_conditions(sp, [tuple(c) for c in clause]), len({c[0] for c in clause})) for clause in dnf
    ]
    truth = [b for b, _ in clauses]
    open_ = list(range(len(clauses)))
    tp = fp = 0
    for answer in answers:
        conds = [tuple(c) for c in answer]
        try:
            region = Box.of_conditions(sp, conds)
        except ValueError:
            region = Box()
        region = Box(tuple((p, v) for p, v in region.parts if v))  # empty restriction → whole domain
        size = len({c[0] for c in conds})
        hit = next((i for i in open_ if region.subset_of(clauses[i][0]) and size <= clauses[i][1]), None)
        if hit is not None:
            tp += 1
            open_.remove(hit)
        elif not covered(sp, region, truth):
            fp += 1
    return tp, fp, len(open_)


def run_ours(pipes: list[dict], workers: int) -> list[dict]:
    rows = []
    for pipe in pipes:
        evaluate = DNFPipeline(tuple(tuple(tuple(c) for c in clause) for clause in pipe["dnf"]))
        for algorithm, goal in OURS:
            start = time.perf_counter()
            result = find_root_causes(
                pipe["space"],
                evaluate,
                history=pipe["history"],
                algorithm=algorithm,
                goal=goal,
                seed=pipe["seed"],
                workers=workers,
            )
            rows.append(
                {
                    "id": pipe["id"],
                    "method": f"{algorithm}/{goal}",
                    "answer": result.causes,
                    "instances": result.new_instances,
                    "seconds": time.perf_counter() - start,
                }
            )
    return rows


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print("creating the reference virtualenv (bugdoc==0.1) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "bugdoc==0.1"], check=True)
    return python


def run_reference(
    pipes: list[dict], methods: list[str], rerun: bool = False, timeout: int = 60
) -> list[dict]:
    """Run the reference on ``pipes``; results are cached in ``benchmarks/out/`` by the jobs' hash. A run
    longer than ``timeout`` seconds is stopped and reported (the 0.1 dispatcher can wait forever)."""
    jobs_doc = {
        "pipelines": [{k: p[k] for k in ("id", "seed", "space", "dnf")} for p in pipes],
        "methods": methods,
        "timeout": timeout,
    }
    payload = json.dumps(jobs_doc, sort_keys=True)
    cached = OUT / f"reference-{hashlib.sha256(payload.encode()).hexdigest()[:16]}.jsonl"
    if cached.exists() and not rerun:
        return [json.loads(line) for line in cached.read_text().splitlines()]
    python = ensure_venv()
    work = OUT / "reference-work"
    work.mkdir(parents=True, exist_ok=True)
    for f in work.iterdir():
        f.unlink()
    jobs = work / "jobs.json"
    jobs.write_text(payload)
    out = work / "results.jsonl"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    driver = ROOT / "bugdoc_reference" / "driver.py"
    with open(work / "driver.log", "w") as log:
        cmd = [str(python), str(driver), str(jobs), str(out), str(work)]
        subprocess.run(cmd, check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
    out.replace(cached)
    return [json.loads(line) for line in cached.read_text().splitlines()]


def aggregate(
    pipes: list[dict], rows: list[dict], method: str, goal: str, group: str, skip: frozenset = frozenset()
) -> dict:
    """P/R/F and mean instances of ``method`` on one group (pipelines in ``skip`` left out)."""
    by_id = {r["id"]: r for r in rows if r["method"] == method}
    chosen = [p for p in pipes if p["group"] == group and p["id"] in by_id and p["id"] not in skip]
    tps = fps = fns = found = 0
    for pipe in chosen:
        tp, fp, fn = score(pipe["space"], pipe["dnf"], by_id[pipe["id"]]["answer"])
        tps, fps, fns, found = tps + tp, fps + fp, fns + fn, found + (tp > 0)
    if goal == "one":
        p = found / (found + fps) if found + fps else 0.0
        r = found / len(chosen) if chosen else 0.0
    else:
        p = tps / (tps + fps) if tps + fps else 0.0
        r = tps / (tps + fns) if tps + fns else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    inst = [by_id[x["id"]]["instances"] for x in chosen]
    secs = [by_id[x["id"]]["seconds"] for x in chosen]
    return {
        "p": p,
        "r": r,
        "f": f,
        "instances": statistics.mean(inst) if inst else 0.0,
        "seconds": statistics.mean(secs) if secs else 0.0,
        "n": len(chosen),
    }


def table(pipes, ours, ref) -> str:
    lines = [
        "| goal | group | algorithm | ours P / R / F | reference P / R / F | ours new inst. | reference inst. | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for goal in ("one", "all"):
        for group in GROUPS:
            for algorithm in ("shortcut", "stacked", "ddt"):
                stalled = frozenset(
                    r["id"]
                    for r in ref or ()
                    if r["method"] == REFERENCE[(algorithm, goal)] and r.get("stalled")
                )
                a = aggregate(pipes, ours, f"{algorithm}/{goal}", goal, group, stalled)
                cells = [
                    f"Find{'One' if goal == 'one' else 'All'}",
                    group,
                    algorithm,
                    f"{a['p']:.2f} / {a['r']:.2f} / **{a['f']:.2f}**",
                ]
                if ref is not None:
                    b = aggregate(pipes, ref, REFERENCE[(algorithm, goal)], goal, group, stalled)
                    ratio = a["instances"] / b["instances"] if b["instances"] else float("nan")
                    cells += [
                        f"{b['p']:.2f} / {b['r']:.2f} / **{b['f']:.2f}**",
                        f"{a['instances']:.1f}",
                        f"{b['instances']:.1f}",
                        f"{ratio:.2f}",
                    ]
                else:
                    cells += ["–", f"{a['instances']:.1f}", "–", "–"]
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fig5(seed: int, with_reference: bool) -> str:
    """Mean new instances vs number of parameters (5 values, 3 pipelines per size), like Figure 5."""
    rows_out = [
        "| parameters | ours shortcut | ours stacked | reference shortcut | reference stacked |",
        "|---|---|---|---|---|",
    ]
    rng = random.Random(seed)
    pipes = []
    for n in range(3, 19, 3):
        made = 0
        while made < 3:
            generated = generate(rng, n, 5, rng.choice(GROUPS))
            if generated is None:
                continue
            space, dnf = generated
            pipes.append(
                {
                    "id": f"n{n}_{made}",
                    "group": str(n),
                    "seed": rng.randrange(2**31),
                    "space": space,
                    "dnf": [[list(c) for c in clause] for clause in dnf],
                    "history": make_history(rng, space, dnf),
                }
            )
            made += 1
    ours = run_ours_methods(pipes, [("shortcut", "one"), ("stacked", "one")])
    ref = run_reference(pipes, ["shortcut", "stacked"]) if with_reference else []
    series: dict[str, dict[int, float]] = {}
    for label, rows, method in (
        ("ours shortcut", ours, "shortcut/one"),
        ("ours stacked", ours, "stacked/one"),
        ("reference shortcut", ref, "shortcut"),
        ("reference stacked", ref, "stacked"),
    ):
        for n in range(3, 19, 3):
            vals = [r["instances"] for r in rows if r["method"] == method and r["id"].startswith(f"n{n}_")]
            series.setdefault(label, {})[n] = statistics.mean(vals) if vals else float("nan")
    for n in range(3, 19, 3):
        rows_out.append(f"| {n} | " + " | ".join(f"{series[s][n]:.1f}" for s in series) + " |")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        for label, points in series.items():
            ax.plot(list(points), list(points.values()), marker="o", label=label)
        ax.set_xlabel("parameters (5 values each)")
        ax.set_ylabel("instances run (mean of 3)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        OUT.mkdir(exist_ok=True)
        fig.savefig(OUT / "bugdoc_fig5.png", dpi=120)
    except ImportError:
        pass
    return "\n".join(rows_out)


def run_ours_methods(pipes, methods):
    global OURS
    saved, OURS = OURS, methods
    try:
        return run_ours(pipes, 1)
    finally:
        OURS = saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 pipelines per group, small spaces")
    parser.add_argument(
        "--full", action="store_true", help="the issue's ranges: 3–15 parameters, 5–30 values"
    )
    parser.add_argument("--per-group", type=int, help="pipelines per group")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--fig5", action="store_true", help="also instances vs parameters (Figure 5)")
    parser.add_argument("--rerun-reference", action="store_true", help="ignore cached reference results")
    args = parser.parse_args(argv)
    if args.full:
        params, values, per_group = (3, 15), (5, 30), 10
    elif args.quick:
        params, values, per_group = (3, 6), (5, 10), 3
    else:
        params, values, per_group = (3, 10), (5, 20), 20
    per_group = args.per_group or per_group
    pipes = make_pipelines(args.seed, per_group, params, values)
    start = time.perf_counter()
    ours = run_ours(pipes, args.workers)
    ours_s = time.perf_counter() - start
    ref = None
    if not args.no_reference:
        start = time.perf_counter()
        methods = ["shortcut", "stacked", "ddt_one", "ddt_all"]
        ref = run_reference(pipes, methods, args.rerun_reference, 300 if args.full else 60)
        ref_s = time.perf_counter() - start
    print(
        f"{len(pipes)} pipelines ({per_group} per group), {params[0]}–{params[1]} parameters, "
        f"{values[0]}–{values[1]} values, seed {args.seed}; history: 5 instances (ours only)"
    )
    print(table(pipes, ours, ref))
    ref_time = "" if ref is None else f", reference {ref_s:.1f} s" + (" (cached)" if ref_s < 1 else "")
    print(f"\nwall time: ours {ours_s:.1f} s{ref_time}")
    if ref is not None:
        stalls = sorted(f"{r['id']}/{r['method']}: {r['stalled']}" for r in ref if r.get("stalled"))
        print(
            f"reference runs stopped (stalled on a lost result, or out of memory), left out of both sides: "
            f"{len(stalls)} {stalls}"
        )
    if args.fig5:
        print("\n" + fig5(args.seed, not args.no_reference))
    OUT.mkdir(exist_ok=True)
    (OUT / "bugdoc_rows.json").write_text(json.dumps({"ours": ours, "reference": ref}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
