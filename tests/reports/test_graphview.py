"""Drawing display graphs: layout invariants, well-formed SVG, Mermaid, DOT, JSON and text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from provkernel.graphview import formats, style
from provkernel.graphview.chains import collapse_chains
from provkernel.graphview.layout import layered_layout
from provkernel.graphview.svg import CHAR_W, render_svg
from provkernel.graphview.text import graph_table
from provkernel.lineage.graph import build_graph
from provkernel.lineage.model import DEF, USE, Event, Execution
from provkernel.lineage.slicing import latest_per_cell
from provkernel.lineage.views import cell_key, cells_shown, display_graph
from provkernel.render import to_text

SVG = "{http://www.w3.org/2000/svg}"


def fib_view(cells: int = 100) -> nx.DiGraph:
    """The benchmark notebook's shape: cell 0 defines fib, every later cell reads it and v0…v9 of the previous."""
    runs = [Execution(1, 1, 1, "c1", "c1", "h1", "def fib(n):\n    ...", 0.0, 0.1, "ok")]
    events = [Event(1, DEF, "fib")]
    for i in range(2, cells + 1):
        runs.append(Execution(i, 1, i, f"c{i}", f"c{i}", f"h{i}", "v0 = v0 + fib(10)\n...", 0.0, 0.1, "ok"))
        events.append(Event(i, USE, "fib", 1))
        for v in range(10):
            if i > 2:
                events.append(Event(i, USE, f"v{v}", i - 1))
            events.append(Event(i, DEF, f"v{v}"))
    graph = build_graph(runs, events)
    return display_graph(graph, cells_shown(graph, latest_per_cell(graph)))


def overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_a_100_cell_notebook_stays_readable():
    view = fib_view(100)
    layout = layered_layout(view)
    boxes = list(layout.boxes.values())
    assert len(boxes) == 100
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    # one column, one shared lane for the 99 reads of fib: narrow enough for a notebook
    assert layout.width < 400 and {r.kind for r in layout.routes} == {"direct", "lane"}
    lane_xs = {r.points[1][0] for r in layout.routes if r.kind == "lane"}
    assert len(lane_xs) == 1
    # drawn, the chain's inside is one node: the first, second and last cells stay readable
    root = ET.fromstring(render_svg(view, "fib · 100 cells"))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    room = int((boxes[0].w - 22) / CHAR_W)
    assert all(len(t) <= room for t in texts if t.startswith("["))  # labels fit their boxes
    assert [t.split(" ")[0] for t in texts if t.startswith("[")] == ["[1]", "[2]", "[3]…[99]", "[100]"]
    chain = next(g for g in root.iter(f"{SVG}g") if "[3]…[99]" in "".join(g.itertext()))
    hover = chain.find(f"{SVG}title").text
    assert hover.startswith("97 cells in a chain") and "[50] v0 = v0 + fib(10)" not in hover  # 20 listed
    assert "[4] v0 = v0 + fib(10)" in hover and "… 77 more …" in hover


def test_cells_that_matter_break_a_chain_and_small_graphs_stay_whole():
    view = fib_view(60)
    view.nodes[cell_key(30)]["flags"] = frozenset({"error"})
    drawn = collapse_chains(view)
    tags = sorted((view.nodes[k]["tag"] for k in view if k in drawn), key=lambda t: int(t[1:-1]))
    assert [drawn.nodes[k]["tag"] for k in drawn if k[0] == "chain"] == ["[3]…[28]", "[32]…[59]"]
    assert {"[1]", "[2]", "[29]", "[30]", "[31]", "[60]"} == set(tags)
    # every edge into or out of a hidden cell now meets the chain node, names merged
    chain = ("chain", 3)
    assert set(drawn.predecessors(chain)) == {cell_key(1), cell_key(2)}
    assert drawn.edges[cell_key(1), chain]["names"] == ("fib",)
    assert collapse_chains(fib_view(30)).number_of_nodes() == 30
    # the cell asked about stays; cells all flagged alike (every writer of a name) fold
    view = fib_view(60)
    view.nodes[cell_key(30)]["flags"] = frozenset({"focus"})
    assert cell_key(30) in collapse_chains(view)
    for key in view:
        view.nodes[key]["flags"] = frozenset({"focus"})
    assert [k for k in collapse_chains(view) if k[0] == "chain"] == [("chain", 3)]


def test_svg_is_self_contained_and_escapes_code():
    runs = [
        Execution(1, 1, 1, "a", "a", "h1", 'df = pd.read_csv("<data>.csv") & more', 0.0, 1.0, "ok"),
        Execution(2, 1, 2, "b", "b", "h2", "df.head()", 0.0, 1.0, "error", "KeyError", "'x'"),
    ]
    graph = build_graph(runs, [Event(1, DEF, "df"), Event(2, USE, "df", 1)], outputs={2: {"text/html"}})
    graph.nodes[1]["reads"].append("/w/<data>.csv")
    view = display_graph(graph, {1: 1, 2: 2}, data=True)
    root = ET.fromstring(render_svg(view, "t"))  # parses: everything is escaped
    assert root.get("width") and root.get("viewBox")
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any("<data>.csv" in t for t in titles) and any("KeyError: 'x'" in t for t in titles)
    markers = {m.get("id") for m in root.iter(f"{SVG}marker")}
    assert all(p.get("marker-end")[5:-1] in markers for p in root.iter(f"{SVG}path") if p.get("marker-end"))
    assert not list(root.iter(f"{SVG}style"))  # a stylesheet would leak into the notebook page


