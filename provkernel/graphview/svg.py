"""SVG drawing of a display graph: self-contained, inline attributes, readable in light and dark themes.

The drawing carries its own background, a ``<title>`` on every node and edge (hover text when
the SVG is inline HTML), and marker ids made unique per drawing so several graphs on one page do
not clash. Attributes rather than a ``<style>`` block: a stylesheet inside inline HTML would apply
to the whole page. Drawn for a notebook (``themed``), the background, plain cells and text take
JupyterLab's theme colours through inline ``style`` properties (``var(--jp-…, fallback)``); a
file keeps plain colours only, for viewers without CSS variables. Long chains of cells are drawn
as one node (:mod:`provkernel.graphview.chains`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

import networkx as nx

from provkernel.graphview import style
from provkernel.graphview.chains import collapse_chains
from provkernel.graphview.layout import HEADER, MARGIN, Box, Layout, Route, layered_layout

FONT = "Menlo, Consolas, 'DejaVu Sans Mono', monospace"
SANS = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
CHAR_W = 7.0  # width of one 11.5px monospace character
LABEL_CHAR_W = 6.1  # … and of a 10px one
SECONDARY = "#5b6577"
# JupyterLab shows an untrusted notebook's HTML (a notebook run headless, or someone else's) through a
# sanitizer that removes <svg> and <desc> but keeps their text: inside a frame of font-size 0 (see
# reports/graph.py) that text vanishes, and this <font>, an allowed tag, says why. A browser never
# draws a <desc>, so a trusted drawing does not show it.
UNTRUSTED_HINT = (
    '<desc><font style="font-size:13px;opacity:.75">The graph is not drawn because this notebook is not '
    "trusted (JupyterLab removes SVG from untrusted output): File ▸ Trust Notebook, or run %provgraph again."
    "</font></desc>"
)
# theme colours for the inline drawing: (CSS property, value) per role, set as style="…"
THEME = {
    "canvas": "fill:var(--jp-layout-color0,#ffffff);stroke:var(--jp-border-color2,#d0d7de)",
    "text": "fill:var(--jp-ui-font-color1,#1f2328)",
    "muted": "fill:var(--jp-ui-font-color2,#5b6577)",
    "backdrop": "fill:var(--jp-layout-color0,#ffffff)",
    "plain": "fill:var(--jp-layout-color2,#f3f5f9)",
}


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def element(name: str, content: str | None = None, **attrs: object) -> str:
    """One XML element; ``font_size=10`` becomes ``font-size="10"``, numbers are rounded."""
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        text = _fmt(value) if isinstance(value, float) else str(value)
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{escape(text)}"')
    head = " ".join(parts)
    return f"<{head}/>" if content is None else f"<{head}>{content}</{name}>"


def text(content: str, x: float, y: float, size: str, fill: str, family: str = FONT, **attrs: object) -> str:
    """A ``<text>`` element; ``content`` is escaped here."""
    return element("text", escape(content), x=x, y=y, font_size=size, fill=fill, font_family=family, **attrs)


def themed(role: str, on: bool) -> str | None:
    """The inline theme style of a role, in a notebook drawing (None in a file)."""
    return THEME[role] if on else None


def _path(route: Route) -> str:
    pts = [f"{_fmt(x)},{_fmt(y)}" for x, y in route.points]
    if route.kind == "direct":
        return f"M{pts[0]} C{pts[1]} {pts[2]} {pts[3]}"
    return "M" + " L".join(pts)


def _edge(view: nx.DiGraph, route: Route, marker: dict[str, str], theme: bool) -> str:
    data = view.edges[route.u, route.v]
    colour = style.edge_colour(data["kind"])
    dash = "6 3" if route.kind == "back" else ("2 3" if data.get("stale") else None)
    names = data.get("names", ())
    tip = ", ".join(names) or data["kind"]
    if data.get("stale"):
        tip += " (read from an earlier run of that cell)"
    body = [
        element("title", escape(tip)),
        element(
            "path",
            d=_path(route),
            fill="none",
            stroke=colour,
            stroke_width="1.3",
            stroke_dasharray=dash,
            stroke_linejoin="round",
            marker_end=f"url(#{marker[colour]})",
        ),
    ]
    if names and route.label_at is not None and route.label_room >= 3 * LABEL_CHAR_W:
        x, y = route.label_at
        label = style.names_label(
            names, min(24 if route.kind == "direct" else 18, int(route.label_room / LABEL_CHAR_W))
        )
        width = len(label) * LABEL_CHAR_W + 6
        # centred on a direct edge; beside the lane otherwise (left of a back-edge lane on the right)
        left = {"direct": x - width / 2, "back": x - width}.get(route.kind, x)
        # a plain backdrop rather than a text halo: some SVG renderers ignore paint-order
        body.append(
            element(
                "rect",
                x=left,
                y=y - 6.5,
                width=width,
                height="13",
                rx="3",
                fill="#ffffff",
                opacity="0.85",
                style=themed("backdrop", theme),
            )
        )
        body.append(text(label, left + 3, y + 3.5, "10", "#4a5466", style=themed("muted", theme)))
    return element("g", "".join(body))


def _node_lines(data: dict, room: int) -> tuple[str, str]:
    kind, tag, title = data.get("kind", "cell"), data.get("tag", ""), data.get("title", "")
    if data.get("collapsed"):
        line = f"{tag}  {title}"
        detail = "→ " + (", ".join(data.get("defines", ())) or "defines nothing")
    elif kind == "cell":
        line = f"{tag} {style.shorten(title, max(4, room - len(tag) - 1))}"
        detail = "→ " + (", ".join(data.get("defines", ())) or "defines nothing")
    else:
        line = title
        detail = f"{'library' if kind == 'library' else tag} {data.get('tooltip', '')}"
    return style.shorten(line, room), style.shorten(detail, room)


def _node(data: dict, box: Box, theme: bool) -> str:
    kind, flags = data.get("kind", "cell"), set(data.get("flags", ()))
    css_class, paint = style.node_style(kind, flags)
    plain = css_class == "plain"
    stroke, width = paint.stroke, "1.2"
    if "focus" in flags:
        stroke, width = style.FOCUS_STROKE, "3"
    elif "downstream" in flags:
        stroke, width = style.DOWNSTREAM_STROKE, "2.4"
    line, detail = _node_lines(data, int((box.w - 22) / CHAR_W))
    shape = {"rx": "16" if kind == "data" else "6", "fill": paint.fill, "stroke": stroke}
    fill = themed("plain", theme and plain)
    body = [element("title", escape(data.get("tooltip", "")))]
    if data.get("collapsed"):  # a stack of cards peeking out on the right: several cells in one node
        for offset in (8.0, 4.0):
            body.append(
                element(
                    "rect",
                    x=box.x + offset,
                    y=box.y + offset / 2,
                    width=box.w,
                    height=box.h - offset,
                    stroke_width="1",
                    style=fill,
                    **shape,
                )
            )
    body += [
        element("rect", x=box.x, y=box.y, width=box.w, height=box.h, stroke_width=width, style=fill, **shape),
        text(line, box.x + 9, box.y + 17, "11.5", paint.text, style=themed("text", theme and plain)),
        text(detail, box.x + 9, box.y + 33, "10", SECONDARY, style=themed("muted", theme and plain)),
    ]
    for i, colour in enumerate(style.badges(flags)):
        body.append(element("circle", cx=box.x + box.w - 9 - i * 11, cy=box.y + 9, r="3.6", fill=colour))
    return element("g", "".join(body), class_=f"pk-node pk-{css_class}")


def _header(drawing: Drawing, theme: bool) -> list[str]:
    title, layout = drawing.title, drawing.layout
    parts = [
        text(
            title, MARGIN, MARGIN + 8.0, "13", "#1f2328", SANS, font_weight="600", style=themed("text", theme)
        )
    ]
    entries = style.legend(drawing.present)
    room = drawing.legend_width
    x = max(MARGIN + len(title) * 7.2 + 24, layout.width - MARGIN - room)
    for entry in entries:
        paint = entry.paint
        parts.append(
            element(
                "rect",
                x=x,
                y=MARGIN - 1.0,
                width="14",
                height="12",
                rx="3",
                fill=paint.fill,
                stroke=paint.stroke,
            )
        )
        parts.append(
            text(entry.label, x + 19, MARGIN + 9.0, "11", "#3d4452", SANS, style=themed("text", theme))
        )
        x += 19 + len(entry.label) * 6.4 + 16
    return parts


@dataclass(frozen=True)
class Drawing:
    """A display graph laid out once, to be drawn in one or both styles."""

    title: str
    view: nx.DiGraph  # long chains collapsed
    layout: Layout
    present: set[str]  # the flags some node has: the legend's entries
    legend_width: float


def lay_out(view: nx.DiGraph, title: str = "", max_per_row: int = 4) -> Drawing:
    """Collapse chains and place nodes and edges; the canvas is wide enough for the title and legend."""
    view = collapse_chains(view)
    layout = layered_layout(view, max_per_row)
    present = {flag for key in view for flag in view.nodes[key].get("flags", ())}
    legend_width = sum(19 + len(e.label) * 6.4 + 16 for e in style.legend(present))
    layout.width = max(layout.width, MARGIN * 2 + len(title) * 7.2 + 24 + legend_width)
    return Drawing(title, view, layout, present, legend_width)


def render_svg(view: nx.DiGraph, title: str = "", max_per_row: int = 4, theme: bool = False) -> str:
    """The SVG text of a display graph (``theme``: for inline HTML, in the notebook's theme colours)."""
    return draw(lay_out(view, title, max_per_row), theme)


def draw(drawing: Drawing, theme: bool = False) -> str:
    """The SVG text of a laid-out graph (``theme``: for inline HTML, in the notebook's theme colours)."""
    view, layout, title = drawing.view, drawing.layout, drawing.title
    width, height = layout.width, layout.height
    prefix = "pk" + hashlib.blake2b(repr(sorted(map(str, view))).encode(), digest_size=4).hexdigest()
    colours = sorted({style.EDGE, style.EDGE_DATA, style.EDGE_IMPORT})
    marker = {colour: f"{prefix}-arrow{i}" for i, colour in enumerate(colours)}
    defs = "".join(
        element(
            "marker",
            element("path", d="M0,0 L10,5 L0,10 z", fill=colour),
            id=marker_id,
            viewBox="0 0 10 10",
            refX="9",
            refY="5",
            markerWidth="7",
            markerHeight="7",
            orient="auto-start-reverse",
        )
        for colour, marker_id in marker.items()
    )
    parts = [
        element("defs", defs),
        *([UNTRUSTED_HINT] if theme else []),
        element(
            "rect",
            x="0.5",
            y="0.5",
            width=width - 1,
            height=height - 1,
            rx="8",
            fill="#ffffff",
            stroke="#d0d7de",
            style=themed("canvas", theme),
        ),
        *_header(drawing, theme),
    ]
    if not len(view):
        parts.append(
            text(
                "nothing to draw",
                MARGIN,
                HEADER + MARGIN + 12,
                "12",
                SECONDARY,
                SANS,
                style=themed("muted", theme),
            )
        )
    parts += [_edge(view, route, marker, theme) for route in layout.routes]
    parts += [_node(view.nodes[key], box, theme) for key, box in layout.boxes.items()]
    return element(
        "svg",
        "\n" + "\n".join(parts) + "\n",
        xmlns="http://www.w3.org/2000/svg",
        width=width,
        height=height,
        viewBox=f"0 0 {_fmt(width)} {_fmt(height)}",
        role="img",
        aria_label=title,
        # in a notebook: shrink to the output's width (never grow), the frame scrolls vertically
        style="max-width:100%;height:auto" if theme else None,
    )
