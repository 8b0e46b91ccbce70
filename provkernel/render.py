"""Reports as renderables: the same object prints in a terminal (rich) and displays in a notebook.

A :class:`Report` yields rich renderables and a JSON form; :meth:`Report._repr_mimebundle_`
gives JupyterLab ``text/html`` (inline styles, readable in light and dark themes),
``text/plain`` (``jupyter console``, logs) and ``application/json`` (scripts).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

PLAIN_WIDTH = 110
HTML_TEMPLATE = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:1.3;'
    "font-family:var(--jp-code-font-family,Menlo,Consolas,'DejaVu Sans Mono',monospace);"
    'font-size:var(--jp-code-font-size,13px);background:transparent">{code}</pre>'
)


def record_console(width: int = PLAIN_WIDTH) -> Console:
    """A console that renders into memory, identical in every environment (no terminal detection)."""
    return Console(
        record=True,
        file=io.StringIO(),
        width=width,
        force_jupyter=False,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )


def to_text(renderable: RenderableType, width: int = PLAIN_WIDTH) -> str:
    """Plain text of a renderable (no ANSI codes)."""
    console = record_console(width)
    console.print(renderable)
    return console.export_text(styles=False).rstrip() + "\n"


def mime_bundle(
    renderable: RenderableType, json_data: Any = None, width: int = PLAIN_WIDTH
) -> dict[str, Any]:
    """``text/plain`` + ``text/html`` (+ ``application/json``) for a rich renderable."""
    console = record_console(width)
    console.print(renderable)
    html = console.export_html(inline_styles=True, code_format=HTML_TEMPLATE, clear=False)
    bundle: dict[str, Any] = {"text/plain": console.export_text(styles=False).rstrip(), "text/html": html}
    if json_data is not None:
        bundle["application/json"] = json.loads(json.dumps(json_data, default=str))
    return bundle


class Report:
    """Base class of everything ``%prov`` and the CLI show."""

    def renderables(self) -> Iterable[RenderableType]:
        """What to print, in order."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """The report as JSON-serialisable data (``--json``)."""
        raise NotImplementedError

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.renderables()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return mime_bundle(self, self.to_json())

    def __repr__(self) -> str:
        return to_text(self)
