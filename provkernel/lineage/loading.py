"""Reading one epoch's execution graph from the store (the bridge between store and lineage)."""

from __future__ import annotations

from typing import Any

import networkx as nx

from provkernel.lineage.graph import build_graph
from provkernel.lineage.model import Access, Event, Execution, Library, State
from provkernel.store.queries import Queries


def load_graph(queries: Queries, notebook_id: int, epoch: dict[str, Any]) -> nx.DiGraph:
    """The execution graph of one epoch (a row of ``Queries.epochs``), with data accesses, outputs and libraries."""
    number = epoch["number"]
    executions = [Execution.from_row(r) for r in queries.executions(notebook_id, number)]
    events = [Event.from_row(r) for r in queries.symbols(epoch["id"])]
    accesses = [Access.from_row(r) for r in queries.data_accesses(notebook_id, number)]
    outputs: dict[int, set[str]] = {}
    for row in queries.output_mimes(epoch["id"]):
        outputs.setdefault(row["execution_id"], set()).add(row["mime"])
    libraries = [Library.from_row(r) for r in queries.libraries(notebook_id, number)]
    states = [State.from_row(r) for r in queries.states(epoch["id"])]
    return build_graph(executions, events, accesses, outputs, libraries, states)
