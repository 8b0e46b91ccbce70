"""Stale cells: cells whose latest run read something a later execution of another cell has changed.

A cell is *stale* when a name its latest run read (or changed in place) was written again
afterwards by another cell that did not build on it; it stays stale until it is run again. (In a
pipeline ``df = load()`` / ``df["a"] = …`` / ``df["b"] = …`` the later cells rewrite ``df`` from what
the earlier ones made, so nothing is stale; re-running ``load()``, or a parameter cell upstream,
makes the cells after it stale.) A cell that read from a stale cell's latest run is stale too,
*indirectly* (its input was computed from outdated data).

>>> from provkernel.lineage.graph import build_graph
>>> from provkernel.lineage.model import Execution, Event, DEF, UPDATE, USE
>>> code = {1: "test_size = 0.2", 2: "X = split(test_size)", 3: "test_size = 0.3"}
>>> xs = [Execution(i, 1, i, f"c{i}", f"c{i}", str(i), code[i], float(i), float(i), "ok") for i in code]
>>> ev = [Event(1, DEF, "test_size"), Event(2, USE, "test_size", 1), Event(2, DEF, "X"), Event(3, DEF, "test_size")]
>>> [(s.execution, s.reasons[0].name, s.reasons[0].rewritten_by) for s in stale_cells(build_graph(xs, ev))]
[(2, 'test_size', 3)]
>>> code = {1: "df = load()", 2: "df['a'] = 1", 3: "df['b'] = 2"}
>>> xs = [Execution(i, 1, i, f"c{i}", f"c{i}", str(i), code[i], float(i), float(i), "ok") for i in code]
>>> ev = [Event(1, DEF, "df"), Event(2, UPDATE, "df", 1), Event(3, UPDATE, "df", 2)]
>>> stale_cells(build_graph(xs, ev))  # a pipeline: each cell builds on the one before
[]
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field

import networkx as nx

from provkernel.capture.analysis import analyze
from provkernel.lineage.graph import execution, in_order
from provkernel.lineage.slicing import latest_per_cell


@dataclass(frozen=True)
class StaleReason:
    """Why a cell is stale: it read ``name`` from ``read_from``, and ``rewritten_by`` wrote it again
    (directly), or ``read_from`` is itself a stale cell's latest run (``indirect``)."""

    name: str
    read_from: int
    rewritten_by: int | None = None
    indirect: bool = False


@dataclass
class StaleCell:
    """A cell to re-run: its latest execution and why."""

    execution: int
    reasons: list[StaleReason] = field(default_factory=list)

    @property
    def direct(self) -> bool:
        """A name it read was written again (not only downstream of another stale cell)."""
        return any(not r.indirect for r in self.reasons)


def stale_cells(graph: nx.DiGraph, until: int | None = None) -> list[StaleCell]:
    """The stale cells of an epoch (as of execution ``until``), in the order their latest runs ran."""
    latest = latest_per_cell(graph, until)
    shown = set(latest.values())
    writes: dict[str, list[int]] = {}
    for x in in_order(graph, until):
        node = graph.nodes[x]
        for name in node["defines"] | node["updates"]:
            writes.setdefault(name, []).append(x)
    found: dict[int, StaleCell] = {}
    downstream: dict[int, set[int]] = {}
    for x in sorted(shown):
        cell = execution(graph, x).cell
        reasons = []
        for source in sorted(graph.predecessors(x)):
            for name in sorted(graph.edges[source, x]["names"]):
                rewrite = _first_write_after(graph, writes.get(name, []), x, cell, downstream)
                if rewrite is not None:
                    reasons.append(StaleReason(name, source, rewrite))
                elif source in found:
                    reasons.append(StaleReason(name, source, indirect=True))
        if reasons:
            found[x] = StaleCell(x, reasons)
    return list(found.values())


def _first_write_after(
    graph: nx.DiGraph, writers: list[int], x: int, cell: str, downstream: dict[int, set[int]]
) -> int | None:
    """The first execution after ``x`` among ``writers`` that is of another cell and did not use
    what ``x`` produced (``downstream``: execution → the executions downstream of it, a walk of the
    graph done only for a run that another cell wrote over)."""
    built_on = downstream.get(x)
    for w in writers[bisect.bisect_right(writers, x) :]:
        if built_on is not None and w in built_on:
            continue  # the cheap test first: most later writers built on x in a long history
        if execution(graph, w).cell == cell:
            continue
        if built_on is None:
            built_on = downstream[x] = nx.descendants(graph, x)
            if w in built_on:
                continue
        return w
    return None


def parameter_changes(graph: nx.DiGraph, before: int, after: int) -> list[str]:
    """Literal parameters that differ between two runs of a cell: ``["test_size = 0.3"]``."""
    old = dict(_parameters(execution(graph, before).code))
    new = _parameters(execution(graph, after).code)
    return [f"{name} = {value}" for name, value in new if old.get(name) != value]


@functools.lru_cache(maxsize=1024)
def _parameters(code: str) -> tuple[tuple[str, str], ...]:
    return analyze(code).parameters
