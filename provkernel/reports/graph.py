"""``graph`` (``%provgraph``): the notebook's dependency graph, a slice of it, or what hangs on a name.

In a notebook it draws SVG inline (``text/html`` with an inline ``<svg>``, plus ``image/svg+xml``,
``text/plain`` and the JSON under ``application/vnd.provkernel.graph+json``); in a terminal it prints a table. ``--format`` picks
Mermaid, DOT, JSON or text instead, ``-o FILE`` writes to a file (``-o -``: standard output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import networkx as nx
from rich.text import Text

from provkernel.errors import UsageError
from provkernel.graphview import formats
from provkernel.graphview.svg import draw, lay_out, render_svg
from provkernel.graphview.text import graph_table
from provkernel.lineage.graph import execution
from provkernel.lineage.slicing import (
    backward_slice,
    cells_of,
    forward_impact,
    latest_per_cell,
    rerun_plan,
    state_at,
    writers,
)
from provkernel.lineage.stale import stale_cells
from provkernel.lineage.views import cells_shown, display_graph
from provkernel.render import Report, json_payload, mime_bundle, to_text, vendor_mime
from provkernel.reports import ReportContext
from provkernel.reports.common import (
    by_count,
    cell_execution,
    execution_json,
    is_introspection,
    load_graph,
    select_epoch,
)

HELP = "the notebook's dependency graph (cells, data, libraries), a slice, or what depends on a name"
FORMATS = ("svg", "mermaid", "dot", "json", "text")
SUFFIXES = {
    ".svg": "svg",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".json": "json",
    ".txt": "text",
}
GRAPHVIZ_SUFFIXES = {".png": "png", ".pdf": "pdf"}
# font-size 0: the text an untrusted notebook's sanitizer leaves of the SVG stays invisible (svg.UNTRUSTED_HINT);
# the drawing's own text has explicit sizes
HTML_FRAME = (
    '<div class="provkernel-report provkernel-graph" '
    'style="max-height:760px;overflow:auto;max-width:100%;font-size:0">{svg}</div>'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``%provgraph`` and ``provkernel graph``."""
    parser.add_argument(
        "--epoch", type=int, metavar="N", help="which epoch (default: this kernel's, else the latest)"
    )
    parser.add_argument(
        "--at", metavar="EXECUTION", help="the graph as it was after execution [N] of the epoch"
    )
    focus = parser.add_mutually_exclusive_group()
    focus.add_argument("--var", metavar="NAME", help="what produced NAME and which cells depend on it")
    focus.add_argument(
        "--slice", metavar="CELL", help="the cells to re-run to reproduce a cell (count or cell id)"
    )
    parser.add_argument("--data", action="store_true", help="show data files and URLs")
    parser.add_argument("--libraries", action="store_true", help="show imported packages")
    parser.add_argument(
        "--columns", action="store_true", help="label DataFrames on edges with the columns each run changed"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="svg (notebook default), text (terminal default), …"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (.svg .mmd .dot .json .txt; '-': stdout)"
    )


