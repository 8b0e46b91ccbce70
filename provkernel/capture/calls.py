"""Which notebook functions an execution calls, and what their bodies read and change.

Static facts say a cell calls ``net(100)`` or ``model.fit(X)``; the namespace says, at that
moment, which object those names hold. If it is a function (or lambda, method, class, callable
instance) the notebook defined, its code object leads to the :class:`ScopeFacts` of its body —
by the cell file it was compiled from and its first line and name — and so to the globals it
reads and changes, and to the functions it calls in turn (followed transitively, bounded).

No tracer and no user code: objects are inspected through their ``__dict__`` and the class MRO
(``inspect.getattr_static``'s way), never through ``getattr`` on instances.

>>> from provkernel.capture.analysis import analyze
>>> facts = analyze("def net(x):\\n    return x * (1 - rate)")
>>> ns = {}
>>> exec(compile("def net(x):\\n    return x * (1 - rate)", "<cell-1>", "exec"), ns)
>>> resolver = CallResolver({"<cell-1>": facts})
>>> resolver.effects(analyze("p = net(100)"), ns).reads
{'rate'}
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

from provkernel.capture.facts import CodeFacts, ScopeFacts
from provkernel.capture.fingerprint import identity, instance_dict

MAX_SCOPES = 200  # functions followed per execution
MAX_FILES = 4096  # cell files remembered
MAX_RESOLVED = 256  # cells whose resolved calls are kept for their next run


@dataclass
class CallEffects:
    """What the notebook functions an execution called did to globals."""

    reads: set[str] = field(default_factory=set)
    mutates: set[str] = field(default_factory=set)
    functions: list[str] = field(default_factory=list)  # qualified names followed, in order
    # (name, id of what it held, id of its code) for every name looked up, when all were plain
    # functions or missing: then the same lookups give the same effects; None otherwise
    witness: list[tuple[str, int, int]] | None = field(default_factory=list)
    # the names the observer fingerprints for the cell these effects belong to (derived, kept with them)
    watched: list[str] | None = None

    @property
    def names(self) -> set[str]:
        """Every global the called functions touch."""
        return self.reads | self.mutates


class CallResolver:
    """Follows calls into functions compiled from the notebook's cells.

    Args:
        files: cell file name (a code object's ``co_filename``) → that cell's static facts; the
            recorder adds each cell as IPython compiles it.
    """

    def __init__(self, files: MutableMapping[str, CodeFacts] | None = None) -> None:
        self.files: MutableMapping[str, CodeFacts] = files if files is not None else {}
        # identity of a cell's facts → (those facts, their effects): a cell run again whose called
        # functions are the same objects gets the same effects without following them again
        self._resolved: dict[int, tuple[CodeFacts, CallEffects]] = {}

    def remember(self, filename: str, facts: CodeFacts) -> None:
        """A cell was compiled from ``filename`` (oldest files are forgotten past :data:`MAX_FILES`)."""
        if not facts.scopes:
            return
        if len(self.files) >= MAX_FILES and filename not in self.files:
            self.files.pop(next(iter(self.files)))
        self.files[filename] = facts

    def effects(self, facts: CodeFacts, namespace: Mapping[str, object]) -> CallEffects:
        """The reads and changes of every notebook function ``facts`` calls, transitively (the caller
        must not change what it gets: it may be handed out again)."""
        if not self.files:
            return CallEffects()
        key = identity(facts)
        known = self._resolved.get(key)
        if known is not None and known[0] is facts and self.still_valid(known[1], namespace):
            return known[1]
        effects = self._resolve(facts, namespace)
        if effects.witness is not None:
            if len(self._resolved) >= MAX_RESOLVED:
                self._resolved.pop(next(iter(self._resolved)))
            self._resolved[key] = (facts, effects)
        return effects

    def _resolve(self, facts: CodeFacts, namespace: Mapping[str, object]) -> CallEffects:
        effects = CallEffects()
        seen: set[types.CodeType] = set()
        pending: list[tuple[str, str | None]] = [(n, None) for n in facts.calls]
        pending += list(facts.methods)
        witness = effects.witness
        while pending and len(seen) < MAX_SCOPES:
            name, attr = pending.pop()
            if witness is not None:
                target = namespace.get(name, _MISSING)
                if attr is None and type(target) is types.FunctionType:
                    witness.append((name, identity(target), identity(target.__code__)))
                elif attr is None and target is _MISSING:
                    witness.append((name, identity(_MISSING), 0))
                else:
                    witness = effects.witness = None  # classes, instances: their dicts may change
            for function, owner in self._functions(namespace, name, attr):
                self._follow(function, owner, namespace, effects, seen, pending)
        if pending:
            effects.witness = None  # cut short: another pass may follow other calls
        return effects

    @staticmethod
    def still_valid(effects: CallEffects, namespace: Mapping[str, object]) -> bool:
        """Whether ``effects`` still holds: every name it looked up is bound to the same plain
        function (with the same code), or still missing."""
        if effects.witness is None:
            return False
        get = namespace.get
        for name, target_id, code_id in effects.witness:
            target = get(name, _MISSING)
            if identity(target) != target_id or (code_id and identity(target.__code__) != code_id):
                return False
        return True

    def _follow(self, function, owner, namespace, effects: CallEffects, seen: set, pending: list) -> None:
        """Add one function's effects; its calls by name go to ``pending``, ``self.m()`` calls are followed here."""
        stack = [(function, owner)]
        while stack and len(seen) < MAX_SCOPES:
            function, owner = stack.pop()
            code = function.__code__
            if code in seen:
                continue
            seen.add(code)
            if function.__globals__ is not namespace:
                continue  # a library's function: its globals are not the notebook's
            scope = self._scope(code)
            if scope is None:
                continue
            effects.functions.append(code.co_qualname)
            effects.reads.update(scope.reads)
            effects.mutates.update(scope.mutates)
            pending += [(n, None) for n in scope.calls]
            pending += list(scope.methods)
            if owner is not None:
                for method in scope.self_calls:
                    found = _static_function(owner, method)
                    if found is not None:
                        stack.append((found, owner))

    def _scope(self, code: types.CodeType) -> ScopeFacts | None:
        facts = self.files.get(code.co_filename)
        return facts.scope(code.co_firstlineno, code.co_name) if facts is not None else None

    def _functions(
        self, namespace: Mapping[str, object], name: str, attr: str | None
    ) -> list[tuple[types.FunctionType, type | None]]:
        """The Python functions calling ``name`` (or ``name.attr``) would run, with their class."""
        target = namespace.get(name, _MISSING)
        if target is _MISSING:
            return []
        if attr is None:
            return _callables(target)
        if isinstance(target, type):
            found = _static_function(target, attr)
            return [(found, target)] if found is not None else []
        if isinstance(target, types.ModuleType):
            return []
        owner = type(target)
        found = _static_function(owner, attr)
        if found is None:
            # an attribute holding a function (obj.handler = f), looked up without running descriptors
            value = instance_dict(target).get(attr)
            return [(value, None)] if isinstance(value, types.FunctionType) else []
        return [(found, owner)]


_MISSING = object()


def _callables(target: object) -> list[tuple[types.FunctionType, type | None]]:
    """Functions run by calling ``target``: itself, a bound method's function, a class's constructor
    methods, a callable instance's ``__call__``, a partial's function."""
    if isinstance(target, types.FunctionType):
        return [(target, None)]
    if isinstance(target, types.MethodType) and isinstance(target.__func__, types.FunctionType):
        owner = target.__self__ if isinstance(target.__self__, type) else type(target.__self__)
        return [(target.__func__, owner)]
    if isinstance(target, functools.partial):
        return _callables(target.func)
    if isinstance(target, type):
        return [
            (f, target)
            for f in (_static_function(target, m) for m in ("__new__", "__init__", "__post_init__"))
            if f is not None
        ]
    if isinstance(target, types.ModuleType | types.BuiltinFunctionType):
        return []
    call = _static_function(type(target), "__call__")
    return [(call, type(target))] if call is not None else []


def _static_function(owner: type, name: str) -> types.FunctionType | None:
    """The plain function ``owner.name`` refers to, found in the MRO's ``__dict__``s (no descriptors run)."""
    try:
        mro = type.__dict__["__mro__"].__get__(owner)
    except (TypeError, KeyError):
        return None
    for klass in mro:
        value = type.__dict__["__dict__"].__get__(klass).get(name, _MISSING)
        if value is _MISSING:
            continue
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        return value if isinstance(value, types.FunctionType) else None
    return None
