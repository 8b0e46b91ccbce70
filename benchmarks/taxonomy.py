"""Score ``provkernel.crashes.classify`` (traceback only, no notebook context) on Wang et al.'s 746 crashes.

Reports accuracy and macro-F1 for the summary crash type, the summary root cause and the library
(``Libs-cause``, keras merged into tensorflow) on the GitHub rows (``nb_source`` 2, the rows the rules
were designed on) and on the Kaggle rows (``nb_source`` 1, held out), plus the most frequent confusions.

    python benchmarks/taxonomy.py [DATA_DIR] [--split both|github|kaggle|all] [--confusions N] [--markdown]
"""

from __future__ import annotations

import argparse
import ast
import csv
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from provkernel.crashes import classify
from provkernel.crashes.taxonomy import LIBRARIES, normalize_library

CSV_NAME = "wang2025_manual_labels_746_with_summary.csv"
SPLITS = {"github": {"2"}, "kaggle": {"1"}, "all": {"1", "2"}}
DIMENSIONS = ("crash type", "root cause", "library")


@dataclass(frozen=True)
class Scored:
    """One row: gold and predicted labels for each dimension."""

    source: str
    gold: tuple[str, str, str]
    predicted: tuple[str, str, str]
    ename: str
    evalue: str


def _library_gold(raw: str, predicted: str) -> str:
    """Gold library as one label: a multi-library gold (``numpy, sklearn``) counts the prediction if listed."""
    names = [normalize_library(part) or "None" for part in raw.split(",")] if raw.strip() else ["None"]
    return predicted if predicted in names else names[0]


_STRING = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def traceback_chunks(text: str) -> list[str]:
    """The traceback column as a list of chunks (``str(list)`` in the release).

    One released row is cut off mid-list; its complete string literals are kept.
    """
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return [ast.literal_eval(literal) for literal in _STRING.findall(text)]
    return [str(chunk) for chunk in value] if isinstance(value, list) else [str(value)]


def score_row(row: dict[str, str]) -> Scored:
    """Classify one row of the labelled CSV."""
    diagnosis = classify(row["ename"], row["evalue"], traceback_chunks(row["traceback"]))
    library = diagnosis.library or "None"
    return Scored(
        source=row["nb_source"],
        gold=(row["crash_type_sum"], row["root_cause_sum"], _library_gold(row["Libs-cause"], library)),
        predicted=(diagnosis.crash_type, diagnosis.root_cause, library),
        ename=row["ename"],
        evalue=row["evalue"][:80],
    )


def score_rows(path: Path) -> list[Scored]:
    """Classify every row of the labelled CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [score_row(row) for row in csv.DictReader(handle)]


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Unweighted mean of per-label F1 over every label that occurs in gold or prediction."""
    labels = set(gold) | set(predicted)
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def metrics(rows: list[Scored]) -> dict[str, tuple[float, float]]:
    """Dimension -> (accuracy, macro-F1)."""
    result = {}
    for index, dimension in enumerate(DIMENSIONS):
        gold = [r.gold[index] for r in rows]
        predicted = [r.predicted[index] for r in rows]
        accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(rows) if rows else 0.0
        result[dimension] = (accuracy, macro_f1(gold, predicted))
    return result


def breakdown(rows: list[Scored]) -> list[tuple[str, list[Scored]]]:
    """(dimension, rows) for: root cause on NameErrors, root cause on the rest, library on in-list gold."""
    known = set(LIBRARIES) | {"None"}
    return [
        ("root cause", [r for r in rows if r.ename == "nameerror"]),
        ("root cause", [r for r in rows if r.ename != "nameerror"]),
        ("library", [r for r in rows if r.gold[2] in known]),
    ]


def confusions(rows: Iterable[Scored], index: int, top: int) -> list[tuple[str, str, int]]:
    """The most frequent (gold, predicted) disagreements for one dimension."""
    counts = Counter((r.gold[index], r.predicted[index]) for r in rows if r.gold[index] != r.predicted[index])
    return [(g, p, n) for (g, p), n in counts.most_common(top)]


