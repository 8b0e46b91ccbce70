"""Text formats of a display graph: JSON (node-link), Mermaid and Graphviz DOT."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import networkx as nx

from provkernel.graphview import style


def node_id(key: tuple) -> str:
    """A stable, readable id: ``cell:<execution id>``, ``data:<location>``, ``library:<name>``."""
    return f"{key[0]}:{key[1]}"


def nodes_in_order(view: nx.DiGraph) -> list:
    """Node keys sorted by time (the ``order`` attribute)."""
    return sorted(view, key=lambda k: (view.nodes[k].get("order", 0.0), str(k)))


def to_json(view: nx.DiGraph) -> dict[str, Any]:
    """Nodes and edges as JSON-serialisable dicts."""
    nodes = []
    for key in nodes_in_order(view):
        data = view.nodes[key]
        item: dict[str, Any] = {"id": node_id(key), "kind": data["kind"], "flags": sorted(data["flags"])}
        run = data.get("execution")
        if run is not None:
            item.update(
                execution_id=run.id,
                epoch=run.epoch,
                count=run.count,
                cell_id=run.cell_id,
                first_line=run.first_line,
                status=run.status,
                defines=list(data.get("defines", ())),
            )
        else:
            item.update(name=data.get("title"), detail=data.get("tooltip"), tag=data.get("tag"))
        nodes.append(item)
    edges = [
        {
            "source": node_id(u),
            "target": node_id(v),
            "kind": d["kind"],
            "names": list(d["names"]),
            "stale": bool(d.get("stale")),
        }
        for u, v, d in sorted(view.edges(data=True), key=lambda e: (node_id(e[0]), node_id(e[1])))
    ]
    return {"nodes": nodes, "edges": edges}


def _short_ids(view: nx.DiGraph) -> dict:
    return {key: f"n{i}" for i, key in enumerate(nodes_in_order(view))}


def _label(data: dict) -> str:
    if data["kind"] == "cell":
        return f"{data['tag']} {style.shorten(data['title'], 48)}"
    return style.shorten(data["title"], 48)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _class_of(data: dict) -> str:
    return style.node_style(data["kind"], data["flags"])[0]


def to_mermaid(view: nx.DiGraph, title: str = "") -> str:
    """A Mermaid ``flowchart`` (JupyterLab ≥ 4.1 renders ``text/vnd.mermaid``)."""
    ids = _short_ids(view)
    lines = ["---", f"title: {_mermaid_text(title)}", "---"] if title else []
    lines.append("flowchart TD")
    for key, short in ids.items():
        data = view.nodes[key]
        label = _mermaid_text(_label(data))
        shape = f'[("{label}")]' if data["kind"] == "data" else f'["{label}"]'
        lines.append(f"    {short}{shape}:::{_class_of(data)}")
    for u, v, d in view.edges(data=True):
        arrow = "-.->" if d.get("stale") else "-->"
        names = style.names_label(d["names"], 30)
        lines.append(
            f'    {ids[u]} {arrow}|"{_mermaid_text(names)}"| {ids[v]}'
            if names
            else f"    {ids[u]} {arrow} {ids[v]}"
        )
    for name, paint in style.all_classes():
        lines.append(f"    classDef {name} fill:{paint.fill},stroke:{paint.stroke},color:{paint.text}")
    focus = [ids[k] for k in ids if "focus" in view.nodes[k]["flags"]]
    if focus:
        lines.append(f"    style {','.join(focus)} stroke:{style.FOCUS_STROKE},stroke-width:3px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(view: nx.DiGraph, title: str = "") -> str:
    """Graphviz DOT source."""
    ids = _short_ids(view)
    lines = [
        "digraph provenance {",
        f'  graph [rankdir=TB, label="{_dot_text(title)}", labelloc=t, fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fontname="Menlo", fontsize=10];',
        '  edge [fontname="Menlo", fontsize=9, color="#7d8799"];',
    ]
    for key, short in ids.items():
        data = view.nodes[key]
        paint = style.paint(data["kind"], data["flags"])
        pen = ", penwidth=3" if "focus" in data["flags"] else ""
        shape = ", shape=cylinder" if data["kind"] == "data" else ""
        lines.append(
            f'  {short} [label="{_dot_text(_label(data))}", tooltip="{_dot_text(data.get("tooltip", ""))}",'
            f' fillcolor="{paint.fill}", color="{paint.stroke}"{pen}{shape}];'
        )
    for u, v, d in view.edges(data=True):
        attrs = [f'label="{_dot_text(style.names_label(d["names"], 30))}"'] if d["names"] else []
        if d.get("stale"):
            attrs.append("style=dashed")
        if d["kind"] != "names":
            attrs.append(f'color="{style.edge_colour(d["kind"])}"')
        lines.append(f"  {ids[u]} -> {ids[v]}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_available() -> bool:
    """Graphviz's ``dot`` is on the PATH (optional: nothing needs it)."""
    return shutil.which("dot") is not None


def run_dot(source: str, output_format: str) -> bytes:
    """Render DOT with Graphviz (only call when :func:`graphviz_available`)."""
    done = subprocess.run(
        ["dot", f"-T{output_format}"], input=source.encode(), capture_output=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace").strip() or "dot failed")
    return done.stdout
