"""``status``: where the database is, how big, what it holds, and whether capture has failed."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from provkernel.render import Report
from provkernel.reports import ReportContext

HELP = "database path, size, counts and capture errors"
NEEDS_NOTEBOOK = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


class StatusReport(Report):
    """The state of recording."""

    kind = "status"

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_json(self) -> dict[str, Any]:
        return self.data

    def renderables(self):
        d = self.data
        table = Table(title="provkernel status", show_header=False, title_justify="left", box=None)
        table.add_column(style="bold")
        table.add_column()
        table.add_row("database", d["database"])
        table.add_row("size", f"{d['size_bytes'] / 1024:.1f} KiB")
        if d.get("notebook"):
            table.add_row("notebook", d["notebook"])
        if d.get("epoch") is not None:
            table.add_row("this kernel", f"epoch {d['epoch']} · capture errors {d['kernel_capture_errors']}")
        if d.get("capture_errors_by_stage"):
            table.add_row(
                "errors by stage",
                ", ".join(f"{stage} {n}" for stage, n in d["capture_errors_by_stage"].items()),
            )
        if d.get("writes_unavailable"):
            table.add_row(
                "writes", Text(f"failing: {d['writes_unavailable']} (records kept in memory)", style="red")
            )
        if d.get("log"):
            table.add_row("log", d["log"])
        if d.get("recording") is False:
            table.add_row("recording", Text(f"off: {d.get('disabled_reason')}", style="red"))
        for name, count in d["counts"].items():
            table.add_row(name, str(count))
        yield table
        if d["recent_capture_errors"]:
            errors = Table(title="recent capture errors", title_justify="left")
            for col in ("time", "epoch", "stage", "message"):
                errors.add_column(col)
            for e in d["recent_capture_errors"]:
                when = datetime.fromtimestamp(e["time"]).strftime("%Y-%m-%d %H:%M:%S")
                errors.add_row(when, str(e["epoch"] or ""), e["stage"], e["message"])
            yield errors


def build(context: ReportContext, args: argparse.Namespace) -> StatusReport:
    """Collect the status from the database and, in a kernel, the live recorder."""
    q = context.queries
    data: dict[str, Any] = {
        "database": q.path,
        "size_bytes": sum(
            os.path.getsize(q.path + suffix) for suffix in ("", "-wal") if os.path.exists(q.path + suffix)
        ),
        "counts": q.counts(),
        "recent_capture_errors": q.capture_errors(),
        "notebook": context.notebook["path"] if context.notebook else None,
    }
    recorder = context.recorder
    if recorder is not None:
        data["epoch"] = recorder.epoch_number
        data["kernel_capture_errors"] = recorder.errors
        data["capture_errors_by_stage"] = recorder.health.by_stage()
        data["recording"] = recorder.writer is not None
        data["disabled_reason"] = recorder.disabled_reason
        data["log"] = recorder.log_path
        data["writes_unavailable"] = recorder.writer.unavailable if recorder.writer is not None else None
    return StatusReport(data)
