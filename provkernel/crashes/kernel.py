"""In the kernel: a diagnosis under every traceback, decided with the notebook's provenance, the saved
notebook and the objects at the crash, and stored.

Each source of facts fails alone (logged and counted in ``%prov status``, never shown in the cell): without
provenance the live objects still decide, without them the traceback does.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import replace

from provkernel.capture.fingerprint import Fingerprinter
from provkernel.crashes.classify import classify
from provkernel.crashes.context import CrashContext, Execution, LiveState
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.live import default_is_cell, inspect_crash
from provkernel.crashes.live_rules import facts_wanted
from provkernel.crashes.provenance_context import build_context
from provkernel.crashes.render import mimebundle
from provkernel.crashes.saved_notebook import SavedNotebooks, crash_words, with_saved_cells

log = logging.getLogger("provkernel")

# Not crashes: the user stopped the cell, the code asked to stop (the paper excludes these too), or a
# magic was called with bad arguments (IPython already printed a one-line usage message).
NOT_CRASHES = frozenset({"KeyboardInterrupt", "SystemExit", "UsageError"})


class CrashDiagnoser:
    """A recorder listener: after a failing execution is recorded, classify, show and store its diagnosis.

    Attributes:
        seconds: How long the last diagnoses took, each from the end of the cell to the diagnosis shown and
            queued for storage (``benchmarks/crash_cost.py`` reads them).
    """

    __name__ = "crash diagnosis"

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self._queries = None
        self._facts: dict[str, dict] = {}  # code hash → facts, parsed once per kernel
        self._fingerprinter = Fingerprinter()
        self._notebooks = SavedNotebooks()
        self.seconds: deque[float] = deque(maxlen=100)

    def __call__(self, finished) -> None:
        record = finished.record
        if record.status != "error" or record.ename in NOT_CRASHES:
            return
        started = time.perf_counter()
        diagnosis = self._scrubbed(self.diagnose(finished))
        self._show(diagnosis)
        if self.recorder.writer is not None and finished.execution_id:
            payload = diagnosis.to_json()
            self.recorder.writer.submit(lambda w: w.set_diagnosis(finished.execution_id, payload))
        self.seconds.append(time.perf_counter() - started)

    def diagnose(self, finished) -> Diagnosis:
        """The diagnosis of one failed execution; a failing context falls back to the traceback alone."""
        record = finished.record
        ename, evalue, traceback = record.ename or "", record.evalue or "", record.traceback or []
        live = self._live(finished, ename, evalue)
        context = self._context(finished, live)
        try:
            diagnosis = classify(ename, evalue, traceback, context)
        except Exception as exc:  # noqa: BLE001 - a history rule failed: the traceback still decides
            self.recorder.capture_failed("crash diagnosis", exc)
            diagnosis = classify(ename, evalue, traceback)
        diagnosis.execution_count = finished.count
        return diagnosis

    def _scrubbed(self, diagnosis: Diagnosis) -> Diagnosis:
        """The diagnosis without secrets: its evidence quotes code, messages and file names."""
        secrets = getattr(self.recorder, "secrets", None)
        if secrets is None:
            return diagnosis
        return Diagnosis.from_json(secrets.scrub_json(diagnosis.to_json()))

    def _live(self, finished, ename: str, evalue: str) -> LiveState | None:
        if finished.exception is None:
            return None
        try:
            return inspect_crash(
                finished.exception,
                self._is_cell,
                self.recorder.libraries.resolve_quick,
                facts_wanted(ename, evalue),
                self._fingerprinter,
            )
        except Exception as exc:  # noqa: BLE001
            self.recorder.capture_failed("crash live state", exc)
            return None

    def _is_cell(self, path: str) -> bool:
        names = getattr(getattr(self.recorder.shell, "compile", None), "_filename_map", None)
        return path in names if isinstance(names, dict) and names else default_is_cell(path)

    def _context(self, finished, live: LiveState | None) -> CrashContext | None:
        """Provenance (plus the saved notebook) when it can be read; else only the live state."""
        context = (
            self._provenance(finished.execution_id, _names_of(finished, live))
            if self.recorder.writer is not None
            else None
        )
        if context is None:
            if live is None:
                return None
            crash = Execution(finished.count, finished.cell_id, code=finished.code)
            return CrashContext(crash=crash, live=live, source="live")
        context = replace(context, live=live)
        try:
            cells = self._notebooks.cells(self.recorder.notebook)
            if cells:
                record = finished.record
                line = live.line if live else ""
                context = with_saved_cells(
                    context, cells, crash_words(record.evalue or "", line or finished.code)
                )
        except Exception as exc:  # noqa: BLE001 - the recorded history is enough
            self.recorder.capture_failed("crash saved notebook", exc)
        return context

    def _provenance(self, execution_id: int, names: set[str]) -> CrashContext | None:
        """The crash context from provenance; None if provenance cannot be read."""
        try:
            from provkernel.store.history import notebook_history
            from provkernel.store.queries import Queries

            self.recorder.flush()
            if self._queries is None:
                self._queries = Queries.open(self.recorder.db_path)
            notebook = next(n for n in self._queries.notebooks() if n["path"] == self.recorder.notebook)
            history = notebook_history(
                self._queries, notebook["id"], state_names=names, facts_cache=self._facts
            )
            return build_context(history, execution_id, self.recorder.epoch_number)
        except Exception as exc:  # noqa: BLE001 - the diagnosis falls back to the live state or the traceback
            self.recorder.capture_failed("crash context", exc)
            return None

    def _show(self, diagnosis: Diagnosis) -> None:
        from IPython.display import display

        with self.recorder.outputs.muted():
            display(mimebundle(diagnosis), raw=True)


def _names_of(finished, live: LiveState | None) -> set[str]:
    """The names a crash is about: what the cell reads, binds or changes, and the objects on the failing line."""
    facts = finished.facts
    names = {*facts.free, *facts.defined, *(u.name for u in facts.updates)}
    if live is not None:
        names.update(live.objects)
    return names
