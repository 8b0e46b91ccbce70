"""History rules: decide and explain NB-specific, environment and data causes from a :class:`CrashContext`.

Each rule looks at one kind of crash (undefined name, re-run after an in-place change, missing or
changed module, missing or changed file, unfitted model) and either returns an updated diagnosis
whose evidence names the cells, execution counts, sessions, versions and files involved, or leaves
the traceback-only diagnosis alone.
"""

from __future__ import annotations

from provkernel.crashes.context import CrashContext
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.env_history import data_changed, file_history, module_history, version_change
from provkernel.crashes.nb_history import name_error, rerun_after_inplace, unfitted_model
from provkernel.crashes.traceback import ParsedTraceback


def refine(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis:
    """Apply every history rule that has something to say; the first one that decides wins."""
    for rule in (
        name_error,
        rerun_after_inplace,
        module_history,
        version_change,
        file_history,
        unfitted_model,
    ):
        decided = rule(diagnosis, parsed, context)
        if decided is not None:
            diagnosis = decided
            break
    return data_changed(diagnosis, context)
