"""Shared vocabulary of the history rules: naming executions in evidence, relabelling, ordering."""

from __future__ import annotations

import re
import time
from dataclasses import replace

from provkernel.crashes.context import ABORTED, ERROR, NOT_RUN, Binding, CrashContext, Execution
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.taxonomy import crash_type_summary, root_cause_summary

SNIPPET_CHARS = 60
_CALL_ARGUMENTS = re.compile(r"\(([^()]|\([^()]*\))+\)")


def snippet(code: str, line: int | None = None) -> str:
    """One line of code, short enough for evidence: line ``line`` (1-based) or the first line of code.

    >>> snippet("# split\\nX_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)")
    'X_train, X_test, … = train_test_split(…)'
    """
    lines = code.splitlines()
    if line is not None and 0 < line <= len(lines) and lines[line - 1].strip():
        text = lines[line - 1].strip()
    else:
        text = next((t.strip() for t in lines if t.strip() and not t.lstrip().startswith("#")), "")
    if len(text) > SNIPPET_CHARS:
        text = _CALL_ARGUMENTS.sub("(…)", text)
        target, sep, value = text.partition(" = ")
        if sep and target.count(",") >= 2:
            text = f"{', '.join(t.strip() for t in target.split(',')[:2])}, … = {value}"
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def describe(execution: Execution, context: CrashContext, line: int | None = None) -> str:
    """Name an execution for evidence: ``cell 3 (In [7])``, plus its session and time when they matter; a
    cell that has not run by the line of code that matters (``cell 4 (`X_train, … = split(…)`)``)."""
    text = execution.label
    if execution.status == NOT_RUN and execution.count is None and execution.code.strip():
        return f"{text} (`{snippet(execution.code, line)}`)"
    if (
        context.current_epoch is not None
        and execution.epoch is not None
        and execution.epoch != context.current_epoch
    ):
        text += f" in kernel session #{execution.epoch}"
    if execution.time is not None and not context.in_current_epoch(execution):
        text += time.strftime(" at %Y-%m-%d %H:%M", time.localtime(execution.time))
    return text


def relabel(
    diagnosis: Diagnosis,
    root: str,
    evidence: list[str],
    suggestion: str | None = None,
    crash_type: str | None = None,
    basis: str = "history",
) -> Diagnosis:
    """``diagnosis`` with a new fine root cause (and crash type), extra evidence and advice, decided by history
    (or, ``basis="live"``, by the objects at the crash)."""
    fine_type = crash_type or diagnosis.crash_type_detail
    return replace(
        diagnosis,
        crash_type=crash_type_summary(fine_type) if fine_type else diagnosis.crash_type,
        crash_type_detail=fine_type,
        root_cause=root_cause_summary(root),
        root_cause_detail=root,
        evidence=[*diagnosis.evidence, *evidence],
        suggestion=suggestion or diagnosis.suggestion,
        basis=basis,
    )


def add_evidence(diagnosis: Diagnosis, *lines: str) -> Diagnosis:
    """``diagnosis`` with more evidence (labels unchanged)."""
    return replace(diagnosis, evidence=[*diagnosis.evidence, *(line for line in lines if line)])


def last_binding(context: CrashContext, name: str, kinds: frozenset[str] | None = None) -> Binding | None:
    """The latest binding of ``name`` (of ``kinds``) by an execution that ran before the crash in its session."""
    found = [
        b
        for b in context.bindings_of(name)
        if (kinds is None or b.kind in kinds) and ran_before_crash(b.execution, context)
    ]
    return max(found, key=lambda b: (b.execution.count or 0, b.line or 0)) if found else None


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
