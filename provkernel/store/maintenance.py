"""Deleting recorded provenance (``%prov clear``): the only deletes outside migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from provkernel.store.database import transaction

# Tables whose rows belong to executions (cascading deletes would do, but only with
# foreign keys on, which a connection opened elsewhere may not have)
PER_EXECUTION = ("symbols", "data_access", "outputs", "states")


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
    conn.execute("DELETE FROM shapes WHERE id NOT IN (SELECT DISTINCT shape_id FROM states)")
    return {"epochs": len(doomed_epochs), "executions": len(executions)}


def redact_notebook(
    conn: sqlite3.Connection, notebook_id: int, scrub: Callable[[str], str]
) -> dict[str, int]:
    """Rewrite a notebook's stored text through ``scrub`` (secret values out, URL passwords masked).

    Covers code, values, error messages and tracebacks, diagnoses, data sources, capture errors and
    ``%bugdoc`` runs. Returns how many stored texts changed, per kind.
    """
    with transaction(conn):
        changed = redact_in_transaction(conn, notebook_id, scrub)
    checkpoint(conn)
    return changed


def checkpoint(conn: sqlite3.Connection) -> None:
    """Move the WAL into the database and truncate it (old versions of rewritten pages leave the disk)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def redact_in_transaction(
    conn: sqlite3.Connection, notebook_id: int, scrub: Callable[[str], str]
) -> dict[str, int]:
    """:func:`redact_notebook` inside a transaction the caller holds (the kernel's writer thread)."""
    epochs = "SELECT id FROM epochs WHERE notebook_id = ?"
    executions = f"SELECT id FROM executions WHERE epoch_id IN ({epochs})"
    changed: dict[str, int] = {}

    def rewrite(kind: str, select: str, update: str, *args: object, keys: int = 1) -> None:
        """``select`` returns key columns, then texts; ``update`` takes the new texts, then the keys."""
        count = 0
        for row in conn.execute(select, args).fetchall():
            key, texts = row[:keys], list(row[keys:])
            new = [scrub(t) if isinstance(t, str) else t for t in texts]
            if new != texts:
                conn.execute(update, (*new, *key))
                count += 1
        changed[kind] = changed.get(kind, 0) + count

    rewrite(
        "code",
        f"SELECT hash, text, facts FROM code WHERE hash IN (SELECT code_hash FROM executions WHERE id IN ({executions}))",
        "UPDATE code SET text = ?, facts = ? WHERE hash = ?",
        notebook_id,
    )
    rewrite(
        "errors",
        f"SELECT id, evalue, traceback, diagnosis FROM executions WHERE id IN ({executions})",
        "UPDATE executions SET evalue = ?, traceback = ?, diagnosis = ? WHERE id = ?",
        notebook_id,
    )
    rewrite(
        "values",
        f"SELECT execution_id, kind, name_id, value FROM symbols WHERE value IS NOT NULL AND execution_id IN ({executions})",
        "UPDATE symbols SET value = ? WHERE execution_id = ? AND kind = ? AND name_id = ?",
        notebook_id,
        keys=3,
    )
    rewrite(
        "capture errors",
        f"SELECT id, message FROM capture_errors WHERE epoch_id IN ({epochs})",
        "UPDATE capture_errors SET message = ? WHERE id = ?",
        notebook_id,
    )
    rewrite(
        "bugdoc runs",
        "SELECT id, spec, result FROM bugdoc_runs WHERE notebook_id = ?",
        "UPDATE bugdoc_runs SET spec = ?, result = ? WHERE id = ?",
        notebook_id,
    )
    changed["data sources"] = _redact_sources(conn, executions, notebook_id, scrub)
    return changed


def _redact_sources(
    conn: sqlite3.Connection, executions: str, notebook_id: int, scrub: Callable[[str], str]
) -> int:
    """Data sources are unique by location: a scrubbed location that exists already is merged into it."""
    rows = conn.execute(
        f"SELECT DISTINCT d.id, d.kind, d.location FROM data_sources d JOIN data_access a ON a.source_id = d.id"
        f" WHERE a.execution_id IN ({executions})",
        (notebook_id,),
    ).fetchall()
    count = 0
    for source_id, kind, location in rows:
        new = scrub(location)
        if new == location:
            continue
        count += 1
        existing = conn.execute(
            "SELECT id FROM data_sources WHERE kind = ? AND location = ?", (kind, new)
        ).fetchone()
        if existing is None:
            conn.execute("UPDATE data_sources SET location = ? WHERE id = ?", (new, source_id))
        else:
            conn.execute(
                "UPDATE OR REPLACE data_access SET source_id = ? WHERE source_id = ?",
                (existing[0], source_id),
            )
            conn.execute("DELETE FROM data_sources WHERE id = ?", (source_id,))
    return count
