"""Writing records on a background thread, so a cell's reply never waits for the disk.

The kernel's main thread only enqueues; one daemon thread drains the queue and writes each
batch in a single transaction (``sqlite3`` releases the GIL while SQLite works, so writes
overlap with the kernel sending its reply). A batch that fails is retried, record by record,
so one bad record cannot lose the others. :meth:`BackgroundWriter.flush` waits for everything
enqueued so far (reports, shutdown).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

from provkernel.store.writer import Writer

log = logging.getLogger("provkernel")

Operation = Callable[[Writer], None]
MAX_BATCH = 256
# After the first record of a batch arrives, wait this long for more: a notebook run cell after
# cell then costs one commit per batch instead of two per cell. A kernel killed within this window
# loses at most these records.
LINGER_S = 0.05
RETRY_DELAY_S = 0.5
MAX_PENDING = 100_000  # records kept while the database is unavailable, beyond which new ones are dropped


class BackgroundWriter:
    """Owns the writer's connection on a dedicated thread.

    Submitting appends to a list and wakes the thread only when the list was empty, so a cell
    costs the kernel's main thread a list append; the thread then lingers for more records and
    writes them in one transaction.

    Args:
        writer: the writer whose connection only this thread will use from now on.
        on_error: called (on the writer thread) with a stage name and the exception of a record
            that could not be written even alone.
    """

    def __init__(self, writer: Writer, on_error: Callable[[str, BaseException], None]) -> None:
        self.writer = writer
        self._on_error = on_error
        self._pending: collections.deque[Operation | threading.Event] = collections.deque()  # thread-safe
        self._wake = threading.Event()  # something is pending
        self._urgent = threading.Event()  # someone waits in flush(): no lingering
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="provkernel-writer", daemon=True)
        self._thread.start()
        self.dropped = 0

    def submit(self, operation: Operation) -> None:
        """Enqueue ``operation(writer)``; it runs inside a transaction on the writer thread."""
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(operation)
        if not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted before this call is written; False on timeout."""
        if not self._thread.is_alive():
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
        while True:
            self._wake.wait()
            if not self._stopping:
                self._urgent.wait(LINGER_S)
            self._wake.clear()
            self._urgent.clear()
            items = self._drain()
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                batch = [item for item in chunk if not isinstance(item, threading.Event)]
                if batch:
                    self._write(batch)
                for marker in chunk:
                    if isinstance(marker, threading.Event):
                        marker.set()
            if self._stopping and not self._pending:
                return

    def _drain(self) -> list[Operation | threading.Event]:
        items = []
        while True:
            try:
                items.append(self._pending.popleft())
            except IndexError:
                return items

    def _write(self, batch: list[Operation]) -> None:
        try:
            with self.writer.transaction():
                for operation in batch:
                    operation(self.writer)
            return
        except Exception as exc:  # noqa: BLE001 - retried below, one record at a time
            log.warning("provkernel: writing a batch of %d records failed (%s); retrying", len(batch), exc)
        time.sleep(RETRY_DELAY_S)  # a lock held by another process, a full disk: give it a moment
        for operation in batch:
            try:
                with self.writer.transaction():
                    operation(self.writer)
            except Exception as exc:  # noqa: BLE001 - reported, and the session goes on
                self._on_error(getattr(operation, "stage", "write"), exc)
