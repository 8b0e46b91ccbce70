"""``history``: the notebook's epochs and the executions of one (or every) epoch."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from provkernel.lineage.model import Execution
from provkernel.reports import ReportContext
from provkernel.reports.common import (
    Fitted,
    JsonReport,
    epochs_of,
    execution_json,
    iso,
    seconds,
    select_epoch,
    when,
)
from provkernel.richhtml import Snippet

HELP = "executions per epoch: count, cell, start, duration, status, first line"
STATUS_STYLE = {
    "ok": "green",
    "error": "bold red",
    "aborted": "yellow",
    "died": "bold magenta",
    "running": "cyan",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epoch N`` or ``--all``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--epoch", type=int, metavar="N", help="list the executions of epoch N (default: the latest)"
    )
    group.add_argument("--all", action="store_true", help="list the executions of every epoch")
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="show the N latest executions (0: all)"
    )


class HistoryReport(JsonReport):
    """Epochs, then executions (``codes``: execution id → code, shown on hover in a notebook)."""

    kind = "history"

    def __init__(self, data: dict[str, Any], limit: int = 0, codes: dict[int, str] | None = None) -> None:
        super().__init__(data, limit)
        self.codes = codes or {}

    def renderables(self):
        d = self.data
        yield Text.assemble(
            ("last executed ", "bold"), d["last_executed_local"] or "never", f"  ({d['notebook']})"
        )
        epochs = Table(title="epochs", title_justify="left")
        for column in ("epoch", "started", "runs", "errors", "kernel", "python"):
            epochs.add_column(
                column, justify="right" if column in ("epoch", "runs", "errors") else "left", no_wrap=True
            )
        for e in d["epochs"]:
            epochs.add_row(
                str(e["epoch"]),
                when(e["started_ts"]),
                str(e["executions"]),
                Text(str(e["errors"]), style="red" if e["errors"] else ""),
                e["kernel"],
                e["python"],
            )
        yield epochs
        yield Fitted(self._executions)

    def _executions(self, width: int) -> Table:
        d = self.data
        shown = "every epoch" if d["all"] else f"epoch {d['shown_epoch']}"
        table = Table(title=f"executions of {shown}", title_justify="left", caption_justify="left")
        for column in ("run", "cell", "started", "took", "status"):
            table.add_column(
                column, no_wrap=True, overflow="ellipsis", max_width=10 if column == "cell" else None
            )
        table.add_column("first line", no_wrap=True, overflow="ellipsis", max_width=max(16, width - 72))
        rows = d["executions"][-self.limit :] if self.limit else d["executions"]
        if len(rows) < len(d["executions"]):
            table.caption = (
                f"{len(d['executions']) - len(rows)} earlier executions not shown (--limit 0 shows all)"
            )
        for x in rows:
            status = Text(x["status"], style=STATUS_STYLE.get(x["status"], ""))
            if x.get("ename"):
                status.append(f" {x['ename']}", style="red")
            table.add_row(
                f"{x['epoch']}:[{x['count'] if x['count'] is not None else '*'}]",
                x["cell_id"] or "",
                when(x["started_ts"])[11:],
                seconds(x["duration_s"]),
                status,
                Snippet(x["first_line"], self.codes.get(x["execution_id"])),
            )
        return table


def _epoch_json(epoch: dict[str, Any], stats: dict[str, Any] | None) -> dict[str, Any]:
    stats = stats or {"executions": 0, "errors": 0, "last_activity": None}
    return {
        "epoch": epoch["number"],
        "started": iso(epoch["started"]),
        "ended": iso(epoch["ended"]),
        "started_ts": epoch["started"],
        "ended_ts": epoch["ended"],
        "executions": stats["executions"],
        "errors": stats["errors"],
        "last_activity": iso(stats["last_activity"]),
        "kernel": f"{epoch['kernel']} {epoch['ipykernel']}",
        "python": epoch["python"]
        if epoch["implementation"] == "CPython"
        else f"{epoch['implementation']} {epoch['python']}",
    }


def build(context: ReportContext, args: argparse.Namespace) -> HistoryReport:
    """Epoch summaries plus the chosen executions."""
    notebook = context.require_notebook()
    q = context.queries
    epochs = epochs_of(context)
    stats = q.execution_stats(notebook["id"])
    shown = None if args.all else select_epoch(context, args.epoch)["number"]
    executions, codes = [], {}
    for row in q.executions(notebook["id"], shown):
        run = Execution.from_row(row)
        codes[run.id] = run.shown_code  # passwords in URLs masked, as every report shows code
        executions.append(
            {
                **execution_json(run),
                "started": iso(run.started),
                "started_ts": run.started,
                "ended": iso(run.ended),
                "duration_s": run.duration,
                "ename": run.ename,
                "evalue": run.evalue,
            }
        )
    last = max((s["last_activity"] for s in stats.values() if s["last_activity"]), default=None)
    return HistoryReport(
        {
            "notebook": notebook["path"],
            "last_executed": iso(last),
            "last_executed_local": when(last),
            "epochs": [_epoch_json(e, stats.get(e["id"])) for e in epochs],
            "shown_epoch": shown,
            "all": bool(args.all),
            "executions": executions,
        },
        max(0, args.limit),
        codes,
    )
