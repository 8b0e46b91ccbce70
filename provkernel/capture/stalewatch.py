"""Stale cells as they happen, for the optional one-line notice (``c.ProvKernel.stale_notice``).

Keeps, per name, the cells whose latest run read it; an execution that writes the name makes
those cells (other than its own) stale until they run again. ``%prov stale`` answers the same
question from the database with the reasons; this is the cheap live version, kept only when the
notice is switched on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from provkernel.records import SymbolEvent
from provkernel.store.schema import DEF, UPDATE, USE


@dataclass
class StaleWatch:
    """Which cells read which names, as of their latest runs."""

    readers: dict[str, dict[str, str]] = field(default_factory=dict)  # name → cell → label
    cell_reads: dict[str, set[str]] = field(default_factory=dict)
    stale: dict[str, str] = field(default_factory=dict)  # cell → label, until it runs again

    def ran(self, cell: str, label: str, events: list[SymbolEvent]) -> dict[str, str]:
        """Record one execution of ``cell``; the cells it made stale now (cell → label)."""
        self.stale.pop(cell, None)
        for name in self.cell_reads.pop(cell, ()):
            self.readers.get(name, {}).pop(cell, None)
        written = {e.name for e in events if e.kind in (DEF, UPDATE)}
        newly = {
            other: other_label
            for name in written
            for other, other_label in self.readers.get(name, {}).items()
            if other != cell and other not in self.stale
        }
        read = {e.name for e in events if e.kind in (USE, UPDATE)}
        self.cell_reads[cell] = read
        for name in read:
            self.readers.setdefault(name, {})[cell] = label
        self.stale.update(newly)
        return newly


def notice(changed: list[str], stale: dict[str, str]) -> dict[str, str]:
    """The one-line display: what changed and which cells are stale now."""
    names = ", ".join(f"`{n}`" for n in changed[:4]) + (" …" if len(changed) > 4 else "")
    cells = ", ".join(list(stale.values())[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
    text = f"provkernel: this cell changed {names}; stale now: {cells} (%prov stale explains)"
    html = (
        '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;'
        "color:var(--jp-warn-color0,#8a5300);border-left:3px solid var(--jp-warn-color1,#c77c02);"
        f'padding:2px 8px">{escape(text)}</div>'
    )
    return {"text/plain": text, "text/html": html}
