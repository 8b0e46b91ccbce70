"""Deleting recorded provenance (``%prov clear``): the only deletes outside migrations."""

from __future__ import annotations

import sqlite3

from provkernel.store.database import transaction

# Tables whose rows belong to executions (cascading deletes would do, but only with
# foreign keys on, which a connection opened elsewhere may not have)
PER_EXECUTION = ("symbols", "data_access", "outputs")


def forget_notebook(
    conn: sqlite3.Connection, notebook_id: int, keep_epoch: int | None = None
) -> dict[str, int]:
    """Delete a notebook's epochs and executions, then code and data sources nothing refers to any more.

    Args:
        keep_epoch: an epoch to keep (the running kernel's): its row and any execution still
            running stay, so the kernel goes on recording into a valid epoch.

    Returns:
        How many epochs and executions were deleted.
    """
    with transaction(conn):
        return _forget(conn, notebook_id, keep_epoch)


def forget_in_transaction(
    conn: sqlite3.Connection, notebook_id: int, keep_epoch: int | None = None
) -> dict[str, int]:
    """:func:`forget_notebook` inside a transaction the caller holds (the kernel's writer thread)."""
    return _forget(conn, notebook_id, keep_epoch)


def _forget(conn: sqlite3.Connection, notebook_id: int, keep_epoch: int | None) -> dict[str, int]:
    epochs = [row[0] for row in conn.execute("SELECT id FROM epochs WHERE notebook_id = ?", (notebook_id,))]
    doomed_epochs = [e for e in epochs if e != keep_epoch]
    executions = [
        row[0]
        for e in epochs
        for row in conn.execute(
            "SELECT id FROM executions WHERE epoch_id = ? AND NOT (epoch_id IS ? AND status = 'running')",
            (e, keep_epoch),
        )
    ]
    for start in range(0, len(executions), 500):
        chunk = executions[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for table in PER_EXECUTION:
            conn.execute(f"DELETE FROM {table} WHERE execution_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM executions WHERE id IN ({marks})", chunk)
    runs = [
        row[0] for row in conn.execute("SELECT id FROM bugdoc_runs WHERE notebook_id = ?", (notebook_id,))
    ]
    for run in runs:
        conn.execute("DELETE FROM bugdoc_instances WHERE run_id = ?", (run,))
        conn.execute("DELETE FROM bugdoc_runs WHERE id = ?", (run,))
    for epoch in doomed_epochs:
        conn.execute("DELETE FROM libraries WHERE epoch_id = ?", (epoch,))
        conn.execute("DELETE FROM capture_errors WHERE epoch_id = ?", (epoch,))
        conn.execute("DELETE FROM epochs WHERE id = ?", (epoch,))
    if keep_epoch is None:
        conn.execute("DELETE FROM notebooks WHERE id = ?", (notebook_id,))
    conn.execute("DELETE FROM code WHERE hash NOT IN (SELECT DISTINCT code_hash FROM executions)")
    conn.execute("DELETE FROM data_sources WHERE id NOT IN (SELECT DISTINCT source_id FROM data_access)")
    return {"epochs": len(doomed_epochs), "executions": len(executions)}
