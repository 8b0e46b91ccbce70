"""Collapsing long chains of cells, so that a drawing of 100+ cells stays legible.

A *chain* is a run of cells, consecutive in time, each feeding only the next one (like a notebook
that updates the same variables cell after cell). Its first and last cells stay as they are; the
cells between become one node, ``[3]…[99]  97 cells``, whose hover text lists them. Edges from
outside into the hidden cells are merged onto that node. Cells that crashed, read data, drew
output are never hidden, nor is a cell flagged unlike its neighbours (the cell asked about with
``--slice``; with ``--var`` every cell that wrote the name is flagged alike, so a chain of them folds).
"""

from __future__ import annotations

import networkx as nx

from provkernel.graphview.formats import nodes_in_order

MIN_NODES = 40  # smaller drawings show every cell
MIN_HIDDEN = 3  # cells a chain must hide to be collapsed
KEEP = frozenset({"error", "data", "output"})
LISTED = 20  # cells named in a collapsed node's hover text


def _collapsible(view: nx.DiGraph, key) -> bool:
    data = view.nodes[key]
    return data.get("kind") == "cell" and not (set(data.get("flags", ())) & KEEP)


def chains(view: nx.DiGraph) -> list[list]:
    """Maximal chains (node keys in time order), each at least ``MIN_HIDDEN + 2`` long."""
    cells = [k for k in nodes_in_order(view) if view.nodes[k].get("kind") == "cell"]
    found: list[list] = []
    run: list = []
    for key in cells:
        if (
            run
            and _collapsible(view, key)
            and set(view.successors(run[-1])) == {key}
            and view.nodes[key].get("flags") == view.nodes[run[-1]].get("flags")
        ):
            run.append(key)
            continue
        if len(run) >= MIN_HIDDEN + 2:
            found.append(run)
        run = [key] if _collapsible(view, key) else []
    if len(run) >= MIN_HIDDEN + 2:
        found.append(run)
    return found


def collapse_chains(view: nx.DiGraph) -> nx.DiGraph:
    """``view`` with the inside of each long chain drawn as one node (unchanged below ``MIN_NODES``)."""
    if len(view) < MIN_NODES:
        return view
    found = chains(view)
    if not found:
        return view
    out = view.copy()
    for chain in found:
        hidden = chain[1:-1]
        first, last = view.nodes[hidden[0]], view.nodes[hidden[-1]]
        key = ("chain", hidden[0][1])
        lines = [f"{view.nodes[k]['tag']} {view.nodes[k]['title']}" for k in hidden]
        if len(lines) > LISTED:
            lines = [*lines[: LISTED // 2], f"… {len(lines) - LISTED} more …", *lines[-LISTED // 2 :]]
        defines = sorted({name for k in hidden for name in view.nodes[k].get("defines", ())})
        out.add_node(
            key,
            kind="cell",
            tag=f"{first['tag']}…{last['tag']}",
            title=f"{len(hidden)} cells in a chain",
            tooltip=f"{len(hidden)} cells in a chain, each reading only from the one before:\n"
            + "\n".join(lines),
            flags=first.get("flags", frozenset()),
            order=first["order"],
            defines=tuple(defines),
            collapsed=len(hidden),
        )
        inside = set(hidden)
        for k in hidden:
            for u, _, data in view.in_edges(k, data=True):
                if u not in inside:
                    _merge_edge(out, u, key, data)
            for _, v, data in view.out_edges(k, data=True):
                if v not in inside:
                    _merge_edge(out, key, v, data)
        out.remove_nodes_from(hidden)
    return out


def _merge_edge(view: nx.DiGraph, u, v, data: dict) -> None:
    if view.has_edge(u, v):
        edge = view.edges[u, v]
        edge["names"] = tuple(sorted(set(edge["names"]) | set(data["names"])))
        edge["stale"] = edge["stale"] and data.get("stale", False)
    else:
        view.add_edge(u, v, **{**data, "names": tuple(data["names"])})
