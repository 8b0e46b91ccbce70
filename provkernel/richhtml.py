"""HTML for notebooks from the rich renderables every report already builds for terminals.

One renderable tree, two outputs: a terminal prints the rich objects; a notebook gets this
module's HTML of the same objects — ``Text`` as styled spans, ``Table`` as a real ``<table>``,
a diff ``Syntax`` as coloured lines — instead of a terminal dump. The HTML looks like a pandas
DataFrame in JupyterLab: it keeps the frontend's own table CSS (JupyterLab, nbconvert's lab
template and VS Code style tables) and adds only inline styles, so nothing leaks into the page and
an untrusted notebook's sanitizer can drop them without losing text. Colours are JupyterLab's
theme variables, with fallbacks that read on light and dark backgrounds; a colour never carries
meaning alone (every status is also a word).

Objects may bring their own HTML through ``__html__()`` (the markupsafe protocol), as
:class:`Snippet` does for code cut short with the full text in a ``title``.
"""

from __future__ import annotations

import io
import re
from html import escape
from typing import Any

from rich.color import ColorType
from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Column, Table
from rich.text import Text

from provkernel.theme import ACCENT, BORDER, CODE_FONT, ERROR, INFO, SUCCESS, UI_FONT, WARN

HTML_WIDTH = 160  # columns a renderable built for a width is built at for HTML (wider than a terminal)
CLIP = 80  # characters of a no-wrap cell shown before the rest moves into its title
# the terminal's standard colours as theme colours (the 16 ANSI numbers, bright ones folded in)
ANSI = {1: ERROR, 2: SUCCESS, 3: WARN, 4: INFO, 5: ACCENT, 6: INFO}
# rich's text attributes as CSS (reverse video as an outline: a swapped background would fight the theme)
STYLE_RULES = (
    ("bold", "font-weight:600"),
    ("italic", "font-style:italic"),
    ("underline", "text-decoration:underline"),
    ("strike", "text-decoration:line-through"),
    ("dim", "opacity:.7"),
    ("reverse", "outline:1px solid currentColor;padding:0 2px;border-radius:2px"),
)
NUMBER = re.compile(r"^[-+]?(\d[\d,]*(\.\d+)?|\.\d+)\s*(%|s|ms|min|KiB|MiB|GiB|kB|MB|B|×)?$")
TABLE_STYLE = (
    "border-collapse:collapse;margin:.2em 0 .8em 0;table-layout:auto;font-size:var(--jp-ui-font-size1,13px)"
)
FALLBACK_PRE = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:1.3;margin:0;background:transparent;'
    f'font-family:{CODE_FONT};font-size:var(--jp-code-font-size,13px)">{{code}}</pre>'
)


class Snippet:
    """Code (or any long text) shown cut short, with the full text on hover in HTML.

    A terminal shows ``text`` (a table column may cut it further); HTML shows at most ``limit``
    characters in the code font, and the whole of ``full`` (default ``text``) as its ``title``.
    """

    def __init__(self, text: str, full: str | None = None, limit: int = CLIP, code: bool = True) -> None:
        self.text, self.full, self.limit, self.code = text, full if full is not None else text, limit, code

    def __rich__(self) -> Text:
        return Text(self.text)

    def __html__(self) -> str:
        shown = clip(self.text, self.limit)
        title = f' title="{escape(self.full)}"' if self.full != shown else ""
        font = f' style="font-family:{CODE_FONT}"' if self.code else ""
        return f"<span{title}{font}>{escape(shown, quote=False)}</span>"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def record_console(width: int = HTML_WIDTH) -> Console:
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


