"""The kernel's producer of :class:`CrashContext`: the notebook's recorded history → context.

Pure: takes the rows of :func:`provkernel.store.history.notebook_history`, returns the context.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from provkernel.capture.analysis import CONSUMING_METHODS
from provkernel.capture.fingerprint import from_json
from provkernel.crashes.context import (
    ABORTED,
    ASSIGN,
    CLASS,
    DEF,
    DELETE,
    ERROR,
    IMPORT,
    INPLACE,
    OK,
    UPDATE,
    Binding,
    CrashContext,
    Epoch,
    Execution,
    FileAccess,
    ObjectState,
)
from provkernel.store.schema import DEF as DEF_EVENT
from provkernel.store.schema import DELETE as DELETE_EVENT
from provkernel.store.schema import UPDATE as UPDATE_EVENT

STATUS = {"ok": OK, "error": ERROR}  # aborted, running (never finished) and died are all "aborted"
FILE_MODES = {"read": "r", "write": "w", "readwrite": "a"}


def import_module(entry: list) -> tuple[str, str]:
    """(alias, module notation) of a stored import: ``numpy`` or ``sklearn.model_selection:train_test_split``."""
    module, name, alias = entry[0], entry[1], entry[2]
    return alias, module if name is None else f"{module}:{name}"


def _binding_kind(name: str, facts: dict[str, Any], imports: dict[str, str]) -> str:
    if name in imports:
        return IMPORT
    if name in facts.get("functions", ()):
        return DEF
    if name in facts.get("classes", ()):
        return CLASS
    return ASSIGN


def _update_binding(name: str, facts: dict[str, Any]) -> tuple[str, str | None]:
    """UPDATE, or INPLACE with its operation when the update removed data (drop, pop, del x[…])."""
    for update_name, how, _line in facts.get("updates", ()):
        if update_name == name and (how in CONSUMING_METHODS or how == "del[]"):
            return INPLACE, "del item" if how == "del[]" else how
    return UPDATE, None


def static_bindings(facts: dict[str, Any], execution: Execution) -> list[Binding]:
    """What the code of ``execution`` binds, from its static facts (for the crash: it may not have got there)."""
    imports = dict(import_module(entry) for entry in facts.get("imports", ()))
    bindings = [
        Binding(name, _binding_kind(name, facts, imports), execution, imports.get(name), line=line)
        for name, line in facts.get("def_lines", ())
    ]
    for name, how, line in facts.get("updates", ()):
        kind, operation = _update_binding(name, {"updates": [[name, how, line]]})
        bindings.append(Binding(name, kind, execution, operation=operation, line=line))
    bindings += [Binding(name, DELETE, execution) for name in facts.get("deleted", ())]
    return bindings


def build_context(
    history: dict[str, Any],
    crash_id: int,
    current_epoch: int | None,
    exists: Callable[[str], bool] = os.path.exists,
) -> CrashContext:
    """The crash context of execution ``crash_id`` from a notebook's recorded ``history``."""
    facts_by_hash = history["facts"]
    runs: dict[int, Execution] = {}
    for row in history["executions"]:
        runs[row["id"]] = Execution(
            count=row["count"],
            cell_id=row["cell_id"],
            position=None,
            epoch=row["epoch"],
            status=STATUS.get(row["status"], ABORTED),
            time=row["started"],
            code=row["code"],
            ename=row["ename"],
        )
    crash = runs.get(crash_id)
    bindings: list[Binding] = []
    aliases: dict[str, str] = {}
    for row in history["executions"]:
        facts = facts_by_hash.get(row["code_hash"], {})
        imports = dict(import_module(entry) for entry in facts.get("imports", ()))
        aliases.update(imports)
        execution = runs[row["id"]]
        if row["id"] == crash_id or execution.status != OK:
            # what the code binds, whether or not it got there: a failed cell is why a name is missing
            bindings += static_bindings(facts, execution)
            if row["id"] == crash_id:
                continue
        for name, kind in history["symbols"].get(row["id"], ()):
            if kind == DEF_EVENT:
                bindings.append(
                    Binding(name, _binding_kind(name, facts, imports), execution, imports.get(name))
                )
            elif kind == UPDATE_EVENT:
                binding_kind, operation = _update_binding(name, facts)
                bindings.append(Binding(name, binding_kind, execution, operation=operation))
            elif kind == DELETE_EVENT:
                bindings.append(Binding(name, DELETE, execution))
    epochs = {
        e["number"]: Epoch(e["number"], e["executable"], e["versions"], e["started"])
        for e in history["epochs"]
    }
    files = [
        FileAccess(
            f["location"],
            runs[f["execution_id"]],
            "url" if f["kind"] == "url" else FILE_MODES[f["mode"]],
            f["hash"],
            f["time"],
        )
        for f in history["files"]
        if f["execution_id"] in runs
    ]
    states = [
        ObjectState(row["name"], runs[row["execution_id"]], from_json(json.loads(row["shape"])))
        for row in history.get("states", ())
        if row["execution_id"] in runs
    ]
    return CrashContext(
        crash=crash,
        states=states,
        history=[run for run_id, run in runs.items() if run_id != crash_id],
        bindings=bindings,
        aliases=aliases,
        epochs=epochs,
        current_epoch=current_epoch,
        files=files,
        exists={f.path: exists(f.path) for f in files if f.mode != "url"},
        source="kernel",
    )