def test_mermaid_dot_json_and_text_carry_the_same_graph():
    view = fib_view(5)
    mermaid = formats.to_mermaid(view, "t")
    assert "flowchart TD" in mermaid and mermaid.count("-->") == view.number_of_edges()
    dot = formats.to_dot(view, "t")
    assert dot.startswith("digraph") and dot.count("->") == view.number_of_edges()
    data = json.loads(json.dumps(formats.to_json(view)))
    assert len(data["nodes"]) == 5 and len(data["edges"]) == view.number_of_edges()
    assert {e["source"] for e in data["edges"]} <= {n["id"] for n in data["nodes"]}
    text = to_text(graph_table(view, "t"), width=80)
    assert max(len(line) for line in text.splitlines()) <= 80 and "[1] fib" in text


@st.composite
def dags(draw):
    n = draw(st.integers(1, 30))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
    view = nx.DiGraph()
    for i in range(n):
        kind = draw(st.sampled_from(["cell", "cell", "data"]))
        view.add_node(
            (kind, i),
            kind=kind,
            tag=f"[{i}]",
            title="x" * draw(st.integers(0, 80)),
            flags=frozenset(),
            order=float(i),
        )
    for u, v in edges:
        if u != v:
            view.add_edge(
                (view.nodes and list(view)[u]), list(view)[v], names=("a",), kind="names", stale=False
            )
    return view


@settings(max_examples=60, deadline=None)
@given(dags(), st.integers(1, 5))
def test_layout_never_overlaps_and_routes_every_edge(view, per_row):
    layout = layered_layout(view, per_row)
    boxes = list(layout.boxes.values())
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert len(layout.routes) == view.number_of_edges()
    for route in layout.routes:
        assert all(0 <= x <= layout.width and 0 <= y <= layout.height for x, y in route.points)
    ET.fromstring(render_svg(view, "random"))


def two_cells(status: str = "error") -> nx.DiGraph:
    runs = [
        Execution(1, 1, 1, "a", "a", "h1", "df = load()\nn = len(df)", 0.0, 0.25, "ok"),
        Execution(2, 1, 2, "b", "b", "h2", "df['Age']", 1.0, 2.5, status, "KeyError", "'Age'"),
    ]
    graph = build_graph(runs, [Event(1, DEF, "df"), Event(1, DEF, "n"), Event(2, USE, "df", 1)])
    return display_graph(graph, {1: 1, 2: 2})


def test_hover_text_says_code_names_time_and_status_and_crashes_are_red():
    root = ET.fromstring(render_svg(two_cells(), "t"))
    nodes = {g.get("class"): g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("pk-node")}
    assert set(nodes) == {"pk-node pk-plain", "pk-node pk-error"}
    crashed = nodes["pk-node pk-error"]
    assert crashed.find(f"{SVG}rect").get("fill") == style.ERROR.fill == "#ffd6d6"
    hover = crashed.find(f"{SVG}title").text.splitlines()
    assert hover[0] == "[2] epoch 1 · error · 1.50 s" and hover[1] == "KeyError: 'Age'"
    assert "df['Age']" in hover and "reads: df" in hover
    first = nodes["pk-node pk-plain"].find(f"{SVG}title").text
    assert "df = load()\nn = len(df)" in first and "defines: df, n" in first
    legend = [t.text for t in root.iter(f"{SVG}text")][1:4]
    assert legend == ["crashed", "reads data", "drew output"]


def test_a_notebook_drawing_takes_theme_colours_and_a_file_keeps_plain_ones():
    inline, file = render_svg(two_cells(), "t", theme=True), render_svg(two_cells(), "t")
    assert "var(--jp-layout-color0,#ffffff)" in inline and "max-width:100%" in inline
    assert "var(" not in file and "style=" not in file
    root = ET.fromstring(inline)
    canvas = next(r for r in root.iter(f"{SVG}rect") if r.get("x") == "0.5")
    assert canvas.get("fill") == "#ffffff"  # the attribute stays for viewers without CSS variables


def test_stale_cells_are_amber_and_in_the_legend_only_when_drawn():
    view = two_cells(status="ok")
    labels = [t.text for t in ET.fromstring(render_svg(view, "t")).iter(f"{SVG}text")]
    assert "drew output" in labels and "stale: re-run" not in labels
    view.nodes[cell_key(1)]["flags"] = frozenset({"stale", "data"})
    root = ET.fromstring(render_svg(view, "t"))
    assert "stale: re-run" in [t.text for t in root.iter(f"{SVG}text")]
    node = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "pk-node pk-stale")
    assert node.find(f"{SVG}rect").get("fill") == style.STALE.fill  # amber wins over reading data
    assert f"classDef stale fill:{style.STALE.fill}" in formats.to_mermaid(view)
