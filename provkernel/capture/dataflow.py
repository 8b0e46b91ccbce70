"""Files and URLs an execution reads or writes, seen through ``sys.addaudithook``.

The audit hook only appends raw events while a cell runs; filtering and classification happen
after the cell, once per distinct file. Only regular files are fingerprinted (a FIFO, socket or
device would block or never end), and hashing is bounded: small files are hashed at once, larger
ones by :class:`~provkernel.capture.hashing.Hasher` on its own thread, with a size and time cap.
"""

from __future__ import annotations

import contextlib
import os
import site
import stat
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from provkernel.capture.hashing import Hasher
from provkernel.records import DataAccess
from provkernel.secrets import mask_url_credentials
from provkernel.textsafety import safe_text

WATCHED_EVENTS = frozenset({"open", "urllib.Request", "http.client.send"})
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".so", ".pth")


def _system_prefixes(extra: Iterable[str]) -> tuple[str, ...]:
    """Directories whose files belong to the interpreter, libraries or caches, not to the user's data."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs.update(p for p in sysconfig.get_paths().values() if p)
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some virtualenv layouts lack it
        pass
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if user_site:
        dirs.add(user_site)
    home = Path.home()
    dirs.update(str(home / d) for d in (".cache", ".ipython", ".jupyter", ".local/share/jupyter", ".config"))
    dirs.update(("/proc", "/sys", "/dev", "/etc", "/usr/share", "/usr/lib", "/lib", "/usr/local/lib"))
    dirs.update(extra)
    return tuple(sorted({os.path.join(os.path.realpath(d), "") for d in dirs if d}))


def _raw_prefixes(real: tuple[str, ...], extra: Iterable[str]) -> tuple[str, ...]:
    """``real`` (the resolved system prefixes) plus the directories as given, not resolved: what paths
    look like when code opens them."""
    given = {os.path.join(os.path.abspath(d), "") for d in (sys.prefix, sys.base_prefix, *extra) if d}
    return tuple(sorted(set(real) | given))


class AccessCollector:
    """Collects audit events while active; :meth:`drain` turns them into :class:`DataAccess` records."""

    def __init__(
        self, hash_limit: int = 64 << 20, ignore_dirs: Iterable[str] = (), hasher: Hasher | None = None
    ) -> None:
        self.hasher = hasher or Hasher(hash_limit)
        self._events: list[tuple[str, tuple]] = []
        self._active = [False]
        extra = [*ignore_dirs, tempfile.gettempdir() + "/matplotlib"]
        self._prefixes = _system_prefixes(extra)
        self._raw_prefixes = _raw_prefixes(self._prefixes, extra)
        self._real: dict[str, str] = {}
        self._ignored_files: set[str] = set()
        self._installed = False
        # files of the last drain whose sha256 is computed later: (path, mode, stat)
        self.pending_hashes: list[tuple[str, str, os.stat_result]] = []

    def ignore_file(self, path: str) -> None:
        """Never report ``path`` (and its SQLite companions), e.g. our own database."""
        real = os.path.realpath(path)
        self._ignored_files.update({real, real + "-wal", real + "-shm", real + "-journal"})

    def install(self) -> None:
        """Add the audit hook (once per process: audit hooks cannot be removed)."""
        if self._installed:
            return
        events, active, watched, code = self._events, self._active, WATCHED_EVENTS, CODE_SUFFIXES
        system = self._raw_prefixes

        def hook(event: str, args: tuple) -> None:
            if active[0] and event in watched:
                # an import reads hundreds of modules, a first model fit a hundred package metadata
                # files: drop reads of code and of library directories here, with string tests only
                if (
                    event == "open"
                    and args[1] in ("r", "rb")
                    and type(args[0]) is str
                    and (args[0].endswith(code) or args[0].startswith(system))
                ):
                    return
                events.append((event, args))

        sys.addaudithook(hook)
        self._installed = True

    def start(self) -> None:
        """Begin collecting for one execution."""
        self._events.clear()
        self._active[0] = self._installed

    def stop(self) -> None:
        """Stop collecting (the events stay until :meth:`drain`)."""
        self._active[0] = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Files provkernel itself reads or writes (``%provgraph -o``, exports) are not the cell's data."""
        was_active = self._active[0]
        self._active[0] = False
        try:
            yield
        finally:
            self._active[0] = was_active

    def drain(self) -> list[DataAccess]:
        """The distinct files and URLs touched since :meth:`start`, fingerprinted now (large files:
        ``hash`` is None here and arrives later through the hasher)."""
        self.stop()
        self.pending_hashes = []
        if not self._events:
            return []  # most cells touch no file
        events, self._events[:] = list(self._events), []
        files: dict[str, str] = {}
        urls: dict[str, None] = {}
        for event, args in events:
            if event == "open":
                opened = self._file_event(args)
                if opened is not None:
                    path, mode = opened
                    files[path] = _merge_modes(files.get(path), mode)
            elif event == "urllib.Request":
                urls[safe_text(mask_url_credentials(str(args[0])))] = None
            else:
                url = _http_send_url(args)
                if url is not None:
                    urls[safe_text(mask_url_credentials(url))] = None
        accesses = [access for path, mode in files.items() if (access := self._fingerprint(path, mode))]
        accesses.extend(DataAccess("url", url, "read") for url in _dedupe_urls(urls))
        return accesses

    def _file_event(self, args: tuple) -> tuple[str, str] | None:
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if isinstance(path, int) or path is None:
            return None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        path = os.path.abspath(os.fspath(path))
        real = self._real.get(path)
        if real is None:
            real = os.path.realpath(path)  # an lstat per path component: remember it
            if len(self._real) > 10_000:
                self._real.clear()
            self._real[path] = real
        if real in self._ignored_files or real.startswith(self._prefixes):
            return None
        kind = _mode_kind(mode, flags)
        if kind == "read" and real.endswith(CODE_SUFFIXES):
            return None  # module imports, not data
        if "__pycache__" in real:
            return None
        return path, kind

    def _fingerprint(self, path: str, mode: str) -> DataAccess | None:
        """The access with size, mtime and (for small files) hash; None for what is not a regular file."""
        try:
            st = os.stat(path)  # never blocks, unlike opening a FIFO
        except OSError:
            return DataAccess("file", safe_text(path), mode)  # gone already (a temporary file)
        if stat.S_ISDIR(st.st_mode):
            return None
        if not stat.S_ISREG(st.st_mode):
            # a pipe, socket or device: its content is a stream, not data with a fingerprint
            return DataAccess("file", safe_text(path), mode, None, None, None)
        digest, later = self.hasher.digest_now(path, st)
        if later:
            self.pending_hashes.append((path, mode, st))
        return DataAccess("file", safe_text(path), mode, st.st_size, st.st_mtime, digest)


