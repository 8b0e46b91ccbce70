"""``provkernel bugdoc NOTEBOOK``: run a notebook on the prov kernel, then find the root cause of its failure."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

from provkernel.errors import UsageError

HELP = "run a notebook, then name the minimal parameter combination that makes it fail (BugDoc)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``NOTEBOOK`` plus the options ``%bugdoc`` takes."""
    from provkernel.bugdoc import arguments

    parser.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file")
    parser.add_argument(
        "--kernel", default="provkernel", help="kernel for the first run (default: provkernel)"
    )
    arguments.add_arguments(parser, cli=True)


def _with_cell_ids(nb) -> None:
    """Notebooks older than nbformat 4.5 have no cell ids; give them some (the run and the target need them)."""
    if any("id" not in cell for cell in nb.cells):
        for cell in nb.cells:
            cell.setdefault("id", uuid.uuid4().hex[:8])
        nb.nbformat_minor = max(nb.nbformat_minor, 5)


def run(args: argparse.Namespace) -> int:
    """Execute the notebook with its own values (recording provenance), then search and report."""
    from rich.console import Console

    from provkernel.bugdoc import BugDocUsageError, arguments
    from provkernel.bugdoc.display import TerminalLive
    from provkernel.bugdoc.notebook_report import BugDocReport, Progress
    from provkernel.bugdoc.session import prepare, search, stored_form
    from provkernel.cli.run import read_notebook
    from provkernel.headless import execute_notebook
    from provkernel.parameters import parameters_cell_index
    from provkernel.store.database import connect
    from provkernel.store.queries import Queries
    from provkernel.store.writer import Writer

    options = arguments.options_from(args)
    nb = read_notebook(args.notebook)
    _with_cell_ids(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if args.target is not None:
        if not args.target.isdigit() or int(args.target) >= len(code_cells):
            raise UsageError(
                f"--target {args.target}: give a code-cell index from 0 to {len(code_cells) - 1}"
            )
        options.target = code_cells[int(args.target)].id
    console = Console(stderr=args.json)
    console.print(f"running {args.notebook} on the prov kernel …", style="dim")
    outcome = execute_notebook(nb, args.notebook, kernel_name=args.kernel, timeout=options.timeout)
    if outcome.error is None and not options.check and args.target is None:
        raise UsageError(
            f"{args.notebook} runs without error with its own values: give --check EXPR or --target INDEX"
        )
    console.print(f"first run: {outcome.error or 'no error'}", style="dim")
    index = parameters_cell_index(nb)
    allowed = None
    if index is not None:
        from provkernel.capture.analysis import analyze

        allowed = [name for name, _ in analyze(nb.cells[index].source).parameters]
    queries = Queries.open()
    try:
        notebook = queries.find_notebook(outcome.path)
        epoch = queries.epochs(notebook["id"])[-1]
        try:
            prepared = prepare(queries, notebook, epoch, options, allowed=allowed)
        except BugDocUsageError as exc:
            raise UsageError(str(exc)) from None
    finally:
        queries.close()
    live = TerminalLive(Progress(prepared.pipeline, "bugdoc"), console)
    started = time.time()
    try:
        result, info = search(prepared, options, cwd=str(Path(outcome.path).parent), on_result=live.update)
    finally:
        live.finish(None)
    report = BugDocReport(prepared, result, info)
    writer = Writer(connect())
    spec = {
        "target": prepared.target_id,
        "check": options.check,
        "same_error": prepared.evaluation.same_error,
        "parameters": {n: [repr(v) for v in vs] for n, vs in prepared.pipeline.space.items()},
    }
    with writer.transaction():
        writer.add_bugdoc_run(
            notebook["id"],
            epoch["id"],
            prepared.target_id,
            prepared.signature,
            started,
            time.time(),
            spec,
            report.to_json(),
            stored_form(result),
        )
    writer.conn.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=repr))
    else:
        Console().print(report)
    return 0
