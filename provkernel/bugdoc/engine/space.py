"""Parameters, instances and outcomes: the model every BugDoc algorithm works on.

Instances are handled internally as tuples of *value indices* (one index per parameter, in parameter
order), which makes them hashable, cheap to compare and lets ordinal comparisons work on indices: the
values of an ordinal parameter are kept sorted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Key = tuple[int, ...]


class Version(str):
    """A package version as a parameter value (``--vary-package``): categorical, shown bare
    (``scikit-learn = 1.6.1``); pickles and compares as the version string."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self):
        return (Version, (str(self),))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def _tag(value: Any) -> tuple[str, Any]:
    """A hashable identity that keeps ``True``, ``1`` and ``1.0`` apart (they hash alike in Python)."""
    try:
        hash(value)
    except TypeError:
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Parameter:
    """One parameter and the values it may take.

    Args:
        name: parameter name as the pipeline knows it.
        values: the values to explore (duplicates are dropped, first occurrence wins).
        ordinal: ``True`` to compare values with ``<``/``>``; ``None`` infers it: numbers (``int``,
            ``float``, ``bool`` as in the reference implementation) are ordinal, everything else, and any
            parameter mixing numbers with other types (e.g. ``{None, 3, 10}``), is categorical.
    """

    name: str
    values: tuple = ()
    ordinal: bool | None = None

    def __post_init__(self) -> None:
        seen: dict[tuple[str, Any], Any] = {}
        for value in self.values:
            seen.setdefault(_tag(value), value)
        values = tuple(seen.values())
        ordinal = self.ordinal
        if ordinal is None:
            ordinal = bool(values) and all(_is_number(v) for v in values)
        if ordinal:
            if not all(_is_number(v) for v in values):
                raise ValueError(f"parameter {self.name!r} is declared ordinal but has non-numeric values")
            values = tuple(sorted(values))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "ordinal", ordinal)

    def index(self, value: Any) -> int | None:
        """Position of ``value`` in :attr:`values`, or ``None`` if it is not one of them."""
        tag = _tag(value)
        for i, v in enumerate(self.values):
            if _tag(v) == tag:
                return i
        return None

    def with_values(self, extra: Iterable[Any]) -> Parameter:
        """This parameter with ``extra`` values joined to its universe."""
        values = list(self.values) + [v for v in extra if self.index(v) is None]
        if self.ordinal and not all(_is_number(v) for v in values):
            return Parameter(self.name, tuple(values), ordinal=False)
        return Parameter(self.name, tuple(values), ordinal=self.ordinal)


@dataclass(frozen=True)
class Outcome:
    """The result of evaluating one instance.

    Attributes:
        succeeded: ``True`` when the pipeline gave an acceptable result.
        detail: a short reason for a failure, e.g. ``"ValueError: ..."``, ``"timeout after 30 s"``,
            ``"crashed (SIGSEGV)"``; empty for plain boolean outcomes.
    """

    succeeded: bool
    detail: str = ""

    def __bool__(self) -> bool:
        return self.succeeded

    @classmethod
    def of(cls, value: Any) -> Outcome:
        """Normalise what an evaluation function returned (``bool`` or :class:`Outcome`)."""
        if isinstance(value, Outcome):
            return value
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return cls(bool(value))
        return cls(False, f"evaluate returned {type(value).__name__}, expected bool or Outcome")


@dataclass(frozen=True)
class Space:
    """An ordered set of parameters (order matters: Shortcut walks the parameters in this order)."""

    params: tuple[Parameter, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError("parameter names must be unique")
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})

    @classmethod
    def of(cls, space: Space | Mapping[str, Any] | Sequence[Parameter]) -> Space:
        """Build a space from a ``Space``, a ``{name: values}`` dict (values may also be a
        :class:`Parameter`) or a sequence of parameters."""
        if isinstance(space, Space):
            return space
        if isinstance(space, Mapping):
            params = []
            for name, values in space.items():
                if isinstance(values, Parameter):
                    params.append(
                        values if values.name == name else Parameter(name, values.values, values.ordinal)
                    )
                elif isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                    raise ValueError(f"values of parameter {name!r} must be a list, got {values!r}")  # noqa: TRY004
                else:
                    params.append(Parameter(str(name), tuple(values)))
            return cls(tuple(params))
        params = tuple(space)
        if not all(isinstance(p, Parameter) for p in params):
            raise ValueError("space must be a dict {name: values}, a Space or a list of Parameter")
        return cls(params)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def __len__(self) -> int:
        return len(self.params)

    def position(self, name: str) -> int:
        """Index of parameter ``name``; raises ``KeyError`` if unknown."""
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def size(self) -> int:
        """Number of instances in the enumerated universe."""
        return math.prod(len(p.values) for p in self.params)

    def extended(self, instances: Iterable[Mapping[str, Any]]) -> Space:
        """This space with every value seen in ``instances`` joined to its parameter's universe."""
        extra: dict[str, list[Any]] = {p.name: [] for p in self.params}
        for instance in instances:
            for name, value in instance.items():
                if name in extra:
                    extra[name].append(value)
        return Space(tuple(p.with_values(extra[p.name]) for p in self.params))

    def key(self, instance: Mapping[str, Any]) -> Key | None:
        """The index tuple of ``instance``; ``None`` if it lacks a parameter or has an unknown value.
        Keys outside the space are ignored."""
        key = []
        for p in self.params:
            if p.name not in instance:
                return None
            i = p.index(instance[p.name])
            if i is None:
                return None
            key.append(i)
        return tuple(key)

    def instance(self, key: Key) -> dict[str, Any]:
        """The ``{name: value}`` dict of an index tuple."""
        return {p.name: p.values[i] for p, i in zip(self.params, key, strict=True)}

    def value(self, position: int, index: int) -> Any:
        return self.params[position].values[index]
