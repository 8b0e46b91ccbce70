"""The display graph as a rich table, for terminals (``jupyter console``, the CLI) and ``text/plain``."""

from __future__ import annotations

import networkx as nx
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from provkernel.graphview import style
from provkernel.graphview.formats import nodes_in_order

# the flags as words, in the graph's colours (a terminal never relies on the colour alone)
FLAG_TEXT = tuple((s.flag, s.label, s.paint.stroke) for s in style.NODE_STYLES)


def _ref(view: nx.DiGraph, key) -> str:
    data = view.nodes[key]
    return data["tag"] if data["kind"] == "cell" else data["title"]


def _inputs(view: nx.DiGraph, key) -> Text:
    reads = Text()
    for u in sorted(view.predecessors(key), key=lambda k: view.nodes[k].get("order", 0.0)):
        edge = view.edges[u, key]
        if reads:
            reads.append("; ")
        reads.append(_ref(view, u), style="bold")
        if edge["names"]:
            reads.append(" " + style.names_label(edge["names"], 30), style="italic" if edge["stale"] else "")
    return reads


class GraphTable:
    """One row per node in time order: what it is, its flags, and what it reads from which node.

    The code column gets about 40% of the width the table is rendered at, so the inputs stay
    readable in an 80-column terminal as in a notebook.
    """

    def __init__(self, view: nx.DiGraph, title: str = "") -> None:
        self.view, self.title = view, title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def table(self, width: int) -> Table:
        """The table for a given width."""
        view = self.view
        table = Table(title=self.title or None, title_justify="left", caption_justify="left")
        table.add_column("node", no_wrap=True)
        table.add_column(
            "code / source", overflow="ellipsis", no_wrap=True, max_width=max(16, int(width * 0.4))
        )
        table.add_column("", no_wrap=True)
        table.add_column("reads from", overflow="fold")
        for key in nodes_in_order(view):
            data = view.nodes[key]
            flags = data["flags"]
            tag = Text(data["tag"] if data["kind"] == "cell" else data["kind"], style="bold")
            if "focus" in flags:
                tag.stylize("reverse")
            # one flag a line: a narrow column leaves the width to what the cell reads
            marks = Text("\n").join(
                Text(label, style=colour) for flag, label, colour in FLAG_TEXT if flag in flags
            )
            title = Text(data["title"], style="" if data["kind"] == "cell" else "dim")
            table.add_row(tag, title, marks, _inputs(view, key))
        if not len(view):
            table.add_row("", "nothing to draw", "", "")
        elif any(d.get("stale") for *_, d in view.edges(data=True)):
            table.caption = "italic: read from an earlier run of that cell"
        return table


def graph_table(view: nx.DiGraph, title: str = "") -> GraphTable:
    """The renderable table of a display graph."""
    return GraphTable(view, title)
