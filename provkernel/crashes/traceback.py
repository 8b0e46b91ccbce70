"""Parse the traceback of a Jupyter ``error`` output into frames and exception blocks.

Handles both IPython frame styles (``Cell In[25], line 2`` / ``Input In [3]`` and the older
``<ipython-input-15-…> in <module>``), ipykernel temp-file cells, plain Python frames, ANSI
colour codes, VS Code cell links, library frames (``site-packages/pandas/…``) and chained
exceptions ("The above exception was the direct cause …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_ANSI = re.compile(r"\x1b(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")
_LITERAL_ANSI = re.compile(r"\\x1b\[[0-9;]*m")  # escapes stored as text, as in the paper's data
_HTML_TAG = re.compile(r"</?a\b[^>]*>")
_CHAIN = re.compile(
    r"^\s*(The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)\s*$"
)
_HEADER = re.compile(r"^\s*([\w.]+)\s+Traceback \(most recent call last\)\s*$")
_MARKER = re.compile(r"^\s*-+>\s*(\d+)\s?(.*)$")
_NUMBERED = re.compile(r"^\s*(\d+)\s(.*)$")

# Frame headers, tried in order: (regex, kind); groups are named.
_FRAME_HEADERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\s*Cell\s+In\s*\[(?P<count>\d*)\],\s*line\s+(?P<line>\d+)(?:,\s*in\s+(?P<func>.+?))?\s*$"),
    re.compile(
        r"^\s*Input\s+In\s*\[(?P<count>\d*)\](?:,\s*(?:line\s+(?P<line>\d+),\s*)?in\s+(?P<func>.+?))?\s*$"
    ),
    re.compile(r"^\s*(?P<path><ipython-input-(?P<count>\d+)-[0-9a-f]+>)\s+in\s+(?P<func>.+?)\s*$"),
    re.compile(r"^\s*(?P<path><timed (?:exec|eval)>)\s+in\s+(?P<func>.+?)\s*$"),
    re.compile(r"^\s*(?P<path>\S.*?\.ipynb Cell \d+'?)\s+in\s+(?P<func>.+?)\s*$"),
    re.compile(r'^\s*File\s+"(?P<path>[^"]+)",\s+line\s+(?P<line>\d+)(?:,\s+in\s+(?P<func>.+?))?\s*$'),
    re.compile(r"^\s*File\s+(?P<path>.+?):(?P<line>\d+)(?:,\s+in\s+(?P<func>.+?))?\s*$"),
    re.compile(
        r"^\s*(?P<path>(?:[A-Za-z]:)?[~/\\.\w][^\n]*?\.(?:py|pyx|pxi|pyc|pyd|so))\s+in\s+(?P<func>\S.*?)\s*$"
    ),
)
_IPYTHON_INPUT = re.compile(r"<ipython-input-(\d+)-[0-9a-f]+>")
_IPYKERNEL_FILE = re.compile(r"ipykernel_\d+[\\/]\d+\.py$")
_CELL_PATH = re.compile(r"^<(?:ipython|timed |string>)|\.ipynb Cell \d+'?$")
_PACKAGES_DIR = re.compile(r"(?:site|dist)-packages[\\/]+([A-Za-z_][\w]*)")
_STDLIB = re.compile(r"(?:[\\/]lib[\\/]+python\d[\d.]*[\\/]|[\\/]Lib[\\/]|^<frozen )")


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback.

    Attributes:
        kind: ``"cell"`` (notebook code), ``"library"`` (an installed package), ``"stdlib"`` or
            ``"file"`` (any other source file, e.g. a local module).
        path: The file path, or the cell label (``In[25]``, ``<ipython-input-15-…>``).
        function: The function name (``<module>`` for top-level code), when shown.
        line: The line number the frame stopped at.
        code: That line's source text ("" when the traceback does not show it).
        execution_count: For cell frames, the ``In[n]`` number when shown.
        package: For library frames, the top-level module (``pandas``, ``keras``); else None.
    """

    kind: str
    path: str
    function: str | None = None
    line: int | None = None
    code: str = ""
    execution_count: int | None = None
    package: str | None = None


