"""Accuracy of the live crash diagnosis per root cause, on the crash stories (issue 13).

Runs every story of ``tests/kernel/crash_stories.py`` (or of ``--stories MODULE``) in real prov kernels
and reports, per expected root cause, how many got the root cause (summary, and fine when the story names
it), the crash type, the library, the decisive evidence, and all four. ``--failures`` lists what each
missed story got.

usage: python benchmarks/crash_stories.py [--stories MODULE] [--markdown] [--failures] [--code DIR]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.kernel.crash_stories import Outcome, run_stories

CHECKS = ("root cause", "crash type", "library", "evidence")


def table(outcomes: list[Outcome], markdown: bool) -> str:
    """One row per root cause (and a total): story count and the share passing each check."""
    causes = list(dict.fromkeys(o.story.root_cause for o in outcomes))
    rows = [(cause, [o for o in outcomes if o.story.root_cause == cause]) for cause in causes]
    rows.append(("all", outcomes))
    header = ["root cause", "stories", *CHECKS, "all four"]
    lines = []
    if markdown:
        lines += ["| " + " | ".join(header) + " |", "|---|--:|" + "--:|" * (len(CHECKS) + 1)]
    else:
        lines.append(f"{header[0]:<22}{header[1]:>8}" + "".join(f"{h:>12}" for h in header[2:]))
    for cause, group in rows:
        passed = [sum(o.checks[c] for o in group) for c in CHECKS]
        passed.append(sum(all(o.checks.values()) for o in group))
        cells = [f"{p}/{len(group)}" for p in passed]
        if markdown:
            lines.append(f"| {cause} | {len(group)} | " + " | ".join(cells) + " |")
        else:
            lines.append(f"{cause:<22}{len(group):>8}" + "".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        missed = [c for c, ok in o.checks.items() if not ok]
        if missed:
            d = o.diagnosis or {}
            lines.append(
                f"{o.story.name}: missed {', '.join(missed)}; got {d.get('crash_type')} | "
                f"{d.get('root_cause_detail')} | {d.get('library')} — {o.evidence}"
            )
    return "\n".join(lines) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", default="tests.kernel.crash_stories", help="module with a STORIES tuple")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--failures", action="store_true")
    parser.add_argument(
        "--code",
        type=Path,
        help="a folder holding another provkernel package to diagnose with (e.g. `git archive main` unpacked)",
    )
    args = parser.parse_args(argv)
    stories = importlib.import_module(args.stories).STORIES
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crash-stories-") as folder:
        outcomes = run_stories(Path(folder), stories, code=args.code)
    print(table(outcomes, args.markdown))
    print(f"\n{len(outcomes)} stories in {time.perf_counter() - started:.0f} s")
    if args.failures:
        print(failures(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
