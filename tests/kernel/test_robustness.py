"""The kernel never breaks a user's cell, and concurrent kernels lose nothing."""

from __future__ import annotations

import asyncio

from provkernel.crashes.render import MIME_TYPE
from provkernel.headless import async_execute_notebook
from tests.kernel.helpers import Kernel, flush, notebook, observable, query

INJECT = """
from provkernel.capture.extension import recorder_for
_recorder = recorder_for(get_ipython())
def _boom(*args, **kwargs):
    raise RuntimeError("injected capture failure")
_recorder.namespace.after = _boom
"""

USER_CELLS = ["result = 6 * 7\nprint('printed', result)\nresult", "undefined_name", "{'ok': result}"]


def test_injected_capture_failure_leaves_user_cells_unchanged(prov_db, tmp_path):
    with Kernel("python3", cwd=tmp_path) as stock:
        expected = [observable(stock.execute(code)) for code in USER_CELLS]
    with Kernel(cwd=tmp_path) as k:
        assert k.execute(INJECT).status == "ok"
        replies = [k.execute(code) for code in USER_CELLS]
        got = [observable(reply) for reply in replies]
        status = k.execute("%prov status")
        flush(k)
    assert got == expected
    assert len(replies[1].data(MIME_TYPE)) == 1  # the NameError is still diagnosed
    text = "".join(status.data("text/plain"))
    assert "capture errors 4" in text  # the injecting cell and the three user cells
    assert "injected capture failure" in text  # stored and listed
    # the executions are still recorded, complete with their status
    rows = query(prov_db, "SELECT status FROM executions ORDER BY id")
    assert [r[0] for r in rows[:4]] == ["ok", "ok", "error", "ok"]


def test_unusable_database_warns_once_and_the_kernel_still_works(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory is expected")
    monkeypatch.setenv("PROVKERNEL_DB", str(blocker / "prov.sqlite"))
    with Kernel(cwd=tmp_path) as k:
        first = k.execute("x = 2 + 2\nx")
        second = k.execute("x * 10")
        status = k.execute("%prov status")
    # the result, then one notice under the cell (a display, never the cell's streams); not again
    assert first.status == "ok" and first.data("text/plain")[0] == "4" and first.stderr() == ""
    notices = first.data("text/plain")[1:]
    assert len(notices) == 1 and notices[0].startswith("provkernel: not recording provenance")
    assert "Not a directory" in notices[0] and "PROVKERNEL_DB" in notices[0]
    assert "not recording provenance" in first.data("text/html")[0]
    assert second.data("text/plain") == ["40"] and second.stderr() == ""
    # a one-line usage error, no traceback
    assert status.status == "error" and status.error is None
    assert status.stderr().strip().startswith("UsageError: provkernel is not recording")
    assert len(status.stderr().strip().splitlines()) == 1


def test_a_file_that_is_not_a_database_does_not_break_the_kernel(tmp_path, monkeypatch):
    bogus = tmp_path / "prov.sqlite"
    bogus.write_bytes(b"this is not an SQLite database" * 100)
    monkeypatch.setenv("PROVKERNEL_DB", str(bogus))
    with Kernel(cwd=tmp_path) as k:
        reply = k.execute("sum(range(10))")
    assert reply.status == "ok" and reply.data("text/plain")[0] == "45" and reply.stderr() == ""
    assert "not recording provenance" in reply.data("text/plain")[1]


def _chain(prefix: str, cells: int) -> list[str]:
    sources = [f"{prefix}0 = 0"]
    sources += [f"{prefix}{i} = {prefix}{i - 1} + {i}" for i in range(1, cells)]
    return sources


def test_two_kernels_writing_one_database_at_once_lose_nothing(prov_db, tmp_path):
    cells = 60
    notebooks = {
        "a": notebook(*_chain("a", cells)),
        "b": notebook(*_chain("b", cells)),
        "c": notebook(*_chain("c", cells)),  # run twice concurrently: two epochs of one notebook
    }

    async def run_all():
        return await asyncio.gather(
            async_execute_notebook(notebooks["a"], tmp_path / "a.ipynb", timeout=120),
            async_execute_notebook(notebooks["b"], tmp_path / "b.ipynb", timeout=120),
            async_execute_notebook(notebooks["c"], tmp_path / "c.ipynb", timeout=120),
            async_execute_notebook(notebook(*_chain("c", cells)), tmp_path / "c.ipynb", timeout=120),
        )

    results = asyncio.run(run_all())
    assert all(r.error is None for r in results)
    per_epoch = query(
        prov_db,
        "SELECT n.path, e.number, COUNT(x.id), SUM(x.status = 'ok') FROM epochs e "
        "JOIN notebooks n ON n.id = e.notebook_id JOIN executions x ON x.epoch_id = e.id "
        "GROUP BY e.id ORDER BY n.path, e.number",
    )
    assert per_epoch == [
        (str(tmp_path / "a.ipynb"), 1, cells, cells),
        (str(tmp_path / "b.ipynb"), 1, cells, cells),
        (str(tmp_path / "c.ipynb"), 1, cells, cells),
        (str(tmp_path / "c.ipynb"), 2, cells, cells),
    ]
    # every read of the chain resolves to the previous cell of the same kernel
    broken = query(
        prov_db,
        "SELECT COUNT(*) FROM symbols s JOIN executions x ON x.id = s.execution_id "
        "JOIN executions src ON src.id = s.source WHERE s.kind = 0 "
        "AND (src.epoch_id != x.epoch_id OR src.count != x.count - 1)",
    )
    assert broken == [(0,)]
    uses = query(prov_db, "SELECT COUNT(*) FROM symbols WHERE kind = 0 AND source IS NOT NULL")
    assert uses == [(4 * (cells - 1),)]


def test_flush_makes_records_visible_while_the_kernel_runs(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        k.execute("v = 1")
        flush(k)
        assert query(prov_db, "SELECT status FROM executions WHERE count = 1") == [("ok",)]