class GraphReport(Report):
    """A display graph and how to show it."""

    kind = "graph"

    def __init__(
        self, view: nx.DiGraph, data: dict[str, Any], title: str, fmt: str, written: str | None
    ) -> None:
        self.view, self.data, self.title, self.format, self.written = view, data, title, fmt, written

    def to_json(self) -> dict[str, Any]:
        return self.data

    def source(self, fmt: str | None = None) -> str:
        """The graph as text in ``fmt`` (default: the chosen format)."""
        fmt = fmt or self.format
        if fmt == "svg":
            return render_svg(self.view, self.title)
        if fmt == "mermaid":
            return formats.to_mermaid(self.view, self.title)
        if fmt == "dot":
            return formats.to_dot(self.view, self.title)
        if fmt == "json":
            return json.dumps(self.data, indent=2, default=str) + "\n"
        return to_text(graph_table(self.view, self.title))

    def renderables(self):
        if self.written is not None:
            if self.written != "-":
                yield Text(f"wrote the {self.format} graph ({len(self.view)} nodes) to {self.written}")
            return
        yield graph_table(self.view, self.title)
        yield from _summary(self.data)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        if self.written is not None or self.format == "text":
            return mime_bundle(self, self.data, self.kind)
        if self.format == "svg":
            drawing = lay_out(self.view, self.title)  # once, drawn in both styles
            # text/html first for every frontend: JupyterLab draws image/svg+xml as an <img> (no hover
            # titles, no text selection); image/svg+xml is there for tools that save images
            return {
                "text/html": HTML_FRAME.format(svg=draw(drawing, theme=True)),
                "image/svg+xml": draw(drawing),
                "text/plain": to_text(self).rstrip(),
                vendor_mime(self.kind): json_payload(self.data),
            }
        text = self.source()
        if self.format == "mermaid":
            # only on request: JupyterLab would draw Mermaid instead of the SVG
            return {"text/vnd.mermaid": text, "text/plain": text}
        if self.format == "dot" and formats.graphviz_available():
            svg = formats.run_dot(text, "svg").decode()
            return {"text/html": HTML_FRAME.format(svg=svg[svg.find("<svg") :]), "text/plain": text}
        if self.format == "json":
            return {vendor_mime(self.kind): json.loads(text), "text/plain": text}
        return {"text/plain": text}


def _summary(data: dict[str, Any]):
    if "slice" in data:
        steps = data["slice"]
        changed = [s for s in steps if s["code_changed"]]
        line = f"re-run {len(steps)} execution(s) in this order: " + " ".join(
            f"[{s['count']}]" for s in steps
        )
        yield Text(line)
        if changed:
            yield Text(
                "code has changed since in: " + ", ".join(f"[{s['count']}]" for s in changed), style="yellow"
            )
    if "var" in data:
        var = data["var"]
        yield Text(
            f"{var['name']}: written by "
            + (", ".join(f"[{w['count']}]" for w in var["writers"]) or "nothing in this epoch")
            + "; cells depending on it: "
            + (", ".join(f"[{c['latest_count']}] {c['first_line']}" for c in var["dependents"]) or "none")
        )


def _output_format(args: argparse.Namespace, in_kernel: bool) -> str:
    if args.format:
        return args.format
    if args.output and args.output != "-":
        suffix = os.path.splitext(args.output)[1].lower()
        if suffix in SUFFIXES:
            return SUFFIXES[suffix]
        if suffix in GRAPHVIZ_SUFFIXES:
            return "dot"
        raise UsageError(
            f"cannot tell the format of {args.output}: use .svg .mmd .dot .json .txt or --format"
        )
    return "svg" if in_kernel else "text"


