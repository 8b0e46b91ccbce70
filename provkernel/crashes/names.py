"""Verdicts that depend on the names in the message: undefined names, missing modules, missing attributes."""

from __future__ import annotations

import re
import sys

from provkernel.crashes.libraries import (
    PUBLIC_ATTRIBUTES,
    REMOVED_KEYWORDS,
    REMOVED_METHODS,
    REMOVED_MODULE_ATTRIBUTES,
    SYMBOLS,
    VERSION_BOUND_LIBRARIES,
    is_module_alias,
    library_of_code,
    library_of_module,
    module_of_name,
    pip_name,
    platform_of,
)
from provkernel.crashes.rules import AUTO, FRAMES, Rule
from provkernel.crashes.traceback import ParsedTraceback

UNDEFINED_NAME = re.compile(r"(?:global |free )?name '([^']+)' is not defined")
UNBOUND_LOCAL = re.compile(
    r"local variable '([^']+)' referenced before assignment|cannot access (?:local|free) "
    r"variable '([^']+)'"
)
NO_MODULE = re.compile(r"No module named '?([\w.]+)'?")
CANNOT_IMPORT = re.compile(r"cannot import name '?([\w.]+)'?(?: from '?([\w.]+)'?)?(?: \((.*)\))?")
MODULE_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '([^']+)'")
OBJECT_ATTRIBUTE = re.compile(r"'?([\w.]+)'? object has no attribute '([^']+)'")
UNEXPECTED_KEYWORD = re.compile(r"(?:(?:(\w+)\.)?(\w+)\(\) )?got an unexpected keyword argument '(\w+)'")
_VERSIONED_API = re.compile(r"\._api\.v\d+")  # tensorflow._api.v2.train -> tensorflow.train
FILE_PATH = re.compile(
    r"(?:No such file or directory|does not exist|not found|cannot find the path specified|"
    r"Unable to open file)[^'\"]*['\"]([^'\"]+)['\"]|File b?'([^']+)' does not exist|"
    r"['\"]([^'\"]+)['\"] (?:does not exist|not found)|^(\S+) not found"
)


def _module_rule(crash_type: str, root: str, why: str, suggestion: str, library: str | None = None) -> Rule:
    return Rule(crash_type, root, why, suggestion, library=library)


def _edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, stopping early once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def closest_name(name: str, candidates: set[str] | frozenset[str], limit: int = 2) -> str | None:
    """The candidate within ``limit`` edits of ``name`` (case differences count as one edit), else None."""
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if candidate == name or len(candidate) < 3:
            continue
        distance = 1 if candidate.lower() == name.lower() else _edit_distance(name, candidate, limit)
        if distance <= limit and (best is None or (distance, candidate) < best):
            best = (distance, candidate)
    return best[1] if best else None


def undefined_name(message: str) -> str | None:
    """The name of a ``NameError`` message."""
    match = UNDEFINED_NAME.search(message)
    return match.group(1) if match else None


def name_error_verdict(parsed: ParsedTraceback, aliases: dict[str, str] | None = None) -> Rule | None:
    """The verdict for ``NameError``/``UnboundLocalError`` from the traceback alone."""
    unbound = UNBOUND_LOCAL.search(parsed.evalue)
    if unbound:
        name = unbound.group(1) or unbound.group(2)
        return Rule(
            "variable not found",
            "wrong implementation",
            f"`{name}` is assigned later in the same function, so Python treats it as local",
            f"Assign `{name}` before using it in the function, or declare it `global`.",
            library=None,
        )
    name = undefined_name(parsed.evalue)
    if name is None:
        return None
    target = module_of_name(name, aliases)
    if target and is_module_alias(name, aliases):
        module = target.split(":", 1)[0]
        return Rule(
            "module not found",
            "nb specific - execution order",
            f"`{name}` is the usual name of the module `{module}`, but it is not imported in this kernel",
            f"Run the cell that imports it (`import {module} as {name}`) first, or add the import here.",
            library=None,
        )
    called = re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", parsed.crash_code) is not None
    if name in SYMBOLS and not (aliases and name in aliases):
        # A well-known library class or function that no import of this notebook provides: the import is
        # missing (the labels' convention), unlike module aliases, which are usually imported in a cell
        # that did not run.
        home = SYMBOLS[name]
        return Rule(
            "class not found" if name[:1].isupper() else "function not found ",
            "did not import",
            f"`{name}` is a {library_of_module(home) or home} name that was never imported here",
            f"Add `from {home} import {name}` (or run the cell that imports it).",
            library=None,
        )
    if called:
        detail = "class not found" if name[:1].isupper() else "function not found "
        where = f" (usually `from {target.split(':')[0]} import {name}`)" if target else ""
        return Rule(
            detail,
            "nb specific - execution order",
            f"the {'class' if name[:1].isupper() else 'function'} `{name}` is not defined in this "
            f"kernel{where}",
            f"Run the cell that defines or imports `{name}` first (check for an error above it), or "
            f"define it before this cell.",
            library=None,
        )
    return Rule(
        "variable not found",
        "nb specific - execution order",
        f"`{name}` is not defined in this kernel",
        f"Run the cell that assigns `{name}` first (and check that it ran without error); "
        f"if no cell assigns it, define it.",
        library=None,
    )