@dataclass(frozen=True)
class ExceptionBlock:
    """One exception of a (possibly chained) traceback: its name, message and frames."""

    ename: str
    evalue: str
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True)
class ParsedTraceback:
    """A traceback taken apart.

    Attributes:
        ename: The exception's name as given.
        evalue: Its message, recovered when IPython wrote ``"ignored"`` and de-noised as in the
            paper (first informative line, at most 400 characters).
        message: The full message (all lines), for rules that need more than the first line.
        frames: The frames of the raised exception, outermost first.
        causes: Earlier exceptions of a chain (``raise … from`` or raised while handling), oldest first.
        text: The whole traceback as plain text.
    """

    ename: str
    evalue: str
    message: str = ""
    frames: tuple[Frame, ...] = ()
    causes: tuple[ExceptionBlock, ...] = ()
    text: str = ""
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def cell_frames(self) -> tuple[Frame, ...]:
        """Frames in notebook code, outermost first."""
        return tuple(f for f in self.frames if f.kind == "cell")

    @property
    def library_frames(self) -> tuple[Frame, ...]:
        """Frames in installed packages, outermost first."""
        return tuple(f for f in self.frames if f.kind == "library")

    @property
    def crash_line(self) -> int | None:
        """Line of the innermost notebook cell frame (None when no cell frame is known)."""
        return self.cell_frames[-1].line if self.cell_frames else None

    @property
    def crash_code(self) -> str:
        """The notebook line that was running: the innermost cell frame's code, else the outermost frame's."""
        for frame in reversed(self.frames):
            if frame.kind == "cell" and frame.code:
                return frame.code
        return next((f.code for f in self.frames if f.code), "")

    @property
    def execution_count(self) -> int | None:
        """The ``In[n]`` of the cell that crashed, when the traceback (or a chained exception's) shows it."""
        for frames in (self.frames, *(block.frames for block in reversed(self.causes))):
            for frame in frames:
                if frame.kind == "cell" and frame.execution_count is not None:
                    return frame.execution_count
        return None

    @property
    def raised_in_library(self) -> bool:
        """Whether the innermost frame belongs to an installed package or the standard library."""
        return bool(self.frames) and self.frames[-1].kind in {"library", "stdlib"}


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (real ESC characters or ``\\x1b[…m`` written out as text)."""
    return _LITERAL_ANSI.sub("", _ANSI.sub("", text))


def package_of(path: str) -> str | None:
    """The top-level package of a file under ``site-packages``/``dist-packages``, else None."""
    match = _PACKAGES_DIR.search(path)
    return match.group(1) if match else None


def _frame_from_header(match: re.Match[str], known_packages: frozenset[str]) -> Frame:
    groups = match.groupdict()
    path = (groups.get("path") or "").strip()
    count_text = groups.get("count")
    line_text = groups.get("line")
    function = groups.get("func")
    count = int(count_text) if count_text else None
    if not path:  # "Cell In[25]" / "Input In [3]"
        return Frame("cell", f"In[{count_text}]", function, int(line_text) if line_text else None, "", count)
    ipython_input = _IPYTHON_INPUT.search(path)
    if ipython_input or _IPYKERNEL_FILE.search(path) or _CELL_PATH.search(path):
        count = int(ipython_input.group(1)) if ipython_input else None
        return Frame("cell", path, function, int(line_text) if line_text else None, "", count)
    package = package_of(path)
    if package is None:
        head = re.split(r"[\\/]", path.lstrip("./\\"), maxsplit=1)[0]
        if head in known_packages and not path.startswith(("/", "~")):
            package = head  # Cython frames: "File pandas/_libs/index.pyx:172"
    if package:
        kind = "library"
    elif _STDLIB.search(path):
        kind = "stdlib"
    else:
        kind = "file"
    return Frame(kind, path, function, int(line_text) if line_text else None, "", None, package)


def _match_header(line: str, known_packages: frozenset[str]) -> Frame | None:
    for pattern in _FRAME_HEADERS:
        match = pattern.match(line)
        if match:
            return _frame_from_header(match, known_packages)
    return None


def _exception_line(line: str, ename: str) -> str | None:
    """The message if ``line`` is ``"<ename>: message"`` (``ename`` possibly dotted), else None."""
    stripped = line.strip()
    if not ename:
        return None
    match = re.match(rf"^(?:[\w.]+\.)?{re.escape(ename)}\s*(?::\s?(.*))?$", stripped, re.IGNORECASE)
    if match is None:
        return None
    return match.group(1) or ""


@dataclass
class _Block:
    ename: str = ""
    frames: list[Frame] = field(default_factory=list)
    message_lines: list[str] = field(default_factory=list)
    in_message: bool = False


def _attach_code(frames: list[Frame], line: str) -> None:
    """Record the crash line of the current frame from a ``---->`` marker or a plain Python frame."""
    if not frames:
        return
    frame = frames[-1]
    marker = _MARKER.match(line)
    if marker and not frame.code:
        frames[-1] = replace(frame, line=int(marker.group(1)), code=marker.group(2).strip())
    elif not marker and not frame.code and frame.line is not None and line.strip():
        numbered = _NUMBERED.match(line)
        if numbered is None and not line.strip().startswith("^"):
            frames[-1] = replace(frame, code=line.strip())


def parse_traceback(
    ename: str,
    evalue: str,
    traceback: list[str] | tuple[str, ...],
    known_packages: frozenset[str] = frozenset(),
) -> ParsedTraceback:
    """Take a Jupyter error output apart.

    Args:
        ename: The exception name (any case).
        evalue: The message; ``"ignored"`` or empty is recovered from the traceback.
        traceback: The output's ``traceback`` list of chunks (ANSI codes allowed).
        known_packages: Top-level module names that identify library frames given by relative path.

    Returns:
        The parsed traceback; never raises on malformed input.
    """
    chunks = [strip_ansi(str(chunk)) for chunk in traceback or ()]
    text = _HTML_TAG.sub("", "\n".join(chunks))
    lines = tuple(text.splitlines())
    blocks: list[_Block] = [_Block()]
    for line in lines:
        block = blocks[-1]
        if _CHAIN.match(line):
            blocks.append(_Block())
            continue
        header = None if block.in_message else _HEADER.match(line)
        if header:
            if block.frames or block.message_lines:
                blocks.append(_Block())
                block = blocks[-1]
            block.ename = header.group(1).rsplit(".", 1)[-1]
            block.in_message = False
            continue
        if set(line.strip()) == {"-"}:
            continue
        frame = _match_header(line, known_packages)
        if frame is not None and not block.in_message:
            block.frames.append(frame)
            continue
        message = _exception_line(line, block.ename or ename)
        if message is not None and not _MARKER.match(line):
            block.in_message = True
            block.message_lines = [message]
            continue
        if block.in_message:
            block.message_lines.append(line)
        else:
            _attach_code(block.frames, line)
    blocks = [b for b in blocks if b.frames or b.message_lines or b.ename]
    final = blocks[-1] if blocks else _Block()
    message = "\n".join(final.message_lines).strip()
    given = (evalue or "").strip()
    if not given or given == "ignored":
        given = message or recover_evalue(ename, lines)
    full = given if len(given) >= len(message) else message
    causes = tuple(
        ExceptionBlock(b.ename, "\n".join(b.message_lines).strip(), tuple(b.frames)) for b in blocks[:-1]
    )
    return ParsedTraceback(
        ename=ename,
        evalue=clean_evalue(ename, given),
        message=full,
        frames=tuple(final.frames),
        causes=causes,
        text=text,
        lines=lines,
    )


def recover_evalue(ename: str, lines: tuple[str, ...] | list[str]) -> str:
    """The message for an ``evalue`` IPython wrote as ``"ignored"``: the last ``"<ename>: …"`` line."""
    wanted = ename.lower()
    for line in reversed(lines):
        head, sep, tail = line.partition(":")
        if sep and head.strip().lower().rsplit(".", 1)[-1] == wanted:
            return tail.strip()
    return ""


def clean_evalue(ename: str, evalue: str, max_len: int = 400) -> str:
    """De-noise a message as the paper did: first informative line, at most ``max_len`` characters.

    TensorFlow/Keras dumps (``in user code:``) and messages starting with a blank line yield their
    last ``"<ename>: …"`` line instead.
    """
    lines = evalue.splitlines() or [""]
    if not lines[0].strip() or "in user code:" in lines[0]:
        for line in reversed(lines):
            if f"{ename}:".lower() in line.lower():
                return line.split(":", 1)[1].strip()[:max_len]
        informative = [line.strip() for line in lines if line.strip()]
        return (informative[-1] if informative else "")[:max_len]
    return lines[0].strip()[:max_len]
