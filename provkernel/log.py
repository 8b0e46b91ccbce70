"""The kernel log: provkernel's own messages go to the process's real stderr (the Jupyter server's log).

Never to ``sys.stderr`` inside a kernel, which is the running cell's output.
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "provkernel"


def kernel_logger() -> logging.Logger:
    """The ``provkernel`` logger, attached to the original stderr once."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, "_provkernel", False) for h in logger.handlers):
        stream = sys.__stderr__ or sys.stderr
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("[provkernel] %(levelname)s | %(message)s"))
        handler._provkernel = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    return logger
