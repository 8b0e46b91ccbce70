"""The execution graph of one epoch: which execution read what another one wrote.

Nodes are execution ids (chronological, see ``store.writer.execution_id``); an edge ``a → b``
means ``b`` read a name ``a`` defined or updated (edge attribute ``names``), or a file ``a``
wrote (``files``). Every edge points forward in time, so the graph is a DAG.

>>> from provkernel.lineage.model import Execution, Event, DEF, USE
>>> xs = [Execution(i, 1, i, f"c{i}", f"c{i}", "h", "x = 1", 0.0, 1.0, "ok") for i in (1, 2)]
>>> g = build_graph(xs, [Event(1, DEF, "x"), Event(2, USE, "x", 1)])
>>> g.edges[1, 2]["names"]
{'x'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from provkernel.lineage.model import DEF, DELETE, UPDATE, USE, Access, Event, Execution, Library, State


def build_graph(
    executions: Iterable[Execution],
    events: Iterable[Event],
    accesses: Iterable[Access] = (),
    outputs: Mapping[int, Iterable[str]] | None = None,
    libraries: Iterable[Library] = (),
    states: Iterable[State] = (),
) -> nx.DiGraph:
    """The execution graph of one epoch.

    Node attributes: ``execution`` (:class:`Execution`), ``uses``, ``defines``, ``updates``,
    ``deletes`` (sets of names), ``values`` (name → recorded repr), ``reads``/``writes`` (data
    locations), ``outputs`` (MIME types), ``states`` (name → shape of its object afterwards).
    Graph attributes: ``libraries`` (list of :class:`Library`), ``accesses`` (list of :class:`Access`).
    """
    graph = nx.DiGraph()
    accesses = sorted(accesses, key=lambda a: a.execution_id)
    graph.graph.update(libraries=list(libraries), accesses=accesses)
    for execution in sorted(executions, key=lambda x: x.id):
        graph.add_node(
            execution.id,
            execution=execution,
            uses=set(),
            defines=set(),
            updates=set(),
            deletes=set(),
            values={},
            reads=[],
            writes=[],
            outputs=set(),
            states={},
        )
    nodes = graph.nodes
    for event in events:
        node = nodes.get(event.execution_id)
        if node is None:
            continue
        if event.kind == USE:
            node["uses"].add(event.name)
        elif event.kind == DEF:
            node["defines"].add(event.name)
        elif event.kind == UPDATE:
            node["updates"].add(event.name)
        elif event.kind == DELETE:
            node["deletes"].add(event.name)
        if event.kind in (DEF, UPDATE) and event.value is not None:
            node["values"][event.name] = event.value
        # an in-place update depends on the version it changed, as a read does
        if event.kind in (USE, UPDATE) and event.source in nodes and event.source < event.execution_id:
            _link(graph, event.source, event.execution_id, "names", event.name)
    for state in states:
        node = nodes.get(state.execution_id)
        if node is not None:
            node["states"][state.name] = state.shape
    _add_file_flow(graph, accesses)
    for execution_id, mimes in (outputs or {}).items():
        if execution_id in nodes:
            nodes[execution_id]["outputs"].update(mimes)
    return graph


def _link(graph: nx.DiGraph, source: int, target: int, key: str, item: str) -> None:
    if not graph.has_edge(source, target):
        graph.add_edge(source, target, names=set(), files=set())
    graph.edges[source, target][key].add(item)


def _add_file_flow(graph: nx.DiGraph, accesses: list[Access]) -> None:
    """An execution reading a file that an earlier execution of the epoch wrote depends on it."""
    last_write: dict[str, int] = {}
    nodes = graph.nodes
    for access in accesses:
        node = nodes.get(access.execution_id)
        if node is None:
            continue
        if access.reads:
            node["reads"].append(access.location)
            writer = last_write.get(access.location)
            if writer is not None and writer != access.execution_id:
                _link(graph, writer, access.execution_id, "files", access.location)
        if access.writes:
            node["writes"].append(access.location)
            last_write[access.location] = access.execution_id


def execution(graph: nx.DiGraph, execution_id: int) -> Execution:
    """The :class:`Execution` of a node."""
    return graph.nodes[execution_id]["execution"]


def in_order(graph: nx.DiGraph, until: int | None = None) -> list[int]:
    """Execution ids in chronological order (up to and including ``until``)."""
    return sorted(n for n in graph if until is None or n <= until)
