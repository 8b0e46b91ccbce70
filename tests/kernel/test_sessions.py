"""Epochs, out-of-order execution, aborted requests and %load_ext in a stock kernel — with real kernels."""

from __future__ import annotations

import time

import pytest

from provkernel.store.schema import DEF, USE
from tests.kernel.helpers import Kernel, flush, query


def _uses(db, count, epoch=None):
    sql = (
        "SELECT n.name, src.count FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id LEFT JOIN executions src ON src.id = s.source "
        "JOIN epochs e ON e.id = x.epoch_id WHERE s.kind = ? AND x.count = ?"
    )
    args = [USE, count]
    if epoch is not None:
        sql += " AND e.number = ?"
        args.append(epoch)
    return dict(query(db, sql, *args))


def test_restart_starts_a_new_epoch_with_fresh_lineage(prov_db, tmp_path):
    nb = tmp_path / "work.ipynb"
    with Kernel(cwd=tmp_path, notebook=nb) as k:
        assert k.execute("a = 1", cell_id="c1").status == "ok"
        assert k.execute("b = a + 1", cell_id="c2").status == "ok"
        k.restart()
        reply = k.execute("b = a + 1", cell_id="c2")
        assert reply.status == "error" and reply.error["ename"] == "NameError"
        flush(k)
        epochs = query(
            prov_db,
            "SELECT e.number, n.path, e.ended IS NOT NULL FROM epochs e "
            "JOIN notebooks n ON n.id = e.notebook_id ORDER BY e.number",
        )
        assert epochs == [(1, str(nb), 1), (2, str(nb), 0)]
        assert _uses(prov_db, 2, epoch=1) == {"a": 1}
        # after the restart, `a` resolves to nothing: it was defined in the previous epoch only
        assert _uses(prov_db, 1, epoch=2) == {"a": None}


