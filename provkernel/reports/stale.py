"""``stale``: cells whose inputs changed after they last ran (re-run them), and why."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from provkernel.lineage.graph import execution
from provkernel.lineage.stale import parameter_changes, stale_cells
from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, execution_json, load_graph, select_epoch, when

HELP = "stale cells: their latest run read something another cell has changed since"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epoch N``."""
    parser.add_argument("--epoch", type=int, metavar="N", help="epoch N (default: the current or latest)")


class StaleReport(JsonReport):
    """A table of stale cells with their reasons."""

    kind = "stale"

    def renderables(self):
        d = self.data
        if not d["stale"]:
            yield Text(
                f"no stale cells in epoch {d['epoch']}: every cell ran after its inputs last changed",
                style="green",
            )
            return
        table = Table(title=f"stale cells of epoch {d['epoch']}: re-run them", title_justify="left")
        table.add_column("cell", no_wrap=True)
        table.add_column("first line", overflow="ellipsis", max_width=40)
        table.add_column("why", overflow="fold")
        for cell in d["stale"]:
            style = "bold dark_orange" if cell["direct"] else "dark_orange"
            table.add_row(Text(cell["tag"], style=style), cell["first_line"], "\n".join(cell["reasons"]))
        yield table


def build(context: ReportContext, args: argparse.Namespace) -> StaleReport:
    """The stale cells of one epoch, each reason as a sentence."""
    epoch = select_epoch(context, args.epoch)
    graph = load_graph(context, epoch)
    cells = []
    for stale in stale_cells(graph):
        run = execution(graph, stale.execution)
        cells.append(
            {
                **execution_json(run),
                "tag": run.tag,
                "direct": stale.direct,
                "reasons": [_sentence(graph, stale.execution, r) for r in stale.reasons],
                "inputs": [
                    {
                        "name": r.name,
                        "read_from": r.read_from,
                        "rewritten_by": r.rewritten_by,
                        "indirect": r.indirect,
                    }
                    for r in stale.reasons
                ],
            }
        )
    return StaleReport({"epoch": epoch["number"], "stale": cells})


def _sentence(graph, x: int, reason) -> str:
    """``[6] read `X_train` from [5]; [5]'s cell was re-run as [8] with `test_size = 0.3` at 14:02``."""
    tag = execution(graph, x).tag
    source = execution(graph, reason.read_from)
    if reason.indirect:
        return f"{tag} read `{reason.name}` from {source.tag}, which is stale"
    writer = execution(graph, reason.rewritten_by)
    at = when(writer.started)[11:]
    if writer.cell == source.cell:
        changed = parameter_changes(graph, reason.read_from, reason.rewritten_by)
        how = f" with `{'`, `'.join(changed)}`" if changed else ""
        return (
            f"{tag} read `{reason.name}` from {source.tag}; that cell was re-run as {writer.tag}{how} at {at}"
        )
    return f"{tag} read `{reason.name}` from {source.tag}; {writer.tag} (`{writer.first_line}`) changed it at {at}"
