"""Predicates ``(param, op, value)`` and boxes, the internal form of a conjunction.

A *box* restricts some parameters to a set of value indices and leaves the others free; every
conjunction of predicates over a finite space is a box, and a box converts back into one or a few
conjunctions of the comparators ``== != < <= > >=``.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provkernel.bugdoc.engine.space import Key, Parameter, Space

Condition = tuple[str, str, Any]
OPS: dict[str, Any] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def allowed_indices(param: Parameter, op: str, value: Any) -> frozenset[int]:
    """Indices of ``param``'s values that satisfy ``param op value``."""
    if op not in OPS:
        raise ValueError(f"unknown comparator {op!r}: use one of {' '.join(OPS)}")
    if op in ("==", "!="):
        hit = param.index(value)
        if op == "==":
            return frozenset() if hit is None else frozenset({hit})
        return frozenset(i for i in range(len(param.values)) if i != hit)
    if not param.ordinal:
        raise ValueError(f"comparator {op!r} needs an ordinal parameter; {param.name!r} is categorical")
    compare = OPS[op]
    return frozenset(i for i, v in enumerate(param.values) if compare(v, value))


@dataclass(frozen=True)
class Box:
    """A conjunction in normal form: ``((position, allowed indices), ...)`` sorted by position.

    Parameters whose allowed set is their whole domain are omitted (a condition covering the whole domain
    disappears)."""

    parts: tuple[tuple[int, frozenset[int]], ...] = ()

    @classmethod
    def make(cls, space: Space, allowed: Mapping[int, Iterable[int]]) -> Box:
        parts = []
        for pos in sorted(allowed):
            values = frozenset(allowed[pos])
            if len(values) < len(space.params[pos].values):
                parts.append((pos, values))
        return cls(tuple(parts))

    @classmethod
    def point(cls, space: Space, key: Key, positions: Iterable[int]) -> Box:
        """The box fixing ``positions`` to the values of instance ``key``."""
        return cls.make(space, {p: {key[p]} for p in positions})

    @classmethod
    def of_conditions(cls, space: Space, conditions: Iterable[Condition]) -> Box:
        allowed: dict[int, frozenset[int]] = {}
        for name, op, value in conditions:
            if name not in space:
                raise ValueError(f"unknown parameter {name!r}")
            pos = space.position(name)
            here = allowed_indices(space.params[pos], op, value)
            allowed[pos] = allowed[pos] & here if pos in allowed else here
        return cls.make(space, allowed)

    def as_dict(self) -> dict[int, frozenset[int]]:
        return dict(self.parts)

    @property
    def positions(self) -> list[int]:
        return [pos for pos, _ in self.parts]

    def is_empty(self) -> bool:
        return any(not values for _, values in self.parts)

    def contains(self, key: Key) -> bool:
        return all(key[pos] in values for pos, values in self.parts)

    def subset_of(self, other: Box) -> bool:
        """True if every instance in this box is in ``other``."""
        mine = self.as_dict()
        return self.is_empty() or all(pos in mine and mine[pos] <= values for pos, values in other.parts)

    def size(self, space: Space) -> int:
        mine = self.as_dict()
        total = 1
        for pos, param in enumerate(space.params):
            total *= len(mine[pos]) if pos in mine else len(param.values)
        return total

    def keys(self, space: Space) -> Iterator[Key]:
        """Enumerate the instances of this box (use only when :meth:`size` is small)."""
        mine = self.as_dict()
        ranges = [
            sorted(mine[p]) if p in mine else range(len(space.params[p].values)) for p in range(len(space))
        ]
        return (tuple(k) for k in itertools.product(*ranges))


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in sorted(indices):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _alternatives(param: Parameter, allowed: frozenset[int]) -> list[list[Condition]]:
    """Conjunctions of comparisons on one parameter whose disjunction is exactly ``allowed``."""
    name, values, n = param.name, param.values, len(param.values)
    complement = [i for i in range(n) if i not in allowed]
    if not allowed:
        return [[(name, "==", values[0]), (name, "!=", values[0])]] if values else [[]]
    if len(allowed) == 1:
        return [[(name, "==", values[next(iter(allowed))])]]
    runs = _runs(sorted(allowed))
    if param.ordinal and len(runs) == 1 and (runs[0][0] == 0 or runs[0][1] == n - 1):
        lo, hi = runs[0]
        return [[(name, "<=", values[hi])]] if lo == 0 else [[(name, ">=", values[lo])]]
    if len(complement) == 1:
        return [[(name, "!=", values[complement[0]])]]
    if param.ordinal:
        out = []
        for lo, hi in _runs(sorted(allowed)):
            if lo == hi:
                out.append([(name, "==", values[lo])])
            elif lo == 0:
                out.append([(name, "<=", values[hi])])
            elif hi == n - 1:
                out.append([(name, ">=", values[lo])])
            else:
                out.append([(name, ">=", values[lo]), (name, "<=", values[hi])])
        return out
    if len(complement) <= len(allowed):
        return [[(name, "!=", values[i]) for i in complement]]
    return [[(name, "==", values[i])] for i in sorted(allowed)]


