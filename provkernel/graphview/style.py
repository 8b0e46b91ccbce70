"""Colours and labels shared by every graph renderer.

Cells follow the convention users know from ipyflow and FlowBook: **crashed red, reads data
orange, drew output green**. Each state is one :class:`NodeStyle` in :data:`NODE_STYLES`, in
priority order (a crashed cell that read data is drawn red); renderers take colours, legend
entries and class names from that table, so a new state is one entry there. A state marked
``optional`` appears in the legend only when a drawn node has it: **stale, amber** (its inputs
changed since it ran: re-run it) is one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Paint:
    """Fill, stroke and text colour of a node."""

    fill: str
    stroke: str
    text: str = "#1f2328"


@dataclass(frozen=True)
class NodeStyle:
    """How cells with ``flag`` are drawn, and their legend entry (``optional``: only when present)."""

    flag: str
    label: str
    css_class: str
    paint: Paint
    optional: bool = False


PLAIN = Paint("#f3f5f9", "#8c96a8")
ERROR = Paint("#ffd6d6", "#d32f2f", "#5c0f0f")
READS_DATA = Paint("#ffd9a8", "#d9730d")
OUTPUT = Paint("#c9ecc9", "#2e8540")
STALE = Paint("#fff1a6", "#b58900", "#4d3b00")
DATA_NODE = Paint("#dbe9ff", "#3b6fc4")
LIBRARY_NODE = Paint("#ece3fa", "#7b57c2")
FOCUS_STROKE = "#1257d6"
DOWNSTREAM_STROKE = "#9c27b0"

NODE_STYLES: tuple[NodeStyle, ...] = (
    NodeStyle("error", "crashed", "error", ERROR),
    NodeStyle("stale", "stale: re-run", "stale", STALE, optional=True),
    NodeStyle("data", "reads data", "readsdata", READS_DATA),
    NodeStyle("output", "drew output", "output", OUTPUT),
)
KIND_STYLES = {"data": ("datanode", DATA_NODE), "library": ("library", LIBRARY_NODE)}

EDGE = "#7d8799"
EDGE_DATA = "#d9730d"
EDGE_IMPORT = "#7b57c2"


def node_style(kind: str, flags: Iterable[str]) -> tuple[str, Paint]:
    """Class name and colours of a node: its kind for data and libraries, else its first state in
    :data:`NODE_STYLES` (a crash wins over reading data, which wins over drawing output)."""
    if kind in KIND_STYLES:
        return KIND_STYLES[kind]
    flags = set(flags)
    for entry in NODE_STYLES:
        if entry.flag in flags:
            return entry.css_class, entry.paint
    return "plain", PLAIN


def paint(kind: str, flags: Iterable[str]) -> Paint:
    """Colours of a node (see :func:`node_style`)."""
    return node_style(kind, flags)[1]


def all_classes() -> list[tuple[str, Paint]]:
    """Every class name with its colours (for formats that declare classes up front)."""
    return [("plain", PLAIN), *((s.css_class, s.paint) for s in NODE_STYLES), *KIND_STYLES.values()]


def legend(present: Iterable[str] = ()) -> list[NodeStyle]:
    """Legend entries: every state, except optional ones no drawn node has (``present``: drawn flags)."""
    present = set(present)
    return [s for s in NODE_STYLES if not s.optional or s.flag in present]


def badges(flags: Iterable[str]) -> list[str]:
    """Stroke colours of the states a node has (small dots: a red node may also have read data)."""
    flags = set(flags)
    return [s.paint.stroke for s in NODE_STYLES if s.flag in flags]


def edge_colour(kind: str) -> str:
    """Colour of an edge of kind ``names``, ``read``, ``write`` or ``import``."""
    return {"read": EDGE_DATA, "write": EDGE_DATA, "import": EDGE_IMPORT}.get(kind, EDGE)


def names_label(names: Iterable[str], limit: int = 26) -> str:
    """``X_train, y_train`` or ``v0, v1, v2 +7`` to fit ``limit`` characters."""
    names = list(names)
    shown: list[str] = []
    for i, name in enumerate(names):
        rest = len(names) - i - 1
        candidate = ", ".join([*shown, name]) + (f" +{rest}" if rest else "")
        if len(candidate) > limit and shown:
            return ", ".join(shown) + f" +{len(names) - len(shown)}"
        shown.append(name)
    text = ", ".join(shown)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"
