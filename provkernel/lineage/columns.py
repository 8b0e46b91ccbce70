"""Column lineage of DataFrames: which execution created, retyped, renamed or dropped each column.

Read from the shapes stored after each execution that wrote a name (see
:mod:`provkernel.capture.fingerprint`): consecutive shapes of the same name are compared. A
dropped and an added column of the same dtype in one execution count as a rename when that
execution's code names both (``df.rename(columns={"a": "b"})``).

>>> from provkernel.lineage.graph import build_graph
>>> from provkernel.lineage.model import Execution, State
>>> runs = [Execution(i, 1, i, f"c{i}", f"c{i}", "h", code, 0.0, 1.0, "ok")
...         for i, code in [(1, "df = load()"), (2, "df['r'] = df.a / df.b"), (3, "df.pop('b')")]]
>>> frame = lambda *cols: ("DataFrame", 10, tuple(cols))
>>> g = build_graph(runs, [], states=[State(1, "df", frame(("a", "int64"), ("b", "int64"))),
...     State(2, "df", frame(("a", "int64"), ("b", "int64"), ("r", "float64"))),
...     State(3, "df", frame(("a", "int64"), ("r", "float64")))])
>>> [(c.name, c.created, c.dropped) for c in column_lineage(g, "df")]
[('a', 1, None), ('b', 1, 3), ('r', 2, None)]
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import networkx as nx

from provkernel.capture.fingerprint import columns as frame_columns
from provkernel.lineage.graph import execution, in_order


@dataclass
class ColumnChange:
    """One change of a column: retyped (``before`` → ``after`` dtype) or renamed (from ``before``)."""

    execution_id: int
    kind: str  # "retyped" | "renamed"
    before: str
    after: str


@dataclass
class Column:
    """A column of a DataFrame name over one epoch."""

    name: str
    dtype: str
    created: int  # the execution that added it (the first one that stored the name, for its first columns)
    dropped: int | None = None
    changes: list[ColumnChange] = field(default_factory=list)
    order: int = 0  # creation order (the frame's column order for columns created together)

    @property
    def touched_by(self) -> list[int]:
        """Every execution that created, changed or dropped it, in order."""
        runs = [self.created, *(c.execution_id for c in self.changes)]
        return [*runs, self.dropped] if self.dropped is not None else runs


def frame_history(graph: nx.DiGraph, name: str) -> list[tuple[int, dict[str, str]]]:
    """(execution, columns) each time an execution of the epoch stored ``name`` as a DataFrame."""
    history = []
    for x in in_order(graph):
        columns = frame_columns(graph.nodes[x]["states"].get(name))
        if columns is not None:
            history.append((x, columns))
    return history


def column_lineage(graph: nx.DiGraph, name: str) -> list[Column]:
    """The columns ``name`` had over the epoch, each with the executions that created, changed or
    dropped it (dropped columns included, in order of creation)."""
    columns: dict[str, Column] = {}
    previous: dict[str, str] = {}
    for x, current in frame_history(graph, name):
        added = [c for c in current if c not in previous]
        removed = [c for c in previous if c not in current]
        renames = _renames(execution(graph, x).code, removed, added, previous, current)
        for old, new in renames.items():
            column = columns.pop(old)
            column.changes.append(ColumnChange(x, "renamed", old, new))
            column.name = new
            columns[new] = column
        for col in removed:
            if col not in renames:
                columns[col].dropped = x
                columns[f"\0dropped:{col}:{x}"] = columns.pop(col)
        for col in added:
            if col not in renames.values():
                columns[col] = Column(
                    col,
                    current[col],
                    x,
                    order=len(columns),
                )
        for col, dtype in current.items():
            column = columns[col]
            if column.dtype != dtype:
                column.changes.append(ColumnChange(x, "retyped", column.dtype, dtype))
                column.dtype = dtype
        previous = current
    return sorted(columns.values(), key=lambda c: c.order)


def column_changes(history: list[tuple[int, dict[str, str]]], x: int) -> str:
    """A short label of what execution ``x`` did to the columns of a frame (its :func:`frame_history`):
    ``+ratio −Amount``."""
    for (_, before), (after_x, after) in itertools.pairwise(history):
        if after_x == x:
            parts = [f"+{c}" for c in after if c not in before] + [f"−{c}" for c in before if c not in after]
            parts += [f"~{c}" for c in after if c in before and before[c] != after[c]]
            return " ".join(parts)
    return ""


def _renames(
    code: str, removed: list[str], added: list[str], before: dict[str, str], after: dict[str, str]
) -> dict[str, str]:
    if not removed or not added or "rename" not in code:
        return {}
    literals = set(re.findall(r"""['"]([^'"]+)['"]""", code))
    pairs = {}
    for old in removed:
        for new in added:
            if new not in pairs.values() and before[old] == after[new] and {old, new} <= literals:
                pairs[old] = new
                break
    return pairs
