"""The records lineage analyses work on: executions, symbol events, data accesses.

Built from the plain dict rows :class:`provkernel.store.queries.Queries` returns; no SQL here.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from provkernel.capture.fingerprint import from_json
from provkernel.secrets import mask_url_credentials

USE, DEF, UPDATE, DELETE = 0, 1, 2, 3  # symbol event kinds, as stored (store.schema)
WRITES = (DEF, UPDATE)


@functools.lru_cache(maxsize=4096)  # the same code is shown for every run of a cell
def first_line(code: str, limit: int = 60) -> str:
    """The first non-blank, non-comment line of ``code``, shortened to ``limit`` characters."""
    lines = [line.strip() for line in mask_url_credentials(code).splitlines() if line.strip()]
    line = next((ln for ln in lines if not ln.startswith("#")), lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class Execution:
    """One execution of a cell.

    ``cell`` identifies the cell: the frontend's cell id, else ``code:<hash>`` (DESIGN.md "Identity").
    """

    id: int
    epoch: int
    count: int | None
    cell: str
    cell_id: str | None
    code_hash: str
    code: str
    started: float
    ended: float | None
    status: str
    ename: str | None = None
    evalue: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Execution:
        """From a row of ``Queries.executions``."""
        return cls(
            id=row["id"],
            epoch=row["epoch"],
            count=row["count"],
            cell=row["cell_id"] or f"code:{row['code_hash']}",
            cell_id=row["cell_id"],
            code_hash=row["code_hash"],
            code=row["code"],
            started=row["started"],
            ended=row["ended"],
            status=row["status"],
            ename=row.get("ename"),
            evalue=row.get("evalue"),
        )

    @property
    def shown_code(self) -> str:
        """The code as reports and exports show it: passwords in URLs masked (the stored code is kept
        as typed, so ``%bugdoc`` can run it again)."""
        return mask_url_credentials(self.code)

    @property
    def first_line(self) -> str:
        """First meaningful line of the code."""
        return first_line(self.code)

    @property
    def tag(self) -> str:
        """``[12]`` as the notebook shows it (``[*]`` without an execution count)."""
        return f"[{self.count}]" if self.count is not None else "[*]"

    @property
    def crashed(self) -> bool:
        """The execution raised, was aborted or killed its kernel."""
        return self.status in ("error", "died")

    @property
    def duration(self) -> float | None:
        """Seconds from request to end, if it ended."""
        return None if self.ended is None else max(0.0, self.ended - self.started)


@dataclass(frozen=True)
class Event:
    """A name an execution used (``source``: the execution it read from), defined, updated or deleted."""

    execution_id: int
    kind: int
    name: str
    source: int | None = None
    value: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Event:
        """From a row of ``Queries.symbols``."""
        return cls(row["execution_id"], row["kind"], row["name"], row["source"], row["value"])


@dataclass(frozen=True)
class State:
    """What the object behind a name looked like after an execution wrote it (a fingerprint's structure:
    ``("DataFrame", rows, ((column, dtype), …))``, ``("list", 3)``, ``("estimator", "SVC", fitted, steps)``)."""

    execution_id: int
    name: str
    shape: tuple

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> State:
        """From a row of ``Queries.states``."""
        return cls(row["execution_id"], row["name"], from_json(json.loads(row["shape"])))


@dataclass(frozen=True)
class Access:
    """A file or URL an execution read or wrote, with the content fingerprint seen then."""

    execution_id: int
    kind: str
    location: str
    mode: str
    hash: str | None = None
    size: int | None = None
    mtime: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Access:
        """From a row of ``Queries.data_accesses``."""
        return cls(
            row["execution_id"],
            row["kind"],
            row["location"],
            row["mode"],
            row["hash"],
            row["size"],
            row["mtime"],
        )

    @property
    def reads(self) -> bool:
        """The execution read the content."""
        return self.mode in ("read", "readwrite")

    @property
    def writes(self) -> bool:
        """The execution wrote the content."""
        return self.mode in ("write", "readwrite")


@dataclass(frozen=True)
class Library:
    """A package present in an epoch."""

    name: str
    distribution: str | None
    version: str | None
    kind: str
    first_execution_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Library:
        """From a row of ``Queries.libraries``."""
        return cls(row["name"], row["distribution"], row["version"], row["kind"], row["first_execution_id"])
