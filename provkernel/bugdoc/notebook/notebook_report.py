"""What ``%bugdoc`` shows: a live progress view while instances run, then the finding."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from provkernel.bugdoc.engine.report import Result, fmt_value
from provkernel.bugdoc.engine.space import Outcome
from provkernel.bugdoc.notebook.pipeline import Pipeline
from provkernel.bugdoc.notebook.session import Prepared
from provkernel.render import Report

RECENT_ROWS = 8


class Progress:
    """Counts and the latest instances, as they arrive (the engine calls :meth:`update`)."""

    def __init__(self, pipeline: Pipeline, title: str) -> None:
        self.names = list(pipeline.space)
        self.title = title
        self.rows: list[tuple[dict[str, Any], Outcome, bool]] = []

    def update(self, instance: dict[str, Any], outcome: Outcome, new: bool) -> None:
        self.rows.append((instance, outcome, new))

    def renderable(self) -> Group:
        new = [r for r in self.rows if r[2]]
        failed = sum(1 for r in self.rows if not r[1].succeeded)
        head = Text.assemble(
            (f"{self.title}  ", "bold"),
            f"{len(self.rows) - len(new)} from history, {len(new)} new instance{'s' * (len(new) != 1)} run, "
            f"{failed} failing so far …",
        )
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for name in self.names:
            table.add_column(Text(name), style="cyan")
        table.add_column("outcome")
        table.add_column("")
        for instance, outcome, is_new in self.rows[-RECENT_ROWS:]:
            table.add_row(
                *(Text(fmt_value(instance.get(n))) for n in self.names),
                Text(
                    "ok" if outcome.succeeded else f"fail {outcome.detail}"[:70],
                    style=None if outcome.succeeded else "red",
                ),
                Text("new" if is_new else "history", style="dim"),
            )
        return Group(head, table)


class BugDocReport(Report):
    """The finding: root cause(s), definitive or suspected, why, the slice, and every instance."""

    kind = "bugdoc"

    def __init__(self, prepared: Prepared, result: Result, info: dict[str, Any]) -> None:
        self.prepared, self.result, self.info = prepared, result, info

    @property
    def definitive(self) -> bool:
        return bool(self.result.causes) and all(self.result.definitive)

    def headline(self) -> str:
        target = self.prepared.pipeline.target
        what = f"In [{target.count}]" if target.count is not None else "the target"
        check = self.prepared.evaluation.check
        verb = f"fails the check {check!r}" if check and target.status == "ok" else "fails"
        if not self.result.causes:
            return f"{what}: no definitive root cause found among {', '.join(self.prepared.pipeline.space)}"
        return f"{what} {verb} whenever {self.result.explanation}"

    def summary(self) -> str:
        r, p = self.result, self.prepared
        status = "definitive" if self.definitive else "suspected" if r.causes else "inconclusive"
        reused = p.from_provenance + p.from_store
        return (
            f"{status} · {r.new_instances} new instance{'s' * (r.new_instances != 1)}, {reused} from history"
            + (
                f" · {self.info['mode']} start ({self.info['setup_seconds']:.1f} s warm-up)"
                if self.info.get("setup_seconds")
                else ""
            )
            + f" · {self.info.get('search_seconds', 0):.1f} s"
        )

    def explanation(self) -> str:
        """One sentence on why the finding is what it is."""
        r = self.result
        outcomes = r.instances
        failing = [row for row in outcomes if not row["succeeded"]]
        if not r.causes:
            if outcomes and not failing:
                return "Every instance succeeded: the failure did not come back with these parameter values."
            if failing and len(failing) == len(outcomes):
                return (
                    "Every instance failed: the failure does not depend on these parameters "
                    f"(e.g. {failing[0]['detail'] or 'failed'})."
                )
            if r.stopped:
                return f"No cause could be confirmed: {r.stopped}."
            return (
                "The failing and succeeding instances share no combination that always fails; try --goal all, "
                "--algorithm ddt or more values."
            )
        example = next((row["detail"] for row in failing if row["detail"]), "")
        if self.definitive:
            why = (
                "every instance that satisfies it failed, whatever the other parameters were"
                if len(r.causes) == 1
                else "every instance that satisfies one of them failed, whatever the other parameters were"
            )
            sentence = f"Definitive: {why}."
        else:
            why = r.stopped or "not every test could run"
            sentence = (
                f"Suspected: {why} before every cause could be confirmed; rerun with a larger --budget."
            )
        return f"{sentence} The failure: {example}" if example else sentence

    def renderables(self):
        p = self.prepared.pipeline
        yield Text(self.headline(), style="bold red" if self.result.causes else "bold")
        yield Text(self.summary(), style="dim")
        yield Text(self.explanation())
        slice_line = " → ".join(
            f"{c.label}{' (parameters)' if c.parameters else ''}{' [warm]' if c.role == 'warm' else ''}"
            for c in p.cells
        )
        yield Text(f"slice: {slice_line}", style="dim")
        values = "; ".join(f"{n} ∈ {{{', '.join(fmt_value(v) for v in vs)}}}" for n, vs in p.space.items())
        yield Text(f"parameters: {values}", style="dim")
        for note in p.notes:
            yield Text(f"note: {note}", style="dim")
        yield self.result

    def to_json(self) -> dict[str, Any]:
        p = self.prepared.pipeline
        data = self.result.to_json()
        data.update(
            headline=self.headline(),
            status="definitive" if self.definitive else "suspected" if self.result.causes else "inconclusive",
            sentence=self.explanation(),
            target={
                "count": p.target.count,
                "cell_id": p.target.cell_id,
                "status": p.target.status,
                "ename": p.target.ename,
                "evalue": p.target.evalue,
            },
            slice=[{"label": c.label, "role": c.role, "parameters": list(c.parameters)} for c in p.cells],
            parameters={n: [repr(v) for v in vs] for n, vs in p.space.items()},
            history={"provenance": self.prepared.from_provenance, "stored": self.prepared.from_store},
            run=self.info,
            pipeline_notes=p.notes,
        )
        return data
