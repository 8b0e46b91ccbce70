"""The static facts of a cell's code as plain records: what it defines, reads, imports, mutates.

Produced by :mod:`provkernel.capture.analysis` (or its shallow fallback), cached by code hash, and
stored once per distinct code text as JSON.
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass

BUILTIN_NAMES = frozenset(dir(builtins)) | {"__file__", "__name__", "__builtins__", "get_ipython", "display"}

# Methods that change their receiver when called as a statement whose result is discarded
# (``lst.append(x)``, ``model.fit(X, y)``) are recognised by the discarded result, not by a list;
# these names mark the in-place operations that consume their input (crash evidence).
CONSUMING_METHODS = frozenset({"drop", "pop", "popitem", "remove", "clear", "dropna", "drop_duplicates"})


@dataclass(frozen=True)
class Import:
    """One imported name: ``import numpy as np`` → Import("numpy", None, "np")."""

    module: str
    name: str | None
    alias: str
    line: int

    @property
    def package(self) -> str:
        """Top-level package of the module (``sklearn`` for ``sklearn.model_selection``)."""
        return self.module.split(".")[0]


@dataclass(frozen=True)
class Update:
    """An existing object changed in place: ``df.dropna(inplace=True)`` → Update("df", "dropna", 3)."""

    name: str
    how: str
    line: int

    @property
    def consumes(self) -> bool:
        """True if the operation removes data from the object (drop, pop, del …)."""
        return self.how in CONSUMING_METHODS or self.how == "del[]"


@dataclass(frozen=True)
class ScopeFacts:
    """What the body of a function, lambda or method does to globals each time it is called.

    Keyed like the code object Python makes for it: ``line`` is ``co_firstlineno`` (the first
    decorator's line for a decorated function) and ``name`` is ``co_name`` (``<lambda>``).
    """

    name: str
    line: int
    reads: tuple[str, ...] = ()  # global names read (its nested functions' reads included)
    mutates: tuple[str, ...] = ()  # global names changed in place (seen.add(x), d[k] = v)
    calls: tuple[str, ...] = ()  # global names called or passed to a call (maybe notebook functions)
    methods: tuple[tuple[str, str], ...] = ()  # (global name, attribute) called: obj.method(...)
    self_calls: tuple[str, ...] = ()  # methods called on the first parameter: self.helper()

    @property
    def key(self) -> tuple[int, str]:
        """(co_firstlineno, co_name)."""
        return self.line, self.name

    def to_json(self) -> list:
        return [
            self.name,
            self.line,
            list(self.reads),
            list(self.mutates),
            list(self.calls),
            [list(m) for m in self.methods],
            list(self.self_calls),
        ]

    @classmethod
    def from_json(cls, data: list) -> ScopeFacts:
        name, line, reads, mutates, calls, methods, self_calls = data
        return cls(
            name,
            line,
            tuple(reads),
            tuple(mutates),
            tuple(calls),
            tuple(map(tuple, methods)),
            tuple(self_calls),
        )


@dataclass(frozen=True)
class CodeFacts:
    """Everything static analysis knows about one cell's code."""

    code_hash: str
    defined: frozenset[str] = frozenset()
    free: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    imports: tuple[Import, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()  # (name, literal source), in order
    updates: tuple[Update, ...] = ()
    deleted: frozenset[str] = frozenset()
    star_imports: tuple[str, ...] = ()
    from_environ: frozenset[str] = frozenset()  # names assigned from os.environ / os.getenv
    def_lines: tuple[tuple[str, int], ...] = ()  # first module-level line binding each name
    syntax_error: bool = False
    partial: bool = False  # too deep for the full analysis: names only, from a shallow scan
    calls: tuple[str, ...] = ()  # global names the cell calls or passes to calls (notebook functions?)
    methods: tuple[tuple[str, str], ...] = ()  # (global name, attribute) the cell calls: model.fit(...)
    scopes: tuple[ScopeFacts, ...] = ()  # every function, lambda and method the cell defines

    def scope(self, line: int, name: str) -> ScopeFacts | None:
        """The facts of the function whose code object has this first line and name."""
        for scope in self.scopes:
            if scope.line == line and scope.name == name:
                return scope
        return None

    def to_json(self) -> dict:
        """A JSON-serialisable dict (the store keeps it once per distinct code)."""
        return {
            "defined": sorted(self.defined),
            "free": list(self.free),
            "functions": list(self.functions),
            "classes": list(self.classes),
            "imports": [[i.module, i.name, i.alias, i.line] for i in self.imports],
            "parameters": [list(p) for p in self.parameters],
            "updates": [[u.name, u.how, u.line] for u in self.updates],
            "deleted": sorted(self.deleted),
            "star_imports": list(self.star_imports),
            "from_environ": sorted(self.from_environ),
            "def_lines": [list(d) for d in self.def_lines],
            "syntax_error": self.syntax_error,
            "partial": self.partial,
            "calls": list(self.calls),
            "methods": [list(m) for m in self.methods],
            "scopes": [scope.to_json() for scope in self.scopes],
        }

    @classmethod
    def from_json(cls, code_hash: str, data: dict) -> CodeFacts:
        """Inverse of :meth:`to_json`."""
        return cls(
            code_hash=code_hash,
            defined=frozenset(data.get("defined", ())),
            free=tuple(data.get("free", ())),
            functions=tuple(data.get("functions", ())),
            classes=tuple(data.get("classes", ())),
            imports=tuple(Import(*i) for i in data.get("imports", ())),
            parameters=tuple(tuple(p) for p in data.get("parameters", ())),
            updates=tuple(Update(*u) for u in data.get("updates", ())),
            deleted=frozenset(data.get("deleted", ())),
            star_imports=tuple(data.get("star_imports", ())),
            from_environ=frozenset(data.get("from_environ", ())),
            def_lines=tuple(tuple(d) for d in data.get("def_lines", ())),
            syntax_error=bool(data.get("syntax_error", False)),
            partial=bool(data.get("partial", False)),
            calls=tuple(data.get("calls", ())),
            methods=tuple(tuple(m) for m in data.get("methods", ())),
            scopes=tuple(ScopeFacts.from_json(s) for s in data.get("scopes", ())),
        )


def code_hash(code: str) -> str:
    """Stable 16-hex-digit identity of a code text."""
    return hashlib.blake2b(code.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def merged_facts(outer: CodeFacts, nested: list[CodeFacts]) -> CodeFacts:
    """Facts of a cell plus the cells it ran itself (``%%capture``, ``get_ipython().run_cell(…)``)."""
    if not nested:
        return outer
    parts = [outer, *nested]
    defined = frozenset().union(*(f.defined for f in parts))
    free = dict.fromkeys(n for f in parts for n in f.free if n not in outer.defined)
    return CodeFacts(
        code_hash=outer.code_hash,
        defined=defined,
        free=tuple(free),
        functions=tuple(dict.fromkeys(n for f in parts for n in f.functions)),
        classes=tuple(dict.fromkeys(n for f in parts for n in f.classes)),
        imports=tuple(i for f in parts for i in f.imports),
        parameters=outer.parameters,
        updates=tuple(u for f in parts for u in f.updates),
        deleted=frozenset().union(*(f.deleted for f in parts)) - defined,
        star_imports=tuple(s for f in parts for s in f.star_imports),
        from_environ=frozenset().union(*(f.from_environ for f in parts)),
        def_lines=outer.def_lines,
        syntax_error=outer.syntax_error,
        partial=any(f.partial for f in parts),
        calls=tuple(dict.fromkeys(n for f in parts for n in f.calls)),
        methods=tuple(dict.fromkeys(m for f in parts for m in f.methods)),
        scopes=tuple(s for f in parts for s in f.scopes),
    )
