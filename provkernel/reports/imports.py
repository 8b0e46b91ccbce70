"""``imports``: the packages of an epoch, their versions, how often each was used, and unused imports."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from provkernel.lineage.graph import execution
from provkernel.lineage.usage import import_usage
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, load_graph, select_epoch

HELP = "libraries of an epoch with versions, how often each was used, unused imports flagged"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epoch N``, ``--all``."""
    parser.add_argument(
        "--epoch", type=int, metavar="N", help="which epoch (default: this kernel's, else the latest)"
    )
    parser.add_argument("--all", action="store_true", help="also list packages only pulled in by others")


class ImportsReport(JsonReport):
    """Imported packages of one epoch."""

    kind = "imports"

    def __init__(self, data: dict[str, Any], show_all: bool) -> None:
        super().__init__(data)
        self.show_all = show_all

    def renderables(self):
        d = self.data
        if not d["libraries"]:
            yield Text(f"no libraries were recorded in epoch {d['epoch']}", style="dim")
            return
        table = Table(title=f"libraries imported in epoch {d['epoch']}", title_justify="left")
        for column in ("package", "version", "imported in", "uses", "used in", "unused imports"):
            table.add_column(column, overflow="fold", justify="right" if column == "uses" else "left")
        for lib in d["libraries"]:
            if lib["kind"] == "indirect" and not self.show_all:
                continue
            unused = [a["alias"] for a in lib["aliases"] if not a["used_by"]]
            name = Text(lib["name"], style="bold" if lib["kind"] == "direct" else "")
            if lib["kind"] != "direct":
                name.append(f" ({lib['kind']})", style="dim")
            table.add_row(
                name,
                lib["version"] or "",
                " ".join(f"[{c}]" for c in lib["imported_in"]),
                Text(str(lib["uses"]), style="bold red" if lib["unused"] else ""),
                " ".join(f"[{c}]" for c in lib["used_in"]),
                Text(", ".join(unused), style="red"),
            )
        yield table
        if d["unused"]:
            yield Text("imported but never used: " + ", ".join(d["unused"]), style="bold red")
        if d["most_used"]:
            yield Text(f"most used: {d['most_used']}")
        hidden = sum(1 for lib in d["libraries"] if lib["kind"] == "indirect")
        if hidden and not self.show_all:
            yield Text(f"{hidden} more packages were loaded by these (--all lists them)", style="dim")


def build(context: ReportContext, args: argparse.Namespace) -> ImportsReport:
    """Combine the epoch's libraries (versions) with the import statements' uses."""
    epoch = select_epoch(context, args.epoch)
    graph = load_graph(context, epoch)
    facts = context.queries.code_facts_many([execution(graph, x).code_hash for x in graph])
    usage = import_usage(graph, facts)
    recorded = {lib.name: lib for lib in graph.graph["libraries"]}

    def counts(ids: list[int]) -> list[int | None]:
        return [execution(graph, x).count for x in ids]

    libraries = []
    for name in sorted(set(recorded) | set(usage), key=str.lower):
        lib, use = recorded.get(name), usage.get(name)
        kind = lib.kind if lib else "missing"  # imported by code, never loaded (the import failed)
        if use is not None and kind == "indirect":
            kind = "direct"
        libraries.append(
            {
                "name": name,
                "distribution": lib.distribution if lib else None,
                "version": lib.version if lib else None,
                "kind": kind,
                "imported_in": counts(use.imported_by) if use else [],
                "uses": use.uses if use else 0,
                "used_in": counts(use.used_by) if use else [],
                "unused": bool(use) and not use.used,
                "aliases": [
                    {
                        "alias": a.alias,
                        "module": a.module,
                        "name": a.name,
                        "imported_in": execution(graph, a.execution_id).count,
                        "used_by": counts(a.used_by),
                    }
                    for a in (use.aliases if use else [])
                ],
            }
        )
    imported = [lib for lib in libraries if lib["imported_in"]]
    most = min(imported, key=lambda lib: (-lib["uses"], lib["name"].lower()), default=None)
    return ImportsReport(
        {
            "notebook": context.require_notebook()["path"],
            "epoch": epoch["number"],
            "libraries": libraries,
            "external": [lib["name"] for lib in libraries if lib["kind"] == "direct"],
            "unused": [lib["name"] for lib in libraries if lib["unused"]],
            "most_used": most["name"] if most and most["uses"] else None,
        },
        args.all,
    )
