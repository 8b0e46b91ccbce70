"""Missing columns: which statement removed the column, and whether that was a re-run, a loop or the data.

A ``KeyError``/``not found in axis``/``has no attribute`` about a column is decided by where the column
went: the failing cell removed it on an earlier run (*NB specific – execution order*), a loop removes it on
every pass (*implementation error*), a cell further down removed it before this one ran (*execution
order*), another cell removed it or the data never had it (*data confusion*). The facts come from the
recorded object states when there are any, from the live object and the code of the executions otherwise.
"""

from __future__ import annotations

import re

from provkernel.capture.fingerprint import columns as fingerprint_columns
from provkernel.crashes.consume import Removal, additions, in_loop, removals
from provkernel.crashes.context import OK, CrashContext, Execution
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import blame_producer, describe, ran_before_crash, relabel, snippet
from provkernel.crashes.live_rules import DATA, listed
from provkernel.crashes.names import closest_name
from provkernel.crashes.traceback import ParsedTraceback

EXECUTION_ORDER = "nb specific - execution order"
_QUOTED = re.compile(r"'([^']+)'")
_LIST_LABELS = re.compile(r"\[(.*?)\]\]? (?:not found in axis|not in index)|None of \[(.*)\] are in the")
_ATTRIBUTE = re.compile(r"'(?:DataFrame|Series)' object has no attribute '([^']+)'")
_RECEIVER = re.compile(
    r"(?<![\w.])([A-Za-z_]\w*)\s*(?:\[|\.(?:drop|pop|loc|iloc|groupby)\b|\.[A-Za-z_]\w*\b)"
)
_ADVICE_RERUN = (
    "Re-run the cell that creates the data first, or make this cell safe to re-run (assign the result to a "
    "new name, or pass `errors='ignore'`)."
)


def missing_labels(parsed: ParsedTraceback) -> list[str]:
    """The column labels a KeyError or attribute error says are missing."""
    kind = parsed.ename.lower().rsplit(".", 1)[-1]
    evalue = parsed.evalue.strip()
    if kind == "attributeerror":
        match = _ATTRIBUTE.search(evalue)
        called = match and re.search(rf"\.{re.escape(match.group(1))}\s*\(", parsed.crash_code)
        return [match.group(1)] if match and not called else []  # a method, not a column
    if kind != "keyerror":
        return []
    listed_labels = _LIST_LABELS.search(evalue)
    if listed_labels:
        return _QUOTED.findall(listed_labels.group(1) or listed_labels.group(2) or "")
    single = re.fullmatch(r"""(['"])(.+)\1""", evalue)
    return [single.group(2)] if single else []


def _names(parsed: ParsedTraceback, context: CrashContext) -> list[str]:
    """Data variables the failing line uses: live DataFrames first, else receivers in the code."""
    if context.live is not None:
        frames = [o.name for o in context.live.objects.values() if (o.fingerprint or ("",))[0] == "DataFrame"]
        if frames:
            return frames
    return list(dict.fromkeys(_RECEIVER.findall(parsed.crash_code)))


