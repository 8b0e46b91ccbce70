"""Failures of provkernel's own code: counted per stage, logged to the log file, stored, never shown in a cell.

The one exception is a condition the user must act on (the database cannot be written, the disk
is full): :class:`Health` keeps at most one such notice per kernel session, raised from any thread,
and the recorder shows it under the next cell as a small display (never on the cell's streams).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from provkernel.textsafety import clip, safe_text

log = logging.getLogger("provkernel")

MESSAGE_LIMIT = 2000


@dataclass(frozen=True)
class Notice:
    """Something the user must act on, said once."""

    title: str
    detail: str

    def bundle(self) -> dict[str, str]:
        """A display bundle: a one-line note, readable in a terminal and in a notebook."""
        from html import escape

        text = f"provkernel: {self.title} — {self.detail}"
        html = (
            '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;'
            "color:var(--jp-warn-color0,#8a5300);background:var(--jp-warn-color3,#fff5e0);"
            'border-left:3px solid var(--jp-warn-color1,#c77c02);padding:4px 8px;margin:2px 0">'
            f"<b>provkernel: {escape(self.title)}</b> — {escape(self.detail)}</div>"
        )
        return {"text/plain": text, "text/html": html}


class Stage:
    """The context manager of ``Health.stage`` (a class: a dozen stages run per cell, and a
    generator-based context manager costs several times more)."""

    __slots__ = ("health", "name")

    def __init__(self, health: Health, name: str) -> None:
        self.health, self.name = health, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None:
            return False
        if isinstance(exc, Exception | KeyboardInterrupt):
            self.health.failed(self.name, exc)
            return True
        return False


class _StageTable(dict):
    """Stage name → its :class:`Stage`, made on first use (looked up in C: a dozen run per cell)."""

    def __init__(self, health: Health) -> None:
        super().__init__()
        self.health = health

    def __missing__(self, name: str) -> Stage:
        stage = self[name] = Stage(self.health, name)
        return stage


class Health:
    """Per-stage failure counts, the latest messages, and the session's one notice.

    ``health.stage(name)`` runs one stage of capture (``with health.stage("data"): …``): a failure
    is counted under ``name`` and the caller goes on. ``KeyboardInterrupt`` is caught too: IPython
    would print a traceback for our handler, and the cell it arrived in has already finished.

    Args:
        store: called with (stage, message) to keep a failure in the database, when one is open.
    """

    def __init__(self, store: Callable[[str, str], None] | None = None) -> None:
        self.failures: Counter[str] = Counter()
        self.store = store
        self._lock = threading.Lock()
        self._notice: Notice | None = None
        self._notice_shown = False
        self._logged: dict[tuple[str, str], float] = {}
        # a Stage holds no state of its own: one per name, found without a Python-level call
        self.stage: Callable[[str], Stage] = _StageTable(self).__getitem__

    @property
    def total(self) -> int:
        """All failures so far."""
        return sum(self.failures.values())

    def failed(self, stage: str, exc: BaseException, *, store: bool = True) -> None:
        """Count, log (rate-limited per stage and error type) and store one failure."""
        message = clip(safe_text(f"{type(exc).__name__}: {exc}"), MESSAGE_LIMIT)
        with self._lock:
            self.failures[stage] += 1
            key, now = (stage, type(exc).__name__), time.monotonic()
            first = now - self._logged.get(key, -1e9) > 60
            if first:
                self._logged[key] = now
        if first:
            log.error("capture failed in %s", stage, exc_info=exc)
        if store and self.store is not None:
            try:
                self.store(stage, message)
            except Exception:
                log.debug("provkernel: could not store a capture error", exc_info=True)

    def raise_notice(self, title: str, detail: str) -> None:
        """Ask for a notice under the next cell (only the first one of a session is ever shown)."""
        with self._lock:
            if self._notice is None and not self._notice_shown:
                self._notice = Notice(title, detail)

    def take_notice(self) -> Notice | None:
        """The pending notice, once; None afterwards for the rest of the session."""
        if self._notice is None:  # every cell asks; a notice is raised once a session at most
            return None
        with self._lock:
            notice, self._notice = self._notice, None
            if notice is not None:
                self._notice_shown = True
            return notice

    def by_stage(self) -> dict[str, int]:
        """Failure counts per stage, most frequent first."""
        return dict(self.failures.most_common())
