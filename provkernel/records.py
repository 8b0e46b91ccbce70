"""Plain records that flow from capture to the store: no IPython, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class EpochFacts:
    """One kernel process lifetime: where and with what it runs."""

    started: float
    pid: int
    hostname: str
    user: str
    os: str
    python: str
    implementation: str
    ipython: str
    ipykernel: str
    provkernel: str
    executable: str
    cwd: str
    kernel: str  # "provkernel" for our kernel, "extension" for %load_ext in another kernel


class SymbolEvent(NamedTuple):
    """A name used, defined, updated in place or deleted by an execution.

    ``source`` is, for uses and updates, the id of the execution (same epoch) that last
    defined or updated the name; ``value`` is the repr of a defined scalar value. (A tuple: a
    cell makes dozens of these, on the path of every execution.)
    """

    name: str
    kind: int
    source: int | None = None
    value: str | None = None


@dataclass(frozen=True)
class DataAccess:
    """A file or URL an execution read or wrote."""

    kind: str  # "file" | "url"
    location: str
    mode: str  # "read" | "write" | "readwrite"
    size: int | None = None
    mtime: float | None = None
    hash: str | None = None  # "sha256:<hex>" or "stat:<size>:<mtime_ns>"


@dataclass(frozen=True)
class OutputRecord:
    """One MIME entry of one rich output of an execution."""

    seq: int
    mime: str
    hash: str


@dataclass
class ExecutionRecord:
    """Everything recorded about one finished execute request."""

    execution_id: int
    ended: float
    status: str  # "ok" | "error" | "aborted"
    symbols: list[SymbolEvent] = field(default_factory=list)
    data: list[DataAccess] = field(default_factory=list)
    outputs: list[OutputRecord] = field(default_factory=list)
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] | None = None
    states: dict[str, str] = field(default_factory=dict)  # name → JSON of its object's shape afterwards


@dataclass(frozen=True)
class LibraryRecord:
    """A top-level package present in an epoch, with the version its environment resolves."""

    name: str
    distribution: str | None
    version: str | None
    kind: str  # "direct" (imported by a cell) | "indirect" (pulled in) | "stdlib"
    first_execution_id: int | None
