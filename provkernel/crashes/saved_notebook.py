"""The saved ``.ipynb`` of the running notebook, read at a crash: which cells exist, where, and which never ran.

The kernel records what ran; only the notebook file knows the cells that did not run (skipped, placed
below, added after a restart) and where every cell sits. :class:`SavedNotebooks` reads the file only when
a crash needs it, cached by modification time and size, and tolerates a missing, unsaved or invalid file.
:func:`with_saved_cells` adds what it knows to a provenance :class:`CrashContext`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from provkernel.crashes.bindings import code_facts
from provkernel.crashes.context import NOT_RUN, CrashContext, Execution
from provkernel.crashes.notebook_context import cell_source

log = logging.getLogger("provkernel")

MAX_BYTES = 64 << 20  # a larger notebook file is not read at a crash
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class SavedCell:
    """One code cell of a saved notebook.

    Attributes:
        position: 0-based index among all cells (markdown counted), as the paper and the frontends count.
        cell_id: The nbformat ≥ 4.5 cell id, or None.
        code: Its source as saved.
        execution_count: ``In[n]`` as saved, or None.
    """

    position: int
    cell_id: str | None
    code: str
    execution_count: int | None


def parse_cells(text: str) -> list[SavedCell]:
    """The code cells of a notebook's JSON text (``[]`` when it is not a notebook)."""
    notebook = json.loads(text)
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return []
    found = []
    for position, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            count = cell.get("execution_count")
            cell_id = cell.get("id")
            found.append(
                SavedCell(
                    position,
                    cell_id if isinstance(cell_id, str) else None,
                    cell_source(cell),
                    count if isinstance(count, int) else None,
                )
            )
    return found


class SavedNotebooks:
    """Reads saved notebooks on demand; one parse per (path, modification time, size)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int], list[SavedCell]]] = {}

    def cells(self, path: str | None) -> list[SavedCell] | None:
        """The code cells of the notebook at ``path``; None when there is no readable notebook there."""
        if not path or not path.endswith(".ipynb"):
            return None
        try:
            status = os.stat(path)
            key = (status.st_mtime_ns, status.st_size)
            cached = self._cache.get(path)
            if cached is not None and cached[0] == key:
                return cached[1]
            if status.st_size > MAX_BYTES:
                return None
            with open(path, encoding="utf-8") as handle:
                cells = parse_cells(handle.read())
        except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError):
            log.debug("provkernel: saved notebook %s not readable", path, exc_info=True)
            return None
        self._cache = {path: (key, cells)}  # one notebook per kernel: keep only the latest
        return cells


def _matches(cell: SavedCell, execution: Execution) -> bool:
    if cell.cell_id and execution.cell_id:
        return cell.cell_id == execution.cell_id
    return bool(execution.code) and execution.code.strip() == cell.code.strip()


def _mentions(code: str, words: set[str]) -> bool:
    return not words or any(w in code for w in words)


def with_saved_cells(
    context: CrashContext, cells: list[SavedCell], words: Iterable[str] = ()
) -> CrashContext:
    """``context`` plus what the saved notebook knows: the position of every recorded cell, and each code
    cell that never ran as a ``"not run"`` execution with the names and files its code binds.

    Args:
        context: A provenance context (kernel).
        cells: The saved notebook's code cells.
        words: Names the crash is about (message, failing line); only never-run cells that mention one of
            them are analysed, to keep a crash in a long notebook cheap. Empty: analyse all.
    """
    runs = [*context.history, *([context.crash] if context.crash else [])]
    moved: dict[Execution, Execution] = {}
    unrun: list[Execution] = []
    for cell in cells:
        matched = [e for e in runs if _matches(cell, e)]
        for execution in matched:
            if execution.position is None:
                moved[execution] = replace(execution, position=cell.position)
        if not matched:
            unrun.append(Execution(None, cell.cell_id, cell.position, None, NOT_RUN, None, cell.code))
    if not moved and not unrun:
        return context
    wanted = {w for w in words if w}
    bindings = [replace(b, execution=moved.get(b.execution, b.execution)) for b in context.bindings]
    files = [replace(f, execution=moved.get(f.execution, f.execution)) for f in context.files]
    aliases = dict(context.aliases)
    for execution in unrun:
        if not _mentions(execution.code, wanted):
            continue
        cell_bindings, cell_aliases, cell_files = code_facts(execution)
        bindings += cell_bindings
        for name, module in cell_aliases:
            aliases.setdefault(name, module)
        files += cell_files
    return replace(
        context,
        crash=moved.get(context.crash, context.crash) if context.crash else None,
        history=[moved.get(e, e) for e in context.history] + unrun,
        bindings=bindings,
        aliases=aliases,
        files=files,
        states=[replace(s, execution=moved.get(s.execution, s.execution)) for s in context.states],
    )


def crash_words(message: str, line: str) -> set[str]:
    """What never-run cells must mention to be worth analysing: the quoted names and paths of the message
    (``name 'X_train' is not defined``) and the identifiers of the failing line.

    >>> sorted(crash_words("name 'X_train' is not defined", "model.fit(X_train)"))
    ['X_train', 'fit', 'model']
    """
    words = set(re.findall(r"'([^']{1,120})'", message))
    words.update(_WORD.findall(line))
    return words
