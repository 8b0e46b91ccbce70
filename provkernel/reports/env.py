"""``env``: interpreter, kernel, OS and executable of each epoch, with what changed between epochs."""

from __future__ import annotations

import argparse
from itertools import pairwise
from typing import Any

from rich.table import Table
from rich.text import Text

from provkernel.reports import ReportContext
from provkernel.reports.common import JsonReport, epochs_of, iso, select_epoch, when

HELP = "interpreter, kernel, OS and executable per epoch, with the differences between epochs"
# (JSON key, column title, how to read it from an epoch row)
FIELDS = (
    ("python", "python", lambda e: f"{e['implementation']} {e['python']}"),
    ("kernel", "kernel", lambda e: e["kernel"]),
    ("ipykernel", "ipykernel", lambda e: e["ipykernel"]),
    ("ipython", "IPython", lambda e: e["ipython"]),
    ("provkernel", "provkernel", lambda e: e["provkernel"]),
    ("os", "OS", lambda e: e["os"]),
    ("hostname", "host", lambda e: e["hostname"]),
    ("executable", "executable", lambda e: e["executable"]),
    ("cwd", "working directory", lambda e: e["cwd"]),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--epoch N`` shows one epoch in full."""
    parser.add_argument(
        "--epoch", type=int, metavar="N", help="one epoch in full, compared with the one before"
    )


class EnvReport(JsonReport):
    """The environment of each epoch."""

    kind = "env"

    def renderables(self):
        d = self.data
        changed = {(c["epoch"], c["field"]) for c in d["changes"]}
        if d["shown_epoch"] is not None:
            epoch = next(e for e in d["epochs"] if e["epoch"] == d["shown_epoch"])
            table = Table(
                title=f"epoch {epoch['epoch']} (started {epoch['started_local']})", title_justify="left"
            )
            table.add_column("", style="bold")
            table.add_column("value")
            table.add_column(f"before (epoch {epoch['epoch'] - 1})" if epoch["epoch"] > 1 else "")
            previous = next((e for e in d["epochs"] if e["epoch"] == epoch["epoch"] - 1), None)
            for key, title, _ in FIELDS:
                hot = (epoch["epoch"], key) in changed
                table.add_row(
                    title,
                    Text(str(epoch[key]), style="bold yellow" if hot else ""),
                    Text(str(previous[key]), style="dim") if hot and previous else "",
                )
            yield table
        else:
            table = Table(title="environment per epoch (highlighted: it changed)", title_justify="left")
            table.add_column("", style="bold", no_wrap=True)
            table.add_column("value", overflow="fold")
            table.add_column("epochs", no_wrap=True)
            for key, title, _ in FIELDS:
                runs = _runs(d["epochs"], key)
                for value, first, last in runs:
                    span = f"{first}" if first == last else f"{first}–{last}"
                    table.add_row(title, Text(str(value), style="bold yellow" if len(runs) > 1 else ""), span)
                    title = ""
            yield table
        if d["changes"]:
            yield Text(
                "changes: "
                + "; ".join(
                    f"epoch {c['epoch']} {c['field']} {c['before']} → {c['after']}" for c in d["changes"]
                )
            )
        else:
            yield Text("no changes between epochs", style="green")


def _runs(epochs: list[dict[str, Any]], key: str) -> list[tuple[Any, int, int]]:
    """Consecutive epochs sharing a value: (value, first epoch, last epoch)."""
    runs: list[tuple[Any, int, int]] = []
    for e in epochs:
        if runs and runs[-1][0] == e[key]:
            runs[-1] = (e[key], runs[-1][1], e["epoch"])
        else:
            runs.append((e[key], e["epoch"], e["epoch"]))
    return runs


def build(context: ReportContext, args: argparse.Namespace) -> EnvReport:
    """Each epoch's environment and the differences between consecutive epochs."""
    epochs = epochs_of(context)
    shown = select_epoch(context, args.epoch)["number"] if args.epoch is not None else None
    rows = []
    for e in epochs:
        row = {"epoch": e["number"], "started": iso(e["started"]), "started_local": when(e["started"])}
        row.update({key: read(e) for key, _, read in FIELDS})
        row["user"] = e["user"]
        rows.append(row)
    changes = [
        {"epoch": after["epoch"], "field": key, "before": before[key], "after": after[key]}
        for before, after in pairwise(rows)
        for key, _, _ in FIELDS
        if before[key] != after[key]
    ]
    return EnvReport(
        {
            "notebook": context.require_notebook()["path"],
            "shown_epoch": shown,
            "epochs": rows,
            "changes": changes,
            "pythons": sorted({r["python"] for r in rows}),
            "kernels": sorted({f"{r['kernel']} (ipykernel {r['ipykernel']})" for r in rows}),
        }
    )