def test_out_of_order_execution_links_to_what_actually_ran_last(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        k.execute("x = 1", cell_id="define")  # [1]
        k.execute("y = x * 10", cell_id="use")  # [2] reads x from [1]
        k.execute("x = 5", cell_id="redefine")  # [3]
        k.execute("y = x * 10", cell_id="use")  # [4] same cell re-run: reads x from [3]
        k.execute("x = 1", cell_id="define")  # [5] the first cell again
        k.execute("z = y + x", cell_id="sum")  # [6] y from [4], x from [5]
        flush(k)
    assert _uses(prov_db, 2) == {"x": 1}
    assert _uses(prov_db, 4) == {"x": 3}
    assert _uses(prov_db, 6) == {"y": 4, "x": 5}
    cells = query(prov_db, "SELECT count, cell_id FROM executions WHERE count IN (2, 4) ORDER BY count")
    assert cells == [(2, "use"), (4, "use")]
    values = query(
        prov_db,
        "SELECT x.count, s.value FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id WHERE n.name = 'y' AND s.kind = ? "
        "ORDER BY x.count",
        DEF,
    )
    assert values == [(2, "10"), (4, "50")]


def test_requests_queued_behind_an_error_are_recorded_as_aborted(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        first = k.send("import time; time.sleep(0.5); raise ValueError('stop here')", cell_id="fails")
        second = k.send("after = 1", cell_id="queued-1")
        third = k.send("after = 2", cell_id="queued-2")
        assert k.collect(first).status == "error"
        assert k.collect(second).status == "aborted"
        assert k.collect(third).status == "aborted"
        assert k.execute("'alive'").status == "ok"
        flush(k)
    rows = query(prov_db, "SELECT cell_id, status, count FROM executions ORDER BY id")
    assert rows[:3] == [("fails", "error", 1), ("queued-1", "aborted", None), ("queued-2", "aborted", None)]


def test_load_ext_records_inside_a_stock_python3_kernel(prov_db, tmp_path):
    with Kernel("python3", cwd=tmp_path) as k:
        assert k.execute("%load_ext provkernel").status == "ok"
        k.execute("import json\nvalue = json.dumps({'a': 1})", cell_id="stock-1")
        k.execute("length = len(value)", cell_id="stock-2")
        k.send("raise RuntimeError('x')", cell_id="bad")
        queued = k.send("never = 1", cell_id="never")
        assert k.collect(queued).status == "aborted"
        flush(k)
    (kernel,) = query(prov_db, "SELECT kernel FROM epochs")[0]
    assert kernel == "extension"
    rows = query(prov_db, "SELECT cell_id, status FROM executions WHERE cell_id IS NOT NULL ORDER BY id")
    assert rows == [("stock-1", "ok"), ("stock-2", "ok"), ("bad", "error"), ("never", "aborted")]
    assert _uses(prov_db, 3) == {"value": 2}


def test_empty_and_whitespace_cells_are_not_executions(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        k.execute("")
        k.execute("   \n")
        k.execute("v = 3")
        flush(k)
    assert query(prov_db, "SELECT count FROM executions ORDER BY id")[0] == (1,)


@pytest.mark.parametrize("magic", ["%time t = 1", "%%capture out\nt = 1"])
def test_magics_are_analysed_after_ipython_transforms_them(prov_db, tmp_path, magic):
    with Kernel(cwd=tmp_path) as k:
        assert k.execute(magic, cell_id="magic").status == "ok"
        flush(k)
    (code,) = query(
        prov_db,
        "SELECT c.text FROM executions x JOIN code c ON c.hash = x.code_hash WHERE x.cell_id = 'magic'",
    )[0]
    assert code == magic


def test_a_kernel_that_ran_nothing_leaves_no_epoch(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        assert k.kc.kernel_info() and k.km.is_alive()
    assert query(prov_db, "SELECT COUNT(*) FROM epochs") == [(0,)]


def test_vscode_names_the_notebook_after_start_up(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        # VS Code sets this with a silent execution before the user's first cell
        content = {
            "code": "__vsc_ipynb_file__ = '/work/analysis.ipynb'",
            "silent": True,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = k.kc.session.msg("execute_request", content)
        k.kc.shell_channel.send(msg)
        k.kc.get_shell_msg(timeout=30)
        k.execute("x = 1", cell_id="first")
        flush(k)
    rows = query(
        prov_db,
        "SELECT n.path, e.number, COUNT(x.id) FROM epochs e JOIN notebooks n ON n.id = e.notebook_id "
        "LEFT JOIN executions x ON x.epoch_id = e.id GROUP BY e.id",
    )
    assert rows == [("/work/analysis.ipynb", 1, 2)]  # `x = 1` and the %prov status of flush()


def test_a_kernel_killed_inside_a_cell_leaves_the_cells_before_and_that_cell_as_died(prov_db, tmp_path):
    """Records wait for a pause before they are written; a cell that runs on is such a pause, so the
    quick cells before it and its own start are in the database when its kernel is killed in it."""
    nb = tmp_path / "nb.ipynb"
    k = Kernel(cwd=tmp_path, notebook=nb)
    try:
        for i in range(5):
            assert k.execute(f"x{i} = {i}").status == "ok"
        k.send("import os, signal, time\ntime.sleep(0.5)\nos.kill(os.getpid(), signal.SIGKILL)")
        deadline = time.monotonic() + 30
        while k.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not k.km.is_alive()
    finally:
        k.kc.stop_channels()
        k.km.cleanup_resources()
    with Kernel(cwd=tmp_path, notebook=nb) as again:
        assert again.execute("y = 1").status == "ok"
        flush(again)
    rows = query(
        prov_db,
        "SELECT x.count, x.status FROM executions x JOIN epochs e ON e.id = x.epoch_id"
        " WHERE e.number = 1 ORDER BY x.count",
    )
    assert rows == [(1, "ok"), (2, "ok"), (3, "ok"), (4, "ok"), (5, "ok"), (6, "died")]
