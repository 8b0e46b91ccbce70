"""``values NAME``: every value a name was given, across executions and epochs, with the parameters behind it."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from provkernel.errors import UsageError
from provkernel.lineage.inputs import parameter_inputs
from provkernel.lineage.model import UPDATE
from provkernel.reports import ReportContext
from provkernel.reports.common import Fitted, JsonReport, epoch_filter, iso, when

HELP = "the history of a recorded value across executions and epochs, with the parameters it depended on"
NOT_RECORDED = "(not a scalar: not recorded)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``NAME`` and ``--epoch N``."""
    parser.add_argument("name", metavar="NAME", help="a variable name, e.g. accuracy")
    parser.add_argument("--epoch", type=int, metavar="N", help="only epoch N (default: every epoch)")
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="show the N latest values (0: all)"
    )


class ValuesReport(JsonReport):
    """Values of one name."""

    kind = "values"

    def renderables(self):
        yield Fitted(self._table)
        d = self.data
        distinct = d["distinct"]
        summary = f"{d['name']} took {len(distinct)} distinct value{'s' if len(distinct) != 1 else ''}"
        if d["changed"]:
            seq = d["sequence"]
            shown = " → ".join(seq if len(seq) <= 8 else [*seq[:3], "…", *seq[-3:]])
            yield Text(f"{summary}, changing {d['changes']}×: {shown}", style="bold yellow")
        else:
            yield Text(f"{summary}: it never changed", style="green")

    def _table(self, width: int) -> Table:
        d = self.data
        table = Table(title=f"values of {d['name']}", title_justify="left", caption_justify="left")
        table.add_column("run", no_wrap=True)
        table.add_column("time", no_wrap=True)
        table.add_column("value", overflow="fold", max_width=max(12, width // 3))
        table.add_column("depends on parameters", overflow="fold")
        rows = d["values"][-self.limit :] if self.limit else d["values"]
        if len(rows) < len(d["values"]):
            table.caption = f"{len(d['values']) - len(rows)} earlier values not shown (--limit 0 shows all)"
        for row in rows:
            value = Text(row["value"] if row["value"] is not None else NOT_RECORDED)
            if row["value"] is None:
                value.stylize("dim")
            elif row["changed"]:
                value.stylize("bold yellow")
            if row["kind"] == "update":
                value.append(" (in place)", style="dim")
            inputs = ", ".join(f"{k}={v}" for k, v in row["inputs"].items())
            table.add_row(f"{row['epoch']}:[{row['count']}]", when(row["time_ts"]), value, inputs)
        return table


def _inputs_of_epoch(
    context: ReportContext, epoch_id: int, epoch_number: int, targets: list[int], subject: str
) -> dict[int, dict]:
    """Parameters upstream of each target execution of one epoch (``subject``: the name asked about)."""
    q = context.queries
    runs = q.executions(context.require_notebook()["id"], epoch_number)
    facts = q.code_facts_many([r["code_hash"] for r in runs])
    literal: dict[int, dict[str, str]] = {}
    for run in runs:
        parameters = (facts.get(run["code_hash"]) or {}).get("parameters") or []
        if parameters:
            literal[run["id"]] = dict(parameters)
    if not literal:  # nothing in this epoch assigned a literal: no lineage to follow
        return {}
    names = sorted({name for params in literal.values() for name in params})
    recorded = {(r["execution_id"], r["name"]): r["value"] for r in q.recorded_values(epoch_id, names)}
    params = {x: {n: recorded.get((x, n), source) for n, source in ps.items()} for x, ps in literal.items()}
    inputs = parameter_inputs(q.lineage_sources(epoch_id), params, targets)
    for x, found in inputs.items():
        # a literal assigned in a cell does not depend on the other literals of that cell
        if subject in literal.get(x, {}):
            inputs[x] = {k: v for k, v in found.items() if v[1] != x}
    return inputs


def build(context: ReportContext, args: argparse.Namespace) -> ValuesReport:
    """Every definition and in-place update of the name, oldest first."""
    notebook = context.require_notebook()
    rows = context.queries.value_history(notebook["id"], args.name, epoch_filter(context, args.epoch))
    if not rows:
        where = f" in epoch {args.epoch}" if args.epoch is not None else ""
        raise UsageError(f"no execution{where} of {notebook['path']} defined '{args.name}'")
    by_epoch: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        by_epoch.setdefault((row["epoch_id"], row["epoch"]), []).append(row["execution_id"])
    inputs: dict[int, dict] = {}
    for (epoch_id, number), targets in by_epoch.items():
        inputs.update(_inputs_of_epoch(context, epoch_id, number, targets, args.name))
    values, previous, changes, sequence = [], None, 0, []
    for row in rows:
        value = row["value"]
        changed = value is not None and previous is not None and value != previous
        changes += changed
        if value is not None:
            if value != previous:
                sequence.append(value)
            previous = value
        values.append(
            {
                "execution_id": row["execution_id"],
                "epoch": row["epoch"],
                "count": row["count"],
                "cell_id": row["cell_id"],
                "status": row["status"],
                "time": iso(row["started"]),
                "time_ts": row["started"],
                "kind": "update" if row["kind"] == UPDATE else "def",
                "value": value,
                "changed": changed,
                "inputs": {
                    k: v for k, (v, _) in inputs.get(row["execution_id"], {}).items() if k != args.name
                },
            }
        )
    return ValuesReport(
        {
            "notebook": notebook["path"],
            "name": args.name,
            "values": values,
            "distinct": sorted({v["value"] for v in values if v["value"] is not None}),
            "sequence": sequence,
            "changed": changes > 0,
            "changes": changes,
        },
        max(0, args.limit),
    )
