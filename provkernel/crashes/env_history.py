"""History rules for environment and data causes: modules, library versions, files, changed data."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace

from provkernel.crashes.context import CREATING_KINDS, IMPORT, OK, CrashContext
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import add_evidence, blame_producer, describe, last_binding, relabel
from provkernel.crashes.libraries import library_of_module, pip_name
from provkernel.crashes.names import (
    CANNOT_IMPORT,
    MODULE_ATTRIBUTE,
    NO_MODULE,
    missing_path,
)
from provkernel.crashes.traceback import ParsedTraceback


def module_history(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """A missing module that an earlier kernel session could import: the environment changed."""
    missing = NO_MODULE.search(parsed.evalue)
    if missing is None or context.current_epoch is None:
        return None
    module = missing.group(1).split(".")[0]
    now = context.epochs.get(context.current_epoch)
    imports = [
        b
        for b in context.bindings
        if b.kind == IMPORT
        and b.execution.status == OK
        and _root_module(b.module) == module
        and b.execution.epoch != context.current_epoch
    ]
    sessions = [
        n
        for n in sorted(context.epochs)
        if n != context.current_epoch and _version(context.epochs[n].versions, module)
    ]
    sessions += [b.execution.epoch for b in imports if b.execution.epoch is not None]
    if not sessions:
        return replace(
            diagnosis, evidence=[*diagnosis.evidence, f"no earlier kernel session imported `{module}`"]
        )
    last = max(sessions)
    epoch = context.epochs.get(last)
    version = _version(epoch.versions, module) if epoch else None
    seen = f"`{module}`{f' {version}' if version else ''} was importable in kernel session #{last}"
    if imports:
        seen += f" ({describe(imports[-1].execution, context)} imported it)"
    install = f"`%pip install {pip_name(module)}{f'=={version}' if version else ''}`"
    if epoch and now and epoch.executable and now.executable and epoch.executable != now.executable:
        why = f"{seen} under `{epoch.executable}`; this kernel runs `{now.executable}`"
        advice = f"Switch the notebook back to the kernel of `{epoch.executable}`, or {install} here."
    else:
        why = f"{seen} with the same interpreter; it has been uninstalled since"
        advice = f"Reinstall it: {install}."
    return relabel(diagnosis, "change of environment", [why], advice)


def _root_module(module: str | None) -> str:
    return (module or "").split(":")[0].split(".")[0]


def _version(versions: Mapping[str, str], module: str) -> str | None:
    lowered = {k.lower(): v for k, v in versions.items()}
    return lowered.get(module.lower()) or lowered.get(pip_name(module).lower())


# Messages that say the code uses an argument, attribute or function the library does not have (any more).
_UNKNOWN_API = re.compile(
    r"unexpected keyword argument|has no attribute|is not defined|deprecat|no longer|(?:was|been) removed"
    r"|unknown (?:argument|parameter|keyword|option)|invalid keyword|positional arguments? but"
    r"|missing \d+ required",
    re.IGNORECASE,
)
_USED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*[.(]")


def _changed_packages(parsed: ParsedTraceback, context: CrashContext) -> list[str]:
    """Top-level modules the crash went through: named in the message, owning the called function or the
    frames (live), library frames of the traceback, modules used on the failing line."""
    found: list[str] = []
    cannot = CANNOT_IMPORT.search(parsed.evalue)
    attribute = MODULE_ATTRIBUTE.search(parsed.evalue)
    if cannot and cannot.group(2):
        found.append(cannot.group(2))
    elif attribute:
        found.append(attribute.group(1))
    if context.live is not None:
        found += [o.module for o in context.live.owners if o.role in {"called", "raised"}]
        found += [o.module for o in context.live.owners if o.role == "frame"]
    found += [f.package for f in parsed.frames if f.kind == "library" and f.package]
    for name in _USED.findall(parsed.crash_code):
        # `import shapes` -> "shapes"; `from shapes import Circle` -> "shapes:Circle"
        module = context.aliases.get(name)
        if module:
            found.append(module.split(":", 1)[0])
    return list(dict.fromkeys(package.split(".")[0] for package in found))


def _live_version(context: CrashContext, module: str) -> str | None:
    owners = context.live.owners if context.live is not None else ()
    return next((o.version for o in owners if o.module == module and o.version), None)


def version_change(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """The same cell ran without error (in any kernel session) under another version of a library the crash
    went through: an *API change* when the message says an argument, attribute or function is unknown,
    *library versions incompatible* when an import fails; else the versions are only reported."""
    if context.crash is None or context.current_epoch is None:
        return None
    packages = _changed_packages(parsed, context)
    epoch = context.crash.epoch if context.crash.epoch is not None else context.current_epoch
    now = context.epochs[epoch].versions if epoch in context.epochs else {}
    for run in reversed(context.earlier_runs_of_crash_cell()):
        if run.status != OK:
            continue
        before = context.versions_at(run)
        for root in packages:
            old, new = _version(before, root), _version(now, root) or _live_version(context, root)
            if not (old and new and old != new):
                continue
            name = library_of_module(root) or root
            why = f"this cell ran without error as {describe(run, context)} with {name} {old}; this kernel has {name} {new}"
            advice = (
                f"Install {name} {old} again (`%pip install {pip_name(root)}=={old}`), or update the code for "
                f"{name} {new}."
            )
            if CANNOT_IMPORT.search(parsed.evalue):
                decided = relabel(diagnosis, "library versions incompatible", [why], advice)
            elif _UNKNOWN_API.search(parsed.evalue):
                advice = (
                    f"Update the call for {name} {new} (see its release notes for what replaced it), or install "
                    f"{name} {old} again (`%pip install {pip_name(root)}=={old}`)."
                )
                decided = relabel(diagnosis, "API change", [why], advice)
            else:
                return add_evidence(diagnosis, why)
            return replace(decided, library=name)
    return None


def _same_path(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b) or os.path.basename(a) == os.path.basename(b) != ""


def file_history(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """A missing file that a cell writes (which failed or has not run), or that was there before."""
    if diagnosis.root_cause_detail != "file/path not found or exist":
        return None
    path = missing_path(parsed.evalue)
    if not path:
        return None
    accesses = [a for a in context.files if _same_path(a.path, path) and not context.is_crash(a.execution)]
    writers = [a.execution for a in accesses if a.mode in {"w", "a"}]
    blamed = blame_producer(diagnosis, context, writers, f"`{path}` is written by")
    if blamed is not None:
        return blamed
    seen = [a for a in accesses if a.execution.status == OK and a.execution.count is not None]
    if seen:
        last = seen[-1]
        gone = " and does not exist now" if context.exists.get(last.path) is False else ""
        verb = "read" if last.mode == "r" else "written"
        return replace(
            diagnosis,
            evidence=[
                *diagnosis.evidence,
                f"`{path}` was {verb} by {describe(last.execution, context)}{gone}",
            ],
            suggestion="The file was there before: check whether it was moved or deleted, or whether the working "
            f"directory changed (`os.getcwd()`). {diagnosis.suggestion}",
        )
    return replace(diagnosis, evidence=[*diagnosis.evidence, f"no earlier execution used `{path}`"])


_DATA_ROOTS = frozenset({"API misuse", "implementation error", "unknown", "data confusion"})
_IDENTIFIER = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)")


def short_path(path: str) -> str:
    """A path as the notebook would write it: relative to the working directory when below it."""
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:
            return path
        return path if relative.startswith("..") else relative
    return path


def short_hash(digest: str) -> str:
    """The first 8 hex digits of a stored content hash (``sha256:…`` or bare)."""
    return digest.split(":", 1)[-1][:8]


def _changed(diagnosis: Diagnosis, path: str, why: str) -> Diagnosis:
    if diagnosis.root_cause in _DATA_ROOTS:
        return relabel(
            diagnosis,
            "misunderstanding of data structure",
            [why],
            f"Compare the new `{path}` with the old one (columns, types, missing values) and adapt the code or "
            "restore the file.",
        )
    return add_evidence(diagnosis, why)


def data_changed(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis:
    """Say so when a data file changed: one this cell reads, since the cell last succeeded, or the one the
    failing line's variables were loaded from, since it was read before."""
    crash = context.crash
    if crash is None:
        return diagnosis
    reads_now = {
        a.path: a.digest
        for a in context.files
        if context.is_crash(a.execution) and a.mode == "r" and a.digest
    }
    for run in reversed(context.earlier_runs_of_crash_cell()) if reads_now else ():
        if run.status != OK:
            continue
        for access in context.files:
            if (
                access.execution == run
                and access.digest
                and reads_now.get(access.path, access.digest) != access.digest
            ):
                why = (
                    f"`{short_path(access.path)}` changed since {describe(run, context)} ran this cell without "
                    f"error (content hash {short_hash(access.digest)} → {short_hash(reads_now[access.path])})"
                )
                return _changed(diagnosis, access.path, why)
        break
    return _loaded_from_changed_file(diagnosis, parsed, context)


def _loaded_from_changed_file(
    diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext
) -> Diagnosis:
    """The execution that last made a variable of the failing line read a file whose content differs from an
    earlier read of the same file."""
    if context.live is not None and context.live.objects:
        names = list(context.live.objects)
    else:
        names = list(dict.fromkeys(_IDENTIFIER.findall(parsed.crash_code)))
    for name in names:
        made = last_binding(context, name, CREATING_KINDS)
        if made is None or context.is_crash(made.execution):
            continue
        accesses = context.files
        for index, access in enumerate(accesses):
            if access.execution != made.execution or access.mode != "r" or not access.digest:
                continue
            older = [
                a
                for a in accesses[:index]
                if a.digest and a.digest != access.digest and _same_path(a.path, access.path)
            ]
            if older:
                why = (
                    f"`{name}` was loaded by {describe(made.execution, context)} from `{short_path(access.path)}`, "
                    f"which changed since {describe(older[-1].execution, context)} read it (content hash "
                    f"{short_hash(older[-1].digest)} → {short_hash(access.digest)})"
                )
                return _changed(diagnosis, access.path, why)
    return diagnosis
