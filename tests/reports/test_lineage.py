"""The graph model and its pure functions, on hand-built histories and random ones (hypothesis)."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from provkernel.lineage.graph import build_graph
from provkernel.lineage.inputs import parameter_inputs
from provkernel.lineage.model import DEF, DELETE, UPDATE, USE, Access, Event, Execution
from provkernel.lineage.slicing import (
    backward_slice,
    cells_of,
    forward_impact,
    latest_per_cell,
    rerun_plan,
    slice_for_name,
    state_at,
    writers,
)
from provkernel.lineage.usage import import_usage, names_loaded
from provkernel.lineage.views import cells_shown, display_graph


def run(i: int, cell: str, code: str, status: str = "ok") -> Execution:
    return Execution(i, 1, i, cell, cell, f"h-{code}", code, float(i), float(i) + 0.5, status)


def out_of_order_history():
    """Cells a (x = 1), b (y = x + 1), c (z = y * 2); then a is edited and re-run, c re-run, b never."""
    runs = [
        run(1, "a", "x = 1"),
        run(2, "b", "y = x + 1"),
        run(3, "c", "z = y * 2"),
        run(4, "a", "x = 10"),
        run(5, "c", "z = y * 2"),
        run(6, "d", "w = x + z", status="error"),
    ]
    events = [
        Event(1, DEF, "x", None, "1"),
        Event(2, USE, "x", 1),
        Event(2, DEF, "y", None, "2"),
        Event(3, USE, "y", 2),
        Event(3, DEF, "z", None, "4"),
        Event(4, DEF, "x", None, "10"),
        Event(5, USE, "y", 2),
        Event(5, DEF, "z", None, "4"),
        Event(6, USE, "x", 4),
        Event(6, USE, "z", 5),
    ]
    return build_graph(runs, events)


def test_slice_lists_what_actually_produced_a_result_not_the_latest_code():
    g = out_of_order_history()
    assert backward_slice(g, [5]) == [1, 2, 5]  # z came from y, from the *first* x
    steps = rerun_plan(g, backward_slice(g, [5]))
    assert [(s.execution.id, s.reads, s.code_changed) for s in steps] == [
        (1, (), True),  # cell a's code is now "x = 10": re-running it as is would not reproduce z
        (2, ("x",), False),
        (5, ("y",), False),
    ]
    assert slice_for_name(g, "z") == [1, 2, 5]
    assert slice_for_name(g, "z", at=3) == [1, 2, 3]


def test_forward_impact_state_and_cells():
    g = out_of_order_history()
    assert forward_impact(g, name="x") == [2, 3, 5, 6]
    assert forward_impact(g, executions=[4]) == [6]
    assert cells_of(g, forward_impact(g, name="y")) == ["c", "d"]
    assert {n: (b.execution_id, b.value) for n, b in state_at(g, 3).items()} == {
        "x": (1, "1"),
        "y": (2, "2"),
        "z": (3, "4"),
    }
    assert state_at(g)["x"].execution_id == 4
    assert writers(g, "z") == [3, 5]
    assert latest_per_cell(g) == {"b": 2, "a": 4, "c": 5, "d": 6}


def test_updates_chain_versions_and_deletes_end_them():
    runs = [run(1, "a", "df = load()"), run(2, "b", "df.dropna(inplace=True)"), run(3, "c", "del df")]
    events = [Event(1, DEF, "df"), Event(2, UPDATE, "df", 1), Event(3, DELETE, "df", 2)]
    g = build_graph(runs, events)
    assert backward_slice(g, [2]) == [1, 2]
    assert "df" in state_at(g, 2) and "df" not in state_at(g, 3)


def test_a_file_written_then_read_links_the_executions():
    runs = [
        run(1, "a", "df.to_csv('o.csv')"),
        run(2, "b", "pd.read_csv('o.csv')"),
        run(3, "c", "open('o.csv','w')"),
    ]
    accesses = [Access(1, "file", "/w/o.csv", "write", "h1"), Access(2, "file", "/w/o.csv", "read", "h1")]
    accesses.append(Access(3, "file", "/w/o.csv", "write", "h2"))
    g = build_graph(runs, [], accesses)
    assert g.edges[1, 2]["files"] == {"/w/o.csv"} and not g.has_edge(2, 3)
    assert backward_slice(g, [2]) == [1, 2]


def test_cell_view_marks_stale_reads_data_output_and_crashes():
    g = out_of_order_history()
    g.nodes[3]["outputs"].add("image/png")
    g.nodes[2]["reads"].append("/w/data.csv")
    view = display_graph(g, cells_shown(g, latest_per_cell(g)), data=True)
    keys = {k[1] for k in view if k[0] == "cell"}
    assert keys == {2, 4, 5, 6}  # each cell's latest run
    # c's latest run read y from b's only run: fresh; d read x from a's latest run: fresh
    assert not view.edges[("cell", 2), ("cell", 5)]["stale"]
    assert view.nodes[("cell", 6)]["flags"] == {"error"}
    assert "data" in view.nodes[("cell", 2)]["flags"]
    assert view.has_edge(("data", "/w/data.csv"), ("cell", 2))
    # b read x from a's *first* run, which a's latest run no longer represents
    assert view.edges[("cell", 4), ("cell", 2)]["stale"]


def test_parameters_flow_to_results_latest_assignment_wins():
    edges = [(2, 1), (3, 2), (4, 3), (4, 1)]
    params = {1: {"lr": "0.1", "seed": "0"}, 3: {"lr": "0.01"}}
    assert parameter_inputs(edges, params, [4]) == {4: {"lr": ("0.01", 3), "seed": ("0", 1)}}


def test_import_usage_counts_readers_while_the_binding_holds():
    runs = [
        run(1, "imports", "import numpy as np\nimport os\nfrom sklearn.svm import SVC"),
        run(2, "a", "x = np.ones(3)"),
        run(3, "b", "np = 'shadowed'"),
        run(4, "c", "print(np)"),
        run(5, "d", "import json\njson.dumps({})"),
    ]
    events = [
        Event(1, DEF, "np"),
        Event(1, DEF, "os"),
        Event(2, USE, "np", 1),
        Event(3, DEF, "np"),
        Event(4, USE, "np", 3),
        Event(5, DEF, "json"),
    ]
    facts = {
        "h-" + runs[0].code: {
            "imports": [["numpy", None, "np", 1], ["os", None, "os", 2], ["sklearn.svm", "SVC", "SVC", 3]]
        },
        "h-" + runs[4].code: {"imports": [["json", None, "json", 1]]},
    }
    usage = import_usage(build_graph(runs, events), facts)
    assert usage["numpy"].used_by == [2]  # [4] read the string that replaced it
    assert not usage["os"].used
    assert "sklearn" not in usage  # the import failed before binding SVC (no definition recorded)
    assert usage["json"].used_by == [5]  # used in its own cell


def test_names_loaded_survives_magics_and_syntax_errors():
    assert names_loaded("%matplotlib inline\nplt.plot(x)") == {"plt", "x"}
    assert {"plt", "x"} <= names_loaded("plt.plot(x) +")


history = st.lists(
    st.tuples(
        st.sampled_from("abcdefg"), st.sets(st.sampled_from("uvwxyz")), st.sets(st.sampled_from("uvwxyz"))
    ),
    min_size=1,
    max_size=40,
)


def random_graph(steps) -> nx.DiGraph:
    """Executions in order, each reading some names (from their last writer) and writing others."""
    runs, events, last = [], [], {}
    for i, (cell, reads, writes) in enumerate(steps, start=1):
        runs.append(run(i, cell, f"{cell}{i}"))
        for name in sorted(reads):
            events.append(Event(i, USE, name, last.get(name)))
        for name in sorted(writes):
            events.append(Event(i, DEF, name))
            last[name] = i
    return build_graph(runs, events)


@settings(max_examples=60, deadline=None)
@given(history, st.data())
def test_slices_are_closed_minimal_and_ordered(steps, data):
    g = random_graph(steps)
    target = data.draw(st.sampled_from(sorted(g)))
    chosen = backward_slice(g, [target])
    assert chosen == sorted(chosen) and chosen[-1] == target
    for x in chosen:  # closed: everything a member read from is in the slice
        assert set(g.predecessors(x)) <= set(chosen)
    for x in chosen[:-1]:  # minimal: every other member reaches the target
        assert nx.has_path(g, x, target)
    impact = forward_impact(g, executions=[target])
    assert all(target in backward_slice(g, [y]) for y in impact)
