"""Runtime lineage (issue 11): what a cell did, not only what its code says — calls into notebook
functions, objects changed in place through any path, column lineage and stale cells."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.kernel.helpers import Kernel, flush, observable, query

KINDS = {0: "use", 1: "def", 2: "update", 3: "delete"}
ALIASED = (
    "import numpy as np, pandas as pd\nlst = [1]\nd = {'k': 1}\narr = np.zeros(5)\n"
    "frame = pd.DataFrame({'a': [1, 2], 'b': [3, 4]})"
)


def run_cells(kernel: Kernel, cells: list[tuple[str, str]]) -> dict[str, int]:
    """Run (cell id, code) pairs; returns cell id → count of its latest run."""
    counts = {}
    for cell_id, code in cells:
        reply = kernel.execute(code, cell_id=cell_id)
        assert reply.status == "ok", (code, reply.error)
        counts[cell_id] = reply.count
    return counts


def graph_json(reply) -> dict:
    """The JSON of a report's display (``%provgraph --format json``, ``%prov stale``), whichever
    JSON MIME type carries it."""
    for output in reply.outputs:
        for mime, value in output.get("data", {}).items():
            if mime.endswith("json"):
                return value
    return json.loads(reply.data("text/plain")[0])


def events(db) -> set[tuple[int, str, str, int | None]]:
    """(count, kind, name, count it read from) of every symbol event."""
    rows = query(
        db,
        "SELECT x.count, s.kind, n.name, src.count FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id LEFT JOIN executions src ON src.id = s.source",
    )
    return {(c, KINDS[k], n, src) for c, k, n, src in rows}


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    """One kernel, the issue's stories one after another (each with its own names)."""
    tmp = tmp_path_factory.mktemp("lineage")
    db = tmp / "prov.sqlite"
    nb = tmp / "lineage.ipynb"
    cells = [
        # the issue: a function reading a global, called before and after the global changes
        ("r1", "rate = 0.1"),
        ("r2", "def net(x): return x * (1 - rate)"),
        ("r3", "p1 = net(100)"),
        ("r4", "rate = 0.2"),
        ("r5", "p2 = net(100)"),
        # the same call inside a comprehension (its own loop variable is no global)
        ("r6", "x = 'a global x'\nprices = [net(x) for x in (10, 20)]"),
        # the issue: a function mutating a global set
        ("s1", "seen = set()"),
        ("s2", "def mark(x): seen.add(x)"),
        ("s3", "mark(7)"),
        ("s4", "print(len(seen))"),
        # a function calling another defined in a later cell, reading a global defined later still
        ("f1", "def outer_f():\n    return inner_g() + 1"),
        ("f2", "def inner_g():\n    return base * 2"),
        ("f3", "base = 5"),
        ("f4", "y = outer_f()"),
        # a class whose method mutates a global, through a helper method
        ("c1", "history = []"),
        (
            "c2",
            "class Tracker:\n    def log(self, x):\n        self._store(x)\n    def _store(self, x):\n        history.append(x)",
        ),
        ("c3", "tracker = Tracker()"),
        ("c4", "tracker.log(3)"),
        ("c5", "print(history)"),
        # aliases and in-place changes on lists, dicts, numpy, pandas
        ("a1", ALIASED),
        ("a2", "lst2, d2, arr2, frame2 = lst, d, arr, frame"),
        ("a3", "lst2.append(2)\nd2['k'] = 2\nnp.add(arr2, 1, out=arr2)\nframe2.pop('b')"),
        ("a4", "total = len(lst) + d['k'] + arr.sum() + len(frame.columns)"),
        # exec and globals() still seen
        ("e1", "exec('made_by_exec = 1')\nglobals()['made_by_globals'] = 2"),
        ("e2", "both = made_by_exec + made_by_globals"),
        # a lambda passed inline runs in the cell; one stored runs when called
        ("l1", "offset = 3\nscale = 2"),
        ("l2", "ordered = sorted([5, 1], key=lambda v: v - offset)\nf = lambda q: q * scale"),
        ("l3", "z = f(4)"),
    ]
    with Kernel(cwd=tmp, env={"PROVKERNEL_DB": str(db)}, notebook=nb) as k:
        counts = run_cells(k, cells)
        flush(k)
        failures = k.execute(
            "from provkernel.capture.extension import recorder_for\n"
            "print(dict(recorder_for(get_ipython()).health.failures))"
        ).stdout()
    return counts, events(db), failures


def test_the_issue_function_reading_a_global(lineage):
    c, ev, _ = lineage
    assert not [e for e in ev if e[0] == c["r2"] and e[1] == "use"]  # the def reads nothing
    assert (c["r3"], "use", "rate", c["r1"]) in ev
    assert (c["r5"], "use", "rate", c["r4"]) in ev
    assert (c["r5"], "use", "net", c["r2"]) in ev
    assert {(c["r6"], "use", "rate", c["r4"]), (c["r6"], "use", "net", c["r2"])} <= ev


