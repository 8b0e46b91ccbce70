"""The SQLite store: creation, permissions, migrations, the background writer."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from provkernel.records import EpochFacts, ExecutionRecord, SymbolEvent
from provkernel.store import schema
from provkernel.store.background import BackgroundWriter
from provkernel.store.database import StoreError, connect
from provkernel.store.queries import NotebookNotFound, Queries
from provkernel.store.writer import Writer, execution_id

FACTS = EpochFacts(
    time.time(), 1, "host", "me", "Linux", "3.11.7", "CPython", "9", "7", "0.1", "/py", "/w", "provkernel"
)


def test_new_database_is_private_and_at_the_current_schema(tmp_path):
    conn = connect(tmp_path / "sub" / "p.sqlite")
    assert (tmp_path / "sub" / "p.sqlite").stat().st_mode & 0o777 == 0o600
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_apply_in_order_and_a_newer_schema_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "p.sqlite"
    connect(path).close()
    monkeypatch.setattr(
        schema, "MIGRATIONS", [*schema.MIGRATIONS, "ALTER TABLE executions ADD COLUMN extra TEXT"]
    )
    monkeypatch.setattr("provkernel.store.database.MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr("provkernel.store.database.SCHEMA_VERSION", len(schema.MIGRATIONS))
    conn = connect(path)
    assert "extra" in [r[1] for r in conn.execute("PRAGMA table_info(executions)")]
    conn.close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StoreError, match="newer than this provkernel"):
        connect(path)


def test_missing_database_is_reported_not_created(tmp_path):
    with pytest.raises(StoreError, match="nothing has been recorded yet"):
        Queries.open(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


def test_background_writer_batches_and_isolates_a_bad_record(tmp_path):
    writer = Writer(connect(tmp_path / "p.sqlite"))
    epoch, number = writer.begin_epoch("/nb.ipynb", FACTS)
    failures = []
    background = BackgroundWriter(writer, lambda stage, exc: failures.append(exc))
    first, second = execution_id(epoch, 1), execution_id(epoch, 2)
    background.submit(lambda w: w.start_execution(first, epoch, 1, "c1", "h1", "a = 1", dict, 1.0))
    background.submit(lambda w: w.start_execution(second, epoch, 2, "c2", "h2", "b = a", dict, 2.0))
    background.submit(lambda w: w.conn.execute("INSERT INTO no_such_table VALUES (1)"))
    record = ExecutionRecord(second, 3.0, "ok", [SymbolEvent("a", schema.USE, first)])
    background.submit(lambda w: w.finish_execution(epoch, record))
    assert background.flush()
    background.close()
    queries = Queries.open(tmp_path / "p.sqlite")
    assert [(r["count"], r["status"]) for r in queries.executions(queries.notebooks()[0]["id"])] == [
        (1, "running"),
        (2, "ok"),
    ]
    assert len(failures) == 1 and number == 1
    with pytest.raises(NotebookNotFound, match="/nb.ipynb"):
        queries.find_notebook("other.ipynb")
    assert queries.find_notebook("nb.ipynb")["path"] == "/nb.ipynb"


def _burst(background: BackgroundWriter, seconds: float) -> tuple[list[float], float]:
    """Submit a record every 10 ms for ``seconds``; the times each was written, and the last submit's."""
    written: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        background.submit(lambda w: written.append(time.monotonic()))
        last = time.monotonic()
        time.sleep(0.01)
    assert background.flush()
    background.close()
    return written, last


def test_a_burst_of_records_is_written_once_it_stops_or_when_its_first_record_is_max_age_old(tmp_path):
    writer = Writer(connect(tmp_path / "p.sqlite"))
    quiet = BackgroundWriter(writer, lambda stage, exc: None, quiet_s=0.5, max_age_s=60)
    written, last = _burst(quiet, 1.0)
    assert len(written) > 50 and min(written) >= last  # nothing while the records kept coming

    writer = Writer(connect(tmp_path / "p.sqlite"))
    aged = BackgroundWriter(writer, lambda stage, exc: None, quiet_s=60, max_age_s=0.3)
    written, last = _burst(aged, 1.2)
    assert sum(t < last for t in written) > 20  # the burst never went quiet: written as it aged


def test_call_answers_after_its_transaction_committed_and_with_the_run_that_stuck(tmp_path):
    """A record failing in the same batch rolls the batch back and replays each record alone: the
    caller of ``call`` must get the outcome of the replay that was committed, once it is committed."""
    writer = Writer(connect(tmp_path / "p.sqlite"))
    epoch, _ = writer.begin_epoch("/nb.ipynb", FACTS)
    background = BackgroundWriter(writer, lambda stage, exc: None)
    runs = []

    def insert(w: Writer) -> int:
        runs.append(1)
        w.start_execution(execution_id(epoch, 1), epoch, 1, "c1", "h1", "a = 1", dict, 1.0)
        return len(runs)

    background._urgent.set()  # hold the batch open until the failing record is queued too
    background.submit(lambda w: time.sleep(0.2))
    time.sleep(0.05)
    result = []
    caller = threading.Thread(target=lambda: result.append(background.call(insert)))
    caller.start()
    time.sleep(0.02)
    # the failing record takes a while: a caller told at its first run would already have returned
    background.submit(lambda w: (time.sleep(0.2), w.conn.execute("INSERT INTO no_such_table VALUES (1)")))
    caller.join(10)
    background.close()
    assert runs == [1, 1]  # once in the batch that was rolled back, once alone
    assert result == [2]  # the run that was committed
    queries = Queries.open(tmp_path / "p.sqlite")
    assert [r["count"] for r in queries.executions(queries.notebooks()[0]["id"])] == [1]


def test_rows_kept_by_a_transaction_are_seen_by_every_later_statement_and_dropped_with_a_rollback(tmp_path):
    """Execution, symbol and output rows are inserted together at the end of a transaction; a
    statement in between (an UPDATE of the execution, a query through ``conn``) must see them, and a
    transaction that fails must not leave them for the next one."""
    writer = Writer(connect(tmp_path / "p.sqlite"))
    epoch, _ = writer.begin_epoch("/nb.ipynb", FACTS)
    first, second = execution_id(epoch, 1), execution_id(epoch, 2)
    symbols = [SymbolEvent(f"v{i}", schema.DEF, None, str(i)) for i in range(150)]  # two statements
    with writer.transaction():
        writer.start_execution(first, epoch, 1, "c1", "h1", "a = 1", dict, 1.0)
        writer.finish_execution(epoch, ExecutionRecord(first, 2.0, "error", symbols, ename="E"))
        writer.set_diagnosis(first, {"root": "x"})  # an UPDATE of the row kept just before
        seen = writer.conn.execute("SELECT COUNT(*) FROM symbols").fetchone()[0]
    assert seen == 150
    with pytest.raises(sqlite3.OperationalError), writer.transaction():
        writer.start_execution(second, epoch, 2, "c2", "h2", "b = 2", dict, 3.0)
        writer.conn.execute("INSERT INTO no_such_table VALUES (1)")
    with writer.transaction():
        pass  # commits nothing of the transaction rolled back
    rows = writer.conn.execute("SELECT id, status, diagnosis FROM executions ORDER BY id").fetchall()
    assert rows == [(first, "error", '{"root":"x"}')]
    assert (
        writer.conn.execute("SELECT COUNT(*) FROM symbols WHERE execution_id = ?", (first,)).fetchone()[0]
        == 150
    )
