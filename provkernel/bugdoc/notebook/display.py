"""Showing a ``%bugdoc`` run: a live display that turns into the report, in a notebook or a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from provkernel.bugdoc.engine.space import Outcome
from provkernel.bugdoc.notebook.notebook_report import BugDocReport, Progress
from provkernel.render import mime_bundle

REFRESH_S = 0.25


class NotebookLive:
    """A display that is updated in place (JupyterLab, Notebook, VS Code, nbclient)."""

    def __init__(self, progress: Progress) -> None:
        from IPython.display import display

        self.progress = progress
        self._last = 0.0
        self.handle = display(mime_bundle(progress.renderable()), raw=True, display_id=True)

    def update(self, instance: dict[str, Any], outcome: Outcome, new: bool) -> None:
        self.progress.update(instance, outcome, new)
        now = time.monotonic()
        if now - self._last >= REFRESH_S:
            self._last = now
            self.handle.update(mime_bundle(self.progress.renderable()), raw=True)

    def finish(self, report: BugDocReport | None, message: str | None = None) -> None:
        if report is not None:
            self.handle.update(report._repr_mimebundle_(), raw=True)
        else:
            self.handle.update({"text/plain": message or ""}, raw=True)


class TerminalLive:
    """A rich Live view in a terminal (the CLI)."""

    def __init__(self, progress: Progress, console) -> None:
        from rich.live import Live

        self.progress = progress
        self.live = Live(progress.renderable(), console=console, refresh_per_second=4, transient=True)
        self.live.start()

    def update(self, instance: dict[str, Any], outcome: Outcome, new: bool) -> None:
        self.progress.update(instance, outcome, new)
        self.live.update(self.progress.renderable())

    def finish(self, report: BugDocReport | None, message: str | None = None) -> None:
        self.live.stop()


Callback = Callable[[dict[str, Any], Outcome, bool], None]
