"""``provkernel <report> NOTEBOOK [--json]``: the ``%prov`` reports from the shell."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from types import ModuleType

from provkernel.errors import UsageError
from provkernel.reports import ReportContext, available_reports, report_module


def add_report_commands(subparsers, parser_class: type[argparse.ArgumentParser]) -> None:
    """One subcommand per report."""
    for name in available_reports():
        module = report_module(name)
        command = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        needs_notebook = getattr(module, "NEEDS_NOTEBOOK", True)
        command.add_argument(
            "notebook",
            metavar="NOTEBOOK",
            nargs=None if needs_notebook else "?",
            help="the notebook's path as the kernel saw it (relative paths are resolved)",
        )
        command.add_argument("--json", action="store_true", help="print JSON for scripts")
        command.add_argument(
            "--db",
            metavar="PATH",
            help="provenance database (default: $PROVKERNEL_DB or the Jupyter data dir)",
        )
        module.add_arguments(command)
        command.set_defaults(run=functools.partial(run_report, module))


def run_report(module: ModuleType, args: argparse.Namespace) -> int:
    """Build one report and print it as rich text or JSON."""
    from provkernel.store.database import StoreError
    from provkernel.store.queries import NotebookNotFound, Queries

    try:
        queries = Queries.open(args.db)
    except StoreError as exc:
        raise UsageError(f"provkernel: {exc}") from None
    try:
        notebook = queries.find_notebook(args.notebook) if args.notebook else None
    except NotebookNotFound as exc:
        print(f"provkernel: {exc}", file=sys.stderr)
        return 1
    try:
        report = module.build(ReportContext(queries, notebook), args)
    finally:
        queries.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        from rich.console import Console

        Console().print(report)
    return 0


__all__ = ["add_report_commands", "available_reports", "run_report"]
