"""The kernel log: provkernel's own messages go to a private, rotated file beside the database.

Never to a stream. Inside a kernel, ``sys.stderr`` is the running cell's output, and ipykernel
also captures the process's file descriptor 2, so even ``sys.__stderr__`` lands under the user's
cell (../shared/notes/jupyter-conventions.md §2). Until a file is configured, and if none can be
created, messages are dropped (a ``NullHandler`` also keeps :data:`logging.lastResort` from
printing them to stderr); failures are counted and stored by the recorder either way.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

LOGGER_NAME = "provkernel"
LOG_FILE = "provkernel.log"
MAX_BYTES = 1 << 20
BACKUPS = 2
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s | %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are readable by their owner only, whatever the umask.

    Logged messages can quote code and error messages, so they get the database's permissions, and
    pass through the same secret scrubbing as stored text (:func:`scrub_log_with`).
    """

    scrub: Callable[[str], str] | None = None

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        scrub = PrivateRotatingFileHandler.scrub
        return scrub(text) if scrub is not None else text

    def handleError(self, record: logging.LogRecord) -> None:
        """A full disk must not make logging print "--- Logging error ---" into the cell."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors="backslashreplace")


def scrub_log_with(scrub: Callable[[str], str] | None) -> None:
    """Pass every logged line through ``scrub`` (secret values, URL passwords)."""
    PrivateRotatingFileHandler.scrub = scrub


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (``mkdir -p`` would apply the umask)."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another kernel created it at the same moment
        os.chmod(directory, 0o700)


def kernel_logger() -> logging.Logger:
    """The ``provkernel`` logger; it never writes to a stream, and drops messages until a file is set."""
    logger = logging.getLogger(LOGGER_NAME)
    if not getattr(logger, "_provkernel_ready", False):
        logger.propagate = False
        logger.addHandler(logging.NullHandler())
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        logger._provkernel_ready = True  # type: ignore[attr-defined]
    return logger


def log_to_file(directory: str | os.PathLike | None) -> str | None:
    """Send the log to ``<directory>/provkernel.log`` (else a private folder in the temp dir); its path.

    Returns None when no file could be opened anywhere (messages are then dropped).
    """
    logger = kernel_logger()
    for handler in list(logger.handlers):
        if isinstance(handler, PrivateRotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()
    candidates = [Path(directory)] if directory else []
    candidates.append(Path(tempfile.gettempdir()) / f"provkernel-{os.getuid()}")
    for folder in candidates:
        try:
            make_private_dirs(folder)
            handler = PrivateRotatingFileHandler(
                folder / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=False
            )
        except OSError:
            continue
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
        return handler.baseFilename
    return None
