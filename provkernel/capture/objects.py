"""Object fingerprints around one execution: which objects it changed, whatever path it took.

Before the cell runs (right after IPython parsed it), the mutable objects behind the names it may
touch are fingerprinted; after it ran, again. A changed fingerprint of the same object is an
update of that name by the execution — through a method, an alias, a notebook function, a C
extension. The work has a per-cell time budget; past it, remaining names are left unchecked (and
counted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from provkernel.capture.fingerprint import Fingerprint, Fingerprinter, identity, structure, to_json

BUDGET_S = 0.02  # per execution, before and after together


@dataclass
class Snapshot:
    """Fingerprints taken before an execution: name → (identity of the object, fingerprint)."""

    objects: dict[str, tuple[int, Fingerprint]] = field(default_factory=dict)
    spent: float = 0.0


@dataclass
class ObjectChanges:
    """What the fingerprints say an execution did."""

    changed: set[str] = field(default_factory=set)  # names whose object changed in place
    changed_ids: set[int] = field(default_factory=set)  # those objects (to find other names for them)
    states: dict[str, str] = field(default_factory=dict)  # name → JSON of the stored structure
    current: dict[str, Fingerprint | None] = field(default_factory=dict)  # fingerprints taken after
    spent: float = 0.0


class ObjectWatcher:
    """Takes the before and after fingerprints of one execution at a time."""

    def __init__(self, fingerprinter: Fingerprinter | None = None, budget_s: float = BUDGET_S) -> None:
        self.fingerprints = fingerprinter or Fingerprinter()
        self.budget_s = budget_s
        self.over_budget = 0  # executions whose fingerprints were cut short

    def before(self, names: Iterable[str], namespace: Mapping[str, object]) -> Snapshot:
        """Fingerprint the mutable objects behind ``names`` (those that exist now)."""
        snapshot = Snapshot()
        started = time.perf_counter()
        of = self.fingerprints.of
        for name in names:
            obj = namespace.get(name, _MISSING)
            if obj is _MISSING:
                continue
            fp = of(obj)
            if fp is None:
                continue  # immutable or not tracked: nothing was looked into
            snapshot.objects[name] = (identity(obj), fp)
            if time.perf_counter() - started > self.budget_s:
                self.over_budget += 1
                break
        snapshot.spent = time.perf_counter() - started
        return snapshot

    def compare(self, snapshot: Snapshot | None, namespace: Mapping[str, object]) -> ObjectChanges:
        """The names whose object (the same one as before) now has another fingerprint."""
        changes = ObjectChanges()
        if snapshot is None:
            return changes
        started = time.perf_counter()
        budget = self.budget_s - snapshot.spent
        of = self.fingerprints.of
        for name, (object_id, old) in snapshot.objects.items():
            obj = namespace.get(name, _MISSING)
            if obj is _MISSING or identity(obj) != object_id:
                continue  # deleted or rebound: the namespace check sees it
            new = changes.current[name] = of(obj)
            if new != old:
                changes.changed.add(name)
                changes.changed_ids.add(object_id)
            if time.perf_counter() - started > budget:
                self.over_budget += 1
                break
        changes.spent = snapshot.spent + time.perf_counter() - started
        return changes

    def record_states(
        self, changes: ObjectChanges, namespace: Mapping[str, object], names: Iterable[str]
    ) -> None:
        """Store the shape of the objects behind ``names`` (what the execution defined or changed)."""
        started = time.perf_counter()
        budget = self.budget_s - changes.spent
        of = self.fingerprints.of
        for name in names:
            fp = changes.current[name] if name in changes.current else of(namespace.get(name))
            if fp is None:
                continue  # an immutable value: its repr is the record
            shape = structure(fp)
            if shape is not None:
                changes.states[name] = _json(shape)
            if time.perf_counter() - started > budget:
                self.over_budget += 1
                break


def _json(shape: Fingerprint) -> str:
    return json.dumps(to_json(shape), separators=(",", ":"), default=str)


_MISSING = object()
