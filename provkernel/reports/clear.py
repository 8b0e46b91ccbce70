"""``clear --yes``: forget this notebook's recorded history (export it first if it may be needed)."""

from __future__ import annotations

import argparse

from rich.text import Text

from provkernel.errors import UsageError
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, on_writer
from provkernel.store.database import connect
from provkernel.store.maintenance import forget_in_transaction, forget_notebook

HELP = "forget this notebook's recorded history (export it first: it cannot be undone)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--yes`` confirms."""
    parser.add_argument("--yes", action="store_true", help="really delete (without it, nothing happens)")


class ClearReport(JsonReport):
    """What was forgotten."""

    kind = "clear"

    def renderables(self):
        d = self.data
        yield Text(
            f"forgot {d['executions']} executions in {d['epochs']} epochs of {d['notebook']}"
            + (" (this kernel goes on recording)" if d["kept_current_epoch"] else "")
        )


def build(context: ReportContext, args: argparse.Namespace) -> ClearReport:
    """Delete, after an explicit ``--yes``; inside a kernel, through its own writer."""
    notebook = context.require_notebook()
    if not args.yes:
        epochs = context.queries.epochs(notebook["id"])
        runs = sum(e["executions"] for e in epochs)
        raise UsageError(
            f"this deletes {runs} executions in {len(epochs)} epochs of {notebook['path']} for good; "
            "export them first (%prov export FILE, or provkernel export NOTEBOOK FILE), then add --yes"
        )
    recorder = context.recorder
    if recorder is not None and recorder.writer is not None and recorder.epoch_id is not None:
        epoch_id = recorder.epoch_id

        def forget(writer) -> dict[str, int]:
            result = forget_in_transaction(writer.conn, notebook["id"], keep_epoch=epoch_id)
            writer.forget_cached_code()  # the writer remembers which code texts it stored; some are gone
            return result

        done = on_writer(recorder, forget)
    else:
        conn = connect(context.queries.path, create=False)
        try:
            done = forget_notebook(conn, notebook["id"])
        finally:
            conn.close()
    return ClearReport({"notebook": notebook["path"], **done, "kept_current_epoch": recorder is not None})