def css(style: Style | None) -> str:
    """Inline CSS for a rich style: theme colours for the terminal's palette, weight, dimming."""
    if style is None:
        return ""
    rules = []
    colour = style.color
    if colour is not None and not colour.is_default:
        if colour.type == ColorType.STANDARD and colour.number is not None:
            if colour.number % 8 in ANSI:  # white, black and grey keep the theme's text colour
                rules.append(f"color:{ANSI[colour.number % 8]}")
        else:  # 256-colour palette or true colour: the colour itself
            rules.append(f"color:{colour.get_truecolor().hex}")
    rules += [rule for attribute, rule in STYLE_RULES if getattr(style, attribute)]
    return ";".join(rules)


def text_html(text: Text, con: Console) -> str:
    """Styled spans for a rich ``Text`` (line breaks kept)."""
    parts = []
    base = con.get_style(text.style) if text.style else None  # render() leaves the base style out
    for segment in text.render(con, end=""):
        content = escape(segment.text, quote=False).replace("\n", "<br>")
        style = base + segment.style if base and segment.style else base or segment.style
        rules = css(style)
        link = style.link if style else None
        if link:
            content = f'<a href="{escape(link)}" target="_blank">{content}</a>'
        parts.append(f'<span style="{rules}">{content}</span>' if rules else content)
    return "".join(parts)


def _str(text: str, con: Console) -> Text:
    # markup as the terminal reads it, without its repr highlighter (numbers and paths in colour)
    return con.render_str(text, highlight=False)


