"""Colours and labels shared by every graph renderer (MLProvLab's convention: orange reads data,
green produces output, grey crashed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Paint:
    """Fill, stroke and text colour of a node."""

    fill: str
    stroke: str
    text: str = "#1f2328"


PLAIN = Paint("#f3f5f9", "#8c96a8")
READS_DATA = Paint("#ffd9a8", "#d9730d")
OUTPUT = Paint("#c9ecc9", "#2e8540")
ERROR = Paint("#d4d4d4", "#5f5f5f", "#3a3a3a")
DATA_NODE = Paint("#dbe9ff", "#3b6fc4")
LIBRARY_NODE = Paint("#ece3fa", "#7b57c2")
FOCUS_STROKE = "#1257d6"
DOWNSTREAM_STROKE = "#9c27b0"

EDGE = "#7d8799"
EDGE_DATA = "#d9730d"
EDGE_IMPORT = "#7b57c2"

LEGEND = (
    ("reads data", READS_DATA),
    ("rich output", OUTPUT),
    ("crashed", ERROR),
)
FLAG_BADGES = (("data", READS_DATA.stroke), ("output", OUTPUT.stroke), ("error", ERROR.stroke))


def paint(kind: str, flags: Iterable[str]) -> Paint:
    """Colours of a node: a crash wins over reading data, which wins over producing output."""
    flags = set(flags)
    if kind == "data":
        return DATA_NODE
    if kind == "library":
        return LIBRARY_NODE
    if "error" in flags:
        return ERROR
    if "data" in flags:
        return READS_DATA
    if "output" in flags:
        return OUTPUT
    return PLAIN


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
