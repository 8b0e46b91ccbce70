"""Development view of the taxonomy benchmark: the GitHub rows only (the rows rules are designed on).

Reads only ``nb_source == 2`` rows; the Kaggle rows (held out) are never loaded, classified or printed.
Prints the scores and, per dimension, every misclassified row with its fine labels, the crash line and
the packages of the library frames, so rules can be designed from the labelling conventions.

    python benchmarks/taxonomy_dev.py [DATA_DIR] [--errors crash type|root cause|library] [--grep REGEX]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from taxonomy import CSV_NAME, DIMENSIONS, Scored, print_scores, score_row, traceback_chunks

from provkernel.crashes import classify
from provkernel.crashes.classify import _KNOWN_PACKAGES
from provkernel.crashes.traceback import parse_traceback

GITHUB = "2"


def github_rows(path: Path) -> list[dict[str, str]]:
    """The GitHub rows of the labelled CSV (the Kaggle rows are skipped unread beyond their source column)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["nb_source"] == GITHUB]


def describe(row: dict[str, str], scored: Scored, index: int) -> str:
    """One misclassified row: labels, message, crash line, library packages in the frames."""
    chunks = traceback_chunks(row["traceback"])
    parsed = parse_traceback(row["ename"], row["evalue"], chunks, _KNOWN_PACKAGES)
    diagnosis = classify(row["ename"], row["evalue"], chunks)
    packages = [f.package for f in parsed.frames if f.kind == "library"]
    return "\n".join(
        [
            f"[{row['eid'][:8]}] {scored.gold[index]} -> {scored.predicted[index]}",
            f"   gold: {row['label_refined_exp_type']} | {row['label_root_cause']} | {row['Libs-cause']}",
            f"   pred: {diagnosis.crash_type_detail} | {diagnosis.root_cause_detail} | {diagnosis.library}",
            f"   {row['ename']}: {row['evalue'][:200]!r}",
            f"   code: {parsed.crash_code[:150]!r}",
            f"   frames: {packages} kinds={[f.kind for f in parsed.frames]}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Score the GitHub rows; optionally list errors of one dimension."""
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=repo / ".." / "shared" / "crash_taxonomy_data")
    parser.add_argument("--errors", choices=list(DIMENSIONS), help="list every misclassified row")
    parser.add_argument("--all", action="store_true", help="with --grep: list matching rows, right or wrong")
    parser.add_argument("--grep", help="only rows whose ename: evalue matches this regex")
    parser.add_argument("--confusions", type=int, default=12, metavar="N")
    parser.add_argument(
        "--dump", type=Path, metavar="FILE", help="write eid, gold and predicted labels as TSV"
    )
    args = parser.parse_args(argv)
    path = args.data / CSV_NAME if args.data.is_dir() else args.data
    if not path.is_file():
        print(f"taxonomy dev: no {CSV_NAME} in {args.data}", file=sys.stderr)
        return 2
    rows = github_rows(path)
    scored = [score_row(row) for row in rows]
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as handle:
            for row, s in zip(rows, scored, strict=True):
                fields = [row["eid"][:8], *s.gold, *s.predicted, f"{s.ename}: {s.evalue}"]
                handle.write("\t".join(fields) + "\n")
    pattern = re.compile(args.grep, re.IGNORECASE) if args.grep else None
    if args.errors or pattern:
        index = DIMENSIONS.index(args.errors or "root cause")
        for row, s in zip(rows, scored, strict=True):
            if pattern and not pattern.search(f"{row['ename']}: {row['evalue']}"):
                continue
            if args.all or s.gold[index] != s.predicted[index]:
                print(describe(row, s, index))
        return 0
    print_scores("github", scored, args.confusions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
