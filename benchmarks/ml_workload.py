"""Capture cost on a realistic notebook: pandas + scikit-learn on a 100,000-row frame, 40 cells (issue 11).

The notebook loads a CSV, cleans it, adds feature columns, splits, fits and scores two models,
draws two plots and writes a file: the objects fingerprinted before and after each cell are
DataFrames, arrays, estimators and figures. Two measures, both against the plain python3 kernel in
the same run:

- **added main-thread time per cell**: what provkernel's hooks (before the cell, between parsing
  and running it, after it) took on the kernel's main thread, measured inside the kernel, per cell
  (median over runs); this is the cost the user's cell waits for;
- **end to end**: each cell run in a prov and a python3 kernel in turn, request to idle, per-cell
  difference (median over runs): noisier, it includes the writer thread competing for the CPU.

usage: python benchmarks/ml_workload.py [--runs 5] [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from kernels import start, stop, timed


def cells(rows: int, data: Path) -> list[str]:
    csv, out = data / "customers.csv", data / "scored.csv"
    imports = (
        "import numpy as np, pandas as pd, matplotlib\nimport matplotlib.pyplot as plt\n"
        "from sklearn.model_selection import train_test_split\nfrom sklearn.preprocessing import StandardScaler\n"
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.tree import DecisionTreeClassifier\n"
        "from sklearn.metrics import accuracy_score, roc_auc_score, confusion_matrix"
    )
    generate = (
        "rng = np.random.default_rng(seed)\n"
        "raw = pd.DataFrame({'age': rng.integers(18, 80, n_rows).astype(float), 'income': rng.normal(50, 15, n_rows),\n"
        "    'debt': rng.gamma(2, 5, n_rows), 'city': rng.choice(['paris', 'lyon', 'nice', 'lille'], n_rows),\n"
        "    'visits': rng.poisson(3, n_rows)})\n"
        "raw.loc[rng.random(n_rows) < 0.05, 'income'] = np.nan\nraw.loc[rng.random(n_rows) < 0.01, 'age'] = np.nan\n"
        "raw['target'] = ((raw['debt'] / raw['income'].fillna(50) + rng.normal(0, 0.1, n_rows)) > 0.2).astype(int)\n"
        "raw.to_csv(csv_path, index=False)"
    )
    return [
        imports,
        f"n_rows = {rows}\nseed = 0\ntest_size = 0.25\ncsv_path = {str(csv)!r}\nout_path = {str(out)!r}",
        generate,
        "df = pd.read_csv(csv_path)",
        "df.head()",
        "df.describe()",
        "df.info()",
        "df.isna().sum()",
        "df['income'] = df['income'].fillna(df['income'].median())",
        "df = df.dropna(subset=['age'])",
        "df['age'] = df['age'].astype(int)",
        "df['log_income'] = np.log1p(df['income'].clip(lower=0))",
        "df['ratio'] = df['debt'] / df['income'].clip(lower=1)",
        "df['young'] = df['age'] < 30",
        "df = pd.get_dummies(df, columns=['city'], drop_first=True)",
        "df.shape",
        "features = [c for c in df.columns if c != 'target']",
        "X = df[features].astype(float)\ny = df['target']",
        "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed)",
        "scaler = StandardScaler()",
        "X_train_s = scaler.fit_transform(X_train)",
        "X_test_s = scaler.transform(X_test)",
        "model = LogisticRegression(max_iter=300)",
        "model.fit(X_train_s, y_train)",
        "pred = model.predict(X_test_s)",
        "acc = accuracy_score(y_test, pred)\nacc",
        "proba = model.predict_proba(X_test_s)[:, 1]",
        "auc = roc_auc_score(y_test, proba)",
        "cm = confusion_matrix(y_test, pred)\ncm",
        "tree = DecisionTreeClassifier(max_depth=5, random_state=seed).fit(X_train, y_train)",
        "tree_acc = tree.score(X_test, y_test)",
        "importances = pd.Series(tree.feature_importances_, index=features).sort_values()",
        "fig, ax = plt.subplots(figsize=(5, 3))\nimportances.plot.barh(ax=ax)\nplt.show()",
        "fig2, ax2 = plt.subplots(figsize=(5, 3))\nax2.hist(proba, bins=30)\nplt.close(fig2)",
        "summary = df.groupby('young')['target'].mean()\nsummary",
        "def evaluate(m):\n    return m.score(X_test_s, y_test)",
        "scores = {C: evaluate(LogisticRegression(C=C, max_iter=300).fit(X_train_s, y_train)) for C in (0.1, 1.0)}",
        "best_C = max(scores, key=scores.get)",
        "df.assign(score=model.predict_proba(scaler.transform(X))[:, 1]).to_csv(out_path, index=False)",
        "results = {'acc': acc, 'auc': auc, 'tree': tree_acc, 'best_C': best_C}\nresults",
    ]


COSTS = (
    "import json\nfrom provkernel.capture.extension import recorder_for\n"
    "print(json.dumps(list(recorder_for(get_ipython()).costs)))"
)


def run(sources: list[str], env: dict[str, str], workdir: str) -> dict:
    """One pass: the cells alternate between a fresh prov kernel and a fresh python3 kernel."""
    kernels = {name: start(name, env, workdir)[:2] for name in ("provkernel", "python3")}
    times: dict[str, list[float]] = {name: [] for name in kernels}
    try:
        for i, source in enumerate(sources):
            order = list(kernels) if i % 2 else list(reversed(kernels))
            for name in order:
                times[name].append(timed(kernels[name][1], source)[0])
        costs = json.loads(timed(kernels["provkernel"][1], COSTS)[1])[: len(sources)]
    finally:
        for km, kc in kernels.values():
            stop(km, kc)
    return {"costs": costs, "prov": times["provkernel"], "python3": times["python3"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pk-ml-") as tmp:
        sources = cells(args.rows, Path(tmp))
        env = {
            **os.environ,
            "PROVKERNEL_DB": str(Path(tmp) / "prov.sqlite"),
            "JPY_SESSION_NAME": str(Path(tmp) / "ml.ipynb"),
        }
        runs = [run(sources, env, tmp) for _ in range(args.runs)]
    if args.json:
        args.json.write_text(json.dumps({"sources": sources, "runs": runs}, indent=1))
    added = [statistics.median(r["costs"][i] for r in runs) * 1000 for i in range(len(sources))]
    extra = [
        statistics.median(r["prov"][i] - r["python3"][i] for r in runs) * 1000 for i in range(len(sources))
    ]
    base = [statistics.median(r["python3"][i] for r in runs) * 1000 for i in range(len(sources))]
    order = sorted(range(len(sources)), key=lambda i: -added[i])
    print(
        f"Command: `python benchmarks/ml_workload.py --runs {args.runs} --rows {args.rows}`: {len(sources)} cells"
    )
    print(
        f"added main-thread time per cell: median {statistics.median(added):.2f} ms, "
        f"max {max(added):.2f} ms; end to end: median {statistics.median(extra):+.2f} ms per cell, "
        f"total {sum(extra):+.0f} ms over {sum(base):.0f} ms ({sum(extra) / sum(base):+.1%})"
    )
    print("\n| cell | python3 ms | added in kernel ms | end to end ms |\n|---|---:|---:|---:|")
    for i in order[:8]:
        first = sources[i].splitlines()[0][:60].replace("|", "\\|")
        print(f"| `{first}` | {base[i]:.1f} | {added[i]:.2f} | {extra[i]:+.1f} |")


if __name__ == "__main__":
    main()
