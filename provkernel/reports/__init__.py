"""Reports over recorded provenance, shared by ``%prov <report>`` and ``provkernel <report> NOTEBOOK``.

Each module in :data:`REPORTS` defines ``HELP`` (one line), ``add_arguments(parser)`` and
``build(context, args) -> provkernel.render.Report``; ``NEEDS_NOTEBOOK = False`` marks reports
that also make sense without a notebook (``status``).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from provkernel.errors import UsageError
from provkernel.store.queries import Queries

REPORTS: dict[str, str] = {
    "status": "provkernel.reports.status",
    "crashes": "provkernel.reports.crashes",
    "graph": "provkernel.reports.graph",
    "history": "provkernel.reports.history",
    "env": "provkernel.reports.env",
    "imports": "provkernel.reports.imports",
    "data": "provkernel.reports.data",
    "values": "provkernel.reports.values",
    "columns": "provkernel.reports.columns",
    "stale": "provkernel.reports.stale",
    "diff": "provkernel.reports.diff",
    "outputs": "provkernel.reports.outputs",
    "export": "provkernel.reports.export",
    "clear": "provkernel.reports.clear",
    "redact": "provkernel.reports.redact",
}


def report_module(name: str) -> ModuleType:
    """The module implementing report ``name``.

    Raises:
        UsageError: unknown report (the message lists the known ones).
    """
    module_name = REPORTS.get(name)
    if module_name is None:
        raise UsageError(f"unknown report '{name}'; choose one of: {', '.join(available_reports())}")
    return importlib.import_module(module_name)


def available_reports() -> list[str]:
    """Names of the reports present in this installation (found, not imported: a typo in ``%prov``
    must not load every report's dependencies, nbformat's schema validation among them)."""
    return [
        name for name, module_name in REPORTS.items() if importlib.util.find_spec(module_name) is not None
    ]


@dataclass
class ReportContext:
    """What a report may use: the database, the notebook, and (in a kernel) the live recorder."""

    queries: Queries
    notebook: dict[str, Any] | None = None  # a row of Queries.notebooks()
    current_epoch_id: int | None = None
    recorder: Any = None  # provkernel.capture.recorder.Recorder inside a kernel

    def require_notebook(self) -> dict[str, Any]:
        """The notebook, or a usage error saying how to name one."""
        if self.notebook is None:
            raise UsageError("this report needs a notebook: provkernel <report> NOTEBOOK.ipynb")
        return self.notebook
