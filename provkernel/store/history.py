"""Read queries for a notebook's whole history, as crash diagnosis and ``%bugdoc`` need it.

Plain rows (dicts and tuples); the analyses turn them into their own records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from provkernel.store.queries import Queries, _rows

MAX_HISTORY = 5000  # executions considered for one diagnosis (the most recent ones)


def notebook_history(
    queries: Queries,
    notebook_id: int,
    limit: int = MAX_HISTORY,
    state_names: Iterable[str] = (),
    facts_cache: dict[str, dict] | None = None,
) -> dict[str, Any]:
    """Executions (oldest first), their symbol events and code facts, epochs with library versions,
    data accesses of one notebook, and the stored object shapes of ``state_names`` (the names a
    crash is about: loading every shape of a long history would cost more than it tells).

    ``facts_cache``: code hash → parsed facts, kept by a caller that asks again (a kernel's crash
    diagnosis): facts never change for a code text, and parsing them is most of the work.
    """
    c = queries.conn
    executions = _rows(
        c.execute(
            "SELECT * FROM (SELECT x.id, x.count, x.cell_id, x.code_hash, x.started, x.status, x.ename,"
            " e.number AS epoch, c.text AS code FROM executions x JOIN epochs e ON e.id = x.epoch_id"
            " JOIN code c ON c.hash = x.code_hash WHERE e.notebook_id = ? ORDER BY x.id DESC LIMIT ?)"
            " ORDER BY id",
            (notebook_id, limit),
        )
    )
    first = executions[0]["id"] if executions else 0
    symbols: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for execution_id, name, kind in c.execute(
        "SELECT s.execution_id, n.name, s.kind FROM symbols s JOIN names n ON n.id = s.name_id"
        " JOIN executions x ON x.id = s.execution_id JOIN epochs e ON e.id = x.epoch_id"
        " WHERE e.notebook_id = ? AND s.execution_id >= ? AND s.kind != 0",
        (notebook_id, first),
    ):
        symbols[execution_id].append((name, kind))
    hashes = {x["code_hash"] for x in executions}
    cache = facts_cache if facts_cache is not None else {}
    missing = tuple(h for h in hashes if h not in cache)
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        for code_hash, text in c.execute(
            f"SELECT hash, facts FROM code WHERE hash IN ({','.join('?' * len(chunk))})", chunk
        ):
            cache[code_hash] = json.loads(text) if text else {}
    facts = {h: cache[h] for h in hashes if h in cache}
    epochs = _rows(
        c.execute(
            "SELECT id, number, executable, started FROM epochs WHERE notebook_id = ? ORDER BY number",
            (notebook_id,),
        )
    )
    versions: dict[int, dict[str, str]] = defaultdict(dict)
    for epoch_id, name, distribution, version in c.execute(
        "SELECT l.epoch_id, l.name, l.distribution, l.version FROM libraries l JOIN epochs e ON e.id = l.epoch_id"
        " WHERE e.notebook_id = ? AND l.version IS NOT NULL",
        (notebook_id,),
    ):
        versions[epoch_id][name] = version
        if distribution:
            versions[epoch_id][distribution] = version
    for epoch in epochs:
        epoch["versions"] = dict(versions.get(epoch["id"], {}))
    files = _rows(
        c.execute(
            "SELECT a.execution_id, d.kind, d.location, a.mode, a.hash, x.started AS time FROM data_access a"
            " JOIN data_sources d ON d.id = a.source_id JOIN executions x ON x.id = a.execution_id"
            " JOIN epochs e ON e.id = x.epoch_id WHERE e.notebook_id = ? AND a.execution_id >= ? ORDER BY x.id",
            (notebook_id, first),
        )
    )
    names = sorted(set(state_names))
    states = []
    if names and executions:
        states = _rows(
            c.execute(
                "SELECT st.execution_id, n.name, sh.body AS shape FROM states st"
                " JOIN names n ON n.id = st.name_id JOIN shapes sh ON sh.id = st.shape_id"
                f" WHERE st.execution_id >= ? AND n.name IN ({','.join('?' * len(names))})"
                " ORDER BY st.execution_id",
                (first, *names),
            )
        )
    return {
        "executions": executions,
        "states": states,
        "symbols": dict(symbols),
        "facts": facts,
        "epochs": epochs,
        "files": files,
    }


def diagnoses(queries: Queries, notebook_id: int | None = None) -> list[dict[str, Any]]:
    """Stored crash diagnoses (JSON) of one notebook, or of every notebook."""
    sql = (
        "SELECT x.diagnosis FROM executions x JOIN epochs e ON e.id = x.epoch_id"
        " WHERE x.diagnosis IS NOT NULL"
    )
    args: tuple = ()
    if notebook_id is not None:
        sql += " AND e.notebook_id = ?"
        args = (notebook_id,)
    return [json.loads(row[0]) for row in queries.conn.execute(sql + " ORDER BY x.id", args)]
