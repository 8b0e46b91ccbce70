"""BugDoc on a notebook file: run it on the prov kernel (recording its provenance), then search.

Shared by ``provkernel bugdoc`` and ``provkernel demo``.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from provkernel.bugdoc.notebook.display import TerminalLive
from provkernel.bugdoc.notebook.notebook_report import BugDocReport, Progress
from provkernel.bugdoc.notebook.session import Options, prepare, record_run, search
from provkernel.errors import UsageError
from provkernel.headless import first_error_output


def with_cell_ids(nb) -> None:
    """Notebooks older than nbformat 4.5 have no cell ids; give them some (the run and the target need them).
    The ids are never all digits, which ``--target`` in a kernel would read as an execution count."""
    if any("id" not in cell for cell in nb.cells):
        for cell in nb.cells:
            cell.setdefault("id", "c" + uuid.uuid4().hex[:7])
        nb.nbformat_minor = max(nb.nbformat_minor, 5)


def parameter_names(nb) -> list[str] | None:
    """Names set in the ``parameters`` cell and in an ``injected-parameters`` cell (papermill's output
    notebooks have both); ``None`` when the notebook has neither (then every literal may vary)."""
    from provkernel.capture.analysis import analyze
    from provkernel.parameters import INJECTED_TAG, PARAMETERS_TAG

    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and {PARAMETERS_TAG, INJECTED_TAG} & set(c.get("metadata", {}).get("tags", []))
    ]
    if not cells:
        return None
    return list(dict.fromkeys(name for c in cells for name, _ in analyze(c.source).parameters))


def first_error(nb) -> str | None:
    """``ename: evalue`` of the first error output (a run with errors allowed raises none)."""
    found = first_error_output(nb)
    if found is None:
        return None
    output = found[1]
    return f"{output.get('ename')}: {output.get('evalue', '')}".strip()


def up_to(nb, cell_id: str):
    """A copy of ``nb`` without the cells after ``cell_id`` (they cannot matter to it)."""
    import copy

    out = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(out.cells) if c.id == cell_id)
    out.cells = out.cells[: index + 1]
    return out


def bugdoc_notebook(
    path: str, options: Options, *, target_index: int | None = None, kernel: str = "provkernel", console=None
) -> BugDocReport:
    """Run ``path`` with its own values, then find the root cause of its first failure (or of ``--check``).

    Args:
        target_index: 0-based index among code cells (default: the first cell that fails).
        console: a rich console for progress (None: silent).
    """
    from provkernel.bugdoc import BugDocUsageError
    from provkernel.cli.run import read_notebook
    from provkernel.headless import execute_notebook
    from provkernel.store.database import connect
    from provkernel.store.queries import Queries
    from provkernel.store.writer import Writer

    nb = read_notebook(path)
    with_cell_ids(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if target_index is not None:
        if not 0 <= target_index < len(code_cells):
            raise UsageError(
                f"--target {target_index}: give a code-cell index from 0 to {len(code_cells) - 1}"
            )
        options.target, options.target_cell = None, code_cells[target_index].id
        # the target must run even when an earlier cell fails (it may not be the first failure)
        nb = up_to(nb, options.target_cell)
    if console is not None:
        console.print(f"running {path} on the prov kernel …", style="dim")
    outcome = execute_notebook(
        nb, path, kernel_name=kernel, timeout=options.timeout, allow_errors=target_index is not None
    )
    if outcome.error is None and not options.check and target_index is None:
        raise UsageError(
            f"{path} runs without error with its own values: give --check EXPR or --target INDEX"
        )
    if console is not None:
        console.print(
            f"first run: {outcome.error or first_error(outcome.notebook) or 'no error'}", style="dim"
        )
    allowed = parameter_names(nb)
    queries = Queries.open()
    try:
        notebook = queries.find_notebook(outcome.path)
        epoch = queries.epochs(notebook["id"])[-1]
        try:
            prepared = prepare(queries, notebook, epoch, options, allowed=allowed)
        except BugDocUsageError as exc:
            raise UsageError(str(exc)) from None
    finally:
        queries.close()
    live = TerminalLive(Progress(prepared.pipeline, "bugdoc"), console) if console is not None else None
    started = time.time()
    try:
        result, info = search(
            prepared, options, cwd=str(Path(outcome.path).parent), on_result=live.update if live else None
        )
    finally:
        if live is not None:
            live.finish(None)
    report = BugDocReport(prepared, result, info)
    writer = Writer(connect())
    try:
        with writer.transaction():
            record_run(writer, prepared, result, report.to_json(), started)
    finally:
        writer.conn.close()
    return report