def test_the_issue_function_mutating_a_global(lineage):
    c, ev, _ = lineage
    assert (c["s3"], "update", "seen", c["s1"]) in ev
    assert (c["s4"], "use", "seen", c["s3"]) in ev


def test_calls_are_followed_through_functions_defined_later(lineage):
    c, ev, _ = lineage
    assert {
        (c["f4"], "use", n, c[src]) for n, src in [("outer_f", "f1"), ("inner_g", "f2"), ("base", "f3")]
    } <= ev
    assert not [e for e in ev if e[0] in (c["f1"], c["f2"]) and e[1] == "use"]


def test_methods_of_notebook_classes_mutate_globals(lineage):
    c, ev, _ = lineage
    assert (c["c4"], "update", "history", c["c1"]) in ev
    assert (c["c5"], "use", "history", c["c4"]) in ev


def test_aliases_and_in_place_changes_update_every_name_of_the_object(lineage):
    c, ev, _ = lineage
    for name in ("lst", "d", "arr", "frame"):
        assert (c["a3"], "update", name, c["a1"]) in ev, name
        assert (c["a4"], "use", name, c["a3"]) in ev, name


def test_exec_and_globals_are_still_seen(lineage):
    c, ev, _ = lineage
    assert (c["e2"], "use", "made_by_exec", c["e1"]) in ev
    assert (c["e2"], "use", "made_by_globals", c["e1"]) in ev


def test_lambdas(lineage):
    c, ev, _ = lineage
    assert (c["l2"], "use", "offset", c["l1"]) in ev  # sorted() called it in the cell
    assert not [e for e in ev if e[0] == c["l2"] and e[2] == "scale"]  # f is only defined there
    assert (c["l3"], "use", "scale", c["l1"]) in ev


def test_no_capture_failure(lineage):
    assert lineage[2].strip() == "{}"


def test_out_of_order_rerun_keeps_the_first_runs_edge(tmp_path, prov_db):
    nb = tmp_path / "rerun.ipynb"
    with Kernel(cwd=tmp_path, notebook=nb) as k:
        run_cells(
            k, [("A", "n = 3"), ("B", "m = n + 1"), ("C", "n = 7"), ("B", "m = n + 1"), ("D", "print(m)")]
        )
        graph = k.execute("%provgraph --format json")
    ev = events(prov_db)
    assert (2, "use", "n", 1) in ev and (4, "use", "n", 3) in ev and (5, "use", "m", 4) in ev
    data = graph_json(graph)
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    by_tag = {n["id"]: f"[{n['count']}]" for n in data["nodes"]}
    tagged = {(by_tag[s], by_tag[t]) for s, t in edges}
    assert ("[1]", "[4]") in tagged  # A → B: the first run of B read n from A
    assert ("[3]", "[4]") in tagged


def test_fingerprints_never_call_hostile_objects(tmp_path, prov_db):
    hostile = (
        "import time\n"
        "class Hostile:\n"
        "    def __len__(self):\n        raise RuntimeError('len')\n"
        "    def __eq__(self, other):\n        raise RuntimeError('eq')\n"
        "    def __getattr__(self, name):\n        time.sleep(5); raise AttributeError(name)\n"
        "    __hash__ = None\n"
        "class Sleepy(list):\n"
        "    def __len__(self):\n        time.sleep(5); return 0\n"
        "h, s, big = Hostile(), Sleepy([1]), dict.fromkeys(range(2_000_000))"
    )
    cells = [
        hostile,
        "h.x = 1\ns.append(2)\nbig[0] = 1",
        "print(type(h).__name__, type(s).__name__, 0 in big)",
    ]
    with Kernel("python3", cwd=tmp_path) as stock:
        expected = [observable(stock.execute(c)) for c in cells]
    with Kernel(cwd=tmp_path) as k:
        got = [observable(k.execute(c, timeout=20)) for c in cells]
        failures = k.execute(
            "from provkernel.capture.extension import recorder_for\n"
            "print(dict(recorder_for(get_ipython()).health.failures))"
        ).stdout()
    assert got == expected
    assert failures.strip() == "{}"
    assert {(2, "update", n) for n in ("h", "s", "big")} <= {e[:3] for e in events(prov_db)}


