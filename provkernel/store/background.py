"""Writing records on a background thread, so a cell's reply never waits for the disk.

The kernel's main thread only enqueues; one daemon thread drains the queue and writes each
batch in a single transaction once records stop coming for a moment: a burst of cells (a
notebook run top to bottom) is written after it, or every :data:`MAX_AGE_S`, not while each cell
runs. ``sqlite3`` releases the GIL while SQLite works but takes it back after every step, and on
a busy kernel each such hand-off delays the cell. A batch that fails is retried, record by record,
so one bad record cannot lose the others. :meth:`BackgroundWriter.flush` waits for everything
enqueued so far (reports, shutdown).

When the database cannot be written at all (read-only, disk full, I/O error, locked for long),
records are kept in memory (up to :data:`MAX_PENDING`) and written when it works again, trying
with a growing delay; ``on_unavailable`` is told once per episode, so the kernel says it once.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from provkernel.store.writer import Writer

log = logging.getLogger("provkernel")

Operation = Callable[[Writer], None]
MAX_BATCH = 256
# A batch is written once no record has come for QUIET_S (a cell that runs longer gets its start
# record written while it runs), or once its first record has waited MAX_AGE_S. A kernel killed
# during a burst of short cells loses at most the records of that last stretch.
QUIET_S = 0.05
MAX_AGE_S = 1.0
MAX_PENDING = 100_000  # records kept while the database is unavailable, beyond which new ones are dropped
BACKOFF_S = (0.5, 1, 2, 5, 10, 30)
# Reasons the database cannot be written that the user must act on (a lock is waited out quietly).
USER_ACTIONABLE = ("readonly", "read-only", "disk is full", "disk i/o error", "unable to open")
UNAVAILABLE_MESSAGES = (*USER_ACTIONABLE, "database is locked", "database is busy")


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database as a whole cannot be written now (None: the record itself was the problem)."""
    if isinstance(exc, sqlite3.OperationalError | OSError):
        message = str(exc).lower()
        for marker in UNAVAILABLE_MESSAGES:
            if marker in message:
                return str(exc)
    return None


