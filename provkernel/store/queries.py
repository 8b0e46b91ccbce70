"""Named read queries over the provenance database; the only place other code gets data from.

Rows come back as plain dicts so analyses and reports never see SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from provkernel.store.database import connect


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class NotebookNotFound(LookupError):
    """No provenance for a notebook path; ``known`` lists the notebooks that have some."""

    def __init__(self, path: str, known: list[str]) -> None:
        self.path, self.known = path, known
        listing = "\n  ".join(known) if known else "(none: nothing has been recorded yet)"
        super().__init__(f"nothing is recorded for {path}; notebooks with provenance:\n  {listing}")


class Queries:
    """Read access to one provenance database."""

    def __init__(self, conn: sqlite3.Connection, path: str | None = None) -> None:
        self.conn = conn
        self.path = path or conn.execute("PRAGMA database_list").fetchone()[2]

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> Queries:
        """Open an existing database (raises StoreError if there is none)."""
        return cls(connect(path, create=False))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # --- notebooks and epochs -----------------------------------------------------------
    def notebooks(self) -> list[dict[str, Any]]:
        """Every notebook with provenance: id, path, epochs, executions, last activity."""
        return _rows(
            self.conn.execute(
                "SELECT n.id, n.path, COUNT(DISTINCT e.id) AS epochs, COUNT(x.id) AS executions,"
                " MAX(COALESCE(x.ended, x.started)) AS last_executed"
                " FROM notebooks n LEFT JOIN epochs e ON e.notebook_id = n.id"
                " LEFT JOIN executions x ON x.epoch_id = e.id GROUP BY n.id ORDER BY n.path"
            )
        )

    def find_notebook(self, path: str) -> dict[str, Any]:
        """The notebook recorded under ``path`` (absolute, relative to the cwd, or a unique suffix).

        Raises:
            NotebookNotFound: with the list of known notebooks.
        """
        known = self.notebooks()
        absolute = str(Path(path).expanduser().resolve()) if path else ""
        for row in known:
            if row["path"] in (path, absolute):
                return row
        suffix = [r for r in known if r["path"].endswith(os.sep + path.lstrip("./" + os.sep))]
        if len(suffix) == 1:
            return suffix[0]
        raise NotebookNotFound(path, [r["path"] for r in known])

    def epochs(self, notebook_id: int) -> list[dict[str, Any]]:
        """Epochs of a notebook in order, with their environment facts and execution counts."""
        return _rows(
            self.conn.execute(
                "SELECT e.*, (SELECT COUNT(*) FROM executions x WHERE x.epoch_id = e.id) AS executions"
                " FROM epochs e WHERE e.notebook_id = ? ORDER BY e.number",
                (notebook_id,),
            )
        )

    def epoch(self, epoch_id: int) -> dict[str, Any] | None:
        """One epoch by id."""
        rows = _rows(self.conn.execute("SELECT * FROM epochs WHERE id = ?", (epoch_id,)))
        return rows[0] if rows else None

    def epoch_summary(self, epoch_id: int) -> dict[str, Any]:
        """Counts for one epoch: executions, failures, libraries, data sources."""
        c = self.conn
        number = c.execute("SELECT number FROM epochs WHERE id = ?", (epoch_id,)).fetchone()[0]
        executions, errors = c.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'error'), 0) FROM executions WHERE epoch_id = ?",
            (epoch_id,),
        ).fetchone()
        libraries = c.execute(
            "SELECT COUNT(*) FROM libraries WHERE epoch_id = ? AND kind != 'stdlib'", (epoch_id,)
        ).fetchone()[0]
        data = c.execute(
            "SELECT COUNT(DISTINCT a.source_id) FROM data_access a JOIN executions x ON x.id = a.execution_id"
            " WHERE x.epoch_id = ?",
            (epoch_id,),
        ).fetchone()[0]
        return {
            "epoch": number,
            "executions": executions,
            "errors": errors,
            "libraries": libraries,
            "data": data,
        }

    # --- executions -----------------------------------------------------------------------
    def executions(self, notebook_id: int, epoch_number: int | None = None) -> list[dict[str, Any]]:
        """Executions of a notebook (optionally one epoch), in order, with epoch number and code."""
        sql = (
            "SELECT x.id, x.epoch_id, e.number AS epoch, x.count, x.cell_id, x.code_hash, x.started,"
            " x.ended, x.status, x.ename, x.evalue, c.text AS code"
            " FROM executions x JOIN epochs e ON e.id = x.epoch_id JOIN code c ON c.hash = x.code_hash"
            " WHERE e.notebook_id = ?"
        )
        args: list[Any] = [notebook_id]
        if epoch_number is not None:
            sql += " AND e.number = ?"
            args.append(epoch_number)
        return _rows(self.conn.execute(sql + " ORDER BY x.id", args))

    def execution(self, execution_id: int) -> dict[str, Any] | None:
        """One execution with its code, traceback and diagnosis decoded."""
        rows = _rows(
            self.conn.execute(
                "SELECT x.*, e.number AS epoch, e.notebook_id, c.text AS code FROM executions x"
                " JOIN epochs e ON e.id = x.epoch_id JOIN code c ON c.hash = x.code_hash WHERE x.id = ?",
                (execution_id,),
            )
        )
        if not rows:
            return None
        row = rows[0]
        for key in ("traceback", "diagnosis"):
            if row.get(key):
                row[key] = json.loads(row[key])
        return row

    def code_facts(self, code_hash: str) -> dict[str, Any] | None:
        """Static facts stored with a code text."""
        row = self.conn.execute("SELECT facts FROM code WHERE hash = ?", (code_hash,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    # --- status -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        tables = (
            "notebooks",
            "epochs",
            "executions",
            "code",
            "symbols",
            "libraries",
            "data_sources",
            "data_access",
            "outputs",
            "capture_errors",
        )
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    def capture_errors(self, limit: int = 10) -> list[dict[str, Any]]:
        """The most recent failures of provkernel's own capture code."""
        return _rows(
            self.conn.execute(
                "SELECT ce.time, ce.stage, ce.message, e.number AS epoch FROM capture_errors ce"
                " LEFT JOIN epochs e ON e.id = ce.epoch_id ORDER BY ce.id DESC LIMIT ?",
                (limit,),
            )
        )