def print_scores(name: str, rows: list[Scored], top: int) -> None:
    """Accuracy and macro-F1 per dimension of one split, and its ``top`` most frequent confusions."""
    print(f"{name}: {len(rows)} rows")
    for dimension, (accuracy, f1) in metrics(rows).items():
        print(f"  {dimension:<11} accuracy {accuracy:.3f}  macro-F1 {f1:.3f}")
    for index, dimension in enumerate(DIMENSIONS):
        pairs = ", ".join(f"{g} → {p} ×{n}" for g, p, n in confusions(rows, index, top))
        print(f"  confused {dimension}: {pairs}")


def markdown(results: dict[str, list[Scored]], top: int, seconds: float, command: str) -> str:
    """A section ready for BENCHMARKS.md."""
    lines = [
        "## Crash taxonomy: `classify` on Wang et al.'s 746 labelled crashes",
        "",
        (
            f"Command: `{command}`. Traceback only (no notebook context); summary labels; library = `Libs-cause` with "
            "keras merged into tensorflow (a multi-library gold counts a prediction of any listed library). Rules "
            "were designed on the GitHub rows only; the Kaggle rows are held out."
        ),
        "",
        "| split | rows | crash type acc / macro-F1 | root cause acc / macro-F1 | library acc / macro-F1 |",
        "|---|--:|---|---|---|",
    ]
    for name, rows in results.items():
        m = metrics(rows)
        cells = " | ".join(f"{m[d][0]:.3f} / {m[d][1]:.3f}" for d in DIMENSIONS)
        lines.append(f"| {name} | {len(rows)} | {cells} |")
    lines += [
        "",
        (
            "Where the errors are: root cause on NameError rows (NB-specific vs implementation error cannot be told "
            "from a traceback) vs all other rows; library on rows whose gold is one of the paper's 24 libraries or "
            "None (other gold libraries are only matched when they are in the classifier's list of well-known "
            "ML libraries)."
        ),
        "",
        "| split | root cause, NameError rows | root cause, other rows | library, gold in the 24 or None |",
        "|---|---|---|---|",
    ]
    for name, rows in results.items():
        cells = []
        for subset in breakdown(rows):
            accuracy = metrics(subset[1])[subset[0]][0] if subset[1] else 0.0
            cells.append(f"{accuracy:.3f} (n={len(subset[1])})")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines += ["", f"Classified {sum(len(r) for r in results.values())} rows in {seconds:.2f} s.", ""]
    for name, rows in results.items():
        lines.append(f"Most frequent confusions, {name} (gold → predicted, count):")
        lines.append("")
        for index, dimension in enumerate(DIMENSIONS):
            pairs = "; ".join(f"{g} → {p} ({n})" for g, p, n in confusions(rows, index, top))
            lines.append(f"- {dimension}: {pairs or 'none'}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or the Markdown section)."""
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=repo / ".." / "shared" / "crash_taxonomy_data")
    parser.add_argument("--split", choices=["both", *SPLITS], default="both")
    parser.add_argument("--confusions", type=int, default=8, metavar="N")
    parser.add_argument("--markdown", action="store_true", help="print a section for BENCHMARKS.md")
    parser.add_argument(
        "--errors", choices=list(DIMENSIONS), help="list every misclassified row of a dimension"
    )
    args = parser.parse_args(argv)
    path = args.data / CSV_NAME if args.data.is_dir() else args.data
    if not path.is_file():
        print(f"taxonomy benchmark: no {CSV_NAME} in {args.data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = score_rows(path)
    seconds = time.perf_counter() - started
    names = ["github", "kaggle"] if args.split == "both" else [args.split]
    results = {name: [r for r in rows if r.source in SPLITS[name]] for name in names}
    if args.errors:
        index = DIMENSIONS.index(args.errors)
        for name, split_rows in results.items():
            for r in split_rows:
                if r.gold[index] != r.predicted[index]:
                    print(f"{name}\t{r.gold[index]} -> {r.predicted[index]}\t{r.ename}: {r.evalue}")
        return 0
    if args.markdown:
        print(markdown(results, args.confusions, seconds, "python benchmarks/taxonomy.py --markdown"))
        return 0
    for name, split_rows in results.items():
        print_scores(name, split_rows, args.confusions)
    print(f"({len(rows)} rows classified in {seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
