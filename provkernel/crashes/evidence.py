"""Context rules: decide and explain a crash from a :class:`CrashContext` (history, saved notebook, live objects).

Each rule looks at one kind of crash (undefined name, missing or changed module or library version,
missing file, missing column, re-run after an in-place change, unfitted model, text or NaN in the data,
features or layers that do not fit) and returns an updated diagnosis, or None. A rule that changes the
labels (or confirms them from the context) decides, and the later rules are skipped; a rule that only adds
evidence lets the others run.
"""

from __future__ import annotations

from collections.abc import Callable

from provkernel.crashes.column_rules import missing_column
from provkernel.crashes.context import CrashContext
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.env_history import data_changed, file_history, module_history, version_change
from provkernel.crashes.live_rules import (
    feature_count,
    installed_module,
    missing_values,
    none_value,
    objects_on_line,
    text_in_numbers,
)
from provkernel.crashes.model_rules import layer_mismatch, unfitted_model
from provkernel.crashes.nb_history import name_error, rerun_after_inplace
from provkernel.crashes.traceback import ParsedTraceback

Rule = Callable[[Diagnosis, ParsedTraceback, CrashContext], Diagnosis | None]

# Rules that need only the objects at the crash (no recorded history).
LIVE_RULES: tuple[Rule, ...] = (
    missing_column,
    installed_module,
    none_value,
    text_in_numbers,
    missing_values,
    feature_count,
    layer_mismatch,
)
RULES: tuple[Rule, ...] = (
    name_error,
    module_history,
    version_change,
    file_history,
    missing_column,
    rerun_after_inplace,
    unfitted_model,
    *LIVE_RULES[1:],
)


def _decides(before: Diagnosis, after: Diagnosis) -> bool:
    return (after.root_cause_detail, after.basis, after.crash_type_detail) != (
        before.root_cause_detail,
        before.basis,
        before.crash_type_detail,
    )


def refine(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis:
    """Apply the rules in order until one decides; then the data-file and failing-line evidence."""
    live_only = context.source == "live"
    for rule in LIVE_RULES if live_only else RULES:
        found = rule(diagnosis, parsed, context)
        if found is None:
            continue
        decided = _decides(diagnosis, found)
        diagnosis = found
        if decided:
            break
    if not live_only:
        diagnosis = data_changed(diagnosis, parsed, context)
    return objects_on_line(diagnosis, context)
