"""``%bugdoc`` inside a kernel: prepare from this kernel's provenance, search in workers, show, store."""

from __future__ import annotations

import json
import os
import time

from provkernel.bugdoc.notebook.display import NotebookLive
from provkernel.bugdoc.notebook.notebook_report import BugDocReport, Progress
from provkernel.bugdoc.notebook.session import Options, prepare, record_run, search
from provkernel.reports import ReportContext


def run_bugdoc(context: ReportContext, options: Options, *, as_json: bool = False) -> BugDocReport:
    """Run one ``%bugdoc`` in the kernel whose provenance ``context`` reads; never touches the user's namespace."""
    recorder = context.recorder
    notebook = context.require_notebook()
    epoch = context.queries.epoch(recorder.epoch_id)
    prepared = prepare(context.queries, notebook, epoch, options, running=recorder.current_execution_id)
    target = prepared.pipeline.target
    live = NotebookLive(Progress(prepared.pipeline, f"%bugdoc In [{target.count}]"))
    started = time.time()
    try:
        result, info = search(prepared, options, cwd=os.getcwd(), env=dict(os.environ), on_result=live.update)
    except KeyboardInterrupt:
        live.finish(None, "%bugdoc interrupted: every worker process was stopped")
        raise
    except BaseException:
        live.finish(None, "%bugdoc stopped")
        raise
    report = BugDocReport(prepared, result, info)
    if as_json:
        live.finish(None, json.dumps(report.to_json(), indent=1, default=repr))
    else:
        live.finish(report)
    _store(recorder, prepared, report, started)
    return report


def _store(recorder, prepared, report: BugDocReport, started: float) -> None:
    payload = report.to_json()
    recorder.writer.submit(lambda w: record_run(w, prepared, report.result, payload, started))
