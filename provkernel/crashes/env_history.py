"""History rules for environment and data causes: modules, library versions, files, changed data."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from provkernel.crashes.context import (
    IMPORT,
    OK,
    CrashContext,
)
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import blame_producer, describe, relabel
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


def version_change(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """The same cell ran without error under another version of the library in the traceback."""
    if context.crash is None or context.current_epoch is None:
        return None
    module = None
    cannot = CANNOT_IMPORT.search(parsed.evalue)
    attribute = MODULE_ATTRIBUTE.search(parsed.evalue)
    if cannot and cannot.group(2):
        module = cannot.group(2)
    elif attribute:
        module = attribute.group(1)
    packages = [module] if module else [f.package for f in parsed.frames if f.kind == "library" and f.package]
    epoch = context.crash.epoch if context.crash.epoch is not None else context.current_epoch
    now = context.epochs[epoch].versions if epoch in context.epochs else {}
    for run in reversed(context.earlier_runs_of_crash_cell()):
        if run.status != OK:
            continue
        before = context.versions_at(run)
        for package in packages:
            root = package.split(".")[0]
            old, new = _version(before, root), _version(now, root)
            if old and new and old != new:
                name = library_of_module(root) or root
                return relabel(
                    diagnosis,
                    "library versions incompatible",
                    [
                        (
                            f"this cell ran without error as {describe(run, context)} with {name} {old}; "
                            f"this kernel has {name} {new}"
                        )
                    ],
                    f"Install {name} {old} again (`%pip install {pip_name(root)}=={old}`), or update the "
                    f"code for {name} {new}.",
                )
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


def data_changed(diagnosis: Diagnosis, context: CrashContext) -> Diagnosis:
    """Say so when a file this cell reads changed since the cell last succeeded."""
    crash = context.crash
    if crash is None:
        return diagnosis
    reads_now = {
        a.path: a.digest
        for a in context.files
        if context.is_crash(a.execution) and a.mode == "r" and a.digest
    }
    if not reads_now:
        return diagnosis
    for run in reversed(context.earlier_runs_of_crash_cell()):
        if run.status != OK:
            continue
        for access in context.files:
            if (
                access.execution == run
                and access.path in reads_now
                and access.digest
                and access.digest != reads_now[access.path]
            ):
                why = (
                    f"`{access.path}` changed since {describe(run, context)} ran this cell without error "
                    f"(content hash {access.digest[:8]} → {reads_now[access.path][:8]})"
                )
                if diagnosis.root_cause in {
                    "API misuse",
                    "implementation error",
                    "unknown",
                    "data confusion",
                }:
                    return relabel(
                        diagnosis,
                        "misunderstanding of data structure",
                        [why],
                        f"Compare the new `{access.path}` with the old one (columns, types, missing "
                        "values) and adapt the code or restore the file.",
                    )
                return replace(diagnosis, evidence=[*diagnosis.evidence, why])
        break
    return diagnosis