def _numeric(column: Column, cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    return column.justify == "right" or (bool(filled) and all(NUMBER.match(c.strip()) for c in filled))


def _plain(cell: Any, con: Console) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return _str(cell, con).plain
    if isinstance(cell, Snippet):
        return cell.text
    return ""


def _cell(cell: Any, column: Column, con: Console) -> str:
    """A table cell's content; no-wrap ellipsis columns are cut, with the full text as a title."""
    if hasattr(cell, "__html__"):
        return cell.__html__()
    if isinstance(cell, str):
        cell = _str(cell, con)
    if not isinstance(cell, Text):
        return to_html_fragment(cell, con)
    cell = cell.copy()
    if column.style:
        cell.stylize(column.style, 0)
    limit = max(column.max_width or CLIP, 12)
    if column.overflow == "ellipsis" and len(cell.plain) > limit:
        full = cell.plain
        cell.truncate(limit, overflow="ellipsis")
        return f'<span title="{escape(full)}">{text_html(cell, con)}</span>'
    return text_html(cell, con)


def table_html(table: Table, con: Console) -> str:
    """A ``<table>`` under the table's title, numbers right-aligned, its caption after it."""
    columns = table.columns
    cells = [list(column.cells) for column in columns]
    aligns = []
    for column, column_cells in zip(columns, cells, strict=True):
        right = _numeric(column, [_plain(c, con) for c in column_cells])
        nowrap = ";white-space:nowrap" if column.no_wrap else ""
        aligns.append(
            f"text-align:{'right' if right else 'left'};padding:.25em .7em;vertical-align:top{nowrap}"
        )
    parts = [f'<table class="pk-table" style="{TABLE_STYLE}">']
    if table.title:
        title = table.title if isinstance(table.title, Text) else _str(table.title, con)
        # a heading rather than a <caption>: a caption wraps at the width of a narrow table
        parts.insert(0, f'<div style="font-weight:600;margin:.5em 0 .1em 0">{text_html(title, con)}</div>')
    if table.show_header and any(_plain(c.header, con) for c in columns):
        head = "".join(
            f'<th style="{align}">{_header(column, con)}</th>'
            for column, align in zip(columns, aligns, strict=True)
        )
        parts.append(f'<thead><tr style="border-bottom:1px solid {BORDER}">{head}</tr></thead>')
    parts.append("<tbody>")
    for index in range(table.row_count):
        row = table.rows[index]
        row_style = css(con.get_style(row.style)) if row.style else ""
        tds = "".join(
            f'<td style="{align}">{_cell(column_cells[index], column, con)}</td>'
            for column, column_cells, align in zip(columns, cells, aligns, strict=True)
            if index < len(column_cells)
        )
        parts.append(f'<tr style="{row_style}">{tds}</tr>' if row_style else f"<tr>{tds}</tr>")
    parts.append("</tbody></table>")
    if table.caption:
        caption = table.caption if isinstance(table.caption, Text) else _str(table.caption, con)
        parts.append(f'<div style="opacity:.7;margin:-.5em 0 .8em 0">{text_html(caption, con)}</div>')
    return "".join(parts)


def _header(column: Column, con: Console) -> str:
    header = column.header
    if isinstance(header, str):
        header = _str(header, con)
    return text_html(header, con) if isinstance(header, Text) else escape(str(header))


def syntax_html(syntax: Syntax) -> str:
    """Code in a ``<pre>``; a diff gets its added and removed lines coloured (and keeps its +/-)."""
    lexer = syntax.lexer
    is_diff = lexer is not None and "diff" in getattr(lexer, "aliases", ())
    lines = []
    for line in syntax.code.splitlines():
        colour = ""
        if is_diff and line.startswith("+") and not line.startswith("+++"):
            colour = f"color:{SUCCESS};background:rgba(56,142,60,.10)"
        elif is_diff and line.startswith("-") and not line.startswith("---"):
            colour = f"color:{ERROR};background:rgba(211,47,47,.10)"
        elif is_diff and line.startswith(("@@", "+++", "---")):
            colour = "opacity:.7"
        content = escape(line, quote=False) or " "
        lines.append(f'<span style="display:block;{colour}">{content}</span>' if colour else content + "\n")
    return (
        f'<pre style="margin:.2em 0;padding:.4em .6em;overflow-x:auto;border:1px solid {BORDER};'
        f"border-radius:3px;background:transparent;font-family:{CODE_FONT};"
        f'font-size:var(--jp-code-font-size,13px);line-height:1.35">{"".join(lines)}</pre>'
    )


def _fallback(renderable: RenderableType, width: int) -> str:
    recorder = record_console(width)
    recorder.print(renderable)
    return recorder.export_html(inline_styles=True, code_format=FALLBACK_PRE)


def _children(renderable: Any, con: Console) -> list[Any] | None:
    """What a custom renderable yields, or None if it draws itself (segments)."""
    children = list(renderable.__rich_console__(con, con.options))
    return None if any(isinstance(child, Segment) for child in children) else children


def to_html_fragment(renderable: Any, con: Console) -> str:
    """The HTML of one renderable (no wrapper)."""
    if hasattr(renderable, "__html__"):
        return renderable.__html__()
    if isinstance(renderable, str):
        renderable = _str(renderable, con)
    if isinstance(renderable, Text):
        return f'<div style="white-space:pre-wrap;margin:.15em 0">{text_html(renderable, con)}</div>'
    if isinstance(renderable, Table):
        return table_html(renderable, con)
    if isinstance(renderable, Syntax):
        return syntax_html(renderable)
    if isinstance(renderable, Group):
        return "".join(to_html_fragment(child, con) for child in renderable.renderables)
    if hasattr(renderable, "__rich__"):
        return to_html_fragment(renderable.__rich__(), con)
    if hasattr(renderable, "__rich_console__"):
        children = _children(renderable, con)
        if children is not None:
            return "".join(to_html_fragment(child, con) for child in children)
    return _fallback(renderable, con.width)


def to_html(renderable: RenderableType, kind: str | None = None) -> str:
    """A self-contained ``<div>`` for a renderable: the notebook's ``text/html`` (class
    ``provkernel-report`` and ``provkernel-<kind>``, for tests and user stylesheets)."""
    con = record_console()
    body = to_html_fragment(renderable, con)
    classes = "provkernel-report" + (f" provkernel-{escape(kind)}" if kind and kind != "report" else "")
    return (
        f'<div class="{classes}" '
        f'style="font-family:{UI_FONT};font-size:var(--jp-ui-font-size1,13px);line-height:1.4;'
        f'max-width:100%;overflow-x:auto">{body}</div>'
    )