class BackgroundWriter:
    """Owns the writer's connection on a dedicated thread.

    Submitting appends to a list and wakes the thread only when the list was empty, so a cell
    costs the kernel's main thread a list append; the thread then waits for a quiet moment (see
    :data:`QUIET_S`) and writes what came in one transaction.

    Args:
        writer: the writer whose connection only this thread will use from now on.
        on_error: called (on the writer thread) with a stage name and the exception of a record
            that could not be written even alone.
        quiet_s, max_age_s: when a batch is written (see :data:`QUIET_S`, :data:`MAX_AGE_S`).
    """

    def __init__(
        self,
        writer: Writer,
        on_error: Callable[[str, BaseException], None],
        on_unavailable: Callable[[str], None] | None = None,
        quiet_s: float = QUIET_S,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.writer = writer
        self.quiet_s, self.max_age_s = quiet_s, max_age_s
        self._on_error = on_error
        self._on_unavailable = on_unavailable
        self.unavailable: str | None = None  # why writes fail now, while they do
        self._pending: collections.deque[Operation | threading.Event] = collections.deque()  # thread-safe
        self._wake = threading.Event()  # something is pending
        self._urgent = threading.Event()  # someone waits in flush(): no lingering
        self._stopping = False
        self._last_submit = self._first_pending = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="provkernel-writer", daemon=True)
        self._thread.start()
        self.dropped = 0

    def submit(self, operation: Operation) -> None:
        """Enqueue ``operation(writer)``; it runs inside a transaction on the writer thread."""
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(operation)
        self._last_submit = now = time.monotonic()
        if not self._wake.is_set():
            self._first_pending = now
            self._wake.set()

    def call(self, function: Callable[[Writer], object], timeout: float = 30.0) -> object:
        """Run ``function(writer)`` on the writer thread, in order with what is queued; its result.

        Raises:
            TimeoutError: it did not run within ``timeout`` (the database may be unavailable).
            Exception: whatever ``function`` raised (its transaction is rolled back).
        """
        if self.unavailable is not None:
            raise TimeoutError(f"the database cannot be written now: {self.unavailable}")
        outcome: list = []  # one entry per run: a batch that fails is replayed record by record

        def operation(writer: Writer) -> None:
            try:
                outcome.append((True, function(writer)))
            except BaseException as exc:
                outcome.append((False, exc))
                raise

        self.submit(operation)
        # flush's marker is set once the operation's transaction is over (committed, or replayed alone)
        if not self.flush(timeout) or not outcome:
            raise TimeoutError("the provenance writer did not answer")
        if self.unavailable is not None:
            raise TimeoutError(f"the database cannot be written now: {self.unavailable}")
        ok, value = outcome[-1]
        if not ok:
            raise value
        return value

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted before this call is written; False on timeout, or at once
        while the database cannot be written (a report must not hang the cell)."""
        if not self._thread.is_alive() or self.unavailable is not None:
            return False
        marker = threading.Event()
        self._pending.append(marker)
        self._urgent.set()
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, stop the thread and close the connection (which checkpoints the WAL)."""
        if self._thread.is_alive():
            self._stopping = True
            self._urgent.set()
            self._wake.set()
            self._thread.join(timeout)
        if not self._thread.is_alive():
            try:
                self.writer.conn.close()
            except Exception:  # at shutdown; the next connection recovers the WAL anyway
                log.debug("provkernel: closing the database failed", exc_info=True)

    def _run(self) -> None:
        # a thread of ours must never die with a traceback: it would be printed into the running cell
        while True:
            try:
                self._loop()
                return
            except Exception:
                log.exception("provkernel: the writer thread failed; it goes on")

    def _loop(self) -> None:
        failures = 0
        while True:
            self._wake.wait()
            if not self._stopping:
                self._wait_for_quiet()
            self._wake.clear()
            self._urgent.clear()
            items = self._drain()
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                batch = [item for item in chunk if not isinstance(item, threading.Event)]
                kept = self._write(batch) if batch else []
                for marker in chunk:
                    if isinstance(marker, threading.Event):
                        marker.set()
                if kept:  # the database is unavailable: keep the rest for the next attempt
                    rest = [
                        item for item in items[start + MAX_BATCH :] if not isinstance(item, threading.Event)
                    ]
                    self._pending.extendleft(reversed(kept + rest))
                    for marker in items[start + MAX_BATCH :]:
                        if isinstance(marker, threading.Event):
                            marker.set()
                    break
            if self.unavailable is not None:
                if self._stopping:
                    log.error(
                        "provkernel: %d records not written at shutdown: %s",
                        len(self._pending),
                        self.unavailable,
                    )
                    return
                self._urgent.wait(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])  # close() cuts it short
                failures += 1
                self._wake.set()
                continue
            failures = 0
            if self._stopping and not self._pending:
                return

    def _wait_for_quiet(self) -> None:
        """Until no record has come for ``quiet_s``, the first pending one is ``max_age_s`` old, or a flush."""
        while True:
            due = min(self._last_submit + self.quiet_s, self._first_pending + self.max_age_s)
            wait = due - time.monotonic()
            if wait <= 0 or self._urgent.wait(wait):
                return

    def _drain(self) -> list[Operation | threading.Event]:
        items = []
        while True:
            try:
                items.append(self._pending.popleft())
            except IndexError:
                return items

    def _write(self, batch: list[Operation]) -> list[Operation]:
        """Write a batch; returns the operations to keep for later if the database is unavailable."""
        try:
            with self.writer.transaction():
                for operation in batch:
                    operation(self.writer)
            self._available()
            return []
        except Exception as exc:  # noqa: BLE001 - retried below, one record at a time
            if self._unavailable(exc):
                return batch
            log.warning("provkernel: writing a batch of %d records failed (%s); retrying", len(batch), exc)
        for index, operation in enumerate(batch):
            try:
                with self.writer.transaction():
                    operation(self.writer)
            except Exception as exc:  # noqa: BLE001 - reported, and the session goes on
                if self._unavailable(exc):
                    return batch[index:]
                self._on_error(getattr(operation, "stage", "write"), exc)
        self._available()
        return []

    def _unavailable(self, exc: BaseException) -> bool:
        reason = unavailable_reason(exc)
        if reason is None:
            return False
        if self.unavailable is None:
            self.unavailable = reason
            log.error("provkernel: the provenance database cannot be written (%s); records are kept", reason)
            if self._on_unavailable is not None:
                self._on_unavailable(reason)
        return True

    def _available(self) -> None:
        if self.unavailable is not None:
            log.warning(
                "provkernel: the provenance database can be written again (%s before)", self.unavailable
            )
            self.unavailable = None
