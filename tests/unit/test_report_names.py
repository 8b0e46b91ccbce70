"""The report registry behind ``%prov REPORT`` and ``provkernel REPORT``."""

from __future__ import annotations

import subprocess
import sys


def test_a_mistyped_report_name_lists_every_report_without_importing_one():
    """A typo must answer at once: importing every report loaded nbformat and its schemas (~1 s)."""
    code = (
        "import sys\n"
        "from provkernel.errors import UsageError\n"
        "from provkernel.reports import report_module\n"
        "try:\n"
        "    report_module('histroy')\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
        "print(sorted(m for m in sys.modules if m.startswith('provkernel.reports.')))\n"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines[0] == (
        "unknown report 'histroy'; choose one of: status, crashes, graph, history, env, imports, data, "
        "values, columns, stale, diff, outputs, export, clear, redact"
    )
    assert lines[1] == "[]"
