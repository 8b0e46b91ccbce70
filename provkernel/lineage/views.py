"""What ``%provgraph`` draws: a display graph of cells (or chosen executions), data and libraries.

The display graph is a plain ``networkx.DiGraph`` that renderers turn into SVG, text, Mermaid,
DOT or JSON. Node keys are ``(kind, key)`` pairs; node attributes:

- ``kind``: ``"cell"``, ``"data"`` or ``"library"``;
- ``tag`` (``"[12]"``), ``title`` (first code line, file name, package), ``tooltip`` (more);
- ``flags``: any of ``data`` (reads data), ``output`` (rich output), ``error`` (crashed),
  ``stale`` (its inputs changed since it ran), ``focus`` (the asked-about cell or name),
  ``upstream``, ``downstream``;
- ``order``: a number increasing with time, so renderers can tell back edges;
- ``execution``: the :class:`~provkernel.lineage.model.Execution` shown (cells only).

Edge attributes: ``names`` (tuple), ``kind`` (``names``, ``read``, ``write``, ``import``),
``stale`` (the read happened between earlier runs than the ones shown: it is history, not the
current state).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import networkx as nx

from provkernel.lineage.columns import column_changes, frame_history
from provkernel.lineage.graph import execution
from provkernel.lineage.model import Execution

RICH_MIMES_IGNORED = frozenset({"text/plain"})


def cell_key(execution_id: int) -> tuple[str, int]:
    """The display-graph key of the node showing ``execution_id``."""
    return ("cell", execution_id)


def display_graph(
    graph: nx.DiGraph,
    shown: Mapping[int, int],
    *,
    data: bool = False,
    libraries: bool = False,
    flags: Mapping[int, Iterable[str]] | None = None,
    columns: bool = False,
) -> nx.DiGraph:
    """The display graph for some executions.

    Args:
        graph: the epoch's execution graph.
        shown: maps each execution whose reads should be drawn to the execution whose node
            represents it (for a cell view: every execution → its cell's latest execution; for a
            slice: each execution of the slice → itself). Values are the nodes drawn.
        data: add data-source nodes with read/write edges.
        libraries: add a node per directly imported package, linked to the cell importing it.
        flags: extra flags per shown execution (``focus``, ``upstream``, ``downstream``, ``stale``).
        columns: label DataFrame names on edges with the column changes of the writing execution.
    """
    view = nx.DiGraph()
    histories: dict[str, list] = {}  # name → its frame history, for --columns: one walk per name
    drawn = sorted(set(shown.values()))
    for x in drawn:
        view.add_node(cell_key(x), **_cell_attrs(graph, x, (flags or {}).get(x, ())))
    # every shown execution's reads, not only the drawn ones': the first run of a cell that read `n`
    # from another cell keeps its edge after the cell is re-run with a later `n`
    for x, target in sorted(shown.items()):
        for source in graph.predecessors(x):
            node = shown.get(source)
            if node is None or node == target:
                continue
            edge = graph.edges[source, x]
            # a file passed between cells is named by its file name, as a data node is
            names = sorted(edge["names"] | {_file_name(f) for f in edge["files"]})
            if columns:
                names = [_with_columns(histories, graph, name, source) for name in names]
            historic = node != source or target != x
            _add_edge(view, cell_key(node), cell_key(target), tuple(names), "names", stale=historic)
    if data:
        _add_data(view, graph, drawn)
    if libraries:
        _add_libraries(view, graph, shown)
    return view


def _with_columns(histories: dict[str, list], graph: nx.DiGraph, name: str, writer: int) -> str:
    if name not in histories:
        histories[name] = frame_history(graph, name)
    changes = column_changes(histories[name], writer)
    return f"{name} [{changes}]" if changes else name


def _file_name(location: str) -> str:
    return os.path.basename(location.rstrip("/")) or location


def _add_edge(view: nx.DiGraph, u, v, names: tuple[str, ...], kind: str, stale: bool = False) -> None:
    if view.has_edge(u, v):
        edge = view.edges[u, v]
        edge["names"] = tuple(sorted(set(edge["names"]) | set(names)))
        edge["stale"] = edge["stale"] and stale
    else:
        view.add_edge(u, v, names=names, kind=kind, stale=stale)


def _cell_attrs(graph: nx.DiGraph, x: int, extra: Iterable[str]) -> dict:
    node = graph.nodes[x]
    run: Execution = node["execution"]
    flags = set(extra)
    if node["reads"]:
        flags.add("data")
    if node["outputs"] - RICH_MIMES_IGNORED:
        flags.add("output")
    if run.crashed:
        flags.add("error")
    defined = sorted(node["defines"] | node["updates"])
    return {
        "kind": "cell",
        "tag": run.tag,
        "title": run.first_line,
        "tooltip": _tooltip(run, defined, sorted(node["uses"]), node),
        "flags": frozenset(flags),
        "order": float(x),
        "execution": run,
        "defines": tuple(defined),
    }


def _names(label: str, names: list[str], limit: int = 12) -> str:
    return (
        f"{label}: "
        + ", ".join(names[:limit])
        + (f" … (+{len(names) - limit})" if len(names) > limit else "")
    )


def _tooltip(run: Execution, defined: list[str], used: list[str], node: dict) -> str:
    """Hover text: run, status and time; the code; the names defined and read; data and outputs."""
    took = f" · {run.duration:.2f} s" if run.duration is not None else ""
    lines = [f"{run.tag} epoch {run.epoch} · {run.status}{took}"]
    if run.ename:
        lines.append(f"{run.ename}: {(run.evalue or '').splitlines()[0] if run.evalue else ''}")
    code = run.shown_code.strip().splitlines()
    lines += code[:12] + ([f"… ({len(code) - 12} more lines)"] if len(code) > 12 else [])
    if defined:
        lines.append(_names("defines", defined))
    if used:
        lines.append(_names("reads", used))
    if node["reads"]:
        lines.append(_names("reads data", [_file_name(r) for r in node["reads"]], 6))
    shown = sorted(node["outputs"] - RICH_MIMES_IGNORED)
    if shown:
        lines.append("drew output: " + ", ".join(shown))
    return "\n".join(lines)


def _add_data(view: nx.DiGraph, graph: nx.DiGraph, drawn: list[int]) -> None:
    """Data sources the drawn executions touched: reads point into the cell, writes out of it."""
    orders: dict[str, list[float]] = {}
    written: set[str] = set()
    for x in drawn:
        node = graph.nodes[x]
        for location in node["reads"]:
            _add_edge(view, ("data", location), cell_key(x), (), "read")
            orders.setdefault(location, []).append(x - 0.5)
        for location in node["writes"]:
            _add_edge(view, cell_key(x), ("data", location), (), "write")
            orders.setdefault(location, []).append(x + 0.5)
            written.add(location)
    for location, times in orders.items():
        view.nodes[("data", location)].update(
            kind="data",
            tag="url" if "://" in location else "file",
            title=_file_name(location),
            tooltip=location,
            flags=frozenset({"written"} if location in written else ()),
            order=min(times),
        )


def _add_libraries(view: nx.DiGraph, graph: nx.DiGraph, shown: Mapping[int, int]) -> None:
    """A node per directly imported package, pointing at the cell whose execution imported it."""
    for library in graph.graph.get("libraries", ()):
        node = shown.get(library.first_execution_id)
        if library.kind != "direct" or node is None:
            continue
        key = ("library", library.name)
        view.add_node(
            key,
            kind="library",
            tag=library.version or "",
            title=library.name,
            tooltip=f"{library.distribution or library.name} {library.version or ''}".strip(),
            flags=frozenset(),
            order=node - 0.25,
        )
        _add_edge(view, key, cell_key(node), (), "import")


def cells_shown(graph: nx.DiGraph, latest: Mapping[str, int]) -> dict[int, int]:
    """For a cell view: every execution mapped to its cell's latest execution (``latest``)."""
    until = max(latest.values(), default=-1)
    return {
        x: latest[execution(graph, x).cell]
        for x in graph
        if x <= until and execution(graph, x).cell in latest
    }
