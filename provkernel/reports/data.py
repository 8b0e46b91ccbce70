"""``data``: the files and URLs the notebook read or wrote, who first used each, and whether they changed."""

from __future__ import annotations

import argparse
import os
from itertools import pairwise
from typing import Any

from rich.table import Table
from rich.text import Text

from provkernel.lineage.model import DEF, USE
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, epoch_filter, iso

HELP = "data files and URLs: the execution and variable that first used each, and whether the content changed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epoch N`` limits to one epoch."""
    parser.add_argument("--epoch", type=int, metavar="N", help="only epoch N (default: every epoch)")


class DataSourcesReport(JsonReport):
    """Data sources and their history."""

    kind = "data"

    def renderables(self):
        d = self.data
        if not d["sources"]:
            yield Text("no data files or URLs were recorded", style="dim")
            return
        table = Table(title="data sources", title_justify="left")
        for column in ("source", "first used", "variables", "reads", "writes", "content"):
            table.add_column(
                column, overflow="fold", justify="right" if column in ("reads", "writes") else "left"
            )
        for s in d["sources"]:
            first = s["first"]
            content = (
                Text(f"changed {len(s['changes'])}×", style="bold yellow")
                if s["changed"]
                else Text("same", style="green")
            )
            table.add_row(
                s["display"],
                f"{first['epoch']}:[{first['count']}] {first['mode']}",
                ", ".join(s["variables"]),
                str(s["reads"]),
                str(s["writes"]),
                content,
            )
        yield table
        for s in d["sources"]:
            for change in s["changes"]:
                before, after = change["before"], change["after"]
                yield Text(
                    f"{s['display']}: content changed between {before['epoch']}:[{before['count']}] "
                    f"and {after['epoch']}:[{after['count']}] ({after['mode']})",
                    style="yellow",
                )


def _display(location: str, base: str) -> str:
    if "://" in location:
        return location
    try:
        relative = os.path.relpath(location, base)
    except ValueError:
        return location
    return location if relative.startswith("..") else relative


def _ref(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "execution_id": row["execution_id"],
        "epoch": row["epoch"],
        "count": row["count"],
        "mode": row["mode"],
        "time": iso(row["started"]),
        "hash": row["hash"],
        "size": row["size"],
    }


def build(context: ReportContext, args: argparse.Namespace) -> DataSourcesReport:
    """Group accesses by source; compare content fingerprints between consecutive uses."""
    notebook = context.require_notebook()
    q = context.queries
    rows = q.data_accesses(notebook["id"], epoch_filter(context, args.epoch))
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_source.setdefault(row["location"], []).append(row)
    firsts = [accesses[0]["execution_id"] for accesses in by_source.values()]
    events = q.events_of(firsts, (USE, DEF))
    base = os.path.dirname(notebook["path"]) if notebook["path"].endswith(".ipynb") else notebook["path"]
    sources = []
    for location, accesses in by_source.items():
        first = accesses[0]
        # a read feeds the names its execution defined; a write comes from the names it read
        wanted = DEF if first["mode"] != "write" else USE
        variables = [
            e["name"] for e in events if e["execution_id"] == first["execution_id"] and e["kind"] == wanted
        ]
        changes = [
            {"before": _ref(before), "after": _ref(after)}
            for before, after in pairwise(accesses)
            if before["hash"] and after["hash"] and before["hash"] != after["hash"]
        ]
        sources.append(
            {
                "location": location,
                "display": _display(location, base),
                "kind": first["kind"],
                "first": _ref(first),
                "variables": variables,
                "reads": sum(1 for a in accesses if a["mode"] in ("read", "readwrite")),
                "writes": sum(1 for a in accesses if a["mode"] in ("write", "readwrite")),
                "versions": len({a["hash"] for a in accesses if a["hash"]}),
                "changed": bool(changes),
                "changes": changes,
                "accesses": [_ref(a) for a in accesses],
            }
        )
    return DataSourcesReport({"notebook": notebook["path"], "epoch": args.epoch, "sources": sources})
