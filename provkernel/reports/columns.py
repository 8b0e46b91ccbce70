"""``columns NAME``: which execution created, retyped, renamed or dropped each column of a DataFrame."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from provkernel.errors import UsageError
from provkernel.lineage.columns import column_lineage, frame_history
from provkernel.lineage.graph import execution
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, execution_json, load_graph, select_epoch

HELP = "column lineage of a DataFrame: the run that created each column and every run that changed it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``NAME`` and ``--epoch N``."""
    parser.add_argument("name", metavar="NAME", help="a DataFrame variable, e.g. df")
    parser.add_argument("--epoch", type=int, metavar="N", help="epoch N (default: the current or latest)")


class ColumnsReport(JsonReport):
    """One row per column, dropped columns last."""

    kind = "columns"

    def renderables(self):
        d = self.data
        table = Table(title=f"columns of {d['name']} (epoch {d['epoch']})", title_justify="left")
        for column in ("column", "dtype", "created by", "changed by", "dropped by"):
            table.add_column(column, overflow="fold")
        for col in d["columns"]:
            changes = ", ".join(
                f"{c['run']} {c['kind']} {c['before']} → {c['after']}" for c in col["changes"]
            )
            name = Text(col["name"], style="dim strike" if col["dropped"] else "bold")
            table.add_row(
                name,
                col["dtype"],
                _run(col["created"]),
                changes,
                _run(col["dropped"]) if col["dropped"] else "",
            )
        yield table
        yield Text(
            f"{d['name']}: {d['rows']:,} rows × {len([c for c in d['columns'] if not c['dropped']])} columns "
            f"after {d['last_run']}",
            style="dim",
        )


def _run(run: dict) -> str:
    return f"{run['tag']} {run['first_line']}"


def build(context: ReportContext, args: argparse.Namespace) -> ColumnsReport:
    """The column lineage of one name in one epoch."""
    epoch = select_epoch(context, args.epoch)
    graph = load_graph(context, epoch)
    history = frame_history(graph, args.name)
    if not history:
        raise UsageError(
            f"no DataFrame named {args.name} was recorded in epoch {epoch['number']} "
            "(columns are known for DataFrames a cell defined or changed)"
        )

    def run(x: int | None) -> dict | None:
        if x is None:
            return None
        r = execution(graph, x)
        return {**execution_json(r), "tag": r.tag}

    columns = [
        {
            "name": c.name,
            "dtype": c.dtype,
            "created": run(c.created),
            "dropped": run(c.dropped),
            "changes": [
                {"run": run(ch.execution_id)["tag"], "kind": ch.kind, "before": ch.before, "after": ch.after}
                for ch in c.changes
            ],
        }
        for c in column_lineage(graph, args.name)
    ]
    last_x, _ = history[-1]
    shape = graph.nodes[last_x]["states"][args.name]
    return ColumnsReport(
        {
            "name": args.name,
            "epoch": epoch["number"],
            "rows": shape[1],
            "last_run": execution(graph, last_x).tag,
            "columns": columns,
        }
    )
