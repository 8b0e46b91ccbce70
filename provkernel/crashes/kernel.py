"""In the kernel: a diagnosis under every traceback, decided with the notebook's provenance, and stored."""

from __future__ import annotations

import logging

from provkernel.crashes.classify import classify
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.provenance_context import build_context
from provkernel.crashes.render import mimebundle

log = logging.getLogger("provkernel")

# Not crashes: the user stopped the cell, the code asked to stop (the paper excludes these too), or a
# magic was called with bad arguments (IPython already printed a one-line usage message).
NOT_CRASHES = frozenset({"KeyboardInterrupt", "SystemExit", "UsageError"})


class CrashDiagnoser:
    """A recorder listener: after a failing execution is recorded, classify, show and store its diagnosis."""

    __name__ = "crash diagnosis"

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self._queries = None

    def __call__(self, finished) -> None:
        record = finished.record
        if record.status != "error" or record.ename in NOT_CRASHES:
            return
        context = self._context(finished.execution_id) if self.recorder.writer is not None else None
        diagnosis = classify(record.ename or "", record.evalue or "", record.traceback or [], context)
        diagnosis.execution_count = finished.count
        diagnosis = self._scrubbed(diagnosis)
        self._show(diagnosis)
        if self.recorder.writer is not None:
            payload = diagnosis.to_json()
            self.recorder.writer.submit(lambda w: w.set_diagnosis(finished.execution_id, payload))

    def _scrubbed(self, diagnosis: Diagnosis) -> Diagnosis:
        """The diagnosis without secrets: its evidence quotes code, messages and file names."""
        secrets = getattr(self.recorder, "secrets", None)
        if secrets is None:
            return diagnosis
        return Diagnosis.from_json(secrets.scrub_json(diagnosis.to_json()))

    def _context(self, execution_id: int):
        """The crash context from provenance; None (traceback only) if provenance cannot be read."""
        try:
            from provkernel.store.history import notebook_history
            from provkernel.store.queries import Queries

            self.recorder.flush()
            if self._queries is None:
                self._queries = Queries.open(self.recorder.db_path)
            notebook = next(n for n in self._queries.notebooks() if n["path"] == self.recorder.notebook)
            history = notebook_history(self._queries, notebook["id"])
            return build_context(history, execution_id, self.recorder.epoch_number)
        except Exception as exc:  # noqa: BLE001 - the diagnosis falls back to the traceback alone
            self.recorder.capture_failed("crash context", exc)
            return None

    def _show(self, diagnosis: Diagnosis) -> None:
        from IPython.display import display

        with self.recorder.outputs.muted():
            display(mimebundle(diagnosis), raw=True)
