"""Helpers shared by the reports: choosing an epoch, naming executions, loading an epoch's graph, times."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import networkx as nx
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from provkernel.errors import UsageError
from provkernel.lineage import loading
from provkernel.lineage.graph import execution
from provkernel.lineage.model import Execution
from provkernel.render import Report
from provkernel.reports import ReportContext

REF = re.compile(r"^(?:(?P<epoch>\d+):)?(?P<count>\d+)?$")
INTROSPECTION = re.compile(r"^\s*(%+(prov\w*|bugdoc)\b|%load_ext\s+provkernel\b)")


class JsonReport(Report):
    """A report whose JSON form is the dict it is drawn from (``limit``: rows to show, 0 for all)."""

    def __init__(self, data: dict[str, Any], limit: int = 0) -> None:
        self.data, self.limit = data, limit

    def to_json(self) -> dict[str, Any]:
        return self.data


def on_writer(recorder: Any, function: Callable[[Any], Any]) -> Any:
    """Run a maintenance write on the kernel's writer thread, ordered with the records still queued."""
    try:
        return recorder.writer.call(function)
    except Exception as exc:
        raise UsageError(f"the history could not be changed: {type(exc).__name__}: {exc}") from exc


def epochs_of(context: ReportContext) -> list[dict[str, Any]]:
    """The notebook's epochs (a usage error when nothing is recorded)."""
    notebook = context.require_notebook()
    epochs = context.queries.epochs(notebook["id"])
    if not epochs:
        raise UsageError(f"nothing is recorded for {notebook['path']} yet")
    return epochs


def select_epoch(context: ReportContext, number: int | None) -> dict[str, Any]:
    """Epoch ``number``, else the running kernel's epoch, else the latest one."""
    epochs = epochs_of(context)
    if number is None:
        current = [e for e in epochs if e["id"] == context.current_epoch_id]
        return current[0] if current else epochs[-1]
    for epoch in epochs:
        if epoch["number"] == number:
            return epoch
    raise UsageError(
        f"{context.notebook['path']} has no epoch {number}; it has epochs 1 to {epochs[-1]['number']}"
    )


def epoch_filter(context: ReportContext, number: int | None) -> int | None:
    """``number`` after checking that the epoch exists (None: all epochs)."""
    return None if number is None else select_epoch(context, number)["number"]


def load_graph(context: ReportContext, epoch: dict[str, Any]) -> nx.DiGraph:
    """The execution graph of one epoch, with data accesses, outputs and libraries."""
    return loading.load_graph(context.queries, context.require_notebook()["id"], epoch)


def is_introspection(code: str) -> bool:
    """A cell that only asks provkernel something (``%prov …``, ``%provgraph``): not part of the dataflow."""
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(INTROSPECTION.match(line) for line in lines)


def parse_ref(text: str) -> tuple[int | None, int | None]:
    """``"E:N"`` → (E, N); ``"N"`` → (None, N); ``"E:"`` → (E, None)."""
    match = REF.match(text.strip())
    if not match or not (match["epoch"] or match["count"]):
        raise UsageError(f"'{text}' is not an execution: use N (execution count) or E:N (epoch E, count N)")
    epoch, count = match["epoch"], match["count"]
    return (int(epoch) if epoch else None), (int(count) if count else None)


def by_count(graph: nx.DiGraph, count: int, epoch_number: int) -> int:
    """The execution with count ``count`` in the graph's epoch (the last one if the count repeats)."""
    found = [x for x in graph if execution(graph, x).count == count]
    if not found:
        counts = sorted({execution(graph, x).count for x in graph} - {None})
        hint = f"counts run from {counts[0]} to {counts[-1]}" if counts else "it has no executions"
        raise UsageError(f"epoch {epoch_number} has no execution [{count}]; {hint}")
    return max(found)


def cell_execution(graph: nx.DiGraph, ref: str, epoch_number: int, until: int | None = None) -> int:
    """An execution named by its count (``7``) or the latest execution of a cell id (or id prefix)."""
    if ref.strip().isdigit():
        return by_count(graph, int(ref), epoch_number)
    matches = [
        x
        for x in graph
        if (until is None or x <= until) and (execution(graph, x).cell_id or "").startswith(ref)
    ]
    cells = {execution(graph, x).cell for x in matches}
    if len(cells) > 1:
        raise UsageError(
            f"'{ref}' matches {len(cells)} cells; give more of the cell id or an execution count"
        )
    if not matches:
        raise UsageError(f"no cell '{ref}' ran in epoch {epoch_number}; give an execution count such as 3")
    return max(matches)


def when(timestamp: float | None) -> str:
    """Local time for people (``2025-06-01 14:03:12``)."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def iso(timestamp: float | None) -> str | None:
    """ISO 8601 with the local offset, for JSON."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="milliseconds")


def seconds(value: float | None) -> str:
    """A duration for people: ``0.42 s``, ``3.1 s``, ``2 min 5 s``."""
    if value is None:
        return ""
    if value < 10:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"


def execution_json(run: Execution) -> dict[str, Any]:
    """The fields of an execution every report's JSON shares."""
    return {
        "execution_id": run.id,
        "epoch": run.epoch,
        "count": run.count,
        "cell_id": run.cell_id,
        "first_line": run.first_line,
        "status": run.status,
    }


class Fitted:
    """A renderable built for the width it is rendered at (80-column terminal or 110-column notebook)."""

    def __init__(self, build: Callable[[int], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(options.max_width)
