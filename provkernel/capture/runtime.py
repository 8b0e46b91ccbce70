"""Runtime facts of one execution that static analysis cannot see: namespace changes, new modules, values.

Every check here is O(size of the namespace or of ``sys.modules``) using C-level dict and set
operations, and skips work entirely when nothing changed; none of it grows with history.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from itertools import repeat
from typing import NamedTuple

from provkernel.capture.fingerprint import identity
from provkernel.secrets import REDACTED, SECRET_VARIABLE, Secrets
from provkernel.textsafety import bounded_int_repr, safe_text


class NamespaceChange(NamedTuple):
    """Names that appeared, were rebound to another object, or vanished during an execution."""

    added: frozenset[str]
    changed: frozenset[str]
    removed: frozenset[str]
    aliases: frozenset[str] = frozenset()  # names still bound to an object changed in place


class NamespaceWatcher:
    """Compares object identities of the user's globals before and after an execution.

    IPython adds ``_i<N>``/``_<N>`` entries on every execution, so the namespace grows with the
    session; scanning it all would make each cell slower than the last. Instead this watches the
    user's own (non-underscore) names, and finds new keys by walking the dict backwards from its
    end (dicts keep insertion order) to the last key seen before the execution: the cost is
    O(user names + new keys). It holds only identities (see ``fingerprint.identity``), never
    references, so a cell that deletes a large
    object frees its memory at once.

    It never calls user code: keys are compared by identity and only keys of exact type ``str``
    are names (``globals()[obj] = …`` with an object whose ``__eq__`` or ``__hash__`` raises or
    sleeps is skipped), and values are compared by identity.
    """

    def __init__(self, namespace: dict[str, object], hidden: Mapping[str, object] | None = None) -> None:
        self.namespace = namespace
        self.hidden = hidden if hidden is not None else {}
        self._names: tuple[str, ...] = ()
        self._ids: tuple[int, ...] = ()
        self._length = 0
        self._last_key: object = _MISSING
        self._user_names: set[str] = {k for k in namespace if self._is_user_name(k)}

    def _is_user_name(self, name: object) -> bool:
        return type(name) is str and not name.startswith("_") and not self._is_hidden(name)

    def before(self) -> None:
        """Remember the namespace at the start of an execution."""
        ns = self.namespace
        self._names = names = tuple(self._user_names)
        self._ids = self._identities(names)
        self._length = len(ns)
        self._last_key = next(reversed(ns), _MISSING) if ns else _MISSING

    def _identities(self, names: tuple[str, ...]) -> tuple[int, ...]:
        # C-level loops; a missing name reads as the id of the marker
        return tuple(map(identity, map(self.namespace.get, names, repeat(_MISSING, len(names)))))

    def after(self, changed_ids: set[int] | frozenset[int] = frozenset()) -> NamespaceChange:
        """What the execution did to the user's names; ``changed_ids``: objects changed in place,
        whose other names (``b = a; b.append(1)`` also changes ``a``) are reported as aliases."""
        ns = self.namespace
        new_keys = self._keys_added()
        if new_keys is None:  # the marker key was deleted: fall back to one full scan
            new_keys = [k for k in ns if type(k) is str and k not in self._user_names]
        removed, changed = set(), set()
        now = self._identities(self._names)
        if now != self._ids:
            missing = identity(_MISSING)
            for name, old, new in zip(self._names, self._ids, now, strict=True):
                if old != new:
                    (removed if new == missing else changed).add(name)
        known = self._user_names  # the names of before(), until updated below
        added = {k for k in new_keys if k not in known and self._is_user_name(k)}
        changed |= {k for k in new_keys if k in known}  # deleted and bound again
        aliases = (
            {n for n, old in zip(self._names, self._ids, strict=True) if old in changed_ids and n in ns}
            if changed_ids
            else set()
        )
        self._user_names -= removed
        self._user_names |= added
        self._names, self._ids = (), ()
        return NamespaceChange(
            frozenset(added), frozenset(changed - removed), frozenset(removed), frozenset(aliases - changed)
        )

    def _keys_added(self) -> list[str] | None:
        """String keys inserted since :meth:`before`, or None if that cannot be told cheaply.

        The walk stops at the marker by identity; if the marker was deleted it walks the whole
        dict once and returns None.
        """
        ns, marker = self.namespace, self._last_key
        if marker is _MISSING:
            return [k for k in ns if type(k) is str]
        added = []
        for key in reversed(ns):
            if key is marker:
                return added
            if type(key) is str:
                added.append(key)
        return None

    def _is_hidden(self, name: str) -> bool:
        hidden = self.hidden.get(name, _MISSING)
        return hidden is not _MISSING and hidden is self.namespace.get(name, _MISSING)


_MISSING = object()


class ModuleWatcher:
    """Top-level packages that appear in ``sys.modules`` while user code runs."""

    def __init__(self) -> None:
        self._known: set[str] = set(sys.modules)
        self._count = len(sys.modules)

    def _new_modules(self) -> set[str]:
        modules = sys.modules
        if len(modules) == self._count:
            return set()
        new = modules.keys() - self._known
        self._known |= new
        self._count = len(modules)
        return new

    def absorb(self) -> None:
        """Forget modules loaded between executions (completion, comms), which no cell imported."""
        self._new_modules()

    def new_packages(self) -> set[str]:
        """Top-level names of the modules loaded since the last call."""
        return {name.partition(".")[0] for name in self._new_modules() if not name.startswith("_")}


def value_repr(
    name: str,
    value: object,
    limit: int = 200,
    redact: frozenset[str] = frozenset(),
    secrets: Secrets | None = None,
) -> str | None:
    """The repr recorded for a defined name's scalar value, or None for other values.

    Scalars are bool, int, float, None, short str, and NumPy scalars (recorded as the Python
    scalar they hold, so ``np.float64(0.93)`` reads ``0.93``). Names that look like secrets, names
    the cell assigned from the environment, and values that contain a secret (``secrets``) are
    redacted. Huge integers are summarised from their bit length, never converted.
    """
    if value is None:
        return "None"
    kind = type(value)
    if kind is float or (kind is int and value.bit_length() < 64):  # most values: no digit limit, no secret
        return REDACTED if name in redact or _secret_looking(name) else repr(value)
    if kind is int:
        text = bounded_int_repr(value)
    elif kind is bool:
        text = repr(value)
    elif kind is str:
        if len(value) > limit:
            return None
        text = safe_text(repr(value))
    elif kind.__module__ == "numpy" and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        scalar = value.item()  # type: ignore[attr-defined]
        if type(scalar) not in (bool, int, float):
            return None
        text = repr(scalar)
    else:
        return None
    if name in redact or _secret_looking(name):
        return REDACTED
    if secrets is not None and kind is str and secrets.contains_secret(text):
        return REDACTED
    return text


_SECRET_LOOKING: dict[str, bool] = {}


def _secret_looking(name: str) -> bool:
    """Whether a variable's name looks like it holds a secret (remembered: cells define the same
    names over and over)."""
    known = _SECRET_LOOKING.get(name)
    if known is None:
        if len(_SECRET_LOOKING) > 10_000:
            _SECRET_LOOKING.clear()
        known = _SECRET_LOOKING[name] = SECRET_VARIABLE.search(name) is not None
    return known