def test_column_lineage_across_cells_and_reruns(tmp_path, prov_db):
    nb = tmp_path / "columns.ipynb"
    cells = [
        (
            "load",
            "import pandas as pd\ndf = pd.DataFrame({'Amount': [1, 2], 'city': ['a', 'b'], 'n': [1, 2]})",
        ),
        ("ratio", "df['ratio'] = df['Amount'] / df['n']"),
        ("rename", "df = df.rename(columns={'city': 'town'})"),
        ("retype", "df['n'] = df['n'].astype(float)"),
        ("drop", "df.pop('Amount')"),
        ("ratio", "df['ratio'] = df['n'] * 2"),
    ]
    with Kernel(cwd=tmp_path, notebook=nb) as k:
        counts = run_cells(k, cells)
        reply = k.execute("%prov columns df")
        bad = k.execute("%prov columns nonexistent")
        labelled = graph_json(k.execute("%provgraph --columns --format json"))
    text = "".join(reply.data("text/plain"))
    edge_names = {name for edge in labelled["edges"] for name in edge["names"]}
    assert {"df [+town −city]", "df [~n]", "df [−Amount]"} <= edge_names, edge_names
    assert reply.status == "ok", reply.error
    done = subprocess.run(
        [sys.executable, "-m", "provkernel", "columns", str(nb), "df", "--json", "--db", str(prov_db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    columns = {c["name"]: c for c in json.loads(done.stdout)["columns"]}
    assert columns["Amount"]["dropped"]["count"] == counts["drop"]
    assert columns["ratio"]["created"]["count"] == 2
    assert columns["town"]["changes"] == [
        {"run": "[3]", "kind": "renamed", "before": "city", "after": "town"}
    ]
    assert columns["n"]["changes"] == [
        {"run": "[4]", "kind": "retyped", "before": "int64", "after": "float64"}
    ]
    assert "town" in text and "renamed city → town" in text
    assert bad.status == "error" and "no DataFrame named nonexistent" in bad.stderr()


def test_stale_cells_after_a_rerun_with_a_new_parameter(tmp_path, prov_db):
    nb = tmp_path / "stale.ipynb"
    cells = [
        ("params", "test_size = 0.2"),
        ("split", "n_test = int(100 * test_size)"),
        ("model", "score = n_test / 100"),
        ("other", "unrelated = 1"),
        ("params", "test_size = 0.3"),
    ]
    with Kernel(cwd=tmp_path, notebook=nb, extra_arguments=["--ProvKernel.stale_notice=True"]) as k:
        replies = []
        for cell_id, code in cells:
            replies.append(k.execute(code, cell_id=cell_id))
        stale = k.execute("%prov stale")
        graph = k.execute("%provgraph --format json")
        drawing = k.execute("%provgraph")
        k.execute("n_test = int(100 * test_size)", cell_id="split")
        after = k.execute("%prov stale")
    reasons = {cell["count"]: cell["reasons"] for cell in graph_json(stale)["stale"]}
    assert list(reasons) == [2, 3]  # the unrelated cell [4] is not stale
    assert re.fullmatch(
        r"\[2\] read `test_size` from \[1\]; that cell was re-run as \[5\] with `test_size = 0.3` at \d\d:\d\d:\d\d",
        reasons[2][0],
    )
    assert reasons[3] == ["[3] read `n_test` from [2], which is stale"]
    notice = [t for t in replies[-1].data("text/plain") if t.startswith("provkernel:")]
    assert notice and "stale now: [2]" in notice[0]
    assert all(
        not r.data("text/plain") or not r.data("text/plain")[0].startswith("provkernel") for r in replies[:-1]
    )
    data = graph_json(graph)
    assert [s["count"] for s in data["stale"]] == [2, 3]
    svg = drawing.data("text/html")[0]
    assert svg.count('class="pk-node pk-stale"') == 2 and "stale: re-run" in svg
    # re-running the split cell makes it current; the model cell read the n_test it replaced
    reasons = {cell["count"]: cell["reasons"] for cell in graph_json(after)["stale"]}
    assert list(reasons) == [3]
    assert reasons[3][0].startswith("[3] read `n_test` from [2]; that cell was re-run as [9] at ")


def test_crash_evidence_uses_the_recorded_object_shapes(tmp_path, prov_db):
    """The column was dropped inside a notebook function: only the shapes recorded after each
    execution show where it went (the code of the calling cell does not name it)."""
    cells = [
        "import pandas as pd\ndf = pd.DataFrame({'Amount': [1.0, 2.0], 'b': [3, 4], 'c': [5, 6]})",
        "def prepare(frame):\n    frame.drop(columns=['Amount'], inplace=True)",
        "prepare(df)",
    ]
    with Kernel(cwd=tmp_path) as k:
        for code in cells:
            assert k.execute(code).status == "ok"
        crash = k.execute("total = df['Amount'].sum()")
    diagnosis = crash.data("application/vnd.provkernel.diagnosis+json")[0]
    assert diagnosis["root_cause"] == "data confusion", diagnosis
    assert "`df` had 3 columns after In [1], 2 after In [3]: it lost 'Amount' there" in diagnosis["evidence"]
