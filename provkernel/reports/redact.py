"""``redact``: rewrite this notebook's stored history without secrets (values, errors, code, data sources).

What counts as a secret: the value of any environment variable whose name looks secret (``*KEY*``,
``*TOKEN*``, ``*PASSWORD*`` …), in a kernel also any value of 8+ characters a cell read from
``os.environ``, the values given with ``--value``, and the password of any URL (``user:***@``).
Recording already applies these rules; ``redact`` applies them to what was stored before (or
before a variable was set), and to values you name.
"""

from __future__ import annotations

import argparse
import os

from rich.text import Text

from provkernel.errors import UsageError
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, on_writer
from provkernel.secrets import Secrets
from provkernel.store.database import connect
from provkernel.store.maintenance import checkpoint, redact_in_transaction, redact_notebook

HELP = "remove secrets from this notebook's stored history (env secrets, --value VALUE, URL passwords)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--value VALUE`` (repeat) adds secrets to remove."""
    parser.add_argument(
        "--value", action="append", default=[], metavar="VALUE", help="a secret value to remove (repeat)"
    )


class RedactReport(JsonReport):
    """What was rewritten."""

    kind = "redact"

    def renderables(self):
        d = self.data
        parts = [f"{n} {kind}" for kind, n in d["rewritten"].items() if n]
        yield Text(
            f"redacted {d['notebook']}: "
            + (", ".join(parts) if parts else "no stored text contained a secret")
        )


def build(context: ReportContext, args: argparse.Namespace) -> RedactReport:
    """Rewrite; inside a kernel, through its own writer (ordered with the records still queued)."""
    notebook = context.require_notebook()
    if any(len(v) < 4 for v in args.value):
        raise UsageError("--value needs at least 4 characters (a shorter one would erase ordinary text)")
    recorder = context.recorder
    secrets = recorder.secrets if recorder is not None else Secrets(os.environ, read=None)
    scrub = secrets.scrubber(args.value)
    if recorder is not None and recorder.writer is not None:
        rewritten = on_writer(recorder, lambda w: redact_in_transaction(w.conn, notebook["id"], scrub))
        checkpoint(context.queries.conn)
    else:
        conn = connect(context.queries.path, create=False)
        try:
            rewritten = redact_notebook(conn, notebook["id"], scrub)
        finally:
            conn.close()
    return RedactReport({"notebook": notebook["path"], "rewritten": rewritten})
