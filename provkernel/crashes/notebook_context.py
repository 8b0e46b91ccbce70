"""Build a :class:`CrashContext` from a saved notebook, and find its error outputs (the paper's pipeline)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provkernel.crashes.bindings import code_facts
from provkernel.crashes.context import (
    ERROR,
    NOT_RUN,
    OK,
    Binding,
    CrashContext,
    Execution,
    FileAccess,
)
from provkernel.crashes.traceback import recover_evalue, strip_ansi


@dataclass(frozen=True)
class ErrorOutput:
    """One ``error`` output of a code cell.

    Attributes:
        position: 0-based index of the cell (markdown cells included, as the paper counts).
        execution_count: The cell's ``In[n]``.
        ename: Exception name.
        evalue: Message (recovered from the traceback when IPython wrote ``"ignored"``).
        traceback: The traceback chunks.
    """

    position: int
    execution_count: int | None
    ename: str
    evalue: str
    traceback: tuple[str, ...]

    def eid(self, file_name: str) -> str:
        """The paper's crash id: ``uuid3(DNS, "nb_exception://{file}.{cell_index}.{ename}")``, lower-cased."""
        key = f"nb_exception://{file_name}.{self.position}.{self.ename}".lower()
        return str(uuid.uuid3(uuid.NAMESPACE_DNS, key))


def cell_source(cell: Mapping[str, Any]) -> str:
    """A notebook cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def error_outputs(notebook: Mapping[str, Any]) -> list[ErrorOutput]:
    """Every error output of every code cell, in notebook order."""
    found = []
    for position, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") != "error":
                continue
            traceback = tuple(str(chunk) for chunk in output.get("traceback", []) or [])
            ename = str(output.get("ename") or "")
            evalue = str(output.get("evalue") or "")
            if not evalue or evalue == "ignored":
                evalue = recover_evalue(ename, strip_ansi("\n".join(traceback)).splitlines()) or evalue
            found.append(ErrorOutput(position, cell.get("execution_count"), ename, evalue, traceback))
    return found


def _execution(position: int, cell: Mapping[str, Any]) -> Execution:
    count = cell.get("execution_count")
    errors = [o for o in cell.get("outputs", []) or [] if o.get("output_type") == "error"]
    if errors:
        status = ERROR
    else:
        status = OK if count is not None else NOT_RUN
    return Execution(
        count=count,
        cell_id=cell.get("id"),
        position=position,
        status=status,
        code=cell_source(cell),
        ename=str(errors[0].get("ename")) if errors else None,
    )


class NotebookHistory:
    """What a saved notebook records, computed once: each code cell's last run, bindings and data paths.

    Epochs are unknown in a saved notebook, so contexts built from it have ``current_epoch`` None.
    """

    def __init__(self, notebook: Mapping[str, Any], base_dir: Path | None = None) -> None:
        self.executions: list[Execution] = []
        self.bindings: list[Binding] = []
        self.aliases: dict[str, str] = {}
        self.files: list[FileAccess] = []
        self.exists: dict[str, bool] = {}
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") == "code":
                self._add(_execution(index, cell), base_dir)

    def _add(self, execution: Execution, base_dir: Path | None) -> None:
        self.executions.append(execution)
        bindings, aliases, files = code_facts(execution)
        self.bindings += bindings
        for name, module in aliases:
            self.aliases.setdefault(name, module)
        self.files += files
        if base_dir is not None:
            for access in files:
                self.exists[access.path] = (base_dir / access.path).exists()

    def context(self, position: int) -> CrashContext:
        """The context of a crash in the cell at ``position`` (0-based, markdown cells counted)."""
        crash = next((e for e in self.executions if e.position == position), None)
        ran = sorted((e for e in self.executions if e.count is not None), key=lambda e: e.count or 0)
        unrun = [e for e in self.executions if e.count is None]
        return CrashContext(
            crash=crash,
            history=[e for e in ran + unrun if e is not crash],
            bindings=list(self.bindings),
            aliases=dict(self.aliases),
            files=list(self.files),
            exists=dict(self.exists),
            source="notebook",
        )


def notebook_context(
    notebook: Mapping[str, Any], position: int, base_dir: Path | None = None
) -> CrashContext:
    """What a saved notebook tells about the crash in the cell at ``position``.

    Each code cell contributes its last run (or a ``"not run"`` entry), the names its code binds, and the
    literal data paths it reads or writes; ``base_dir`` (the notebook's folder) decides which of those
    paths exist now.
    """
    return NotebookHistory(notebook, base_dir).context(position)
