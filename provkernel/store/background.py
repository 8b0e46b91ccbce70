"""Writing records on a background thread, so a cell's reply never waits for the disk.

The kernel's main thread only enqueues; one daemon thread drains the queue and writes each
batch in a single transaction (``sqlite3`` releases the GIL while SQLite works, so writes
overlap with the kernel sending its reply). A batch that fails is retried, record by record,
so one bad record cannot lose the others. :meth:`BackgroundWriter.flush` waits for everything
enqueued so far (reports, shutdown).
"""

from __future__ import annotations

import logging
import queue
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

    Args:
        writer: the writer whose connection only this thread will use from now on.
        on_error: called (on the writer thread) with a stage name and the exception of a record
            that could not be written even alone.
    """

    def __init__(self, writer: Writer, on_error: Callable[[str, BaseException], None]) -> None:
        self.writer = writer
        self._on_error = on_error
        self._queue: queue.Queue[Operation | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="provkernel-writer", daemon=True)
        self._thread.start()
        self.dropped = 0

    def submit(self, operation: Operation) -> None:
        """Enqueue ``operation(writer)``; it runs inside a transaction on the writer thread."""
        if self._queue.qsize() >= MAX_PENDING:
            self.dropped += 1
            return
        self._queue.put(operation)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted before this call is written; False on timeout."""
        if not self._thread.is_alive():
            return False
        marker = threading.Event()
        self._queue.put(marker)
        return marker.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending and stop the thread."""
        if self._thread.is_alive():
            self.flush(timeout)
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[Operation] = []
            markers: list[threading.Event] = []
            stop = False
            deadline = time.monotonic() + LINGER_S
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)  # someone waits: write now
                else:
                    batch.append(item)
                if stop or markers or len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for marker in markers:
                marker.set()
            if stop:
                return

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
