"""Text that is safe to store and cheap to keep: valid UTF-8, bounded in size.

User code can put anything into the text we record: lone surrogates (``'\\udc80'``, file names
decoded with ``surrogateescape``), exception messages of megabytes, integers of a million digits.
SQLite's driver rejects the first, and the others cost seconds to convert, copy and match.

>>> safe_text("caf\\udce9")
'caf\\\\udce9'
>>> clip("x" * 50, 20)
'xxxxxxxxxx… (50 characters, 40 not kept) …'
"""

from __future__ import annotations

MESSAGE_LIMIT = 4000  # characters of an exception message kept
TRACEBACK_LINE_LIMIT = 4000  # characters of one traceback entry kept
TRACEBACK_LIMIT = 100_000  # characters of a whole traceback kept
INT_DIGITS_LIMIT = 200  # longest integer recorded as a value


def safe_text(text: str) -> str:
    """``text`` as valid UTF-8: unpaired surrogates become backslash escapes."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def clip(text: str, limit: int) -> str:
    """At most about ``limit`` characters: the start and the end, with a note of what was left out."""
    if len(text) <= limit:
        return text
    keep = max(1, limit // 2)
    head, tail = text[:keep], text[-keep:] if limit > 40 else ""
    return f"{head}… ({len(text):,} characters, {len(text) - len(head) - len(tail):,} not kept) …{tail}"


def clip_traceback(lines: list[str]) -> list[str]:
    """A traceback bounded per entry and in total (the last entries, where the error is, are kept)."""
    clipped = [clip(safe_text(line), TRACEBACK_LINE_LIMIT) for line in lines]
    total, kept = 0, []
    for line in reversed(clipped):
        total += len(line)
        if total > TRACEBACK_LIMIT and kept:
            kept.append(f"… {len(clipped) - len(kept)} earlier traceback entries not kept …")
            break
        kept.append(line)
    return kept[::-1]


def int_digits(value: int) -> int:
    """Number of decimal digits of ``value``, from its bit length (no conversion: a huge int's ``repr``
    takes seconds, and raises past ``sys.get_int_max_str_digits()``)."""
    bits = abs(value).bit_length()
    return max(1, int(bits * 0.30102999566398120) + 1)


def bounded_int_repr(value: int, limit: int = INT_DIGITS_LIMIT) -> str:
    """``repr(value)``, or ``<int with N digits>`` when it would be longer than ``limit`` digits."""
    if value.bit_length() < 64:  # almost every int a cell defines
        return repr(value)
    if int_digits(value) > limit:
        return f"<int with about {int_digits(value):,} digits>"
    return repr(value)