def restart_hint(parsed: ParsedTraceback) -> str | None:
    """For an undefined name in one of the first cells run after a kernel start: say so (execution order)."""
    count = parsed.execution_count
    if undefined_name(parsed.evalue) is None or count is None or count > 2:
        return None
    return f"the cell ran as In [{count}], right after a kernel start, before the cells above it had run"


def module_verdict(parsed: ParsedTraceback) -> Rule | None:
    """The verdict for ``ModuleNotFoundError`` and ``ImportError``."""
    missing = NO_MODULE.search(parsed.evalue)
    if missing:
        module = missing.group(1)
        platform = platform_of(module)
        if platform:
            return _module_rule(
                "module not found",
                "change of environment",
                f"`{module}` exists only on {platform}; this notebook is running elsewhere",
                f"Replace the {platform}-specific code (e.g. mounting a drive) with local file "
                "paths, or run the notebook there.",
            )
        crash_type = "importerror" if "is not a package" in parsed.evalue else "module not found"
        return _module_rule(
            crash_type,
            "module not installed",
            f"the module `{module}` is not installed in this kernel's environment",
            f"Install it into the kernel's environment: `%pip install {pip_name(module)}` "
            "(then restart the kernel). If it is your own module, check the working directory "
            "and `sys.path`.",
        )
    cannot = CANNOT_IMPORT.search(parsed.evalue)
    if cannot:
        name, module, where = cannot.group(1), cannot.group(2) or "", cannot.group(3) or ""
        library = library_of_module(module)
        local = bool(where) and not re.search(r"(?:site|dist)-packages", where) and library is None
        if local:
            return _module_rule(
                "importerror",
                "wrong implementation",
                f"your module `{module}` has no `{name}`",
                f"Check the spelling of `{name}` and that `{module}` defines it; restart the "
                "kernel after editing the module (or use `%autoreload`).",
            )
        of = f" from `{module}`" if module else ""
        return _module_rule(
            "importerror",
            "library versions incompatible",
            f"`{name}` cannot be imported{of}: the installed version does not provide it",
            f"Install the library version the notebook was written for, or import `{name}` "
            "from where the installed version keeps it.",
        )
    return None


