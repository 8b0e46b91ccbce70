"""Opening the provenance database: location, permissions, pragmas, migrations, transactions."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from provkernel.log import make_private_dirs
from provkernel.store.schema import MIGRATIONS, SCHEMA_VERSION

ENV_VAR = "PROVKERNEL_DB"
BUSY_TIMEOUT_S = 30.0
STATEMENT_CACHE = 512
# Opening a new database while other kernels open it too can fail with "database is locked" before
# SQLite's busy handler applies (switching to WAL, recovering the WAL index): the open is retried.
OPEN_RETRY_S = 30.0


class StoreError(Exception):
    """The database cannot be used; the message says what to do."""


BUGDOC_RUNS = "bugdoc-runs"  # %bugdoc runs in progress, swept after a killed kernel (bugdoc reaper)
BUGDOC_ENVS = "bugdoc-envs"  # --vary-package environments (bugdoc.notebook.environments)


def beside(database: str | os.PathLike, name: str) -> Path:
    """A folder of ours next to the database file."""
    return Path(database).resolve().parent / name


def default_path() -> Path:
    """``$PROVKERNEL_DB``, else ``<jupyter data dir>/provkernel/provenance.sqlite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "provkernel" / "provenance.sqlite"


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds code and values), in a
    directory only its owner can enter (created 0700 whatever the umask)."""
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _is_busy(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def connect(path: str | os.PathLike | None = None, *, create: bool = True) -> sqlite3.Connection:
    """Open (and if needed create and migrate) the database at ``path``.

    Raises:
        StoreError: the file is missing (with ``create=False``), unreadable, not a database, or
            written by a newer provkernel.
    """
    db_path = Path(path) if path is not None else default_path()
    deadline = time.monotonic() + OPEN_RETRY_S
    delay = 0.01
    while True:
        try:
            return _connect_once(db_path, create)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise StoreError(f"cannot use provenance database {db_path}: {exc}") from exc
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


def _connect_once(db_path: Path, create: bool) -> sqlite3.Connection:
    conn = None
    try:
        if not db_path.exists():
            if not create:
                raise StoreError(f"no provenance database at {db_path} (nothing has been recorded yet)")
            _create_private(db_path)
        conn = sqlite3.connect(
            db_path,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=STATEMENT_CACHE,  # the writer prepares one INSERT per row count
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # checkpoint every ~1 MB of WAL and truncate it back to 1 MB: the WAL never dwarfs the database
        conn.execute("PRAGMA wal_autocheckpoint=256")
        conn.execute("PRAGMA journal_size_limit=1048576")
        conn.execute("PRAGMA foreign_keys=ON")
        # deleted and rewritten text (clear, redact) is overwritten with zeros, not left in free pages
        conn.execute("PRAGMA secure_delete=ON")
        migrate(conn)
        return conn
    except sqlite3.OperationalError:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot use provenance database {db_path}: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot create provenance database {db_path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the write lock up front (no deadlock between kernels)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; safe when several kernels start at once."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return version
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {version}, newer than this provkernel understands "
            f"({SCHEMA_VERSION}); upgrade provkernel"
        )
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another kernel may have migrated
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION
