"""``classify``: one Jupyter error output (plus, optionally, the notebook's history) -> :class:`Diagnosis`."""

from __future__ import annotations

import re
from dataclasses import replace

from provkernel.crashes.context import CrashContext
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.evidence import refine
from provkernel.crashes.libraries import (
    MODULE_LIBRARY,
    OTHER_LIBRARIES,
    first_library,
    library_of_code,
    library_of_module,
    library_of_type,
)
from provkernel.crashes.names import (
    OBJECT_ATTRIBUTE,
    attribute_verdict,
    keyword_verdict,
    module_verdict,
    name_error_verdict,
    restart_hint,
)
from provkernel.crashes.rules import (
    AUTO,
    FRAMES,
    MESSAGE,
    Rule,
    builtin_like,
    crash_type_of,
    fallback,
    message_facts,
    refinements,
    rules,
)
from provkernel.crashes.taxonomy import BUILTIN_EXCEPTIONS
from provkernel.crashes.traceback import Frame, ParsedTraceback, parse_traceback

_KNOWN_PACKAGES = frozenset(MODULE_LIBRARY) | OTHER_LIBRARIES | {"IPython"}
_WRAPPED = re.compile(r"^Caught (\w+) in ")
# Exception names and message fragments that identify a library when no frame does.
_ENAME_LIBRARY = {
    "resourceexhaustederror": "tensorflow",
    "invalidargumenterror": "tensorflow",
    "unknownerror": "tensorflow",
    "failedpreconditionerror": "tensorflow",
    "notfittederror": "sklearn",
    "linalgerror": "numpy",
    "axiserror": "numpy",
    "parsererror": "pandas",
    "indexingerror": "pandas",
    "settingwithcopyerror": "pandas",
    "outofmemoryerror": "torch",
}
_MESSAGE_LIBRARY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"OpenCV|cv::"), "cv2"),
    (
        re.compile(
            r"CUDA out of memory|DefaultCPUAllocator|\bTensor\b|torch\.|DataLoader|state_dict|is invalid for input of size"
        ),
        "torch",
    ),
    (re.compile(r"layer|Keras|keras|\bop_def|tf\.|Tensorflow|graph"), "tensorflow"),
    (re.compile(r"DataFrame|Series|\bIndex\(|not in index|not found in axis|pandas"), "pandas"),
    (re.compile(r"ndarray|numpy|broadcast|ufunc|\) not aligned"), "numpy"),
    (
        re.compile(r"estimator|fitted|Classification metrics|Input contains NaN|n_samples|features?,? but"),
        "sklearn",
    ),
    (re.compile(r"matplotlib|Matplotlib|figure|Axes"), "matplotlib"),
    (re.compile(r"seaborn"), "seaborn"),
)
_DISPATCH = re.compile(r"torch[\\/]nn[\\/]modules[\\/]module\.py|traceback_utils\.py")
_NAMED_MODULE = re.compile(r"(?:from|module) '([\w.]+)'")
_NO_LIBRARY_ROOTS = frozenset({"undefined variable", "undefined function", "did not import", "typo"})


def classify(
    ename: str, evalue: str, traceback: list[str] | tuple[str, ...], context: CrashContext | None = None
) -> Diagnosis:
    """Tag one crash with the taxonomy's crash type, root cause and library.

    Args:
        ename: The exception name of the error output (any case; library-specific names welcome).
        evalue: Its message; ``"ignored"`` or empty is recovered from the traceback.
        traceback: The output's traceback chunks, ANSI codes and both IPython styles allowed.
        context: What the notebook's history knows; lets NB-specific and environment causes be decided
            and explained. Without it the traceback alone decides.

    Returns:
        The diagnosis. Never raises on odd input: unknown shapes fall back to "unknown".

    >>> classify("NameError", "name 'np' is not defined", []).crash_type
    'module not found'
    """
    parsed = parse_traceback(ename, evalue, traceback, _KNOWN_PACKAGES)
    aliases = context.aliases if context else None
    inner = _unwrap(parsed)
    verdict = _verdict(inner, aliases)
    root, why, suggestion = verdict.root_cause, verdict.why, verdict.suggestion
    if verdict.user_code_root and not _library_involved(inner, aliases):
        root = verdict.user_code_root
    for refinement in refinements():
        if root in refinement.replaces and refinement.pattern.search(inner.evalue):
            root, why, suggestion = refinement.root_cause, f"{why}; {refinement.why}", refinement.suggestion
            break
    draft = Diagnosis.from_labels(
        crash_type_of(verdict, builtin_like(inner.ename.lower().rsplit(".", 1)[-1])),
        root,
        evidence=[f"{inner.ename}: {why}", *message_facts(inner.message), *_location(parsed)],
        suggestion=suggestion,
        ename=ename,
        evalue=parsed.evalue,
        execution_count=parsed.execution_count,
    )
    if context is not None:
        draft = refine(draft, parsed, context)
    hint = restart_hint(inner) if draft.basis == "traceback" else None
    if hint:
        draft = replace(draft, evidence=[*draft.evidence, hint])
    if draft.library is None:  # a context rule may have named the library (the one whose version changed)
        draft = replace(draft, library=_attribute(inner, verdict, draft, aliases, _owner(context)))
    return draft


def _owner(context: CrashContext | None) -> str | None:
    """The installed distribution the crash went through (kernel only): the outermost frame's package,
    else the called function's, named by its top-level module."""
    if context is None or context.live is None:
        return None
    owners = [o for o in context.live.owners if o.distribution]
    frames = [o for o in owners if o.role != "called"] or owners
    return (library_of_module(frames[0].module) or frames[0].module) if frames else None


def _unwrap(parsed: ParsedTraceback) -> ParsedTraceback:
    """Look through wrappers that re-raise another exception (``Caught TypeError in DataLoader worker``)."""
    wrapped = _WRAPPED.match(parsed.evalue)
    if not wrapped:
        return parsed
    inner = wrapped.group(1)
    for line in reversed(parsed.message.splitlines()):
        if line.startswith(f"{inner}:"):
            return replace(parsed, ename=inner, evalue=line.split(":", 1)[1].strip())
    return parsed


def _verdict(parsed: ParsedTraceback, aliases: dict[str, str] | None) -> Rule:
    raw = parsed.ename.lower().rsplit(".", 1)[-1]
    kind = builtin_like(raw)
    special = None
    if kind in {"nameerror", "unboundlocalerror"}:
        special = name_error_verdict(parsed, aliases)
    elif kind in {"modulenotfounderror", "importerror"}:
        special = module_verdict(parsed)
    elif kind == "attributeerror":
        special = attribute_verdict(parsed)
    elif kind == "typeerror":
        special = keyword_verdict(parsed)
    if special is not None:
        return special
    found = _first_match(raw, kind, parsed.evalue, parsed)
    if (found is None or found.pattern is None) and parsed.message != parsed.evalue:
        # The first line is a wrapper ("Graph execution error:", "Exception encountered when calling
        # layer …", a banner of asterisks): look for a specific signal in the whole message.
        specific = _first_match(raw, kind, parsed.message, parsed, patterned_only=True)
        found = specific or found
    if found is not None:
        return found
    if raw == "syntaxerror" or kind == "syntaxerror":
        return fallback("user")
    return fallback("library") if parsed.library_frames or raw not in BUILTIN_EXCEPTIONS else fallback("user")


def _first_match(
    raw: str, kind: str, message: str, parsed: ParsedTraceback, patterned_only: bool = False
) -> Rule | None:
    where = (parsed.raised_in_library, parsed.crash_code)
    for rule in rules():
        if patterned_only and rule.pattern is None:
            continue
        if rule.matches(raw, message, *where) or (kind != raw and rule.matches(kind, message, *where)):
            return rule
    return None


def _library_involved(parsed: ParsedTraceback, aliases: dict[str, str] | None) -> bool:
    return bool(parsed.library_frames) or library_of_code(parsed.crash_code, aliases) is not None


def _place(frame: Frame) -> str:
    where = f"In [{frame.execution_count}]" if frame.execution_count is not None else "the cell"
    line = f" line {frame.line}" if frame.line else ""
    code = f": `{frame.code}`" if frame.code else ""
    return f"{where}{line}{code}"


