"""Each capture stage fails alone (issue 14): injected failures leave the user's cells exactly as python3
shows them, the executions are still recorded, the failure is counted under its stage, and our
messages go to the log file beside the database, never to the cell's streams."""

from __future__ import annotations

import pytest

from tests.kernel.helpers import Kernel, flush, observable, query

BOOM = "def _boom(*a, **k):\n    raise RuntimeError('injected failure')\n"
# stage → (code that breaks it, code that restores it); run in the prov kernel only
INJECTIONS = {
    "static": (
        (
            "import provkernel.capture.observer as _R, provkernel.capture.analysis as _A\n"
            "_saved = (_R.analyze_tree, _A.analyze)\n_R.analyze_tree = _A.analyze = _boom"
        ),
        "_R.analyze_tree, _A.analyze = _saved",
    ),
    "namespace": (
        "_rec = recorder_for(get_ipython())\n_saved = _rec.namespace.before\n_rec.namespace.before = _boom",
        "_rec.namespace.before = _saved",
    ),
    "lineage": (
        "import provkernel.capture.observer as _R\n_saved = _R.symbol_events\n_R.symbol_events = _boom",
        "_R.symbol_events = _saved",
    ),
    "values": (
        "import provkernel.capture.symbols as _S\n_saved = _S.value_repr\n_S.value_repr = _boom",
        "_S.value_repr = _saved",
    ),
    "data": (
        "_rec = recorder_for(get_ipython())\n_saved = _rec.files.drain\n_rec.files.drain = _boom",
        "_rec.files.drain = _saved",
    ),
    "outputs": (
        "_rec = recorder_for(get_ipython())\n_saved = _rec.outputs.start\n_rec.outputs.start = _boom",
        "_rec.outputs.start = _saved",
    ),
    "libraries": (
        "_rec = recorder_for(get_ipython())\n_rec._submit_libraries = _boom",
        "del _rec._submit_libraries",
    ),
    "crash diagnosis": (
        "import provkernel.crashes.kernel as _K\n_saved = _K.classify\n_K.classify = _boom",
        "_K.classify = _saved",
    ),
}
USER_CELLS = [
    "import json\nresult = 6 * 7\nprint('printed', result)\nresult",
    "open('data.txt', 'w').write(str(result))\nundefined_name",
    "{'ok': result}",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("isolation")
    db = tmp / "db" / "prov.sqlite"
    with Kernel("python3", cwd=tmp) as stock:
        expected = [observable(stock.execute(code, stop_on_error=False)) for code in USER_CELLS]
    got, counts = {}, {}
    with Kernel(cwd=tmp, env={"PROVKERNEL_DB": str(db)}) as k:
        assert k.execute(BOOM + "from provkernel.capture.extension import recorder_for").status == "ok"
        for stage, (inject, restore) in INJECTIONS.items():
            assert k.execute(inject).status == "ok", stage
            replies = [k.execute(code, stop_on_error=False) for code in USER_CELLS]
            got[stage] = [observable(r) for r in replies]
            counts[stage] = [r.count for r in replies]
            assert k.execute(restore).status == "ok", stage
        flush(k)
        failures = k.execute("print(dict(recorder_for(get_ipython()).health.failures))").stdout()
    return expected, got, counts, eval(failures), db


def test_user_cells_look_exactly_as_in_python3_whatever_stage_fails(runs):
    expected, got, *_ = runs
    for stage, observed in got.items():
        assert observed == expected, stage


def test_executions_are_recorded_whatever_stage_fails(runs):
    _, _, counts, _, db = runs
    status = dict(query(db, "SELECT count, status FROM executions"))
    for stage, (ok, error, last) in counts.items():
        assert (status.get(ok), status.get(error), status.get(last)) == ("ok", "error", "ok"), stage


def test_each_failure_is_counted_under_its_stage(runs):
    *_, failures, _ = runs
    for stage in INJECTIONS:
        assert failures.get(stage, 0) >= 1, (stage, failures)


def test_the_other_stages_still_record_when_one_fails(runs):
    _, _, counts, _, db = runs
    files = {
        c
        for (c,) in query(db, "SELECT x.count FROM data_access a JOIN executions x ON x.id = a.execution_id")
    }
    defs = {
        c
        for (c,) in query(
            db, "SELECT x.count FROM symbols s JOIN executions x ON x.id = s.execution_id WHERE s.kind = 1"
        )
    }
    # the data file is recorded unless data capture itself is what failed; lineage unless it failed
    assert counts["lineage"][1] in files and counts["values"][1] in files
    assert counts["data"][1] not in files
    assert counts["data"][0] in defs and counts["outputs"][0] in defs and counts["static"][0] in defs
    assert counts["lineage"][0] not in defs


def test_failures_are_logged_to_the_file_beside_the_database_and_stored(runs):
    *_, db = runs
    log = (db.parent / "provkernel.log").read_text()
    assert "capture failed in lineage" in log and "injected failure" in log
    assert oct((db.parent / "provkernel.log").stat().st_mode & 0o777) == "0o600"
    stages = {s for (s,) in query(db, "SELECT DISTINCT stage FROM capture_errors")}
    assert set(INJECTIONS) <= stages
