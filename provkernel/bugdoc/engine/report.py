"""The result of a root-cause search and its renderings (terminal, notebook, JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provkernel.bugdoc.engine.execute import Record
from provkernel.bugdoc.engine.predicates import Condition, fmt_value, render_conditions
from provkernel.bugdoc.engine.space import Space

MAX_ROWS = 200  # instance rows shown in renderings (JSON has them all)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else repr(value)


def _plain_instance(instance: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in instance.items()}


def _instances_text(rows: list[dict[str, Any]], limit: int = 3) -> str:
    shown = "; ".join(", ".join(f"{k} = {fmt_value(v)}" for k, v in row.items()) for row in rows[:limit])
    return shown + (f"; … {len(rows) - limit} more" if len(rows) > limit else "")


@dataclass
class Result:
    """What :func:`~provkernel.bugdoc.find_root_causes` found.

    Attributes:
        causes: conjunctions of ``(param, op, value)``, ``op`` in ``== != < <= > >=``.
        definitive: per cause, True if verified by tests, False if only suspected (budget ran out).
        new_instances: instances executed by this call (history excluded).
        explanation: the causes as short readable text.
        records: every instance considered, in order: history first, then new runs.
        notes: remarks about the input and the search (ignored parameters, the budget, ...).
        behind: per cause, the known failing instances it covers (what a suspected cause rests on).
        unexplained: FindAll: known failing instances no cause covers (only when ``stopped`` says why).
        stopped: why the search ended early (the budget), or ``None``.
    """

    space: Space
    causes: list[list[Condition]]
    definitive: list[bool]
    new_instances: int
    explanation: str
    records: list[Record]
    algorithm: str = "stacked"
    goal: str = "one"
    notes: list[str] = field(default_factory=list)
    behind: list[list[dict[str, Any]]] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None

    @property
    def instances(self) -> list[dict[str, Any]]:
        """Every instance considered: ``{"instance", "succeeded", "detail", "new"}`` in order."""
        return [
            {
                "instance": self.space.instance(r.key),
                "succeeded": r.outcome.succeeded,
                "detail": r.outcome.detail,
                "new": r.new,
            }
            for r in self.records
        ]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (values that JSON lacks are given as their ``repr``)."""
        return {
            "algorithm": self.algorithm,
            "goal": self.goal,
            "causes": [[{"param": n, "op": op, "value": _plain(v)} for n, op, v in c] for c in self.causes],
            "definitive": list(self.definitive),
            "new_instances": self.new_instances,
            "explanation": self.explanation,
            "instances": [{**row, "instance": _plain_instance(row["instance"])} for row in self.instances],
            "notes": list(self.notes),
            "behind": [[_plain_instance(i) for i in rows] for rows in self.behind],
            "unexplained": [_plain_instance(i) for i in self.unexplained],
            "stopped": self.stopped,
        }

    # -- renderings --------------------------------------------------------------------------
    def _cause_lines(self) -> list[str]:
        lines = []
        for i, (cause, sure) in enumerate(zip(self.causes, self.definitive, strict=True)):
            line = f"{render_conditions(cause)}  [{'definitive' if sure else 'suspected'}]"
            rows = self.behind[i] if i < len(self.behind) else []
            if not sure and rows:
                line += f" behind it: {_instances_text(rows)}"
            lines.append(line)
        if self.unexplained:
            lines.append(
                f"not explained ({self.stopped or 'search ended'}): {_instances_text(self.unexplained)}"
            )
        return lines

    def __str__(self) -> str:
        lines = [f"BugDoc ({self.algorithm}, find {self.goal}): {self.explanation}"]
        lines += [f"  cause: {line}" for line in self._cause_lines()]
        lines.append(f"  new instances: {self.new_instances}; instances considered: {len(self.records)}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __rich_console__(self, console: Any, options: Any):
        from rich.table import Table
        from rich.text import Text

        yield Text(f"BugDoc ({self.algorithm}, find {self.goal})", style="bold")
        yield Text(f"Root cause: {self.explanation}")
        for line in self._cause_lines():
            yield Text(f"  • {line}")
        table = Table(title=f"Instances ({self.new_instances} new, {len(self.records)} considered)")
        table.add_column("#", justify="right")
        for name in self.space.names:
            table.add_column(Text(name))
        table.add_column("outcome")
        table.add_column("source")
        for i, row in enumerate(self.instances[:MAX_ROWS], 1):
            outcome = (
                "succeed" if row["succeeded"] else ("fail: " + row["detail"] if row["detail"] else "fail")
            )
            style = None if row["succeeded"] else "red"
            cells = [str(i)] + [fmt_value(row["instance"][n]) for n in self.space.names]
            texts = [Text(c) for c in [*cells, outcome, "new" if row["new"] else "history"]]  # no markup
            table.add_row(*texts, style=style)
        yield table
        for note in self.notes:
            yield Text(f"note: {note}", style="dim")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # rendered lazily: the engine needs no display code to search
        from provkernel.render import vendor_mime
        from provkernel.richhtml import to_html

        return {
            "text/plain": str(self),
            "text/html": to_html(self, "bugdoc"),
            vendor_mime("bugdoc"): json.loads(json.dumps(self.to_json(), default=repr)),
        }