def missing_column(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """Where the missing column went (see the module docstring)."""
    labels = missing_labels(parsed)
    if not labels or context.crash is None:
        return None
    names = _names(parsed, context)
    looped = _in_loop(names, labels, diagnosis, parsed, context)
    if looped is not None:
        return looped
    for name in names:
        decided = (
            _own_rerun(name, labels, diagnosis, context)
            or _lost_in_state(name, labels, diagnosis, context)
            or _removed_by(name, labels, diagnosis, parsed, context)
            or _added_by_cell_not_run(name, labels, diagnosis, context)
            or _not_in_live(name, labels, diagnosis, context)
        )
        if decided is not None:
            return decided
    return None


def _in_loop(
    names: list[str], labels: list[str], diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis | None:
    """The failing statement is in a loop and removes the column from its own input: every pass removes it
    again (one run of the cell, not a re-run)."""
    line = parsed.crash_line
    code = context.crash.code if context.crash else ""
    looping = context.live.in_loop if context.live and context.live.line else None
    if line is None or not (looping if looping is not None else in_loop(code, line)):
        return None
    for name in names:
        if any(r.line == line and r.name == name and r.rebinds for r in removals(code)):
            return relabel(
                diagnosis,
                "wrong implementation",
                [
                    (
                        f"the loop runs `{snippet(code, line)}` on every pass: one pass removed "
                        f"'{labels[0]}' from `{name}`, the next finds it gone"
                    )
                ],
                f"Remove the columns once, outside the loop (`{name} = {name}.drop(columns=[…])`).",
            )
    return None


def _own_removals(name: str, labels: list[str], context: CrashContext) -> list[Removal]:
    """The failing cell's statements that remove one of ``labels`` from ``name`` and rebind it, unless the
    cell first re-creates ``name`` (then a second run is safe)."""
    code = context.crash.code if context.crash else ""
    found = [r for r in removals(code) if r.name == name and r.rebinds and _removes(r, labels)]
    return [r for r in found if not context.recreated_in_crash_cell_before(name, r.line)]


def _removes(removal: Removal, labels: list[str]) -> bool:
    return not removal.columns or any(label in removal.columns for label in labels)


def _own_rerun(name: str, labels: list[str], diagnosis: Diagnosis, context: CrashContext) -> Diagnosis | None:
    own = _own_removals(name, labels, context)
    if not own:
        return None
    earlier = context.earlier_ok_runs_of_crash_cell()
    statement = snippet(context.crash.code, own[0].line)
    label = listed(labels, 3)
    if earlier:
        why = f"`{name}` lost {label} in {describe(earlier[-1], context)} (this cell, previous run: `{statement}`)"
    elif context.source == "notebook":
        why = f"this cell removes {label} from `{name}` (`{statement}`): a second run finds it gone"
    else:
        return None
    return relabel(diagnosis, EXECUTION_ORDER, [why], _ADVICE_RERUN)


def _lost_in_state(
    name: str, labels: list[str], diagnosis: Diagnosis, context: CrashContext
) -> Diagnosis | None:
    """From recorded fingerprints: the execution after which ``name`` no longer had the column."""
    previous = None
    for state in context.states_of(name):
        present = fingerprint_columns(state.fingerprint)
        if present is None:
            continue
        if previous is not None and any(label in previous[1] and label not in present for label in labels):
            label = next(label for label in labels if label in previous[1] and label not in present)
            why = (
                f"`{name}` had {len(previous[1])} columns after {describe(previous[0], context)}, "
                f"{len(present)} after {describe(state.execution, context)}: it lost '{label}' there"
            )
            return _judge(name, label, state.execution, why, diagnosis, context)
        previous = (state.execution, present)
    return None


def _removed_by(
    name: str, labels: list[str], diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis | None:
    """From the code that ran before the failing line (this cell above it, then earlier executions): the last
    statement removing the column from ``name`` (or building ``name`` without it)."""
    crash_line = parsed.crash_line or 0
    crash = context.crash
    runs = [crash] if crash is not None else []
    runs += [e for e in reversed(context.history) if e.status == OK and ran_before_crash(e, context)]
    for run in runs:
        here = run is crash
        if name not in run.code or not any(label in run.code for label in labels):
            continue  # cheap test first: a long history is not parsed cell by cell
        for removal in reversed(removals(run.code)):
            if here and (removal.line >= crash_line or removal.rebinds):
                continue  # the failing statement itself, or a re-run (decided by _own_rerun)
            if removal.name != name or not removal.columns or not _removes(removal, labels):
                continue
            label = next(label for label in labels if label in removal.columns)
            place = "this cell" if here else describe(run, context)
            statement = snippet(run.code, removal.line)
            if removal.source != name:
                why = f"`{name}` was made without '{label}' by {place} (`{statement}`)"
            else:
                why = f"`{name}` lost '{label}' in {place} (`{statement}`)"
            return _judge(name, label, None if here else run, why, diagnosis, context)
    return None


def _judge(
    name: str, label: str, remover: Execution | None, why: str, diagnosis: Diagnosis, context: CrashContext
) -> Diagnosis:
    """The column went away in ``remover`` (None: earlier in the failing run of this cell): a re-run of this
    cell, a cell below it run first, or the code's own handling of the data."""
    crash = context.crash
    if remover is None:
        return relabel(
            diagnosis,
            DATA,
            [why],
            f"Use '{label}' from the data that still has it, or keep it in `{name}`.",
            basis="live" if context.live else "history",
        )
    if crash is not None and context.same_cell(remover, crash):
        return relabel(diagnosis, EXECUTION_ORDER, [f"{why} (this cell, previous run)"], _ADVICE_RERUN)
    if crash is not None and crash.position is not None and (remover.position or -1) > crash.position:
        return relabel(
            diagnosis,
            EXECUTION_ORDER,
            [f"{why}; that cell is below this one but ran before it"],
            f"Run the cells in order from the top (re-create `{name}` first), or move the removal below this cell.",
        )
    return relabel(
        diagnosis,
        DATA,
        [why],
        f"Use '{label}' before it is removed, or keep it in `{name}` (select the columns you drop into a new "
        "variable instead).",
        basis="live" if context.live else "history",
    )


def _added_by_cell_not_run(
    name: str, labels: list[str], diagnosis: Diagnosis, context: CrashContext
) -> Diagnosis | None:
    """A cell adds the column to ``name`` but had not run (or failed) before the crash in this session."""
    for label in labels:
        adders = [
            e
            for e in context.history
            if label in e.code and any(n == name and c == label for n, c, _ in additions(e.code))
        ]
        blamed = blame_producer(diagnosis, context, adders, f"'{label}' is added to `{name}` in")
        if blamed is not None:
            return blamed
    return None


def _not_in_live(
    name: str, labels: list[str], diagnosis: Diagnosis, context: CrashContext
) -> Diagnosis | None:
    """The live frame never had the column: name the closest one, or list what it has."""
    if context.live is None or name not in context.live.objects:
        return None
    present = list(context.live.objects[name].facts.get("columns", ()))
    if not present or any(label in present for label in labels):
        return None
    label = labels[0]
    intended = closest_name(label, frozenset(present))
    if intended:
        why = f"`{name}` has no column '{label}'; it has '{intended}'"
        advice = f"Write '{intended}' (column names are case- and space-sensitive)."
    else:
        why = f"`{name}` has no column '{label}'; its {len(present)} columns: {listed(present)}"
        advice = f"Use one of the columns of `{name}` (`{name}.columns`), or check how it was built."
    return relabel(diagnosis, DATA, [why], advice, basis="live")
