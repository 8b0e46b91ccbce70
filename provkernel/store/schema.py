"""The SQLite schema, as an ordered list of migrations.

Migration *n* (1-based) takes the database from schema version n-1 to n. Never edit a
released migration: append a new one.

Sizes matter (the store grows with every cell of every user): code and its static facts are
stored once per distinct text; symbol names are interned; the per-execution tables are
``WITHOUT ROWID`` with composite keys.
"""

from __future__ import annotations

# Symbol event kinds in the ``symbols`` table.
USE, DEF, UPDATE, DELETE = 0, 1, 2, 3
KIND_NAMES = {USE: "use", DEF: "def", UPDATE: "update", DELETE: "delete"}

MIGRATIONS: list[str] = [
    # 1: the provenance of executions
    """
    CREATE TABLE notebooks (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        first_seen REAL NOT NULL
    );
    CREATE TABLE epochs (
        id INTEGER PRIMARY KEY,
        notebook_id INTEGER NOT NULL REFERENCES notebooks(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        pid INTEGER, hostname TEXT, user TEXT, os TEXT, python TEXT, implementation TEXT,
        ipython TEXT, ipykernel TEXT, provkernel TEXT, executable TEXT, cwd TEXT, kernel TEXT,
        UNIQUE (notebook_id, number)
    );
    CREATE TABLE code (
        hash TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        facts TEXT
    ) WITHOUT ROWID;
    CREATE TABLE executions (
        id INTEGER PRIMARY KEY,
        epoch_id INTEGER NOT NULL REFERENCES epochs(id) ON DELETE CASCADE,
        count INTEGER,
        cell_id TEXT,
        code_hash TEXT,
        started REAL NOT NULL,
        ended REAL,
        status TEXT NOT NULL,
        ename TEXT, evalue TEXT, traceback TEXT,
        diagnosis TEXT
    );
    CREATE INDEX executions_by_epoch ON executions(epoch_id, count);
    CREATE TABLE names (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE symbols (
        execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        kind INTEGER NOT NULL,
        name_id INTEGER NOT NULL,
        source INTEGER,
        value TEXT,
        PRIMARY KEY (execution_id, kind, name_id)
    ) WITHOUT ROWID;
    CREATE TABLE libraries (
        epoch_id INTEGER NOT NULL REFERENCES epochs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        distribution TEXT,
        version TEXT,
        kind TEXT NOT NULL,
        first_execution_id INTEGER,
        PRIMARY KEY (epoch_id, name)
    ) WITHOUT ROWID;
    CREATE TABLE data_sources (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        UNIQUE (kind, location)
    );
    CREATE TABLE data_access (
        execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        source_id INTEGER NOT NULL REFERENCES data_sources(id),
        mode TEXT NOT NULL,
        size INTEGER,
        mtime REAL,
        hash TEXT,
        PRIMARY KEY (execution_id, source_id, mode)
    ) WITHOUT ROWID;
    CREATE INDEX data_access_by_source ON data_access(source_id);
    CREATE TABLE outputs (
        execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        mime TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq, mime)
    ) WITHOUT ROWID;
    CREATE INDEX outputs_by_hash ON outputs(hash);
    CREATE TABLE capture_errors (
        id INTEGER PRIMARY KEY,
        epoch_id INTEGER REFERENCES epochs(id) ON DELETE CASCADE,
        time REAL NOT NULL,
        stage TEXT NOT NULL,
        message TEXT NOT NULL
    );
    """,
    # 2: %bugdoc runs and their instances (a second %bugdoc on the same pipeline reuses them)
    """
    CREATE TABLE bugdoc_runs (
        id INTEGER PRIMARY KEY,
        notebook_id INTEGER NOT NULL REFERENCES notebooks(id) ON DELETE CASCADE,
        epoch_id INTEGER REFERENCES epochs(id) ON DELETE SET NULL,
        target_execution INTEGER,
        pipeline TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        spec TEXT NOT NULL,
        result TEXT
    );
    CREATE INDEX bugdoc_runs_by_pipeline ON bugdoc_runs(pipeline);
    CREATE TABLE bugdoc_instances (
        run_id INTEGER NOT NULL REFERENCES bugdoc_runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        params TEXT NOT NULL,
        succeeded INTEGER NOT NULL,
        detail TEXT,
        new INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    """,
    # 3: what objects looked like after the executions that wrote them (fingerprint structures:
    # type, sizes, columns and dtypes, fitted state; never data), each distinct shape stored once
    """
    CREATE TABLE shapes (
        id INTEGER PRIMARY KEY,
        body TEXT NOT NULL UNIQUE
    );
    CREATE TABLE states (
        execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
        name_id INTEGER NOT NULL,
        shape_id INTEGER NOT NULL REFERENCES shapes(id),
        PRIMARY KEY (execution_id, name_id)
    ) WITHOUT ROWID;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
