"""History rules for NB-specific causes: undefined names, re-runs after in-place changes, unfitted models."""

from __future__ import annotations

import re

from provkernel.crashes.context import (
    ABORTED,
    CLASS,
    CREATING_KINDS,
    DEF,
    DELETE,
    ERROR,
    IMPORT,
    INPLACE,
    OK,
    Binding,
    CrashContext,
    Execution,
)
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import describe, ran_before_crash, relabel
from provkernel.crashes.libraries import is_module_alias, module_of_name
from provkernel.crashes.names import (
    closest_name,
    undefined_name,
)
from provkernel.crashes.traceback import ParsedTraceback

_VERBS = {IMPORT: "imported", DEF: "defined", CLASS: "defined"}


def _name_crash_type(creators: list[Binding], diagnosis: Diagnosis) -> str | None:
    kinds = {b.kind for b in creators}
    if DEF in kinds:
        return "function not found "
    if CLASS in kinds:
        return "class not found"
    if kinds == {IMPORT} and all(":" not in (b.module or ":") for b in creators):
        return "module not found"
    return diagnosis.crash_type_detail


def name_error(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """Where an undefined name is (or is not) bound in the history, and why that binding did not happen."""
    name = undefined_name(parsed.evalue)
    if name is None:
        return None
    bindings = context.bindings_of(name)
    creators = [b for b in bindings if b.kind in CREATING_KINDS]
    if not creators:
        return _never_bound(name, diagnosis, parsed, context)
    crash_type = _name_crash_type(creators, diagnosis)
    run = f"Run {creators[-1].execution.label} first."
    before = [b for b in creators if ran_before_crash(b.execution, context)]
    succeeded = [b for b in before if b.execution.status == OK]
    failed = [
        b
        for b in before
        if b.execution.status in {ERROR, ABORTED}
        and not any((s.execution.count or 0) > (b.execution.count or 0) for s in succeeded)
    ]
    if failed:
        ex = failed[-1].execution
        verb = _VERBS.get(failed[-1].kind, "assigned")
        failure = f"failed with {ex.ename}" if ex.ename else "did not finish"
        return relabel(
            diagnosis,
            "nb specific - previous cell error",
            [
                (
                    f"`{name}` is {verb} in {describe(ex, context)}, which {failure}, so `{name}` was never "
                    f"{verb}"
                )
            ],
            f"Fix the error in {ex.label}, run it again, then re-run this cell.",
            crash_type,
        )
    if succeeded:
        last = succeeded[-1].execution
        verb = _VERBS.get(succeeded[-1].kind, "assigned")
        deleted = [
            b
            for b in bindings
            if b.kind == DELETE
            and ran_before_crash(b.execution, context)
            and (b.execution.count or 0) > (last.count or 0)
        ]
        if deleted:
            why = f"`{name}` was deleted by {describe(deleted[-1].execution, context)} (`del {name}`)"
        elif context.current_epoch is not None:
            why = (
                f"`{name}` was {verb} by {describe(last, context)} in this session but is no longer defined "
                "(removed by `del`, `%reset` or a conditional branch)"
            )
        else:
            why = (
                f"`{name}` is {verb} in {describe(last, context)}, which ran before this cell; the kernel was "
                "probably restarted in between"
            )
        return relabel(diagnosis, "nb specific - execution order", [why], run, crash_type)
    return _not_run_yet(name, creators, diagnosis, context, crash_type, run)


def _not_run_yet(
    name: str,
    creators: list[Binding],
    diagnosis: Diagnosis,
    context: CrashContext,
    crash_type: str | None,
    run: str,
) -> Diagnosis:
    """Cells bind the name but none ran before the crash in this session."""
    crash = context.crash
    ex = creators[-1].execution
    verb = _VERBS.get(creators[-1].kind, "assigned")
    blocker = _earlier_failure(ex, context)
    if blocker is not None:
        return relabel(
            diagnosis,
            "nb specific - previous cell error",
            [
                (
                    f"`{name}` is {verb} in {describe(ex, context)}, below {describe(blocker, context)}, "
                    f"which failed with {blocker.ename or 'an error'}; the cells after it did not run"
                )
            ],
            f"Fix the error in {blocker.label}, then run the cells below it in order.",
            crash_type,
        )
    below = (
        crash is not None
        and crash.position is not None
        and ex.position is not None
        and ex.position > crash.position
    )
    ran_after = (
        crash is not None and ex.count is not None and crash.count is not None and ex.count > crash.count
    )
    if below:
        status = "which ran only after this cell" if ran_after else "which has not run"
        return relabel(
            diagnosis,
            "nb specific - need execute future cells",
            [
                f"`{name}` is {verb} only further down, in {describe(ex, context, creators[-1].line)}, {status}"
            ],
            f"Move the definition of `{name}` above this cell, or run {ex.label} first.",
            crash_type,
        )
    if context.current_epoch is not None and ex.epoch is not None and ex.epoch != context.current_epoch:
        why = (
            f"`{name}` was {verb} by {describe(ex, context)}; the kernel has restarted since and that cell "
            "has not run in this session"
        )
    elif ran_after:
        why = f"`{name}` is {verb} in {describe(ex, context)}, which ran only after this cell (In [{crash.count}])"
    else:
        since = " since the kernel started" if context.current_epoch is not None else ""
        why = f"`{name}` is {verb} in {describe(ex, context, creators[-1].line)}, which has not run{since}"
    return relabel(diagnosis, "nb specific - execution order", [why], run, crash_type)


def _earlier_failure(binding_run: Execution, context: CrashContext) -> Execution | None:
    """A failed cell above ``binding_run`` that stopped a top-to-bottom run before reaching it: nothing
    between the two ran after the failure."""
    if binding_run.position is None:
        return None
    for ex in reversed(context.history):
        if not (
            ex.status == ERROR
            and ex.position is not None
            and ex.position < binding_run.position
            and ran_before_crash(ex, context)
        ):
            continue
        later = [
            e
            for e in context.history
            if e.position is not None
            and ex.position < e.position < binding_run.position
            and ran_before_crash(e, context)
            and (e.count or 0) > (ex.count or 0)
        ]
        return None if later else ex
    return None


def _never_bound(
    name: str, diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis:
    scope = (
        "no cell in this notebook"
        if context.source == "notebook"
        else "no execution in this notebook's history"
    )
    target = module_of_name(name, context.aliases)
    if target and is_module_alias(name, context.aliases):
        module = target.split(":")[0]
        return relabel(
            diagnosis,
            "did not import",
            [f"{scope} imports `{name}` (the usual name of `{module}`)"],
            f"Add `import {module} as {name}` to the imports at the top and run it.",
        )
    if target:
        module, symbol = target.split(":")
        return relabel(
            diagnosis,
            "did not import",
            [f"{scope} imports `{name}` (from `{module}`)"],
            f"Add `from {module} import {symbol}` and run it.",
        )
    known = {b.name for b in context.bindings} | set(context.aliases)
    intended = closest_name(name, known)
    if intended:
        where = next((b.execution for b in context.bindings if b.name == intended), None)
        place = f"{describe(where, context)} defines" if where else "there is"
        return relabel(
            diagnosis,
            "typo",
            [f"{scope} defines `{name}`, but {place} `{intended}`"],
            f"Did you mean `{intended}`?",
        )
    function = diagnosis.crash_type == "name error" or re.search(
        rf"(?<![\w.]){re.escape(name)}\s*\(", parsed.crash_code
    )
    fine = "undefined function" if function else "undefined variable"
    return relabel(
        diagnosis, fine, [f"{scope} defines `{name}`"], f"Define `{name}` (or fix the name) before using it."
    )


def rerun_after_inplace(
    diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis | None:
    """A cell re-run after its own in-place change (``drop(inplace=True)``, ``del``, ``pop``) consumed its input."""
    if (
        diagnosis.crash_type not in {"key error", "index error", "feature name mismatch"}
        or context.crash is None
    ):
        return None
    own = [b for b in context.bindings if context.is_crash(b.execution) and b.kind in {INPLACE, DELETE}]
    # A cell that re-creates the data before changing it is safe to re-run.
    own = [b for b in own if not context.recreated_in_crash_cell_before(b.name, b.line or 0)]
    if not own:
        return None
    crash_line = parsed.crash_line
    consumed = [b for b in own if crash_line is None or b.line is None or b.line == crash_line] or own
    names = ", ".join(
        sorted(
            {
                f"`{b.name}.{b.operation}`" if b.operation and b.kind == INPLACE else f"`{b.name}`"
                for b in consumed
            }
        )
    )
    earlier = context.earlier_ok_runs_of_crash_cell()
    if earlier:
        why = (
            f"this cell already ran as {describe(earlier[-1], context)} and changed its input in place "
            f"({names}); running it again finds the data already changed"
        )
    elif context.source == "notebook" and "not found in axis" in parsed.evalue:
        why = f"this cell changes its input in place ({names}); a second run of the cell finds the data already changed"
    else:
        return None
    return relabel(
        diagnosis,
        "nb specific - execution order",
        [why],
        "Re-run the cell that creates the data first, or make this cell idempotent (assign the result "
        "instead of `inplace=True`, or use `errors='ignore'`).",
    )