def _location(parsed: ParsedTraceback) -> list[str]:
    """Where it crashed: the notebook line run, the notebook function it failed in, the library that raised."""
    evidence = []
    cells = parsed.cell_frames
    if cells:
        text = f"crashed at {_place(cells[0])}"
        inner = cells[-1]
        if inner is not cells[0]:
            function = (inner.function or "").split("(")[0]
            text += f", inside `{function}` ({_place(inner)})" if function else f", then {_place(inner)}"
        evidence.append(text)
    libraries = [f for f in parsed.frames if f.kind == "library" and f.package]
    if libraries and parsed.raised_in_library:
        origin = libraries[0].package
        last = parsed.frames[-1]
        function = f" ({last.function.split('(')[0]})" if last.function else ""
        evidence.append(
            f"raised inside {origin}{function}"
            if last.package == origin
            else f"raised inside {last.package or 'the standard library'}{function}, called through {origin}"
        )
    return evidence


def _without_dispatch(frames: tuple[Frame, ...]) -> list[Frame]:
    """Frames minus generic call wrappers (torch's ``Module.__call__``, Keras/TF ``error_handler``) that sit
    in front of the library actually in use; kept when nothing else follows them."""
    kept = [f for f in frames if not _DISPATCH.search(f.path)]
    return kept if any(f.kind == "library" for f in kept) else list(frames)


def _mismatched_library(parsed: ParsedTraceback, aliases: dict[str, str] | None) -> str | None:
    """The library whose installed version does not fit the code (the labels name it, unlike other
    environment causes): the module the message names, else the innermost library frame (where the
    failing import or attribute lookup ran), else the crash line."""
    named = _NAMED_MODULE.search(parsed.evalue)
    if named and library_of_module(named.group(1)):
        return library_of_module(named.group(1))
    found = first_library(f.package for f in reversed(parsed.frames) if f.kind == "library")
    return found or library_of_code(parsed.crash_code, aliases)


def _attribute(
    parsed: ParsedTraceback,
    verdict: Rule,
    diagnosis: Diagnosis,
    aliases: dict[str, str] | None,
    owner: str | None = None,
) -> str | None:
    """The paper's ``Libs-cause``: the library whose version does not fit for library versions
    incompatible; None for other environment, NB-specific and undefined-name crashes; else the outermost
    library frame, else the installed distribution the live frames show (``owner``), else what the
    exception, message or crash line shows."""
    if diagnosis.root_cause_detail == "library versions incompatible":
        return _mismatched_library(parsed, aliases)
    if diagnosis.root_cause in {"environment setting", "NB specific"}:
        return None
    if diagnosis.root_cause_detail in _NO_LIBRARY_ROOTS or verdict.library is None:
        return None
    if verdict.library == MESSAGE:
        named = _named_library(parsed)
        if named:
            return named
    elif verdict.library not in {AUTO, FRAMES}:
        return verdict.library
    typed = (
        OBJECT_ATTRIBUTE.search(parsed.evalue)
        if builtin_like(parsed.ename.lower()) == "attributeerror"
        else None
    )
    if typed and library_of_type(typed.group(1)):
        return library_of_type(typed.group(1))
    found = first_library(f.package for f in _without_dispatch(parsed.frames) if f.kind == "library")
    if found or verdict.library == FRAMES:
        return found or owner
    if owner:
        return owner
    for block in reversed(parsed.causes):
        found = first_library(f.package for f in block.frames if f.kind == "library")
        if found:
            return found
    lowered = parsed.ename.lower().rsplit(".", 1)[-1]
    if lowered in _ENAME_LIBRARY:
        return _ENAME_LIBRARY[lowered]
    module_attr = re.search(r"module '([\w.]+)'", parsed.evalue)
    if module_attr and library_of_module(module_attr.group(1)):
        return library_of_module(module_attr.group(1))
    for frame in reversed(parsed.cell_frames):
        found = library_of_code(frame.code, aliases)
        if found:
            return found
    return _message_library(parsed.evalue)


def _message_library(message: str) -> str | None:
    for pattern, library in _MESSAGE_LIBRARY:
        if pattern.search(message):
            return library
    return None


def _named_library(parsed: ParsedTraceback) -> str | None:
    """The library the exception's own name or its message identifies, if any."""
    lowered = parsed.ename.lower().rsplit(".", 1)[-1]
    return _ENAME_LIBRARY.get(lowered) or _message_library(parsed.evalue)
