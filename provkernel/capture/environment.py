"""Epoch facts (interpreter, OS, kernel versions) and library versions, resolved inside the kernel.

Versions come from ``importlib.metadata`` in the kernel's own environment (not the server's).
Resolving is slow-ish (scanning distributions), so it runs on a background thread and never
delays a cell's reply.
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable

from provkernel.records import EpochFacts, LibraryRecord

log = logging.getLogger("provkernel")


def _version_of(module_name: str) -> str:
    module = sys.modules.get(module_name)
    return str(getattr(module, "__version__", "")) if module is not None else ""


def epoch_facts(kernel: str) -> EpochFacts:
    """Facts of the running process."""
    from provkernel import __version__

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else ""
    return EpochFacts(
        started=time.time(),
        pid=os.getpid(),
        hostname=socket.gethostname(),
        user=user,
        os=platform.platform(),
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        ipython=_version_of("IPython"),
        ipykernel=_version_of("ipykernel"),
        provkernel=__version__,
        executable=sys.executable,
        cwd=os.getcwd(),
        kernel=kernel,
    )


# Packages of the kernel machinery itself, loaded lazily between or during cells (completion,
# comms, the debugger): they are not the user's libraries.
KERNEL_PACKAGES = frozenset(
    {
        "IPython",
        "ipykernel",
        "jupyter_client",
        "jupyter_core",
        "zmq",
        "tornado",
        "traitlets",
        "jedi",
        "parso",
        "debugpy",
        "comm",
        "prompt_toolkit",
        "pygments",
        "provkernel",
        "executing",
        "asttokens",
        "pure_eval",
        "stack_data",
        "decorator",
        "psutil",
        "pexpect",
        "ptyprocess",
        "wcwidth",
        "nest_asyncio",
        "matplotlib_inline",
        "ipython_pygments_lexers",
        "platformdirs",
        "packaging",
        "colorama",
        "rich",
        "markdown_it",
        "mdurl",
        "networkx",
    }
)


def classify_package(name: str) -> str | None:
    """'stdlib', or None for kernel machinery that must not be recorded, else 'package'."""
    if name in KERNEL_PACKAGES or name.startswith("_"):
        return None
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return "stdlib"
    return "package"


class LibraryResolver:
    """Resolves (package, kind, execution) tuples to versions on a daemon thread, then hands them on.

    Args:
        sink: called on the worker thread with the epoch id and the resolved records.
    """

    def __init__(self, sink: Callable[[int, list[LibraryRecord]], None]) -> None:
        self._sink = sink
        self._queue: queue.Queue[tuple[int, list[tuple[str, str, int | None]]] | threading.Event] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._distributions: dict[str, list[str]] | None = None
        self._resolved: dict[str, tuple[str | None, str | None]] = {}
        self.errors = 0

    def submit(self, epoch_id: int, packages: Iterable[tuple[str, str, int | None]]) -> None:
        """Queue (name, kind, first execution id) entries of one epoch."""
        items = list(packages)
        if not items:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="provkernel-libraries", daemon=True)
            self._thread.start()
        self._queue.put((epoch_id, items))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything submitted so far is resolved and handed on (at shutdown)."""
        if self._thread is None:
            return
        marker = threading.Event()
        self._queue.put(marker)
        marker.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            epoch_id, packages = item
            try:
                self._sink(epoch_id, [self._record(name, kind, first) for name, kind, first in packages])
            except Exception:
                self.errors += 1
                log.exception("provkernel: recording library versions failed")

    def _record(self, name: str, kind: str, first: int | None) -> LibraryRecord:
        if kind == "stdlib":
            return LibraryRecord(name, None, platform.python_version(), "stdlib", first)
        distribution, version = self.resolve(name)
        return LibraryRecord(name, distribution, version, kind, first)

    def resolve_quick(self, name: str) -> tuple[str | None, str | None]:
        """Like :meth:`resolve`, without the scan of every installed distribution when it has not been
        done yet: a distribution named like the module, else the module's ``__version__`` (at a crash)."""
        cached = self._resolved.get(name)
        if cached is not None or self._distributions is not None:
            return cached or self.resolve(name)
        from importlib import metadata

        try:
            return (metadata.distribution(name).metadata["Name"] or name, metadata.version(name))
        except metadata.PackageNotFoundError:
            return (None, _version_of(name) or None)

    def resolve(self, name: str) -> tuple[str | None, str | None]:
        """(distribution, version) providing top-level module ``name`` in this environment."""
        cached = self._resolved.get(name)
        if cached is not None:
            return cached
        from importlib import metadata

        if self._distributions is None:
            self._distributions = metadata.packages_distributions()
        candidates = self._distributions.get(name) or [name]
        result: tuple[str | None, str | None] = (None, None)
        for dist in candidates:
            try:
                result = (dist, metadata.version(dist))
                break
            except metadata.PackageNotFoundError:
                continue
        if result[1] is None:
            version = _version_of(name)  # a local module or a package without metadata
            result = (None, version or None)
        self._resolved[name] = result
        return result
