"""Content hashes of data files, bounded in size and time, mostly off the cell's path.

A file up to :data:`INLINE_BYTES` is hashed when the cell ends (a millisecond or two); a larger
one, up to the configured limit, is hashed on the hasher's thread within :data:`TIME_CAP_S`, and
its digest replaces the provisional ``stat:size:mtime`` one when done. If the file changes while it
is hashed, or the cap is reached, the ``stat:`` digest stays: a hash must describe the content the
cell saw, or nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable

log = logging.getLogger("provkernel")

INLINE_BYTES = 1 << 20
CHUNK = 1 << 20
TIME_CAP_S = 10.0
CACHE_SIZE = 4096
MAX_QUEUED = 256


def stat_digest(st: os.stat_result) -> str:
    """The provisional fingerprint of a file: its size and modification time."""
    return f"stat:{st.st_size}:{st.st_mtime_ns}"


def sha256_of(path: str, st: os.stat_result, deadline: float) -> str | None:
    """sha256 of a regular file, or None if it changed while being read or took past ``deadline``."""
    sha = hashlib.sha256()
    try:
        # O_NONBLOCK: if the path became a FIFO since it was checked, opening it must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fh:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or now.st_ino != st.st_ino:
                return None  # replaced since the cell touched it
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                if time.monotonic() > deadline:
                    return None
        after = os.stat(path)
    except OSError:
        return None
    if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
        return None
    return "sha256:" + sha.hexdigest()


class Hasher:
    """Hashes files: small ones inline, large ones on a daemon thread; remembers digests by (path, size, mtime)."""

    def __init__(self, limit: int = 64 << 20) -> None:
        self.limit = limit
        self._cache: dict[tuple[str, int, int], str] = {}
        self._queue: queue.Queue = queue.Queue(MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self.skipped = 0  # files left with their stat digest (cap reached, changed, queue full)

    def digest_now(self, path: str, st: os.stat_result) -> tuple[str, bool]:
        """The digest to record now, and whether a better one should be computed later (:meth:`later`)."""
        key = (path, st.st_size, st.st_mtime_ns)
        cached = self._cache.get(key)
        if cached is not None:
            return cached, False
        if st.st_size > self.limit:
            return stat_digest(st), False
        if st.st_size <= INLINE_BYTES:
            digest = sha256_of(path, st, time.monotonic() + TIME_CAP_S)
            if digest is None:
                return stat_digest(st), False
            self._remember(key, digest)
            return digest, False
        return stat_digest(st), True

    def later(self, path: str, st: os.stat_result, done: Callable[[str], None]) -> None:
        """Hash ``path`` on the hasher's thread; ``done(digest)`` is called there if it succeeds."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="provkernel-hasher", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((path, st, done))
        except queue.Full:
            self.skipped += 1

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every queued file is hashed (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _remember(self, key: tuple[str, int, int], digest: str) -> None:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = digest

    def _run(self) -> None:
        while True:
            path, st, done = self._queue.get()
            try:
                digest = sha256_of(path, st, time.monotonic() + TIME_CAP_S)
                if digest is None:
                    self.skipped += 1
                else:
                    self._remember((path, st.st_size, st.st_mtime_ns), digest)
                    done(digest)
            except Exception:
                log.exception("provkernel: hashing %s failed", path)
            finally:
                self._queue.task_done()