def _mode_kind(mode: object, flags: object) -> str:
    if isinstance(mode, str):
        if "+" in mode:
            return "readwrite"
        return "write" if any(c in mode for c in "wax") else "read"
    if isinstance(flags, int):
        access = flags & os.O_ACCMODE
        if access == os.O_RDWR:
            return "readwrite"
        return "write" if access == os.O_WRONLY else "read"
    return "read"


def _merge_modes(old: str | None, new: str) -> str:
    return new if old is None or old == new else "readwrite"


def _http_send_url(args: tuple) -> str | None:
    """Reconstruct a URL from http.client's raw request bytes (requests/urllib3 use http.client)."""
    try:
        conn, data = args[0], args[1]
        if not isinstance(data, bytes | bytearray):
            return None
        first_line = bytes(data[:2048]).split(b"\r\n", 1)[0].decode("latin-1")
        method, target, _version = first_line.split(" ", 2)
    except (ValueError, IndexError, AttributeError):
        return None
    if not method.isupper() or not target:
        return None
    if target.startswith(("http://", "https://")):
        return target
    host, port = getattr(conn, "host", None), getattr(conn, "port", None)
    if not host:
        return None
    https = "HTTPS" in type(conn).__name__ or port == 443
    scheme = "https" if https else "http"
    default = 443 if https else 80
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{target}"


def _dedupe_urls(urls: dict[str, None]) -> list[str]:
    """urllib reports a request twice (as a Request and as its http.client send): keep one."""
    kept: list[str] = []
    for url in urls:
        if url.startswith("http://") and url.replace("http://", "https://", 1) in urls:
            continue
        kept.append(url)
    return kept
