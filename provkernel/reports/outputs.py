"""``outputs``: which execution produced which rich output (figures, tables), and where a saved one came from."""

from __future__ import annotations

import argparse
import os
from typing import Any

import nbformat
from rich.table import Table
from rich.text import Text

from provkernel.capture.outputs import content_hash
from provkernel.errors import UsageError
from provkernel.lineage.model import first_line
from provkernel.reports import ReportContext
from provkernel.reports.common import Fitted, JsonReport, epoch_filter
from provkernel.richhtml import Snippet

HELP = "which execution produced which rich output (figures); --saved traces the outputs in the .ipynb file"
PLAIN = frozenset({"text/plain"})
PREFERRED = (
    "image/png",
    "image/svg+xml",
    "image/jpeg",
    "text/html",
    "application/json",
    "text/latex",
    "text/plain",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Filters and the saved-notebook lookup."""
    parser.add_argument("--epoch", type=int, metavar="N", help="only epoch N")
    parser.add_argument(
        "--hash", metavar="PREFIX", help="the output(s) whose content hash starts with PREFIX"
    )
    parser.add_argument(
        "--saved",
        action="store_true",
        help="find which execution produced each output saved in the notebook file",
    )
    parser.add_argument("--all", action="store_true", help="include plain-text results too")


class OutputsReport(JsonReport):
    """Outputs and their producers."""

    kind = "outputs"

    def renderables(self):
        d = self.data
        if d.get("saved") is not None:
            table = Table(title=f"outputs saved in {os.path.basename(d['notebook'])}", title_justify="left")
            for column in ("cell", "output", "type", "produced by"):
                table.add_column(column, overflow="fold")
            for s in d["saved"]:
                producers = " ".join(f"{p['epoch']}:[{p['count']}]" for p in s["produced_by"])
                table.add_row(
                    f"{s['cell_index']} {s['cell_id'] or ''}",
                    str(s["output_index"]),
                    s["mime"],
                    Text(
                        producers or "not recorded (edited or from another kernel)",
                        style="" if producers else "dim",
                    ),
                )
            yield table
            return
        if not d["outputs"]:
            yield Text("no matching outputs were recorded", style="dim")
            return
        yield Fitted(self._table)

    def _table(self, width: int) -> Table:
        d = self.data
        table = Table(title="rich outputs" if not d["all"] else "outputs", title_justify="left")
        for column in ("run", "#", "types", "hash"):
            table.add_column(
                column, no_wrap=True, overflow="ellipsis", max_width=30 if column == "types" else None
            )
        table.add_column("code", no_wrap=True, overflow="ellipsis", max_width=max(12, width - 66))
        for o in d["outputs"]:
            table.add_row(
                f"{o['epoch']}:[{o['count']}]",
                str(o["seq"]),
                ", ".join(sorted(o["mimes"])),
                o["hash"][:12],
                Snippet(o["first_line"]),
            )
        return table


def _group(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per displayed output (execution, seq) with its MIME entries."""
    outputs: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        key = (row["execution_id"], row["seq"])
        if key not in outputs:
            outputs[key] = {
                "execution_id": row["execution_id"],
                "epoch": row["epoch"],
                "count": row["count"],
                "cell_id": row["cell_id"],
                "status": row["status"],
                "first_line": first_line(row["code"]),
                "seq": row["seq"],
                "mimes": {},
            }
        outputs[key]["mimes"][row["mime"]] = row["hash"]
    for output in outputs.values():
        main = next((m for m in PREFERRED if m in output["mimes"]), min(output["mimes"]))
        output["hash"] = output["mimes"][main]
    return list(outputs.values())


def _saved(context: ReportContext, path: str) -> list[dict[str, Any]]:
    """Each rich output in the saved notebook file, with the executions that produced that content."""
    if not path.endswith(".ipynb") or not os.path.exists(path):
        raise UsageError(f"--saved needs the notebook file, and {path} is not one")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types for an unreadable file
        raise UsageError(f"cannot read {path}: {exc}") from None
    notebook_id = context.require_notebook()["id"]
    saved = []
    for index, cell in enumerate(nb.cells):
        for number, output in enumerate(cell.get("outputs", [])):
            data = output.get("data") or {}
            mime = next((m for m in PREFERRED if m in data and m not in PLAIN), None)
            if mime is None:
                continue
            digest = content_hash(data[mime])
            producers = context.queries.outputs(notebook_id, hash_prefix=digest)
            saved.append(
                {
                    "cell_index": index,
                    "cell_id": cell.get("id"),
                    "output_index": number,
                    "mime": mime,
                    "hash": digest,
                    "produced_by": [
                        {"execution_id": p["execution_id"], "epoch": p["epoch"], "count": p["count"]}
                        for p in producers
                        if p["hash"] == digest
                    ],
                }
            )
    return saved


def build(context: ReportContext, args: argparse.Namespace) -> OutputsReport:
    """Recorded outputs (filtered), or the provenance of the saved notebook's outputs."""
    notebook = context.require_notebook()
    if args.saved:
        return OutputsReport({"notebook": notebook["path"], "saved": _saved(context, notebook["path"])})
    if args.hash is not None and not all(c in "0123456789abcdef" for c in args.hash.lower()):
        raise UsageError(f"--hash takes a hexadecimal prefix, not '{args.hash}'")
    rows = context.queries.outputs(
        notebook["id"], epoch_filter(context, args.epoch), (args.hash or "").lower() or None
    )
    outputs = _group(rows)
    if not args.all and not args.hash:
        outputs = [o for o in outputs if set(o["mimes"]) - PLAIN]
    if args.hash:
        outputs = [o for o in outputs if any(h.startswith(args.hash.lower()) for h in o["mimes"].values())]
    return OutputsReport({"notebook": notebook["path"], "all": bool(args.all), "outputs": outputs})
