"""A crash profile: the paper's tables (root cause, crash type, library) for a user's own diagnoses."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.taxonomy import CRASH_TYPES, ROOT_CAUSE_ABBR, ROOT_CAUSES

NO_LIBRARY = "(none)"


@dataclass(frozen=True)
class CrashProfile:
    """Counts over a list of diagnoses, each list sorted by count (most frequent first).

    Attributes:
        total: Number of diagnoses.
        root_causes: (summary root cause, count).
        root_cause_details: (fine root cause, count).
        crash_types: (summary crash type, count).
        libraries: (library or ``"(none)"``, count).
        crosstab: (crash type, root cause) -> count.
        history_decided: How many root causes the notebook's history or the objects at the crash decided.
    """

    total: int
    root_causes: list[tuple[str, int]] = field(default_factory=list)
    root_cause_details: list[tuple[str, int]] = field(default_factory=list)
    crash_types: list[tuple[str, int]] = field(default_factory=list)
    libraries: list[tuple[str, int]] = field(default_factory=list)
    crosstab: dict[tuple[str, str], int] = field(default_factory=dict)
    history_decided: int = 0

    def share(self, count: int) -> str:
        """``count`` as a percentage of the total."""
        return f"{100 * count / self.total:.1f}%" if self.total else "0.0%"

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible summary."""
        return {
            "total": self.total,
            "history_decided": self.history_decided,
            "root_causes": dict(self.root_causes),
            "root_cause_details": dict(self.root_cause_details),
            "crash_types": dict(self.crash_types),
            "libraries": dict(self.libraries),
            "crosstab": [
                {"crash_type": t, "root_cause": r, "count": n} for (t, r), n in self.crosstab.items()
            ],
        }

    def _tables(self) -> list[tuple[str, list[tuple[str, int]]]]:
        return [
            ("Root cause", self.root_causes),
            ("Crash type", self.crash_types),
            ("Library", self.libraries),
        ]

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.table import Table

        yield f"Crash profile: {self.total} crashes ({self.history_decided} decided from history)"
        for title, rows in self._tables():
            table = Table(title=None, show_edge=False, pad_edge=False)
            table.add_column(title)
            table.add_column("n", justify="right")
            table.add_column("%", justify="right")
            for label, count in rows:
                table.add_row(label, str(count), self.share(count))
            yield table
        if self.crosstab:
            yield self._rich_crosstab()

    def _rich_crosstab(self) -> Any:
        from rich.table import Table

        causes = [cause for cause, _ in self.root_causes]
        table = Table(title="crash type × root cause", show_edge=False, pad_edge=False)
        table.add_column("crash type")
        for cause in causes:
            table.add_column(ROOT_CAUSE_ABBR.get(cause, cause), justify="right")
        for crash_type, _ in self.crash_types:
            table.add_row(crash_type, *(str(self.crosstab.get((crash_type, c), "")) for c in causes))
        return table

    def text(self, width: int = 100) -> str:
        """Plain-text rendering (via rich, without colour)."""
        from rich.console import Console

        console = Console(file=io.StringIO(), width=width, color_system=None, force_jupyter=False)
        console.print(self)
        return console.file.getvalue()  # type: ignore[attr-defined]

    def to_html(self) -> str:
        """HTML tables (the notebook's theme colours), from the same renderables as the terminal."""
        from provkernel.richhtml import to_html

        return to_html(self, "crashes")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from provkernel.render import vendor_mime

        return {
            "text/plain": self.text(),
            "text/html": self.to_html(),
            vendor_mime("crashes"): self.to_json(),
        }


def _ordered(counter: Counter[str], order: Iterable[str]) -> list[tuple[str, int]]:
    """Most frequent first; ties in the taxonomy's order."""
    rank = {label: i for i, label in enumerate(order)}
    return sorted(counter.items(), key=lambda item: (-item[1], rank.get(item[0], len(rank)), item[0]))


def crash_profile(diagnoses: Iterable[Diagnosis]) -> CrashProfile:
    """Count diagnoses by root cause, crash type and library, as the paper's tables do.

    >>> crash_profile([]).total
    0
    """
    items = list(diagnoses)
    fine_order = [fine for fines in ROOT_CAUSES.values() for fine in fines]
    return CrashProfile(
        total=len(items),
        root_causes=_ordered(Counter(d.root_cause for d in items), ROOT_CAUSES),
        root_cause_details=_ordered(Counter(d.root_cause_detail for d in items), fine_order),
        crash_types=_ordered(Counter(d.crash_type for d in items), CRASH_TYPES),
        libraries=_ordered(Counter(d.library or NO_LIBRARY for d in items), []),
        crosstab=dict(Counter((d.crash_type, d.root_cause) for d in items)),
        history_decided=sum(d.basis != "traceback" for d in items),
    )
