"""``provkernel scan PATH... [--format table|csv|json]``: classify the crashes saved in notebooks."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "find the error outputs in saved notebooks and tag each crash with the ML-notebook crash taxonomy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``provkernel scan``."""
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="notebooks, or directories searched recursively"
    )
    parser.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="table (default, with a crash profile), csv (one row per crash) or json",
    )


def run(args: argparse.Namespace) -> int:
    """Scan, print in the chosen format; problems go to stderr, one line each. Exit 0 if every path was read."""
    from provkernel.cli import UsageError
    from provkernel.crashes.scan import find_notebooks, scan_files

    notebooks, missing = find_notebooks(args.paths)
    if missing and not notebooks:
        raise UsageError(f"provkernel scan: {missing[0]}")
    report = scan_files(notebooks, missing)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    elif args.format == "csv":
        sys.stdout.write(report.to_csv())
    else:
        from rich.console import Console

        Console().print(report)
    for problem in report.problems:
        print(f"provkernel scan: {problem}", file=sys.stderr)
    return 1 if report.problems else 0
