"""Reading stored ``%bugdoc`` runs: the instances a new run on the same pipeline can reuse."""

from __future__ import annotations

import json
from typing import Any

from provkernel.store.queries import Queries


def stored_instances(queries: Queries, pipeline: str) -> list[tuple[str, bool, str]]:
    """(parameters JSON, succeeded, detail) of every instance run for ``pipeline``, oldest first."""
    return [
        (params, bool(ok), detail or "")
        for params, ok, detail in queries.conn.execute(
            "SELECT i.params, i.succeeded, i.detail FROM bugdoc_instances i JOIN bugdoc_runs r ON r.id = i.run_id"
            " WHERE r.pipeline = ? ORDER BY r.id, i.seq",
            (pipeline,),
        )
    ]


def runs(queries: Queries, notebook_id: int) -> list[dict[str, Any]]:
    """The notebook's ``%bugdoc`` runs with their results."""
    rows = queries.conn.execute(
        "SELECT id, epoch_id, target_execution, pipeline, started, ended, spec, result FROM bugdoc_runs"
        " WHERE notebook_id = ? ORDER BY id",
        (notebook_id,),
    )
    names = ("id", "epoch_id", "target_execution", "pipeline", "started", "ended", "spec", "result")
    found = [dict(zip(names, row, strict=True)) for row in rows]
    for run in found:
        run["spec"] = json.loads(run["spec"])
        run["result"] = json.loads(run["result"]) if run["result"] else None
    return found