def attribute_verdict(parsed: ParsedTraceback) -> Rule | None:
    """The verdict for a missing module attribute or a removed method."""
    module_attr = MODULE_ATTRIBUTE.search(parsed.evalue)
    if module_attr:
        module, attribute = module_attr.groups()
        module = _VERSIONED_API.sub("", module)
        library = library_of_module(module)
        if "partially initialized" in parsed.evalue or "circular import" in parsed.evalue:
            return _module_rule(
                "attributeerror",
                "wrong implementation",
                f"`{module}` is only partially imported: a local file probably shadows it",
                f"Rename any file or folder named `{module.split('.')[0]}` next to the notebook.",
                library=None,
            )
        root = "library versions incompatible" if library in VERSION_BOUND_LIBRARIES else "API change"
        if attribute in REMOVED_MODULE_ATTRIBUTES.get(module, frozenset()):
            return _module_rule(
                "attributeerror",
                root,
                f"`{module}.{attribute}` was removed in newer versions of {library or module}",
                f"Use the current replacement of `{module}.{attribute}` (see the library's "
                "migration notes), or install the version the notebook was written for.",
                library=library,
            )
        if attribute in PUBLIC_ATTRIBUTES.get(module, frozenset()) or SYMBOLS.get(attribute) == module:
            # A documented name of the module is missing: the installed version predates it.
            return _module_rule(
                "attributeerror",
                root,
                f"`{module}.{attribute}` is part of {library or module}, but not of the installed version",
                f"Upgrade {library or module} (`%pip install -U {pip_name(module)}`) or use the name the "
                "installed version provides.",
                library=library,
            )
        known = (
            _live_names(module)
            | PUBLIC_ATTRIBUTES.get(module, frozenset())
            | {symbol for symbol, home in SYMBOLS.items() if home.split(".")[0] == module.split(".")[0]}
        )
        intended = closest_name(attribute, known)
        if intended:
            return _module_rule(
                "attributeerror",
                "typo",
                f"`{module}` has `{intended}`, not `{attribute}`",
                f"Write `{intended}`.",
            )
        return _module_rule(
            "attributeerror",
            "misunderstanding of libraries",
            f"the module `{module}` has no `{attribute}`",
            f"Check where `{attribute}` lives in {module} (`help({module})`); it may be in a "
            "submodule or a different library.",
            library=AUTO if library else FRAMES,
        )
    object_attr = OBJECT_ATTRIBUTE.search(parsed.evalue)
    if object_attr:
        type_name, attribute = object_attr.groups()
        owner = REMOVED_METHODS.get(type_name.rsplit(".", 1)[-1])
        if owner and attribute in owner[1]:
            return _module_rule(
                "attributeerror",
                "API change",
                f"`{type_name}.{attribute}` was removed from {owner[0]}",
                f"Use the current replacement of `.{attribute}` (e.g. `pd.concat` for `append`, "
                "`.items()` for `iteritems`, `.loc`/`.iloc` for `ix`, `.to_numpy()` for "
                "`as_matrix`).",
                library=owner[0],
            )
    return None


def keyword_verdict(parsed: ParsedTraceback) -> Rule | None:
    """The verdict for a keyword argument that a later version of a library removed (or has not yet)."""
    unexpected = UNEXPECTED_KEYWORD.search(parsed.evalue)
    if not unexpected:
        return None
    owner, function, keyword = unexpected.groups()
    callables = [owner, function] if function == "__init__" else [function, owner]
    if function in {None, "__init__"} and owner is None:
        # Python < 3.10 omits the class of ``__init__``, and decorators drop the name: take the calls
        # on the crash line.
        callables = re.findall(r"([A-Za-z_]\w*)\s*\(", parsed.crash_code)
    candidates = [
        (name, library)
        for name in callables
        if name
        for library, keywords in REMOVED_KEYWORDS.get(name, ())
        if keyword in keywords
    ]
    if not candidates:
        return None
    # A method name such as ``fit`` is shared: prefer the library the frames or the crash line show.
    shown = {library_of_module(f.package) for f in parsed.frames if f.kind == "library"}
    shown.add(library_of_code(parsed.crash_code))
    name, library = next((c for c in candidates if c[1] in shown), candidates[0])
    root = "library versions incompatible" if library in VERSION_BOUND_LIBRARIES else "API change"
    return _module_rule(
        "wrong arguments to API",
        root,
        f"`{keyword}=` was removed from `{name}` in newer versions of {library}",
        f"Use the current replacement of `{keyword}=` (see {library}'s release notes), or install the "
        "version the notebook was written for.",
        library=library,
    )


def _live_names(module: str) -> frozenset[str]:
    """Public names of ``module`` if this process has already imported it (never imports anything).

    Inside the kernel the user's libraries are loaded, so typos are checked against their real contents.
    """
    loaded = sys.modules.get(module)
    return frozenset(n for n in dir(loaded) if not n.startswith("_")) if loaded is not None else frozenset()


def missing_path(message: str) -> str | None:
    """The path a file-not-found message names, if any."""
    match = FILE_PATH.search(message)
    if not match:
        return None
    return next(group for group in match.groups() if group)