def box_conditions(space: Space, box: Box) -> list[list[Condition]]:
    """The box as a disjunction of conjunctions of ``(param, op, value)`` (usually a single one)."""
    per_param = [_alternatives(space.params[pos], values) for pos, values in box.parts]
    return [[c for conj in combo for c in conj] for combo in itertools.product(*per_param)]


def fmt_value(value: Any) -> str:
    return repr(value)


def render_part(param: Parameter, allowed: frozenset[int]) -> str:
    """Short text for one parameter's restriction, e.g. ``solver ∈ {'lbfgs', 'newton-cg'}``."""
    name, values, n = param.name, param.values, len(param.values)
    complement = [i for i in range(n) if i not in allowed]
    if not allowed:
        return f"{name} ∈ ∅"
    if len(allowed) == 1:
        return f"{name} = {fmt_value(values[next(iter(allowed))])}"
    runs = _runs(sorted(allowed))
    if len(complement) == 1 and not (param.ordinal and len(runs) == 1):
        return f"{name} ≠ {fmt_value(values[complement[0]])}"
    if param.ordinal and len(runs) == 1:
        lo, hi = runs[0]
        if lo == 0:
            return f"{name} ≤ {fmt_value(values[hi])}"
        if hi == n - 1:
            return f"{name} ≥ {fmt_value(values[lo])}"
        return f"{fmt_value(values[lo])} ≤ {name} ≤ {fmt_value(values[hi])}"
    if len(allowed) <= len(complement) or param.ordinal:
        return f"{name} ∈ {{{', '.join(fmt_value(values[i]) for i in sorted(allowed))}}}"
    return f"{name} ∉ {{{', '.join(fmt_value(values[i]) for i in complement)}}}"


def render_box(space: Space, box: Box) -> str:
    """Readable text of a conjunction, e.g. ``solver = 'lbfgs' ∧ penalty = 'l1'``."""
    if not box.parts:
        return "(any instance)"
    return " ∧ ".join(render_part(space.params[pos], values) for pos, values in box.parts)


def render_conditions(conditions: Sequence[Condition]) -> str:
    """Text of a list of ``(param, op, value)``, e.g. ``max_depth ≥ 10 ∧ solver = 'sag'``."""
    return " ∧ ".join(f"{n} {SYMBOLS[op]} {fmt_value(v)}" for n, op, v in conditions) or "(any instance)"


def holds(conditions: Iterable[Condition], instance: Mapping[str, Any]) -> bool:
    """True if ``instance`` satisfies every condition (a missing parameter or an incomparable value does
    not satisfy)."""
    for name, op, value in conditions:
        if name not in instance:
            return False
        try:
            if not OPS[op](instance[name], value):
                return False
        except TypeError:
            return False
    return True
