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
from provkernel.store.writer import EXECUTION_ID_BITS


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
            "states",
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

    # --- lineage and reports ------------------------------------------------------------
    def _of_notebook(
        self, sql: str, notebook_id: int, epoch_number: int | None, order: str, *more: tuple[str, list[Any]]
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` (ending in ``WHERE e.notebook_id = ?``), for one epoch if given, in ``order``."""
        args: list[Any] = [notebook_id]
        if epoch_number is not None:
            sql += " AND e.number = ?"
            args.append(epoch_number)
        for clause, values in more:
            sql += clause
            args += values
        return _rows(self.conn.execute(f"{sql} ORDER BY {order}", args))

    def epoch_by_number(self, notebook_id: int, number: int) -> dict[str, Any] | None:
        """One epoch of a notebook by its number (1-based)."""
        rows = _rows(
            self.conn.execute(
                "SELECT * FROM epochs WHERE notebook_id = ? AND number = ?", (notebook_id, number)
            )
        )
        return rows[0] if rows else None

    def execution_stats(self, notebook_id: int) -> dict[int, dict[str, Any]]:
        """Per epoch id: executions, errors, first start and last activity."""
        rows = _rows(
            self.conn.execute(
                "SELECT x.epoch_id, COUNT(*) AS executions, COALESCE(SUM(x.status = 'error'), 0) AS errors,"
                " MIN(x.started) AS first_started, MAX(COALESCE(x.ended, x.started)) AS last_activity"
                " FROM executions x JOIN epochs e ON e.id = x.epoch_id WHERE e.notebook_id = ?"
                " GROUP BY x.epoch_id",
                (notebook_id,),
            )
        )
        return {row.pop("epoch_id"): row for row in rows}

    def symbols(self, epoch_id: int) -> list[dict[str, Any]]:
        """Every symbol event of an epoch's executions: execution_id, kind, name, source, value."""
        return _rows(
            self.conn.execute(
                "SELECT s.execution_id, s.kind, n.name, s.source, s.value FROM symbols s"
                " JOIN names n ON n.id = s.name_id WHERE s.execution_id BETWEEN ? AND ?"
                " ORDER BY s.execution_id",
                _epoch_range(epoch_id),
            )
        )

    def states(self, epoch_id: int) -> list[dict[str, Any]]:
        """What objects looked like after the executions of an epoch wrote them: execution_id, name, shape (JSON)."""
        return _rows(
            self.conn.execute(
                "SELECT st.execution_id, n.name, sh.body AS shape FROM states st"
                " JOIN names n ON n.id = st.name_id JOIN shapes sh ON sh.id = st.shape_id"
                " WHERE st.execution_id BETWEEN ? AND ? ORDER BY st.execution_id",
                _epoch_range(epoch_id),
            )
        )

    def data_accesses(self, notebook_id: int, epoch_number: int | None = None) -> list[dict[str, Any]]:
        """Files and URLs read or written by a notebook's executions, in execution order."""
        return self._of_notebook(
            "SELECT a.execution_id, e.number AS epoch, x.count, x.cell_id, x.started, d.kind, d.location,"
            " a.mode, a.size, a.mtime, a.hash FROM data_access a"
            " JOIN data_sources d ON d.id = a.source_id JOIN executions x ON x.id = a.execution_id"
            " JOIN epochs e ON e.id = x.epoch_id WHERE e.notebook_id = ?",
            notebook_id,
            epoch_number,
            "a.execution_id, d.location",
        )

    def outputs(
        self, notebook_id: int, epoch_number: int | None = None, hash_prefix: str | None = None
    ) -> list[dict[str, Any]]:
        """MIME entries of rich outputs (optionally those whose hash starts with ``hash_prefix``)."""
        # a range, so the hash index serves a prefix
        prefix = (
            [(" AND o.hash >= ? AND o.hash < ?", [hash_prefix, hash_prefix + "\uffff"])]
            if hash_prefix
            else []
        )
        return self._of_notebook(
            "SELECT o.execution_id, e.number AS epoch, x.count, x.cell_id, x.status, c.text AS code, o.seq,"
            " o.mime, o.hash FROM outputs o JOIN executions x ON x.id = o.execution_id"
            " JOIN epochs e ON e.id = x.epoch_id JOIN code c ON c.hash = x.code_hash WHERE e.notebook_id = ?",
            notebook_id,
            epoch_number,
            "o.execution_id, o.seq, o.mime",
            *prefix,
        )

    def output_mimes(self, epoch_id: int) -> list[dict[str, Any]]:
        """(execution_id, mime) of every output entry of an epoch."""
        return _rows(
            self.conn.execute(
                "SELECT DISTINCT execution_id, mime FROM outputs WHERE execution_id BETWEEN ? AND ?",
                _epoch_range(epoch_id),
            )
        )

    def libraries(self, notebook_id: int, epoch_number: int | None = None) -> list[dict[str, Any]]:
        """Packages recorded per epoch with their versions (``kind``: direct, indirect, stdlib)."""
        return self._of_notebook(
            "SELECT e.number AS epoch, l.name, l.distribution, l.version, l.kind, l.first_execution_id"
            " FROM libraries l JOIN epochs e ON e.id = l.epoch_id WHERE e.notebook_id = ?",
            notebook_id,
            epoch_number,
            "e.number, l.name",
        )

    def value_history(
        self, notebook_id: int, name: str, epoch_number: int | None = None
    ) -> list[dict[str, Any]]:
        """Definitions and in-place updates of ``name`` across a notebook's executions, in order."""
        row = self.conn.execute("SELECT id FROM names WHERE name = ?", (name,)).fetchone()
        if row is None:
            return []
        return self._of_notebook(
            "SELECT s.execution_id, e.id AS epoch_id, e.number AS epoch, x.count, x.cell_id, x.started,"
            " x.status, x.code_hash, s.kind, s.value FROM symbols s"
            " JOIN executions x ON x.id = s.execution_id JOIN epochs e ON e.id = x.epoch_id"
            " WHERE e.notebook_id = ?",
            notebook_id,
            epoch_number,
            "s.execution_id",
            (" AND s.name_id = ? AND s.kind IN (1, 2)", [row[0]]),
        )

    def lineage_sources(self, epoch_id: int) -> list[tuple[int, int]]:
        """(execution_id, source) pairs of an epoch: each execution and the executions it read from."""
        return self.conn.execute(
            "SELECT DISTINCT execution_id, source FROM symbols"
            " WHERE execution_id BETWEEN ? AND ? AND source IS NOT NULL",
            _epoch_range(epoch_id),
        ).fetchall()

    def recorded_values(self, epoch_id: int, names: list[str]) -> list[dict[str, Any]]:
        """Recorded values of some names in one epoch: execution_id, name, value."""
        if not names:
            return []
        marks = ",".join("?" * len(names))
        return _rows(
            self.conn.execute(
                "SELECT s.execution_id, n.name, s.value FROM symbols s JOIN names n ON n.id = s.name_id"
                f" WHERE s.execution_id BETWEEN ? AND ? AND s.kind IN (1, 2) AND n.name IN ({marks})"
                " AND s.value IS NOT NULL",
                (*_epoch_range(epoch_id), *names),
            )
        )

    def code_facts_many(self, hashes: list[str]) -> dict[str, dict[str, Any]]:
        """Static facts of several code texts, by hash."""
        facts: dict[str, dict[str, Any]] = {}
        for chunk, marks in _chunks(hashes):
            for code_hash, text in self.conn.execute(
                f"SELECT hash, facts FROM code WHERE hash IN ({marks})", chunk
            ):
                if text:
                    facts[code_hash] = json.loads(text)
        return facts

    def events_of(self, execution_ids: list[int], kinds: tuple[int, ...]) -> list[dict[str, Any]]:
        """Symbol events of some executions and kinds: execution_id, kind, name, source, value."""
        rows: list[dict[str, Any]] = []
        kind_marks = ",".join("?" * len(kinds))
        for chunk, marks in _chunks(execution_ids):
            rows += _rows(
                self.conn.execute(
                    "SELECT s.execution_id, s.kind, n.name, s.source, s.value FROM symbols s"
                    f" JOIN names n ON n.id = s.name_id WHERE s.execution_id IN ({marks})"
                    f" AND s.kind IN ({kind_marks}) ORDER BY s.execution_id, n.name",
                    (*chunk, *kinds),
                )
            )
        return rows


def _chunks(values: list, size: int = 500) -> list[tuple[list, str]]:
    """Distinct values in chunks below SQLite's variable limit, each with its ``?,?,…`` placeholders."""
    unique = sorted(set(values))
    return [
        (unique[i : i + size], ",".join("?" * len(unique[i : i + size]))) for i in range(0, len(unique), size)
    ]


def _epoch_range(epoch_id: int) -> tuple[int, int]:
    """The ids executions of an epoch can have (``epoch_id << 20 | seq``, see store.writer)."""
    return epoch_id << EXECUTION_ID_BITS, ((epoch_id + 1) << EXECUTION_ID_BITS) - 1
