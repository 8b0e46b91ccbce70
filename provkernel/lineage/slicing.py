"""Questions over the execution graph: what produced a name, what depends on it, what held when.

All functions are pure and take the graph :func:`provkernel.lineage.graph.build_graph` returns.

>>> from provkernel.lineage.graph import build_graph
>>> from provkernel.lineage.model import Execution, Event, DEF, USE
>>> code = {1: "a = 1", 2: "b = 2", 3: "c = a + 1", 4: "d = c * 2"}
>>> xs = [Execution(i, 1, i, f"c{i}", f"c{i}", str(i), code[i], 0.0, 1.0, "ok") for i in code]
>>> ev = [Event(1, DEF, "a", None, "1"), Event(2, DEF, "b"), Event(3, USE, "a", 1), Event(3, DEF, "c"),
...       Event(4, USE, "c", 3), Event(4, DEF, "d")]
>>> g = build_graph(xs, ev)
>>> backward_slice(g, [4]), forward_impact(g, name="a"), state_at(g, 1)["a"].value
([1, 3, 4], [3, 4], '1')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from provkernel.lineage.graph import execution, in_order
from provkernel.lineage.model import Execution


@dataclass(frozen=True)
class Binding:
    """A name's state at some point: the execution that last wrote it and the value it recorded."""

    name: str
    execution_id: int
    value: str | None


@dataclass(frozen=True)
class Step:
    """One execution to re-run when reproducing a slice.

    ``code_changed`` is True when the cell's latest code in the epoch differs from what ran here,
    i.e. re-running the cell as it is now would not reproduce this step.
    """

    execution: Execution
    reads: tuple[str, ...]
    code_changed: bool


def writers(graph: nx.DiGraph, name: str, until: int | None = None) -> list[int]:
    """Executions that defined or updated ``name`` (up to ``until``), in order."""
    nodes = graph.nodes
    return [x for x in in_order(graph, until) if name in nodes[x]["defines"] or name in nodes[x]["updates"]]


def last_writer(graph: nx.DiGraph, name: str, at: int | None = None) -> int | None:
    """The execution whose write of ``name`` was visible after execution ``at`` (None: unknown)."""
    binding = state_at(graph, at).get(name)
    return binding.execution_id if binding else None


def backward_slice(graph: nx.DiGraph, targets: Iterable[int]) -> list[int]:
    """The minimal, ordered executions that produced ``targets``: their ancestors and themselves.

    Re-running exactly these, in this order, rebuilds what the targets read.
    """
    needed: set[int] = set()
    for target in targets:
        if target in graph and target not in needed:
            needed.add(target)
            needed |= nx.ancestors(graph, target)
    return sorted(needed)


def slice_for_name(graph: nx.DiGraph, name: str, at: int | None = None) -> list[int]:
    """Executions to re-run to rebuild ``name`` as it was after execution ``at`` (empty if unknown)."""
    writer = last_writer(graph, name, at)
    return backward_slice(graph, [writer]) if writer is not None else []


def readers(graph: nx.DiGraph, name: str, until: int | None = None) -> list[int]:
    """Executions that read ``name`` or changed it in place (so depend on its previous value)."""
    nodes = graph.nodes
    return [x for x in in_order(graph, until) if name in nodes[x]["uses"] or name in nodes[x]["updates"]]


def forward_impact(
    graph: nx.DiGraph, *, name: str | None = None, executions: Iterable[int] = ()
) -> list[int]:
    """Executions that depend, transitively, on ``name`` or on the given executions, in order.

    For a name, the executions that read it (or changed it in place) and everything downstream
    of them; for executions, everything downstream of them (not themselves).
    """
    start = set(readers(graph, name)) if name is not None else set()
    found = set(start)
    for node in [*start, *executions]:
        if node in graph:
            found |= nx.descendants(graph, node)
    return sorted(found)


def state_at(graph: nx.DiGraph, at: int | None = None) -> dict[str, Binding]:
    """The names defined after execution ``at`` (None: after the last one), with their writers."""
    state: dict[str, Binding] = {}
    nodes = graph.nodes
    for x in in_order(graph, at):
        node = nodes[x]
        for name in node["deletes"]:
            state.pop(name, None)
        for name in node["defines"] | node["updates"]:
            state[name] = Binding(name, x, node["values"].get(name))
    return dict(sorted(state.items()))


def latest_per_cell(graph: nx.DiGraph, until: int | None = None) -> dict[str, int]:
    """Each cell's latest execution (up to ``until``), in the order those executions ran."""
    latest: dict[str, int] = {}
    for x in in_order(graph, until):
        cell = execution(graph, x).cell
        latest.pop(cell, None)
        latest[cell] = x
    return dict(sorted(latest.items(), key=lambda kv: kv[1]))


def cells_of(graph: nx.DiGraph, executions: Iterable[int]) -> list[str]:
    """The distinct cells of some executions, in the order they first ran."""
    return list(dict.fromkeys(execution(graph, x).cell for x in sorted(executions)))


def rerun_plan(graph: nx.DiGraph, executions: Iterable[int]) -> list[Step]:
    """Steps for re-running a slice: each execution with the names it read from the slice."""
    chosen = sorted(set(executions))
    inside = set(chosen)
    latest = latest_per_cell(graph)
    steps = []
    for x in chosen:
        reads = set()
        for source in graph.predecessors(x):
            if source in inside:
                edge = graph.edges[source, x]
                reads |= edge["names"] | edge["files"]
        run = execution(graph, x)
        now = execution(graph, latest[run.cell]).code_hash
        steps.append(Step(run, tuple(sorted(reads)), now != run.code_hash))
    return steps
