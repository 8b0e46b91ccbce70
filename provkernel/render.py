"""Reports as renderables: the same object prints in a terminal (rich) and displays in a notebook.

A :class:`Report` yields rich renderables and a JSON form; :meth:`Report._repr_mimebundle_`
gives ``text/html`` (real tables, :mod:`provkernel.richhtml`), ``text/plain`` (``jupyter
console``, logs) and the JSON under ``application/vnd.provkernel.<kind>+json`` (scripts). Never
plain ``application/json``: JupyterLab and Notebook 7 rank it above ``text/html`` and would show
a JSON tree; no frontend has a renderer for the vendor type, so they show the HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from provkernel.richhtml import record_console, to_html

PLAIN_WIDTH = 110


def vendor_mime(kind: str) -> str:
    """The MIME type of a report's JSON: ``application/vnd.provkernel.<kind>+json``."""
    return f"application/vnd.provkernel.{kind}+json"


def to_text(renderable: RenderableType, width: int = PLAIN_WIDTH) -> str:
    """Plain text of a renderable (no ANSI codes)."""
    console = record_console(width)
    console.print(renderable)
    return console.export_text(styles=False).rstrip() + "\n"


def json_payload(data: Any) -> Any:
    """``data`` made JSON-safe (values JSON lacks become strings)."""
    return json.loads(json.dumps(data, default=str))


def mime_bundle(renderable: RenderableType, json_data: Any = None, kind: str = "report") -> dict[str, Any]:
    """``text/plain`` + ``text/html`` (+ the JSON under the report's vendor type) for a renderable."""
    bundle: dict[str, Any] = {
        "text/plain": to_text(renderable).rstrip(),
        "text/html": to_html(renderable, kind),
    }
    if json_data is not None:
        bundle[vendor_mime(kind)] = json_payload(json_data)
    return bundle


class Report:
    """Base class of everything ``%prov`` and the CLI show; ``kind`` names its JSON's MIME type."""

    kind = "report"

    def renderables(self) -> Iterable[RenderableType]:
        """What to print, in order."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """The report as JSON-serialisable data (``--json``)."""
        raise NotImplementedError

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.renderables()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return mime_bundle(self, self.to_json(), self.kind)

    def __repr__(self) -> str:
        return to_text(self)
