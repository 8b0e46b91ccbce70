"""``provkernel bugdoc NOTEBOOK``: run a notebook on the prov kernel, then find the root cause of its failure."""

from __future__ import annotations

import argparse
import json

from provkernel.errors import UsageError

HELP = "run a notebook, then name the minimal parameter combination that makes it fail (BugDoc)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``NOTEBOOK`` plus the options ``%bugdoc`` takes."""
    from provkernel.bugdoc.notebook import arguments

    parser.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file")
    parser.add_argument(
        "--kernel", default="provkernel", help="kernel for the first run (default: provkernel)"
    )
    arguments.add_arguments(parser, cli=True)


def run(args: argparse.Namespace) -> int:
    """Execute the notebook with its own values (recording provenance), then search and report."""
    from rich.console import Console

    from provkernel.bugdoc.notebook import arguments
    from provkernel.bugdoc.notebook.offline import bugdoc_notebook

    if args.target is not None and not args.target.isdigit():
        raise UsageError(f"--target {args.target}: give the 0-based index of a code cell")
    report = bugdoc_notebook(
        args.notebook,
        arguments.options_from(args),
        kernel=args.kernel,
        target_index=None if args.target is None else int(args.target),
        console=Console(stderr=args.json),
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=repr))
    else:
        Console().print(report)
    return 0