def _write(report: GraphReport, path: str) -> None:
    suffix = os.path.splitext(path)[1].lower()
    if path == "-":
        sys.stdout.write(report.source())
        sys.stdout.flush()
        return
    if suffix in GRAPHVIZ_SUFFIXES and report.format == "dot":
        if not formats.graphviz_available():
            raise UsageError(
                f"writing {suffix} needs Graphviz's dot, which is not installed; write .svg instead"
            )
        payload = formats.run_dot(report.source("dot"), GRAPHVIZ_SUFFIXES[suffix])
        with open(path, "wb") as fh:
            fh.write(payload)
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(report.source())
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def build(context: ReportContext, args: argparse.Namespace) -> GraphReport:
    """Load the epoch, choose what to show, and wrap it with its formats."""
    in_kernel = context.recorder is not None
    fmt = _output_format(args, in_kernel)
    epoch = select_epoch(context, args.epoch)
    graph = load_graph(context, epoch)
    if context.current_epoch_id == epoch["id"]:
        # the running %provgraph cell itself is not part of the notebook's dataflow
        graph.remove_nodes_from([x for x in list(graph) if execution(graph, x).status == "running"])
    number = epoch["number"]
    if args.at is not None and not str(args.at).isdigit():
        raise UsageError(f"--at takes an execution count such as 7, not '{args.at}'")
    until = by_count(graph, int(args.at), number) if args.at is not None else None
    data: dict[str, Any] = {
        "notebook": context.require_notebook()["path"],
        "epoch": number,
        "at": execution_json(execution(graph, until)) if until is not None else None,
    }
    if args.slice:
        shown, flags, data["slice"], subject = _slice_view(graph, args.slice, number, until)
        data["view"] = "slice"
    elif args.var:
        shown, flags, data["var"] = _var_view(graph, args.var, number, until)
        data["view"], subject = "var", args.var
    else:
        visible = graph.subgraph(
            [
                x
                for x in graph
                if (until is None or x <= until) and not is_introspection(execution(graph, x).code)
            ]
        )
        latest = latest_per_cell(visible)
        shown = cells_shown(visible, latest)
        stale = stale_cells(visible)
        flags = {cell.execution: {"stale"} for cell in stale}
        data["view"], subject = "cells", f"{len(latest)} cells"
        data["stale"] = [execution_json(execution(graph, cell.execution)) for cell in stale]
    if until is not None:
        data["state"] = {
            name: {
                "execution_id": b.execution_id,
                "count": execution(graph, b.execution_id).count,
                "value": b.value,
            }
            for name, b in state_at(graph, until).items()
        }
    view = display_graph(
        graph, shown, data=args.data, libraries=args.libraries, flags=flags, columns=args.columns
    )
    data.update(formats.to_json(view))
    name = os.path.basename(data["notebook"])
    at = f" · after [{execution(graph, until).count}]" if until is not None else ""
    title = f"{name} · epoch {number}{at} · {subject}"
    report = GraphReport(view, data, title, fmt, None)
    # a terminal gets machine formats on stdout, unless it asked for the JSON report instead
    output = args.output or (None if in_kernel or fmt == "text" or getattr(args, "json", False) else "-")
    if output:
        _write(report, output)
        report.written = output
    return report


def _slice_view(graph: nx.DiGraph, ref: str, number: int, until: int | None):
    """The executions to re-run, in order, to reproduce one cell's execution."""
    target = cell_execution(graph, ref, number, until)
    chosen = backward_slice(graph, [target])
    flags = {x: {"upstream"} for x in chosen} | {target: {"focus"}}
    steps = [
        {**execution_json(s.execution), "reads": list(s.reads), "code_changed": s.code_changed}
        for s in rerun_plan(graph, chosen)
    ]
    return {x: x for x in chosen}, flags, steps, f"slice of [{execution(graph, target).count}]"


def _var_view(graph: nx.DiGraph, name: str, number: int, until: int | None):
    """Executions that produced ``name`` (its slice) and those depending on it."""
    wrote = writers(graph, name, until)
    impact = [x for x in forward_impact(graph, name=name) if until is None or x <= until]
    if not wrote and not impact:
        raise UsageError(f"no execution of epoch {number} defined or read '{name}'")
    upstream = backward_slice(graph, wrote[-1:])
    flags: dict[int, set[str]] = {x: {"upstream"} for x in upstream}
    for x in impact:
        flags.setdefault(x, set()).add("downstream")
    for x in wrote:
        flags.setdefault(x, set()).add("focus")
    shown = {x: x for x in flags}
    dependents = []
    for cell in cells_of(graph, impact):
        runs = [x for x in impact if execution(graph, x).cell == cell]
        last = execution(graph, runs[-1])
        dependents.append(
            {
                "cell_id": last.cell_id,
                "cell": cell,
                "first_line": last.first_line,
                "latest_count": last.count,
                "counts": [execution(graph, x).count for x in runs],
            }
        )
    var = {
        "name": name,
        "writers": [execution_json(execution(graph, x)) for x in wrote],
        "slice": [execution_json(execution(graph, x)) for x in upstream],
        "dependents": dependents,
    }
    return shown, flags, var
