"""All writes to the provenance database, one short transaction per call."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from provkernel.records import EpochFacts, ExecutionRecord, LibraryRecord
from provkernel.store.database import transaction
from provkernel.textsafety import clip, safe_text


def _t(value: str | None) -> str | None:
    """Text as SQLite's driver accepts it (lone surrogates escaped); every text column goes through here."""
    return safe_text(value) if isinstance(value, str) else value


# Parameters per INSERT statement: SQLite before 3.32 allows no more than 999.
MAX_PARAMETERS = 999

# Rows kept by a transaction and inserted at its end, in this order (foreign keys: executions first)
EXECUTIONS = (
    "INSERT OR REPLACE INTO executions(id, epoch_id, count, cell_id, code_hash, started, ended, status,"
    " ename, evalue, traceback)"
)
SYMBOLS = "INSERT OR REPLACE INTO symbols(execution_id, kind, name_id, source, value)"
STATES = "INSERT OR REPLACE INTO states(execution_id, name_id, shape_id)"
OUTPUTS = "INSERT OR REPLACE INTO outputs(execution_id, seq, mime, hash)"
BUFFERED = (EXECUTIONS, SYMBOLS, STATES, OUTPUTS)


def _insert_rows(c: sqlite3.Connection, insert: str, rows: list[tuple]) -> None:
    """Insert ``rows`` with as few multi-row statements as SQLite's parameter limit allows.

    ``executemany`` steps SQLite once per row, and the driver releases and retakes the GIL around
    every step: on the writer thread, each of those is a moment the kernel's own threads may have
    to wait for it. A batch of a notebook's quick cells is a handful of statements this way.
    """
    per_statement = max(1, MAX_PARAMETERS // len(rows[0]))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        c.execute(_values_sql(insert, len(chunk[0]), len(chunk)), [value for row in chunk for value in row])


@functools.lru_cache(maxsize=512)
def _values_sql(insert: str, width: int, count: int) -> str:
    row = "(" + ",".join("?" * width) + ")"
    return f"{insert} VALUES {','.join([row] * count)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ending(record: ExecutionRecord) -> tuple:
    """(ended, status, ename, evalue, traceback JSON) of a finished execution."""
    traceback = json.dumps(record.traceback) if record.traceback is not None else None
    return record.ended, record.status, _t(record.ename), _t(record.evalue), traceback


EXECUTION_ID_BITS = 20  # an epoch numbers up to 2**20 executions


def execution_id(epoch_id: int, seq: int) -> int:
    """Globally unique, chronological id of the ``seq``-th execution of an epoch.

    Epoch ids come from the database, so kernels writing one file concurrently never collide,
    and a kernel can name an execution before the row is written (writes happen in the
    background).
    """
    if not 0 <= seq < 1 << EXECUTION_ID_BITS:
        raise ValueError(f"execution sequence {seq} out of range")
    return (epoch_id << EXECUTION_ID_BITS) | seq


class Writer:
    """Writes records. :meth:`begin_epoch` commits at once; the other methods run inside a
    transaction opened by the caller (:meth:`transaction`), so a batch of records costs one commit.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._name_ids: dict[str, int] = {}
        self._shape_ids: dict[str, int] = {}
        self._stored_code: set[str] = set()
        # rows of executions and what they did, inserted together when the transaction ends
        self._rows: dict[str, list[tuple]] = {insert: [] for insert in BUFFERED}
        self._buffered = False

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, with every kept row inserted (so any statement sees them)."""
        if self._buffered:
            self.insert_kept()
        return self._conn

    def insert_kept(self) -> None:
        """Insert the rows kept so far (the transaction's end does it anyway)."""
        self._buffered = False
        for insert, rows in self._rows.items():
            if rows:
                _insert_rows(self._conn, insert, rows)
                rows.clear()

    def _keep(self, insert: str, rows: list[tuple]) -> None:
        self._rows[insert] += rows
        self._buffered = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; on failure, forget ids cached from it (and the rows it kept)."""
        with self._lock:
            stored = set(self._stored_code)
            try:
                with transaction(self._conn):
                    yield
                    self.insert_kept()
            except BaseException:
                for rows in self._rows.values():
                    rows.clear()
                self._buffered = False
                self._name_ids.clear()
                self._shape_ids.clear()
                self._stored_code = stored
                raise

    def forget_cached_code(self) -> None:
        """Forget which code texts and shapes were stored (after rows were deleted, e.g. by ``%prov clear``)."""
        self._stored_code.clear()
        self._shape_ids.clear()

    def begin_epoch(self, notebook: str, facts: EpochFacts) -> tuple[int, int]:
        """Register a kernel lifetime for ``notebook``; returns (epoch id, epoch number)."""
        with self._lock, transaction(self.conn) as c:
            notebook = _t(notebook)
            c.execute(
                "INSERT OR IGNORE INTO notebooks(path, first_seen) VALUES (?, ?)", (notebook, facts.started)
            )
            notebook_id = c.execute("SELECT id FROM notebooks WHERE path = ?", (notebook,)).fetchone()[0]
            number = c.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM epochs WHERE notebook_id = ?", (notebook_id,)
            ).fetchone()[0]
            cur = c.execute(
                "INSERT INTO epochs(notebook_id, number, started, pid, hostname, user, os, python,"
                " implementation, ipython, ipykernel, provkernel, executable, cwd, kernel)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    notebook_id,
                    number,
                    facts.started,
                    facts.pid,
                    _t(facts.hostname),
                    _t(facts.user),
                    facts.os,
                    facts.python,
                    facts.implementation,
                    facts.ipython,
                    facts.ipykernel,
                    facts.provkernel,
                    _t(facts.executable),
                    _t(facts.cwd),
                    facts.kernel,
                ),
            )
            epoch_id = cur.lastrowid
            self._mark_dead_executions(c, notebook_id, epoch_id, facts.hostname)
        return epoch_id, number

    def move_epoch(self, epoch_id: int, notebook: str) -> int:
        """File an epoch that has no executions yet under another notebook; returns its new number."""
        notebook = _t(notebook)
        with self._lock, transaction(self.conn) as c:
            c.execute(
                "INSERT OR IGNORE INTO notebooks(path, first_seen) VALUES (?, ?)", (notebook, time.time())
            )
            notebook_id = c.execute("SELECT id FROM notebooks WHERE path = ?", (notebook,)).fetchone()[0]
            number = c.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM epochs WHERE notebook_id = ?", (notebook_id,)
            ).fetchone()[0]
            c.execute(
                "UPDATE epochs SET notebook_id = ?, number = ? WHERE id = ?", (notebook_id, number, epoch_id)
            )
        return number

    def discard_epoch_if_empty(self, epoch_id: int) -> bool:
        """Forget an epoch in which nothing was executed (a kernel started and stopped unused)."""
        c = self.conn
        used = c.execute(
            "SELECT EXISTS(SELECT 1 FROM executions WHERE epoch_id = ?)"
            " OR EXISTS(SELECT 1 FROM capture_errors WHERE epoch_id = ?)",
            (epoch_id, epoch_id),
        ).fetchone()[0]
        if used:
            return False
        c.execute("DELETE FROM libraries WHERE epoch_id = ?", (epoch_id,))
        c.execute("DELETE FROM epochs WHERE id = ?", (epoch_id,))
        return True

    @staticmethod
    def _mark_dead_executions(c: sqlite3.Connection, notebook_id: int, epoch_id: int, hostname: str) -> None:
        """Executions still 'running' in an earlier epoch whose process is gone killed their kernel."""
        rows = c.execute(
            "SELECT DISTINCT e.id, e.pid FROM epochs e JOIN executions x ON x.epoch_id = e.id"
            " WHERE e.notebook_id = ? AND e.id != ? AND e.hostname = ? AND x.status = 'running'",
            (notebook_id, epoch_id, hostname),
        ).fetchall()
        for old_epoch, pid in rows:
            if pid is None or not _pid_alive(pid):
                c.execute(
                    "UPDATE executions SET status = 'died' WHERE epoch_id = ? AND status = 'running'",
                    (old_epoch,),
                )

    def start_execution(
        self,
        execution_id: int,
        epoch_id: int,
        count: int | None,
        cell_id: str | None,
        code_hash: str,
        code: str,
        facts: Callable[[], dict | None],
        started: float,
        status: str = "running",
        finished: ExecutionRecord | None = None,
    ) -> None:
        """Insert an execution as soon as it starts, so a cell that kills the kernel is still known.

        ``facts`` returns the code's static facts as JSON (None while they are not known yet: see
        :meth:`complete_code_facts`); it is called only for code not stored yet.
        ``finished``: the execution already ended (a quick cell whose start was not written yet): its
        ending goes into the same row, and :meth:`finish_execution` is then told not to update it.
        """
        c = self._conn
        if code_hash not in self._stored_code:
            known = facts()
            c.execute(
                "INSERT OR IGNORE INTO code(hash, text, facts) VALUES (?, ?, ?)",
                (code_hash, _t(code), None if known is None else json.dumps(known, separators=(",", ":"))),
            )
            self._stored_code.add(code_hash)
        ending = (None, status, None, None, None) if finished is None else _ending(finished)
        self._keep(EXECUTIONS, [(execution_id, epoch_id, count, _t(cell_id), code_hash, started, *ending)])

    def complete_code_facts(self, code_hash: str, facts: Callable[[], dict | None]) -> None:
        """Store static facts that were not known when the code was first stored."""
        known = facts()
        if known is not None:
            self.conn.execute(
                "UPDATE code SET facts = ? WHERE hash = ? AND facts IS NULL",
                (json.dumps(known, separators=(",", ":")), code_hash),
            )

    def _name_id(self, c: sqlite3.Connection, name: str) -> int:
        name_id = self._name_ids.get(name)
        if name_id is None:
            text = _t(name)
            c.execute("INSERT OR IGNORE INTO names(name) VALUES (?)", (text,))
            name_id = c.execute("SELECT id FROM names WHERE name = ?", (text,)).fetchone()[0]
            self._name_ids[name] = name_id
        return name_id

    def _shape_id(self, c: sqlite3.Connection, body: str) -> int:
        shape_id = self._shape_ids.get(body)
        if shape_id is None:
            c.execute("INSERT OR IGNORE INTO shapes(body) VALUES (?)", (_t(body),))
            shape_id = c.execute("SELECT id FROM shapes WHERE body = ?", (_t(body),)).fetchone()[0]
            if len(self._shape_ids) > 10_000:
                self._shape_ids.clear()
            self._shape_ids[body] = shape_id
        return shape_id

    def _source_id(self, c: sqlite3.Connection, kind: str, location: str) -> int:
        location = _t(location)
        c.execute("INSERT OR IGNORE INTO data_sources(kind, location) VALUES (?, ?)", (kind, location))
        return c.execute(
            "SELECT id FROM data_sources WHERE kind = ? AND location = ?", (kind, location)
        ).fetchone()[0]

    def finish_execution(self, epoch_id: int, record: ExecutionRecord, *, row_written: bool = False) -> None:
        """Complete an execution started with :meth:`start_execution` with everything captured
        (``row_written``: its ending is already in the row)."""
        c = self._conn
        if not row_written:
            self.conn.execute(  # its row may still be kept: self.conn inserts it first
                "UPDATE executions SET ended = ?, status = ?, ename = ?, evalue = ?, traceback = ? WHERE id = ?",
                (*_ending(record), record.execution_id),
            )
        if record.symbols:
            execution = record.execution_id
            self._keep(
                SYMBOLS,
                [
                    (execution, s.kind, self._name_id(c, s.name), s.source, _t(s.value))
                    for s in record.symbols
                ],
            )
        if record.states:
            self._keep(
                STATES,
                [
                    (record.execution_id, self._name_id(c, name), self._shape_id(c, body))
                    for name, body in record.states.items()
                ],
            )
        if record.data:
            c = self.conn  # data_access rows refer to the execution's row: insert the kept rows first
        for access in record.data:
            c.execute(
                "INSERT OR REPLACE INTO data_access(execution_id, source_id, mode, size, mtime, hash)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.execution_id,
                    self._source_id(c, access.kind, access.location),
                    access.mode,
                    access.size,
                    access.mtime,
                    access.hash,
                ),
            )
        if record.outputs:
            self._keep(OUTPUTS, [(record.execution_id, o.seq, o.mime, o.hash) for o in record.outputs])

    def set_data_hash(self, execution_id: int, location: str, mode: str, digest: str) -> None:
        """The content hash of a large file, computed after its execution was written."""
        self.conn.execute(
            "UPDATE data_access SET hash = ? WHERE execution_id = ? AND mode = ? AND source_id ="
            " (SELECT id FROM data_sources WHERE kind = 'file' AND location = ?)",
            (digest, execution_id, mode, _t(location)),
        )

    def set_diagnosis(self, execution_id: int, diagnosis: dict) -> None:
        """Attach a crash diagnosis (JSON) to an execution."""
        self.conn.execute(
            "UPDATE executions SET diagnosis = ? WHERE id = ?",
            (json.dumps(diagnosis, separators=(",", ":")), execution_id),
        )

    def add_libraries(self, epoch_id: int, libraries: Iterable[LibraryRecord]) -> None:
        """Record packages of an epoch; the first execution that brought a package in wins."""
        rows = [
            (epoch_id, lib.name, lib.distribution, lib.version, lib.kind, lib.first_execution_id)
            for lib in libraries
        ]
        if not rows:
            return
        c = self.conn
        c.executemany(
            "INSERT OR IGNORE INTO libraries(epoch_id, name, distribution, version, kind, first_execution_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        # a package first pulled in indirectly and later imported by a cell becomes direct
        c.executemany(
            "UPDATE libraries SET kind = 'direct' WHERE epoch_id = ? AND name = ? AND kind = 'indirect'",
            [(epoch_id, row[1]) for row in rows if row[4] == "direct"],
        )

    def add_bugdoc_run(
        self,
        notebook_id: int,
        epoch_id: int | None,
        target_execution: int | None,
        pipeline: str,
        started: float,
        ended: float,
        spec: dict,
        result: dict,
        instances: Iterable[tuple[str, bool, str, bool]],
    ) -> None:
        """Store a ``%bugdoc`` run with its instances (parameters as JSON of Python literals, outcome, new)."""
        cur = self.conn.execute(
            "INSERT INTO bugdoc_runs(notebook_id, epoch_id, target_execution, pipeline, started, ended, spec, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                notebook_id,
                epoch_id,
                target_execution,
                pipeline,
                started,
                ended,
                json.dumps(spec, default=repr),
                json.dumps(result, default=repr),
            ),
        )
        self.conn.executemany(
            "INSERT INTO bugdoc_instances(run_id, seq, params, succeeded, detail, new) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (cur.lastrowid, seq, params, int(ok), detail, int(new))
                for seq, (params, ok, detail, new) in enumerate(instances)
            ],
        )

    def capture_error(self, epoch_id: int | None, time: float, stage: str, message: str) -> None:
        """Remember a failure of our own code (shown by ``%prov status``)."""
        self.conn.execute(
            "INSERT INTO capture_errors(epoch_id, time, stage, message) VALUES (?, ?, ?, ?)",
            (epoch_id, time, stage, _t(clip(message, 2000))),  # head and tail, as everything we bound
        )

    def end_epoch(self, epoch_id: int, time: float) -> None:
        """The kernel is shutting down cleanly."""
        self.conn.execute("UPDATE epochs SET ended = ? WHERE id = ?", (time, epoch_id))
