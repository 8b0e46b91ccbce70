"""Audit saved notebooks: find their error outputs and classify each with the notebook as context."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provkernel.crashes.classify import classify
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.notebook_context import NotebookHistory, error_outputs
from provkernel.crashes.profile import CrashProfile, crash_profile
from provkernel.crashes.taxonomy import EXCLUDED_EXCEPTIONS

COLUMNS = (
    "notebook",
    "cell",
    "execution_count",
    "eid",
    "ename",
    "evalue",
    "crash_type",
    "crash_type_detail",
    "root_cause",
    "root_cause_detail",
    "library",
    "basis",
    "evidence",
    "suggestion",
)


@dataclass(frozen=True)
class ScanRecord:
    """One crash found in a notebook.

    Attributes:
        notebook: Path of the notebook.
        cell: 1-based position of the cell (markdown cells counted).
        eid: The paper's crash id for this output.
        diagnosis: The classification, with the notebook as context.
    """

    notebook: str
    cell: int
    eid: str
    diagnosis: Diagnosis

    def row(self) -> dict[str, Any]:
        """A flat record (evidence joined with ``"; "``) with the columns of :data:`COLUMNS`."""
        d = self.diagnosis
        return {
            "notebook": self.notebook,
            "cell": self.cell,
            "execution_count": d.execution_count,
            "eid": self.eid,
            "ename": d.ename,
            "evalue": d.evalue,
            "crash_type": d.crash_type,
            "crash_type_detail": d.crash_type_detail,
            "root_cause": d.root_cause,
            "root_cause_detail": d.root_cause_detail,
            "library": d.library,
            "basis": d.basis,
            "evidence": "; ".join(d.evidence),
            "suggestion": d.suggestion,
        }


@dataclass
class ScanReport:
    """What a scan found: the crashes, the notebooks that could not be read, and a profile."""

    records: list[ScanRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notebooks: int = 0
    skipped_interrupts: int = 0

    @property
    def profile(self) -> CrashProfile:
        """The crash profile of everything found."""
        return crash_profile(r.diagnosis for r in self.records)

    def to_json(self) -> dict[str, Any]:
        """Records (with their full diagnosis), problems and counts."""
        return {
            "notebooks": self.notebooks,
            "crashes": [{**r.row(), "evidence": list(r.diagnosis.evidence)} for r in self.records],
            "problems": list(self.problems),
            "skipped_keyboard_interrupts": self.skipped_interrupts,
        }

    def to_csv(self) -> str:
        """One row per crash, columns :data:`COLUMNS`."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in self.records:
            writer.writerow(record.row())
        return out.getvalue()

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.table import Table

        table = Table(show_edge=False, pad_edge=False)
        for column in ("notebook", "cell", "In", "exception", "crash type", "root cause", "library"):
            table.add_column(column, overflow="fold")
        for record in self.records:
            d = record.diagnosis
            table.add_row(
                _short(record.notebook),
                str(record.cell),
                "" if d.execution_count is None else str(d.execution_count),
                d.ename,
                d.crash_type,
                d.root_cause_detail,
                d.library or "",
            )
        yield f"{len(self.records)} crashes in {self.notebooks} notebooks"
        if self.records:
            yield table
            yield self.profile


def _short(path: str) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def find_notebooks(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """``.ipynb`` files under ``paths`` (directories searched recursively, checkpoints skipped).

    Returns:
        The notebooks found, and one problem line per path that does not exist.
    """
    found: list[Path] = []
    problems = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.ipynb"))
                if ".ipynb_checkpoints" not in p.parts and p.is_file()
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(f"{raw}: no such file or directory")
    return found, problems


def scan_notebook(path: Path, report: ScanReport) -> None:
    """Classify every error output of one notebook into ``report``; an unreadable file adds one problem line."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        report.problems.append(f"{path}: skipped, not readable as JSON ({first})")
        return
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        report.problems.append(f"{path}: skipped, not a notebook (no 'cells' list)")
        return
    try:
        errors = error_outputs(notebook)
        history = NotebookHistory(notebook, base_dir=path.parent) if errors else None
    except (AttributeError, TypeError, ValueError) as exc:  # malformed cells or outputs
        report.problems.append(f"{path}: skipped, malformed notebook ({type(exc).__name__}: {exc})")
        return
    report.notebooks += 1
    for error in errors:
        if error.ename.lower() in EXCLUDED_EXCEPTIONS:
            report.skipped_interrupts += 1
            continue
        context = history.context(error.position) if history else None
        diagnosis = classify(error.ename, error.evalue, list(error.traceback), context)
        report.records.append(ScanRecord(str(path), error.position + 1, error.eid(path.name), diagnosis))


def scan(paths: Iterable[str | Path]) -> ScanReport:
    """Scan files and directories for notebooks and classify all their crashes."""
    notebooks, problems = find_notebooks(paths)
    return scan_files(notebooks, problems)


def scan_files(notebooks: Iterable[Path], problems: Iterable[str] = ()) -> ScanReport:
    """Classify the crashes of the given notebooks; ``problems`` are carried into the report."""
    report = ScanReport(problems=list(problems))
    for notebook in notebooks:
        scan_notebook(notebook, report)
    return report
