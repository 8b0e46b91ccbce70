"""Which epoch (kernel lifetime of a notebook) executions belong to, registered off the first cell's path."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from provkernel.capture.environment import epoch_facts
from provkernel.capture.identity import VSCODE_VARIABLE, notebook_identity
from provkernel.records import EpochFacts
from provkernel.store.background import BackgroundWriter

log = logging.getLogger("provkernel")


class EpochTracker:
    """The epoch of the running kernel: prepared at start-up, moved when VS Code names the notebook."""

    def __init__(self, shell, kernel: str) -> None:
        self.shell = shell
        self.kernel = kernel
        self.epoch_id: int | None = None
        self.number: int | None = None
        self.notebook: str | None = None
        self._started = time.time()
        self._facts: EpochFacts | None = None
        self._prepared: tuple[int, int, str] | None = None
        self._vscode_name: object = None
        self._ready = threading.Event()

    def start(self, writer: BackgroundWriter) -> None:
        """Gather the epoch's facts and register it on a thread (it takes milliseconds)."""
        threading.Thread(target=self._prepare, args=(writer,), name="provkernel-epoch", daemon=True).start()

    def _prepare(self, writer: BackgroundWriter) -> None:
        try:
            facts = dataclasses.replace(epoch_facts(self.kernel), started=self._started)
            self._facts = facts
            notebook = notebook_identity(self.shell.user_ns)
            epoch_id, number = writer.writer.begin_epoch(notebook, facts)
            self._prepared = (epoch_id, number, notebook)
        except Exception:
            log.debug("provkernel: preparing the epoch failed", exc_info=True)
        finally:
            self._ready.set()

    def ensure(
        self, writer: BackgroundWriter, last_writer: dict[str, int], on_new: Callable[[], None] | None = None
    ) -> None:
        """Make sure an epoch is registered for the notebook the kernel belongs to now."""
        # The identity is fixed for an epoch, except that VS Code names its notebook in the namespace.
        vscode = self.shell.user_ns.get(VSCODE_VARIABLE)
        if self.epoch_id is not None and vscode == self._vscode_name:
            return
        self._vscode_name = vscode
        notebook = notebook_identity(self.shell.user_ns)
        if self.epoch_id is not None and notebook == self.notebook:
            return
        if self.epoch_id is None:
            self._ready.wait(5.0)
            prepared, self._prepared = self._prepared, None
            if prepared is not None:
                self.epoch_id, self.number, self.notebook = prepared
                if notebook != self.notebook:  # VS Code named the notebook after start-up
                    self.number = writer.writer.move_epoch(self.epoch_id, notebook)
                    self.notebook = notebook
                return
        else:
            # the notebook was named after executions were recorded: the same process is a new epoch of it
            old, ended = self.epoch_id, time.time()
            writer.submit(lambda w: w.end_epoch(old, ended))
            last_writer.clear()
        facts = self._facts or dataclasses.replace(epoch_facts(self.kernel), started=self._started)
        self.epoch_id, self.number = writer.writer.begin_epoch(notebook, facts)
        self.notebook = notebook
        if on_new is not None:
            on_new()

    def close(self, writer: BackgroundWriter) -> None:
        """End the epoch (or drop an unused one) through the writer."""
        self._ready.wait(5.0)
        if self.epoch_id is not None:
            epoch_id, ended = self.epoch_id, time.time()
            writer.submit(lambda w: w.end_epoch(epoch_id, ended))
        elif self._prepared is not None:  # the kernel ran nothing: leave no empty epoch behind
            unused = self._prepared[0]
            writer.submit(lambda w: w.discard_epoch_if_empty(unused))
