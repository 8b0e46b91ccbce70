"""A layered layout for display graphs, without Graphviz.

Nodes are layered by the longest path over edges that point forward in time (the ``order``
attribute), wide layers are wrapped into rows of at most ``max_per_row`` nodes, and nodes in a
row are sorted by the mean position of their predecessors. Edges between consecutive rows are
drawn directly; longer edges share one vertical *lane* per source in the left margin (so a cell
that every other cell reads, like an imports cell, draws one bus, not a hundred crossing
lines), and edges pointing back in time run in lanes in the right margin.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

NODE_W, NODE_H = 264.0, 42.0
ROW_GAP, COL_GAP = 46.0, 26.0
LANE_GAP, MARGIN, HEADER = 9.0, 14.0, 34.0
SLOT_H = 13.0  # vertical room per edge meeting a node on its side


@dataclass
class Box:
    """Where a node is drawn (top-left corner, size) and its row."""

    x: float
    y: float
    w: float
    h: float
    row: int

    @property
    def cx(self) -> float:
        """Horizontal centre."""
        return self.x + self.w / 2


@dataclass
class Route:
    """The polyline or curve of one edge: ``direct`` (bezier between rows), ``lane`` or ``back``."""

    u: Any
    v: Any
    kind: str
    points: list[tuple[float, float]]
    label_at: tuple[float, float] | None = None
    label_room: float = 160.0  # pixels of free width at label_at


@dataclass
class Layout:
    """Boxes of nodes, routes of edges and the canvas size."""

    boxes: dict[Any, Box] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _layers(view: nx.DiGraph, order: dict[Any, tuple]) -> dict[Any, int]:
    keys = sorted(view, key=order.__getitem__)
    layer: dict[Any, int] = {}
    for key in keys:
        preds = [p for p in view.predecessors(key) if order[p] < order[key]]
        layer[key] = max((layer[p] + 1 for p in preds), default=0)
    # sources that are not cells (files, packages) sit just above their first reader
    for key in reversed(keys):
        if view.nodes[key].get("kind") != "cell" and not any(
            order[p] < order[key] for p in view.predecessors(key)
        ):
            succ = [layer[s] for s in view.successors(key) if order[s] > order[key]]
            if succ:
                layer[key] = max(layer[key], min(succ) - 1)
    return layer


def _rows(view: nx.DiGraph, layer: dict[Any, int], order: dict, max_per_row: int) -> list[list[Any]]:
    """Nodes grouped into rows, sorted within a row by the position of their predecessors."""
    by_layer: dict[int, list[Any]] = defaultdict(list)
    for key, number in layer.items():
        by_layer[number].append(key)
    rows: list[list[Any]] = []
    position: dict[Any, float] = {}
    for number in sorted(by_layer):
        members = by_layer[number]

        def barycenter(key: Any) -> tuple[float, tuple]:
            placed = [position[p] for p in view.predecessors(key) if p in position]
            return (sum(placed) / len(placed) if placed else float("inf"), order[key])

        members.sort(key=barycenter)
        for start in range(0, len(members), max_per_row):
            row = members[start : start + max_per_row]
            for i, key in enumerate(row):
                position[key] = i - (len(row) - 1) / 2
            rows.append(row)
    return rows


def _side_slots(view: nx.DiGraph, key: Any, row: list[Any], kinds: dict) -> int:
    """How many long edges meet a node on one side (it grows taller so their labels do not overlap)."""
    counts = []
    for kind, on_side in (("lane", key == row[0]), ("back", key == row[-1])):
        if on_side:
            ins = sum(1 for e in view.in_edges(key) if kinds[e] == kind)
            out = any(kinds[e] == kind for e in view.out_edges(key))
            counts.append(ins + out)
    return max(counts, default=0)


def _assign_lanes(spans: dict[Any, tuple[int, int]]) -> dict[Any, int]:
    """Greedy interval colouring: buses whose row spans do not overlap share a lane."""
    lanes: list[int] = []  # last row used by each lane
    assigned: dict[Any, int] = {}
    for key, (start, end) in sorted(spans.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        for lane, last in enumerate(lanes):
            if last < start:
                lanes[lane] = end
                assigned[key] = lane
                break
        else:
            lanes.append(end)
            assigned[key] = len(lanes) - 1
    return assigned


def layered_layout(view: nx.DiGraph, max_per_row: int = 4) -> Layout:
    """Lay out a display graph (see :mod:`provkernel.lineage.views`) top to bottom."""
    layout = Layout()
    if not len(view):
        layout.width, layout.height = 2 * MARGIN + NODE_W, HEADER + 2 * MARGIN
        return layout
    order = {key: (view.nodes[key].get("order", 0.0), str(key)) for key in view}
    rows = _rows(view, _layers(view, order), order, max_per_row)
    row_of = {key: r for r, row in enumerate(rows) for key in row}

    # classify edges; lanes are shared by all long edges of one source
    kinds: dict[tuple, str] = {}
    spans: dict[str, dict[Any, tuple[int, int]]] = {"lane": {}, "back": {}}
    for u, v in view.edges:
        forward = order[u] < order[v]
        kind = "direct" if forward and row_of[v] == row_of[u] + 1 else ("lane" if forward else "back")
        kinds[u, v] = kind
        if kind != "direct":
            lo, hi = sorted((row_of[u], row_of[v]))
            old = spans[kind].get(u, (lo, hi))
            spans[kind][u] = (min(lo, old[0]), max(hi, old[1]))
    left, right = _assign_lanes(spans["lane"]), _assign_lanes(spans["back"])
    n_left, n_right = len(set(left.values())), len(set(right.values()))

    widest = max(len(row) for row in rows)
    content_w = widest * NODE_W + (widest - 1) * COL_GAP
    x0 = MARGIN + n_left * LANE_GAP + (LANE_GAP if n_left else 0)
    y = HEADER + MARGIN
    for r, row in enumerate(rows):
        row_w = len(row) * NODE_W + (len(row) - 1) * COL_GAP
        height = max(NODE_H, *(_side_slots(view, key, row, kinds) * SLOT_H + 6 for key in row))
        for i, key in enumerate(row):
            x = x0 + (content_w - row_w) / 2 + i * (NODE_W + COL_GAP)
            layout.boxes[key] = Box(x, y, NODE_W, height, r)
        y += height + ROW_GAP
    right_x = x0 + content_w + LANE_GAP
    layout.width = right_x + n_right * LANE_GAP + MARGIN
    layout.height = y - ROW_GAP / 2 + 8  # room for edges that run in the gap below the last row

    lane_x = {u: x0 - LANE_GAP * (lane + 1) for u, lane in left.items()}
    back_x = {u: right_x + LANE_GAP * lane for u, lane in right.items()}
    ends = _ports(view, layout.boxes, kinds, rows, lane_x, back_x)
    for (u, v), kind in kinds.items():
        start, end = ends[u, v]
        if kind == "direct":
            mid_y = (start[1] + end[1]) / 2
            points = [start, (start[0], mid_y), (end[0], mid_y), end]  # a cubic bezier's control points
            layout.routes.append(Route(u, v, kind, points, ((start[0] + end[0]) / 2, mid_y)))
            continue
        x = lane_x[u] if kind == "lane" else back_x[u]
        bu, bv = layout.boxes[u], layout.boxes[v]
        shift = 3.0 * ((left if kind == "lane" else right)[u] % 4)
        points = [start]
        if start[1] >= bu.y + bu.h:  # leaves from the bottom: along the gap below the row first
            points.append((start[0], bu.y + bu.h + ROW_GAP / 2 - 6 + shift))
        points.append((x, points[-1][1]))
        if end[1] <= bv.y:  # enters from the top: along the gap above the row last
            above = bv.y - ROW_GAP / 2 + 6 - shift
            points += [(x, above), (end[0], above)]
        else:
            points.append((x, end[1]))
        points.append(end)
        # names only where an edge meets a node's side, which has room for them (SLOT_H); edges
        # entering from the top share the gap with others, so their names are left to the hover text
        label, room = None, 0.0
        if end[1] > bv.y:
            label = (x + 4, end[1] - 4) if kind == "lane" else (x - 4, end[1] - 4)
            room = abs(end[0] - x) - 10
        layout.routes.append(Route(u, v, kind, points, label, room))
    return layout


def _spread(lo: float, hi: float, n: int) -> list[float]:
    return [lo + (hi - lo) * (i + 1) / (n + 1) for i in range(n)]


def _ports(
    view: nx.DiGraph, boxes: dict[Any, Box], kinds: dict, rows: list[list[Any]], lane_x: dict, back_x: dict
) -> dict[tuple, tuple[tuple[float, float], tuple[float, float]]]:
    """Where each edge leaves its source and enters its target.

    Direct edges use the bottom and top of nodes, spread in the order of where they go. Long
    edges use the left side (right side for back edges) of a node that is first (last) in its
    row, where nothing lies between the node and its lane; otherwise the bottom and top.
    """
    first = {row[0] for row in rows}
    last = {row[-1] for row in rows}

    def lane_of(u, v) -> float:
        return lane_x[u] if kinds[u, v] == "lane" else back_x[u]

    def heading(u, v) -> float:
        return boxes[v].cx if kinds[u, v] == "direct" else lane_of(u, v)

    starts: dict[tuple, tuple[float, float]] = {}
    ends: dict[tuple, tuple[float, float]] = {}
    for key, box in boxes.items():
        side = {"lane": key in first, "back": key in last}
        outs = list(view.out_edges(key))
        ins = list(view.in_edges(key))
        side_in = {
            k: sorted((e for e in ins if kinds[e] == k and side[k]), key=lambda e: lane_of(*e)) for k in side
        }
        bus_out = {k: [e for e in outs if kinds[e] == k] for k in side}
        for k, x in (("lane", box.x), ("back", box.x + box.w)):
            slots = (["bus"] if bus_out[k] and side[k] else []) + side_in[k]
            for slot, y in zip(slots, _spread(box.y, box.y + box.h, len(slots)), strict=True):
                if slot == "bus":
                    for edge in bus_out[k]:
                        starts[edge] = (x, y)
                else:
                    ends[slot] = (x, y)
        # bottom: direct edges one by one, each long-edge bus once, ordered by where they head
        bottom: dict[object, list[tuple]] = {}
        for edge in outs:
            if edge in starts:
                continue
            group = kinds[edge] if kinds[edge] != "direct" else edge
            bottom.setdefault(group, []).append(edge)

        groups = sorted(bottom.values(), key=lambda edges: heading(*edges[0]))
        for edges, x in zip(groups, _spread(box.x, box.x + box.w, len(groups)), strict=True):
            for edge in edges:
                starts[edge] = (x, box.y + box.h)
        top = sorted(
            (e for e in ins if e not in ends),
            key=lambda e: boxes[e[0]].cx if kinds[e] == "direct" else lane_of(*e),
        )
        for edge, x in zip(top, _spread(box.x, box.x + box.w, len(top)), strict=True):
            ends[edge] = (x, box.y)
    return {edge: (starts[edge], ends[edge]) for edge in kinds}
