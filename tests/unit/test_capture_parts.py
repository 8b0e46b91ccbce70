"""Runtime capture parts on real objects: namespace watcher, values, files and URLs, parameters, identity."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import os
import urllib.request

import pytest

from provkernel.capture.dataflow import AccessCollector
from provkernel.capture.identity import notebook_identity
from provkernel.capture.runtime import NamespaceWatcher, value_repr
from provkernel.errors import UsageError
from provkernel.parameters import inject_parameters, merge_parameters, resolve_value
from tests.kernel.helpers import notebook


def test_namespace_watcher_sees_added_changed_removed_and_ignores_ipython_bookkeeping():
    ns = {"a": 1, "b": [1], "_i1": "x", "In": []}
    watcher = NamespaceWatcher(ns, hidden={"In": ns["In"]})
    watcher.before()
    ns["b"] = [2]
    ns["c"] = 3
    del ns["a"]
    ns["_i2"] = "y"
    ns["_5"] = "out"
    change = watcher.after()
    assert (change.added, change.changed, change.removed) == ({"c"}, {"b"}, {"a"})
    watcher.before()
    ns["a"] = 5  # deleted before, bound again
    assert watcher.after().added == {"a"}


def test_namespace_watcher_survives_deletion_of_the_last_key():
    ns = {"x": 1, "y": 2}
    watcher = NamespaceWatcher(ns)
    watcher.before()
    del ns["y"]
    ns["z"] = 3
    change = watcher.after()
    assert change.added == {"z"} and change.removed == {"y"}


def test_value_repr_scalars_secrets_and_numpy():
    np = pytest.importorskip("numpy")
    assert value_repr("acc", np.float64(0.93)) == "0.93"
    assert value_repr("n", 3) == "3" and value_repr("s", "x" * 300) is None
    assert value_repr("df", object()) is None
    assert value_repr("API_KEY", "sk-1") == "<redacted>"
    assert value_repr("db_password", 5) == "<redacted>"
    assert value_repr("home", "/root", redact=frozenset({"home"})) == "<redacted>"


def test_access_collector_fingerprints_files_and_skips_code(tmp_path):
    collector = AccessCollector(hash_limit=1024)
    collector.install()
    small, big = tmp_path / "small.csv", tmp_path / "big.bin"
    small.write_text("a,b\n1,2\n")
    big.write_bytes(b"x" * 4096)
    collector.start()
    small.read_text()
    big.read_bytes()
    (tmp_path / "out.txt").write_text("w")
    with open(tmp_path / "both.txt", "w+") as fh:
        fh.write("rw")
    fd = os.open(tmp_path / "low.txt", os.O_WRONLY | os.O_CREAT)
    os.close(fd)
    import json  # noqa: F401 - an import, not data

    accesses = {a.location: a for a in collector.drain()}
    assert accesses[str(small)].hash == "sha256:" + hashlib.sha256(small.read_bytes()).hexdigest()
    assert accesses[str(small)].mode == "read"
    assert accesses[str(big)].hash.startswith("stat:4096:")
    assert accesses[str(tmp_path / "out.txt")].mode == "write"
    assert accesses[str(tmp_path / "both.txt")].mode == "readwrite"
    assert accesses[str(tmp_path / "low.txt")].mode == "write"
    assert all(not loc.endswith(".py") for loc in accesses)
    collector.start()
    small.read_text()
    collector.stop()
    (tmp_path / "after.txt").write_text("not watched")
    assert [a.location for a in collector.drain()] == [str(small)]


def test_urls_are_recorded_from_urllib_and_http_client(csv_server):
    port = csv_server
    collector = AccessCollector()
    collector.install()
    collector.start()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/data.csv?x=1").read()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/raw.csv")
    conn.getresponse().read()
    urls = sorted(a.location for a in collector.drain() if a.kind == "url")
    assert urls == [f"http://127.0.0.1:{port}/data.csv?x=1", f"http://127.0.0.1:{port}/raw.csv"]


def test_parameters_follow_papermill_conventions(tmp_path):
    assert [resolve_value(v) for v in ["True", "None", "3", "0.5", "1e-3", "abc"]] == [
        True,
        None,
        3,
        0.5,
        0.001,
        "abc",
    ]
    (tmp_path / "p.yaml").write_text("a: 1\nday: 2024-01-01\n")
    merged = merge_parameters([str(tmp_path / "p.yaml")], ["a: 2\nb: [1, 2]"], [("a", "3")])
    assert merged == {"a": 3, "day": "2024-01-01", "b": [1, 2]}
    with pytest.raises(UsageError):
        merge_parameters(yamls=["- just\n- a list"])
    nb = notebook("x = 1", "y = x", tags={0: ["parameters"]})
    once = inject_parameters(nb, {"x": float("nan"), "label": "a'b"})
    twice = inject_parameters(once, {"x": 2})
    assert once.cells[1].source == "# Parameters\nx = float('nan')\nlabel = \"a'b\"\n"
    assert [c.metadata.get("tags") for c in twice.cells] == [["parameters"], ["injected-parameters"], None]
    assert twice.cells[1].source == "# Parameters\nx = 2\n"


def test_notebook_identity(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert notebook_identity({}, {}) == str(tmp_path)
    assert notebook_identity({"__vsc_ipynb_file__": "/x/y.ipynb"}, {}) == "/x/y.ipynb"
    assert notebook_identity({}, {"JPY_SESSION_NAME": "/abs/nb.ipynb"}) == "/abs/nb.ipynb"
    sub = tmp_path / "proj"
    sub.mkdir()
    monkeypatch.chdir(sub)
    # jupyter_server gives a path relative to its root; the kernel runs in the notebook's folder
    assert notebook_identity({}, {"JPY_SESSION_NAME": "proj/analysis.ipynb"}) == str(sub / "analysis.ipynb")


def test_call_effects_are_reused_only_while_every_function_looked_up_is_the_same():
    """The effects resolved before a cell ran hold after it only if each name they looked up still
    holds the same plain function with the same code (or is still missing)."""
    from provkernel.capture.analysis import analyze
    from provkernel.capture.calls import CallResolver

    source = "def net(x):\n    return helper(x) * (1 - rate)\n"
    facts = analyze(source)
    ns: dict = {}
    exec(compile(source, "<cell-1>", "exec"), ns)  # noqa: S102 - a notebook cell, as IPython runs it
    resolver = CallResolver({"<cell-1>": facts})
    cell = analyze("p = net(100)")
    before = resolver.effects(cell, ns)
    assert before.reads == {"rate", "helper"} and resolver.still_valid(before, ns)
    ns["helper"] = lambda x: x  # a name the function calls, missing before, defined now
    assert not resolver.still_valid(before, ns)
    again = resolver.effects(cell, ns)
    assert again is not before and resolver.effects(cell, ns) is again  # the cell run again: reused
    rebound = "def net(x):\n    return x * tax\n"
    exec(compile(rebound, "<cell-2>", "exec"), ns)  # noqa: S102 - rebound
    resolver.remember("<cell-2>", analyze(rebound))
    assert not resolver.still_valid(again, ns)
    assert resolver.effects(cell, ns).reads == {"tax"}  # the same cell, resolved again

    class Model:
        def fit(self):
            return self

    ns["model"] = Model()
    assert resolver.effects(analyze("model.fit()"), ns).witness is None  # a method: never reused
