"""Rules that decide from the objects at the crash: is the data not what the code assumes (data confusion),
or is the call wrong whatever the data (API misuse)?

Each rule reads :attr:`CrashContext.live` (kernel only) and, where it helps, the recorded states and
bindings; it returns a diagnosis whose evidence states the decisive fact (``X_train has 2 text columns:
'city', 'plan'``) or None. :func:`facts_wanted` tells the kernel which bounded extra facts the message
calls for, before the objects are read.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from provkernel.capture.fingerprint import describe as describe_fingerprint
from provkernel.crashes.consume import none_assignments
from provkernel.crashes.context import CrashContext, LiveObject
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import add_evidence, describe, ran_before_crash, relabel
from provkernel.crashes.names import CANNOT_IMPORT
from provkernel.crashes.traceback import ParsedTraceback

DATA = "misunderstanding of data structure"
API = "misunderstanding of APIs"
_NAN = re.compile(r"\bNaN\b|infinity|non-finite|missing values|\binf\b", re.IGNORECASE)
_CAST_VALUE = re.compile(
    r"could not convert string to float: '(.*)'|invalid literal for \w+\(\) with base \d+: '(.*)'"
    r"|Unable to parse string \"(.*)\"|could not convert string to \w+: '(.*)'"
)
_FEATURES = re.compile(r"X has (\d+) features?,? but (\w+) is expecting (\d+) features?")
_NONE_USE = re.compile(r"'?NoneType'? object (?:has no attribute|is not subscriptable|is not iterable)")
MAX_LISTED = 5


def facts_wanted(ename: str, evalue: str) -> set[str]:
    """The bounded extra facts the message calls for: ``"nan"``, ``"value:<text>"``.

    >>> sorted(facts_wanted("ValueError", "could not convert string to float: 'male'"))
    ['value:male']
    """
    wanted = set()
    if _NAN.search(evalue):
        wanted.add("nan")
    cast = _CAST_VALUE.search(evalue)
    if cast:
        value = next(g for g in cast.groups() if g is not None)
        if value:
            wanted.add(f"value:{value}")
    return wanted


def listed(names: list[str], limit: int = MAX_LISTED) -> str:
    """``'a', 'b', 'c'`` (``… and 4 more`` past ``limit``)."""
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def object_phrase(obj: LiveObject) -> str:
    """``X_train` (DataFrame 891 rows × 12 columns)``-style description of a live object."""
    text = describe_fingerprint(obj.fingerprint) if obj.fingerprint else obj.type_name.rsplit(".", 1)[-1]
    return f"`{obj.name}` ({text})"


def _objects(context: CrashContext) -> list[LiveObject]:
    return list(context.live.objects.values()) if context.live else []


def text_in_numbers(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """A value could not be converted to a number: which variable and column hold text, or whether the
    code itself passed a literal string."""
    cast = _CAST_VALUE.search(parsed.evalue)
    if cast is None or context.live is None:
        return None
    value = next(g for g in cast.groups() if g is not None)
    line = context.live.line
    if value and re.search(rf"""(['"]){re.escape(value)}\1""", line):
        return relabel(
            diagnosis,
            API,
            [
                f"`'{value}'` is a string literal on the failing line (`{line}`): the call received text, not data"
            ],
            "Pass the data itself (e.g. `df['col']`), not its name as a string.",
            basis="live",
        )
    for obj in _objects(context):
        facts = obj.facts
        text_columns = list(facts.get("object_columns", ()))
        where = facts.get("value_column")
        if where is not None:
            also = f"; its text columns: {listed(text_columns)}" if len(text_columns) > 1 else ""
            why = f"column '{where}' of `{obj.name}` holds text ('{value}'){also}"
        elif text_columns:
            why = f"`{obj.name}` has {len(text_columns)} text column{'s' * (len(text_columns) > 1)}: {listed(text_columns)}"
        elif obj.fingerprint and obj.fingerprint[0] in {"Series", "ndarray"} and _is_text(obj):
            why = f"`{obj.name}` holds text ({describe_fingerprint(obj.fingerprint)})"
        else:
            continue
        return relabel(
            diagnosis,
            DATA,
            [why],
            f"Encode the text columns (`pd.get_dummies`, `OneHotEncoder`) or drop them before this step"
            f"{f'; convert {where!r} if it should be numeric' if where else ''}.",
            basis="live",
        )
    return None


def _is_text(obj: LiveObject) -> bool:
    fp = obj.fingerprint or ()
    dtype = fp[3] if fp[:1] == ("Series",) else (fp[1] if fp[:1] == ("ndarray",) else "")
    return any(t in str(dtype) for t in ("object", "str", "<U", "|O", "|S"))


def missing_values(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """NaN or infinity in the input: which variables and columns hold them (or that none does)."""
    if not _NAN.search(parsed.evalue) or context.live is None:
        return None
    found = []
    checked = []
    for obj in _objects(context):
        facts = obj.facts
        if "nan_columns" in facts or "has_nan" in facts:
            checked.append(f"`{obj.name}`")
        nan = list(facts.get("nan_columns", ()))
        inf = list(facts.get("inf_columns", ()))
        if nan:
            found.append(f"`{obj.name}` has missing values (NaN) in {listed(nan)}")
        if inf:
            found.append(f"`{obj.name}` has infinite values in {listed(inf)}")
        if facts.get("has_nan"):
            found.append(f"`{obj.name}` holds NaN")
        if facts.get("has_inf"):
            found.append(f"`{obj.name}` holds infinite values")
    if found:
        return relabel(
            diagnosis,
            DATA,
            found[:3],
            "Impute or drop the missing values first (`SimpleImputer`, `df.fillna`, `df.dropna`), or use an "
            "estimator that accepts NaN.",
            basis="live",
        )
    if checked:
        return add_evidence(
            diagnosis, f"{', '.join(checked)} hold no NaN: the missing values appear inside this step"
        )
    return None


def _message_list(message: str, header: str) -> list[str]:
    """The ``- name`` lines under ``header`` in a multi-line message (scikit-learn's feature-name lists)."""
    lines = message.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith(header):
            return [
                item.strip()[2:].strip()
                for item in itertools.takewhile(lambda t: t.strip().startswith("- "), lines[index + 1 :])
            ]
    return []


def feature_count(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """The data has other features than the model was fitted on: name the model's and the data's."""
    match = _FEATURES.search(parsed.evalue)
    names_differ = "feature names should match" in parsed.evalue.lower()
    if (match is None and not names_differ) or context.live is None:
        return None
    models = [o for o in _objects(context) if "n_features_in" in o.facts]
    frames = [o for o in _objects(context) if "columns" in o.facts]
    evidence = []
    model_names: list[str] = []
    for model in models[:1]:
        model_names = list(model.facts.get("feature_names_in", ()))
        shown = f" ({listed(model_names)})" if model_names else ""
        evidence.append(f"`{model.name}` was fitted on {model.facts['n_features_in']} features{shown}")
    missing = _message_list(parsed.message, "Feature names seen at fit time, yet now missing")
    unseen = _message_list(parsed.message, "Feature names unseen at fit time")
    if missing or unseen:
        parts = [f"missing {listed(missing)}" if missing else "", f"new {listed(unseen)}" if unseen else ""]
        evidence.append(f"the data passed has {' and '.join(p for p in parts if p)}")
    elif match:
        for frame in frames[:1]:
            present = list(frame.facts["columns"])
            lacking = [c for c in model_names if c not in present]
            extra = f": missing {listed(lacking)}" if lacking else ""
            evidence.append(f"`{frame.name}` has {len(present)} columns{extra}")
            evidence += _width_history(frame.name, int(match.group(3)), context)
    if not evidence:
        return None
    return relabel(
        diagnosis,
        DATA,
        evidence,
        "Give the model the same columns, in the same order, as at fit time (apply the same preprocessing to "
        "the new data).",
        basis="live",
    )


def _width_history(name: str, width: int, context: CrashContext) -> list[str]:
    """``X_test had 4 columns after In [5]; 3 after In [8]`` from recorded states."""
    from provkernel.capture.fingerprint import columns

    states = [(s, columns(s.fingerprint)) for s in context.states_of(name)]
    states = [(s, c) for s, c in states if c is not None]
    for (before, old), (after, new) in itertools.pairwise(states):
        if len(old) == width and len(new) != width:
            lost = [c for c in old if c not in new]
            what = f" (lost {listed(lost)})" if lost else ""
            return [
                (
                    f"`{name}` had {len(old)} columns after {describe(before.execution, context)}; "
                    f"{len(new)} after {describe(after.execution, context)}{what}"
                )
            ]
    return []


def none_value(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """A variable is None because it was assigned the result of an in-place method (``df = df.dropna(inplace=True)``)."""
    if not _NONE_USE.search(parsed.evalue):
        return None
    candidates = [o.name for o in _objects(context) if o.type_name == "builtins.NoneType"]
    if not candidates:
        candidates = re.findall(r"(?<![\w.])([A-Za-z_]\w*)\s*(?:\.|\[)", parsed.crash_code)
    runs = [context.crash] if context.crash else []
    runs += [e for e in reversed(context.history) if ran_before_crash(e, context)]
    for name in candidates:
        for run in runs:
            if name not in run.code:
                continue
            for target, line, call in none_assignments(run.code):
                if target != name:
                    continue
                where = "this cell" if context.is_crash(run) else describe(run, context)
                return relabel(
                    diagnosis,
                    API,
                    [f"`{name}` is None: {where} assigned it the result of `{call}`, which returns None"],
                    f"Call `{call}` without assigning its result, or assign the result of the method without "
                    "`inplace=True`.",
                    basis="live" if context.live else "history",
                )
    return None


def installed_module(
    diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis | None:
    """``cannot import name`` from a module the traceback took for the user's own file, though an installed
    distribution provides it: the installed version lacks the name."""
    cannot = CANNOT_IMPORT.search(parsed.evalue)
    if cannot is None or context.live is None or diagnosis.root_cause_detail != "wrong implementation":
        return None
    module = (cannot.group(2) or "").split(".")[0]
    owner = next((o for o in context.live.owners if o.module == module and o.distribution), None)
    if owner is None:
        return None
    version = f" {owner.version}" if owner.version else ""
    decided = relabel(
        diagnosis,
        "library versions incompatible",
        [
            f"`{module}` is the installed distribution {owner.distribution}{version}, which does not provide `{cannot.group(1)}`"
        ],
        f"Install the version of {owner.distribution} the notebook was written for, or import `{cannot.group(1)}` "
        "from where this version keeps it.",
        basis="live",
    )
    return replace(decided, library=module)


def objects_on_line(diagnosis: Diagnosis, context: CrashContext) -> Diagnosis:
    """Evidence naming what the failing line worked on (up to three objects), for data and API crashes."""
    if (
        context.live is None
        or diagnosis.root_cause
        not in {"data confusion", "API misuse", "implementation error", "ML model confusion", "unknown"}
        or diagnosis.crash_type in {"variable not found", "name error", "module not found"}
    ):
        return diagnosis
    shown = [object_phrase(o) for o in _objects(context) if o.fingerprint][:3]
    if not shown or any("`" + o.split("`")[1] + "`" in " ".join(diagnosis.evidence) for o in shown):
        return diagnosis
    return add_evidence(diagnosis, f"the failing line used {', '.join(shown)}")
