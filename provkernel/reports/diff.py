"""``diff A [B]``: how the code of two executions differs (a cell's runs, or a cell in two epochs)."""

from __future__ import annotations

import argparse
import difflib

from rich.syntax import Syntax
from rich.text import Text

from provkernel.errors import UsageError
from provkernel.lineage.model import Execution
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, execution_json, parse_ref, select_epoch

HELP = "code difference between two executions of a cell, or the same cell in two epochs"
EPILOG = (
    "A and B are N (execution count N in the latest epoch), E:N (epoch E, count N) or, for B only, "
    "E: (the same cell as A, as it last ran in epoch E). Without B: A against the run of its cell before it."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Two execution references."""
    parser.epilog = EPILOG
    parser.add_argument("a", metavar="A", help="an execution: N or E:N")
    parser.add_argument("b", metavar="B", nargs="?", help="another: N, E:N, or E: for A's cell in epoch E")


class DiffReport(JsonReport):
    """A unified diff of two executions' code."""

    kind = "diff"

    def renderables(self):
        d = self.data
        a, b = d["a"], d["b"]
        cell = "the same cell" if d["same_cell"] else "different cells"
        yield Text(f"{a['epoch']}:[{a['count']}] → {b['epoch']}:[{b['count']}] ({cell})", style="bold")
        if d["identical"]:
            yield Text("identical code", style="green")
        else:
            yield Syntax(d["diff"], "diff", theme="ansi_dark", background_color="default", word_wrap=True)


def _label(run: Execution) -> str:
    return f"epoch {run.epoch} [{run.count}] {run.cell_id or ''}".rstrip()


def build(context: ReportContext, args: argparse.Namespace) -> DiffReport:
    """Resolve both references and diff their code."""
    notebook = context.require_notebook()
    runs = [Execution.from_row(r) for r in context.queries.executions(notebook["id"])]
    latest = select_epoch(context, None)["number"]
    epoch_a, count_a = parse_ref(args.a)
    if count_a is None:
        raise UsageError(f"A must name one execution (N or E:N), not '{args.a}'")
    a = _find(runs, epoch_a or latest, count_a)
    if args.b is None:
        earlier = [r for r in runs if r.cell == a.cell and r.id < a.id]
        if not earlier:
            raise UsageError(f"{a.epoch}:[{a.count}] is the first run of its cell; name a second execution B")
        b, a = a, earlier[-1]
    else:
        epoch_b, count_b = parse_ref(args.b)
        if count_b is None:
            same = [r for r in runs if r.cell == a.cell and r.epoch == epoch_b]
            if not same:
                raise UsageError(f"the cell of {a.epoch}:[{a.count}] did not run in epoch {epoch_b}")
            b = same[-1]
        else:
            b = _find(runs, epoch_b or latest, count_b)
    diff = "\n".join(
        difflib.unified_diff(
            a.shown_code.splitlines(), b.shown_code.splitlines(), _label(a), _label(b), lineterm=""
        )
    )
    return DiffReport(
        {
            "notebook": notebook["path"],
            "a": execution_json(a),
            "b": execution_json(b),
            "same_cell": a.cell == b.cell,
            "identical": a.code_hash == b.code_hash,
            "diff": diff,
        }
    )


def _find(runs: list[Execution], epoch: int, count: int) -> Execution:
    found = [r for r in runs if r.epoch == epoch and r.count == count]
    if not found:
        if not any(r.epoch == epoch for r in runs):
            raise UsageError(f"there is no epoch {epoch}")
        raise UsageError(f"epoch {epoch} has no execution [{count}]")
    return found[-1]
