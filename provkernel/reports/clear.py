"""``clear --yes``: forget this notebook's recorded history (export it first if it may be needed)."""

from __future__ import annotations

import argparse
import threading

from rich.text import Text

from provkernel.errors import UsageError
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport
from provkernel.store.database import connect
from provkernel.store.maintenance import forget_in_transaction, forget_notebook

HELP = "forget this notebook's recorded history (export it first: it cannot be undone)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--yes`` confirms."""
    parser.add_argument("--yes", action="store_true", help="really delete (without it, nothing happens)")


class ClearReport(JsonReport):
    """What was forgotten."""

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
        done = _forget_through_writer(recorder, notebook["id"])
    else:
        conn = connect(context.queries.path, create=False)
        try:
            done = forget_notebook(conn, notebook["id"])
        finally:
            conn.close()
    return ClearReport({"notebook": notebook["path"], **done, "kept_current_epoch": recorder is not None})


def _forget_through_writer(recorder, notebook_id: int) -> dict[str, int]:
    """Run the delete on the kernel's writer thread, so it is ordered with the records still queued."""
    result: dict[str, int] = {}
    finished = threading.Event()
    epoch_id = recorder.epoch_id

    def forget(writer) -> None:
        try:
            result.update(forget_in_transaction(writer.conn, notebook_id, keep_epoch=epoch_id))
            # the writer remembers which code texts it stored; some were just deleted
            writer.forget_cached_code()
        finally:
            finished.set()

    recorder.writer.submit(forget)
    recorder.writer.flush()
    if not finished.wait(30) or not result:
        raise UsageError("the history could not be cleared (see %prov status for the error)")
    return result
