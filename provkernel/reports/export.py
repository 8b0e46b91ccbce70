"""``export FILE``: the notebook's provenance as W3C PROV (JSON, PROV-N, RDF) or provkernel's own JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rich.text import Text

from provkernel.errors import UsageError
from provkernel.export import (
    FORMATS,
    ExportUnavailable,
    NotebookRecord,
    counts,
    prov_document,
    serialize,
    to_plain_json,
)
from provkernel.lineage.model import Access, Event, Execution, Library
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, epochs_of, select_epoch

HELP = (
    "write the provenance as W3C PROV (prov-json, prov-n, prov-rdf) or plain json, to share with the notebook"
)
SUFFIXES = {".provn": "prov-n", ".ttl": "prov-rdf", ".rdf": "prov-rdf", ".json": "prov-json"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``FILE``, ``--format``, ``--epoch``."""
    parser.add_argument("file", metavar="FILE", help="where to write ('-': standard output)")
    parser.add_argument(
        "--format", choices=(*FORMATS, "json"), help="default: from FILE's suffix, else prov-json"
    )
    parser.add_argument("--epoch", type=int, metavar="N", help="only epoch N (default: every epoch)")


class ExportReport(JsonReport):
    """What was written where."""

    kind = "export"

    def renderables(self):
        d = self.data
        if d["file"] == "-":
            return
        what = ", ".join(f"{n} {k}" for k, n in d["counts"].items())
        yield Text(f"wrote {d['format']} ({what}) to {d['file']}")


def gather(context: ReportContext, epoch_number: int | None = None) -> NotebookRecord:
    """Everything recorded about the notebook (or one epoch of it) as plain records."""
    notebook = context.require_notebook()
    q = context.queries
    epochs = [select_epoch(context, epoch_number)] if epoch_number is not None else epochs_of(context)
    record = NotebookRecord(notebook["path"], epochs, [])
    for epoch in epochs:
        number = epoch["number"]
        record.executions += [Execution.from_row(r) for r in q.executions(notebook["id"], number)]
        record.events += [Event.from_row(r) for r in q.symbols(epoch["id"])]
        record.accesses += [Access.from_row(r) for r in q.data_accesses(notebook["id"], number)]
        record.outputs += q.outputs(notebook["id"], number)
        record.libraries[number] = [Library.from_row(r) for r in q.libraries(notebook["id"], number)]
    return record


def build(context: ReportContext, args: argparse.Namespace) -> ExportReport:
    """Gather, convert, write."""
    fmt = args.format or SUFFIXES.get(os.path.splitext(args.file)[1].lower(), "prov-json")
    record = gather(context, args.epoch)
    found = {"executions": len(record.executions)}
    try:
        if fmt == "json":
            text = json.dumps(to_plain_json(record), indent=2, default=str)
        else:
            document = prov_document(record)
            text = serialize(document, fmt)
            found = counts(document)
    except ExportUnavailable as exc:
        raise UsageError(str(exc)) from None
    if args.file == "-":
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
        sys.stdout.flush()
    else:
        try:
            with open(args.file, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    return ExportReport(
        {
            "notebook": record.path,
            "file": args.file if args.file == "-" else os.path.abspath(args.file),
            "format": fmt,
            "bytes": len(text.encode()),
            "counts": found,
            "hint": "share this file with the notebook",
        }
    )
