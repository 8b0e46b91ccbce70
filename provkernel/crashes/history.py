"""Shared vocabulary of the history rules: naming executions in evidence, relabelling, ordering."""

from __future__ import annotations

import time
from dataclasses import replace

from provkernel.crashes.context import ABORTED, ERROR, NOT_RUN, CrashContext, Execution
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.taxonomy import crash_type_summary, root_cause_summary


def describe(execution: Execution, context: CrashContext) -> str:
    """Name an execution for evidence: ``cell 3 (In [7])``, plus its session and time when they matter."""
    text = execution.label
    if (
        context.current_epoch is not None
        and execution.epoch is not None
        and execution.epoch != context.current_epoch
    ):
        text += f" in kernel session #{execution.epoch}"
    if execution.time is not None:
        text += time.strftime(" at %Y-%m-%d %H:%M", time.localtime(execution.time))
    return text


def relabel(
    diagnosis: Diagnosis,
    root: str,
    evidence: list[str],
    suggestion: str | None = None,
    crash_type: str | None = None,
) -> Diagnosis:
    """``diagnosis`` with a new fine root cause (and crash type), extra evidence and advice, decided by history."""
    fine_type = crash_type or diagnosis.crash_type_detail
    return replace(
        diagnosis,
        crash_type=crash_type_summary(fine_type) if fine_type else diagnosis.crash_type,
        crash_type_detail=fine_type,
        root_cause=root_cause_summary(root),
        root_cause_detail=root,
        evidence=[*diagnosis.evidence, *evidence],
        suggestion=suggestion or diagnosis.suggestion,
        basis="history",
    )


def ran_before_crash(execution: Execution, context: CrashContext) -> bool:
    """Whether ``execution`` ran before the crash in the crash's kernel session."""
    crash = context.crash
    if execution.status == NOT_RUN:
        return False
    if context.current_epoch is not None:
        if not context.in_current_epoch(execution):
            return False
    elif execution.count is None:
        return False
    if crash is None or crash.count is None or execution.count is None:
        return True
    return execution.count < crash.count


def blame_producer(
    diagnosis: Diagnosis, context: CrashContext, runs: list[Execution], subject: str
) -> Diagnosis | None:
    """NB-specific verdict when the cell that should have produced something failed or had not run.

    Args:
        diagnosis: The diagnosis so far.
        context: The history.
        runs: Executions that produce it (write the file, fit the model), oldest first.
        subject: How evidence names the product and its producer (``"`x.csv` is written by"``).
    """
    for ex in reversed(runs):
        if ex.status in {ERROR, ABORTED} and ran_before_crash(ex, context):
            return relabel(
                diagnosis,
                "nb specific - previous cell error",
                [f"{subject} {describe(ex, context)}, which failed"],
                f"Fix {ex.label} and run it again before this cell.",
            )
        if not ran_before_crash(ex, context):
            return relabel(
                diagnosis,
                "nb specific - execution order",
                [f"{subject} {describe(ex, context)}, which had not run before this cell"],
                f"Run {ex.label} first.",
            )
    return None
