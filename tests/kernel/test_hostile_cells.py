"""Hostile cells (issue 14): the user sees exactly what python3 shows, and the execution is still recorded."""

from __future__ import annotations

import time

import pytest

from tests.kernel.helpers import Kernel, flush, observable, query

SLOW = (
    "import time\n"
    "class Slow:\n"
    "    def __eq__(self, other):\n        raise RuntimeError('never compare me')\n"
    "    def __hash__(self):\n        time.sleep(0.2); return 1\n"
)
FIFO = (
    "import os, tempfile, threading\n"
    "fifo = os.path.join(tempfile.mkdtemp(), 'pipe')\n"
    "os.mkfifo(fifo)\n"
    "threading.Thread(target=lambda: open(fifo, 'w').write('hello')).start()\n"
    "print(open(fifo).read())"
)
REPR_RAISES = "class R:\n    def __repr__(self):\n        raise ValueError('no repr for you')\nR()"

# (label, code): every cell runs in one prov kernel and one python3 kernel, in this order
CELLS = [
    ("appends", "lst = []\n" + "\n".join(f"lst.append({i})" for i in range(2500))),
    ("lifted int", "import sys; sys.set_int_max_str_digits(0); big = 7 ** (10**5)"),
    ("int over 4300 digits", "sys.set_int_max_str_digits(4300); huge = 10 ** 5000"),
    ("long message", "raise ValueError('x' * 1_000_000)"),
    ("hostile key", SLOW + "globals()[Slow()] = 1"),
    ("after hostile key", "after = len(lst) + 1"),
    ("sum", "total = " + " + ".join(f"lst[{i}]" for i in range(500))),
    ("chain", "class C:\n    def f(self):\n        return self\nchained = C()" + ".f()" * 400),
    ("tilde", "tilde = " + "~" * 500 + "after"),
    ("lambdas", "nested = " + "lambda: " * 100 + "total"),
    (
        "surrogates",
        (
            "import os, tempfile\nweird = os.path.join(tempfile.mkdtemp(), 'caf\\udce9.txt')\n"
            "open(weird, 'w').write('x')\nraise ValueError('bad \\udce9 byte')"
        ),
    ),
    ("fifo", FIFO),
    ("capture", "%%capture out\nprint('hidden')\ncaptured = total * 2"),
    ("run_cell", "get_ipython().run_cell('ran_inside = captured + 1'); outer = ran_inside"),
    ("repr raises", REPR_RAISES),
    ("last", "final = after + total"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "prov.sqlite"
    results = {}
    for name in ("python3", "provkernel"):
        with Kernel(name, cwd=tmp, env={"PROVKERNEL_DB": str(db)}) as k:
            results[name] = [k.execute(code, stop_on_error=False, timeout=120) for _, code in CELLS]
            if name == "provkernel":
                flush(k)
                results["failures"] = k.execute(
                    "from provkernel.capture.extension import recorder_for\n"
                    "print(dict(recorder_for(get_ipython()).health.failures))"
                ).stdout()
    return results, db


def test_every_hostile_cell_looks_exactly_as_in_python3(runs):
    results, _ = runs
    for (label, _), stock, prov in zip(CELLS, results["python3"], results["provkernel"], strict=True):
        assert observable(prov) == observable(stock), label


def test_every_hostile_cell_is_recorded_with_the_status_the_user_saw(runs):
    results, db = runs
    rows = query(db, "SELECT count, status, ename, length(evalue) FROM executions ORDER BY id")
    by_count = {count: (status, ename, size) for count, status, ename, size in rows}
    statuses = {label: by_count[reply.count][:2] for (label, _), reply in zip(CELLS, results["provkernel"])}
    assert statuses["appends"] == ("ok", None)
    assert statuses["long message"] == ("error", "ValueError")
    assert statuses["surrogates"] == ("error", "ValueError")
    assert statuses["capture"] == ("ok", None) and statuses["run_cell"] == ("ok", None)
    assert statuses["repr raises"] == ("error", "ValueError")  # ipykernel replied with an error
    assert all(status in ("ok", "error") for status, _ in statuses.values())  # none left "running"
    long_message = by_count[results["provkernel"][3].count][2]
    assert long_message < 5000  # a 1 MB message is stored clipped


def test_values_and_lineage_survive_hostile_values(runs):
    results, db = runs
    values = dict(
        query(
            db,
            "SELECT n.name, s.value FROM symbols s JOIN names n ON n.id = s.name_id "
            "WHERE s.kind = 1 AND s.value IS NOT NULL",
        )
    )
    assert values["big"].startswith("<int with about 84,5")  # 7 ** 100000 has 84,510 digits
    assert values["huge"] == "<int with about 5,001 digits>"
    assert values["total"] == str(sum(range(500)))
    assert values["final"] == str(2501 + sum(range(500)))
    # reads after the hostile globals key still resolve to their writers
    reads = query(
        db,
        "SELECT x.count, n.name, src.count FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id LEFT JOIN executions src ON src.id = s.source "
        "WHERE s.kind = 0",
    )
    count = {label: reply.count for (label, _), reply in zip(CELLS, results["provkernel"])}
    assert (count["after hostile key"], "lst", count["appends"]) in reads
    assert (count["last"], "total", count["sum"]) in reads
    assert (count["tilde"], "after", count["after hostile key"]) in reads
    # the %%capture and run_cell bodies are part of their cells' executions
    assert (count["capture"], "total", count["sum"]) in reads
    defs = query(
        db,
        "SELECT x.count, n.name FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id WHERE s.kind = 1",
    )
    assert (count["capture"], "captured") in defs
    assert (count["run_cell"], "ran_inside") in defs and (count["run_cell"], "outer") in defs


def test_a_fifo_is_recorded_without_being_read_again(runs):
    results, db = runs
    fifo_count = results["provkernel"][[label for label, _ in CELLS].index("fifo")].count
    rows = query(
        db,
        "SELECT d.location, a.hash, a.size FROM data_access a JOIN data_sources d ON d.id = a.source_id "
        "JOIN executions x ON x.id = a.execution_id WHERE x.count = ?",
        fifo_count,
    )
    assert [(loc.endswith("pipe"), digest, size) for loc, digest, size in rows] == [(True, None, None)]


def test_no_capture_failure_on_hostile_cells(runs):
    results, _ = runs
    assert results["failures"].strip() == "{}"


def test_an_interrupted_cell_is_recorded_as_the_user_saw_it(prov_db, tmp_path):
    observed = {}
    for name in ("python3", "provkernel"):
        with Kernel(name, cwd=tmp_path) as k:
            k.execute("import time")
            msg_id = k.send("print('before'); time.sleep(30)")
            time.sleep(2.0)
            k.km.interrupt_kernel()
            observed[name] = observable(k.collect(msg_id, timeout=30))
            after = k.execute("print('after')")
            assert after.stdout() == "after\n"
            if name == "provkernel":
                flush(k)
    assert observed["provkernel"] == observed["python3"]
    assert query(prov_db, "SELECT status, ename FROM executions WHERE count = 2") == [
        ("error", "KeyboardInterrupt")
    ]
