"""The signal table (``signals.toml``): exception name + message pattern -> crash type, root cause, advice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

# Library policies for a rule.
AUTO = "auto"  # attribute from frames, exception and crash line
FRAMES = "frames"  # only when a library frame shows it (plain programming errors)
MESSAGE = "message"  # what the exception or message names first (the framework that ran out), then as AUTO

from provkernel.crashes.datafiles import load_table


@dataclass(frozen=True)
class Rule:
    """One signal: when it matches, what it means and what to do.

    Attributes:
        crash_type: Fine crash-type label; "" means the exception's default (:data:`DEFAULT_CRASH_TYPES`).
        root_cause: Fine root-cause label.
        why: Evidence sentence (what the message shows).
        suggestion: What the user should do.
        enames: Lower-case exception names the rule applies to; empty means any.
        pattern: Regular expression searched (case-insensitively) in the message; None means any.
        library: ``AUTO``, ``FRAMES``, None (never a library), or a fixed library name.
        user_code_root: Root cause to use instead when no library is involved (no library frame and no
            library call on the crash line).
        raised: ``"library"`` to apply only when the innermost frame is in an installed package or the
            standard library, ``"user"`` only when it is in notebook code or a local file; None for both.
        code: Regular expression searched in the crash line (the notebook code that ran) instead of the
            message; None means the message pattern alone decides.
    """

    crash_type: str
    root_cause: str
    why: str
    suggestion: str
    enames: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None
    library: str | None = AUTO
    user_code_root: str | None = None
    raised: str | None = None
    code: re.Pattern[str] | None = None

    def matches(self, ename: str, message: str, in_library: bool = False, crash_code: str = "") -> bool:
        """Whether this rule applies to a (lower-case) exception name, message, place raised and crash line."""
        if self.enames and ename not in self.enames:
            return False
        if self.raised is not None and (self.raised == "library") != in_library:
            return False
        if self.code is not None and self.code.search(crash_code) is None:
            return False
        return self.pattern is None or self.pattern.search(message) is not None


@dataclass(frozen=True)
class Refinement:
    """A message family that says where the bug is whatever rule named the crash type.

    Attributes:
        root_cause: Fine root-cause label that replaces the rule's.
        why: Evidence sentence appended to the rule's.
        suggestion: What the user should do instead.
        pattern: Regular expression searched (case-insensitively) in the message.
        replaces: Fine root causes this refinement overrides (others are kept).
    """

    root_cause: str
    why: str
    suggestion: str
    pattern: re.Pattern[str]
    replaces: frozenset[str]


def _regex(value: str | list[str] | None) -> re.Pattern[str] | None:
    """A case-insensitive pattern from one expression or a list of alternatives; None when absent."""
    if isinstance(value, list):
        value = "|".join(value)
    return re.compile(value, re.IGNORECASE) if value else None


def _from_table(entry: dict[str, Any]) -> Rule:
    library = entry.get("library", AUTO)
    return Rule(
        crash_type=entry["crash_type"],
        root_cause=entry["root_cause"],
        why=entry["why"],
        suggestion=entry["suggestion"],
        enames=frozenset(entry.get("enames", ())),
        pattern=_regex(entry.get("pattern")),
        library=None if library == "none" else library,
        user_code_root=entry.get("user_code_root"),
        raised=entry.get("raised"),
        code=_regex(entry.get("code")),
    )


@cache
def _table() -> dict[str, Any]:
    return load_table("signals.toml")


@cache
def rules() -> tuple[Rule, ...]:
    """The ordered rules of ``signals.toml``."""
    return tuple(_from_table(entry) for entry in _table()["rule"])


@cache
def refinements() -> tuple[Refinement, ...]:
    """The ordered ``[[refine]]`` entries of ``signals.toml``."""
    return tuple(
        Refinement(
            root_cause=entry["root_cause"],
            why=entry["why"],
            suggestion=entry["suggestion"],
            pattern=_regex(entry["pattern"]) or re.compile("(?!)"),  # an empty family matches nothing
            replaces=frozenset(entry["replaces"]),
        )
        for entry in _table().get("refine", ())
    )


@dataclass(frozen=True)
class Fact:
    """A fact a message states, worth its own evidence line (``[[fact]]`` in ``signals.toml``)."""

    pattern: re.Pattern[str]
    text: str


@cache
def facts() -> tuple[Fact, ...]:
    """The ``[[fact]]`` entries of ``signals.toml``."""
    return tuple(
        Fact(re.compile(entry["pattern"], re.IGNORECASE), entry["text"]) for entry in _table().get("fact", ())
    )


def _size(count: str) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.2f} {unit}"
        value /= 1024
    return count


def message_facts(message: str) -> list[str]:
    """Evidence lines for the facts the message states.

    >>> message_facts("CUDA out of memory. Tried to allocate 3.15 GiB. GPU 0 has a total capacity of 14.75 GiB "
    ...               "of which 1.20 GiB is free.")
    ['the failed allocation asked for 3.15 GiB', 'the GPU had 1.20 GiB free of 14.75 GiB']
    >>> message_facts("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10000000000000 bytes.")
    ['the failed allocation asked for 9.09 TiB']
    """
    found = []
    for fact in facts():
        match = fact.pattern.search(message)
        if match:
            groups = {k: (_size(v) if k == "bytes" else v) for k, v in match.groupdict().items()}
            found.append(fact.text.format(**groups))
    return found


@cache
def fallback(where: str) -> Rule:
    """The verdict when no rule matches: ``"library"`` (raised in a library) or ``"user"``."""
    return _from_table(_table()["fallback"][where])


# Fine crash type of an exception no rule names one for, by the builtin it behaves like.
DEFAULT_CRASH_TYPES: dict[str, str] = {
    "valueerror": "valueerror",
    "typeerror": "typeerror",
    "runtimeerror": "runtimeerror",
    "importerror": "importerror",
    "modulenotfounderror": "module not found",
    "attributeerror": "attributeerror",
    "keyerror": "keyerror",
    "indexerror": "indexerror-1d",
    "nameerror": "variable not found",
    "oserror": "filenotfounderror",
    "filenotfounderror": "filenotfounderror",
    "assertionerror": "assertionerror",
    "zerodivisionerror": "zerodivisionerror",
    "syntaxerror": "syntaxerror",
    "indentationerror": "indentationerror",
    "systemerror": "systemerror",
}

# Exception-name suffixes of library-specific exceptions -> the builtin they behave like.
NAME_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("valueerror", "valueerror"),
    ("typeerror", "typeerror"),
    ("keyerror", "keyerror"),
    ("indexerror", "indexerror"),
    ("attributeerror", "attributeerror"),
    ("ioerror", "oserror"),
    ("oserror", "oserror"),
    ("filenotfounderror", "filenotfounderror"),
    ("httperror", "httperror"),
    ("connectionerror", "connectionerror"),
    ("outofmemoryerror", "outofmemoryerror"),
    ("memoryerror", "memoryerror"),
    ("invalidargumenterror", "valueerror"),
)


def crash_type_of(rule: Rule, kind: str) -> str:
    """The rule's fine crash type, or the exception's default when the rule leaves it open."""
    return rule.crash_type or DEFAULT_CRASH_TYPES.get(kind, "unknown")


def builtin_like(ename: str) -> str:
    """The builtin exception a library-specific one behaves like (``YellowbrickValueError`` -> valueerror)."""
    lowered = ename.lower().rsplit(".", 1)[-1]
    for suffix, builtin in NAME_SUFFIXES:
        if lowered.endswith(suffix):
            return builtin
    return lowered
