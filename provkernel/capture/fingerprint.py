"""Cheap fingerprints of live objects: enough structure to see that an object changed, never its data.

A fingerprint is a small tuple whose first item names the kind of object. Two fingerprints of the
same object differ when it changed in a way a cell would care about: a list grew, a DataFrame lost a
column or rows, an estimator was fitted, a tensor was modified in place or moved to another device.
Immutable values (numbers, strings, tuples) have no fingerprint: rebinding them is already seen by
the namespace check.

The work is bounded: no full-data hashing (containers hash the identities of at most
:data:`MAX_ITEMS` items, arrays sample :data:`ARRAY_SAMPLES` elements), no user code is called
(unknown classes are fingerprinted by the identities in their instance ``__dict__``, which Python
reads without running a method), and a type whose fingerprint once took longer than
:data:`SLOW_S` is from then on fingerprinted by identity only.

>>> fp = Fingerprinter()
>>> seen = {1, 2}
>>> before = fp.of(seen); seen.add(3); before == fp.of(seen)
False
>>> fp.of(3.5) is None
True
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import time
import types
from collections import deque
from collections.abc import Callable
from typing import Any

Fingerprint = tuple

MAX_ITEMS = 2000  # identities hashed per container; beyond, the first and last items are sampled
EDGE_ITEMS = 64
ARRAY_SAMPLES = 16
MAX_COLUMNS = 2000  # columns listed by name; a wider frame is summarised by a hash of its columns
MAX_STEPS = 50  # estimators inspected inside a pipeline
SLOW_S = 0.005
HASH_MASK = (1 << 48) - 1

IMMUTABLE = frozenset({int, float, complex, bool, str, bytes, type(None), range, frozenset, tuple, type(...)})
CONTAINERS = frozenset({list, dict, set, bytearray, deque})
# Redefining a function, class or module rebinds its name (the namespace check sees that); calling
# into one is followed through the notebook's function facts, not through its attributes.
NOT_TRACKED = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    functools.partial,
)


# A number unique to each live object, as id() gives: object's own hash, the object's address
# rotated, read without calling the object's code. Unlike id(), it raises no ``builtins.id`` audit
# event, which Python passes through every audit hook (ours included): 4x cheaper per object.
identity: Callable[[object], int] = object.__hash__


def _h(value: Any) -> int:
    """A 48-bit hash (exact in JSON). Identities and str hashes are per process: fingerprints are
    compared within one kernel; only their structural parts (shapes, columns) mean something later."""
    return hash(value) & HASH_MASK


def _ids_hash(items: Any, length: int) -> int:
    """Hash of the identities of a sequence's items (the first and last ones when it is long)."""
    if length <= MAX_ITEMS:
        return _h(tuple(map(identity, items)))
    head = tuple(map(identity, itertools.islice(items, EDGE_ITEMS)))
    tail = tuple(identity(items[i]) for i in range(length - EDGE_ITEMS, length))
    return _h((head, tail))


def _container(obj: Any) -> Fingerprint:
    kind = type(obj)
    n = len(obj)
    if kind is dict:
        if n <= MAX_ITEMS:
            return ("dict", n, _h((tuple(map(identity, obj)), tuple(map(identity, obj.values())))))
        head = itertools.islice(obj.items(), EDGE_ITEMS)
        return ("dict", n, _h(tuple(identity(x) for item in head for x in item)))
    if kind is set:
        return ("set", n, _h(frozenset(map(identity, obj))) if n <= MAX_ITEMS else 0)
    if kind is bytearray:
        return ("bytearray", n, _h(bytes(obj[:MAX_ITEMS])))
    return (kind.__name__, n, _ids_hash(obj, n))


def _module(kind: type) -> str:
    return getattr(kind, "__module__", "") or ""


def _ndarray(obj: Any) -> Fingerprint:
    size = obj.size
    sample = 0
    if size:
        step = max(1, size // ARRAY_SAMPLES)
        sample = _h(obj.flat[0:size:step][:ARRAY_SAMPLES].tobytes())
    return ("ndarray", obj.dtype.str, tuple(obj.shape), sample)


def _label(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _dataframe(obj: Any) -> Fingerprint:
    columns = obj.columns
    if len(columns) > MAX_COLUMNS:
        digest = hashlib.blake2b(
            "\0".join(map(_label, columns)).encode("utf-8", "backslashreplace"), digest_size=6
        )
        return ("DataFrame", len(obj.index), len(columns), digest.hexdigest())
    dtypes = tuple(str(t) for t in obj.dtypes)
    return ("DataFrame", len(obj.index), tuple(zip(map(_label, columns), dtypes, strict=True)))


def _series(obj: Any) -> Fingerprint:
    return ("Series", len(obj.index), _label(obj.name), str(obj.dtype))


def _tensor(obj: Any) -> Fingerprint:
    # _version counts in-place operations: a perfect, free detector of `t.add_(1)`, `t[0] = 5`
    return ("Tensor", str(obj.dtype), tuple(obj.shape), str(obj.device), obj.requires_grad, obj._version)


def _torch_module(obj: Any) -> Fingerprint:
    params = 0
    device = dtype = ""
    for i, p in enumerate(obj.parameters()):
        if i == 0:
            device, dtype = str(p.device), str(p.dtype)
        params += p.numel()
        if i >= MAX_ITEMS:
            break
    return ("Module", type(obj).__qualname__, params, device, dtype, obj.training)


def fitted_attributes(obj: Any) -> dict[str, tuple | None]:
    """scikit-learn's convention: attributes ending in ``_`` exist once an estimator is fitted.

    Returns each fitted attribute with the shape of its value when that is a NumPy array.
    """
    state = instance_dict(obj)
    fitted = {}
    for name, value in state.items():
        if name.endswith("_") and not name.startswith("_"):
            kind = type(value)
            fitted[name] = (
                tuple(value.shape) if kind.__name__ == "ndarray" and _module(kind) == "numpy" else None
            )
    return fitted


def _estimator(obj: Any) -> Fingerprint:
    fitted = tuple(sorted(fitted_attributes(obj).items()))
    steps = instance_dict(obj).get("steps")
    inner: tuple = ()
    if type(steps) is list:  # Pipeline: fitted state lives in its steps
        inner = tuple(
            _estimator(step[1])
            if type(step) is tuple and len(step) == 2 and _is_estimator(type(step[1]))
            else ()
            for step in steps[:MAX_STEPS]
        )
    return ("estimator", type(obj).__qualname__, fitted, inner)


def _is_estimator(kind: type) -> bool:
    return hasattr(kind, "fit") and hasattr(kind, "get_params")


def instance_dict(obj: Any) -> dict:
    """The object's own ``__dict__`` read without running descriptors or ``__getattr__`` ({} if none)."""
    try:
        state = object.__getattribute__(obj, "__dict__")
    except (AttributeError, TypeError):
        return {}
    return state if type(state) is dict else {}


def _generic(obj: Any) -> Fingerprint:
    """An object we know nothing about: the identities of its attributes (rebinding ``self.x``)."""
    state = instance_dict(obj)
    if not state:
        return ("object", type(obj).__qualname__, 0, 0)
    values = list(state.values())
    return ("object", type(obj).__qualname__, len(values), _ids_hash(values, len(values)))


def _classify(kind: type) -> Callable[[Any], Fingerprint] | None:
    """The fingerprint function for objects of ``kind`` (None: immutable, no fingerprint)."""
    if kind in IMMUTABLE:
        return None
    if kind in CONTAINERS:
        return _container
    module, name = _module(kind), kind.__name__
    top = module.partition(".")[0]
    if top == "numpy":
        if name == "ndarray":
            return _ndarray
        if any(c.__name__ == "generic" and _module(c) == "numpy" for c in kind.__mro__):
            return None  # numpy scalars are immutable
    if top == "pandas":
        if name == "DataFrame":
            return _dataframe
        if name == "Series":
            return _series
    if top == "torch" and name in ("Tensor", "Parameter"):
        return _tensor
    if _is_torch_module(kind):
        return _torch_module
    if _is_estimator(kind):
        return _estimator
    if issubclass(kind, NOT_TRACKED):
        return None
    return _generic


def _is_torch_module(kind: type) -> bool:
    return any(c.__name__ == "Module" and _module(c) == "torch.nn.modules.module" for c in kind.__mro__)


class Fingerprinter:
    """Fingerprints objects, remembering the fingerprint function per type and which types are slow."""

    def __init__(self, slow_s: float = SLOW_S) -> None:
        self.slow_s = slow_s
        self._by_type: dict[type, Callable[[Any], Fingerprint] | None] = {}
        self.slow_types: set[str] = set()
        self.failures = 0

    def of(self, obj: Any) -> Fingerprint | None:
        """The fingerprint of ``obj``; None for immutable values. Never raises."""
        kind = type(obj)
        try:
            make = self._by_type[kind]
        except KeyError:
            make = self._by_type[kind] = _classify_safely(kind)
        if make is None:
            return None
        started = time.perf_counter()
        try:
            result = make(obj)
        except Exception:  # noqa: BLE001 - an odd object (a proxy, a half-built frame): identity only
            self.failures += 1
            self._by_type[kind] = _identity
            return _identity(obj)
        if time.perf_counter() - started > self.slow_s:
            self.slow_types.add(f"{_module(kind)}.{kind.__qualname__}")
            self._by_type[kind] = _identity
        return result


def _identity(obj: Any) -> Fingerprint:
    return ("object", type(obj).__qualname__, -1, 0)  # -1: not looked into (slow or odd type)


def _classify_safely(kind: type) -> Callable[[Any], Fingerprint] | None:
    try:
        return _classify(kind)
    except Exception:  # noqa: BLE001 - a metaclass with odd attributes
        return _identity


# --- reading fingerprints back (evidence, column lineage) ------------------------------------


# Kinds whose last item is a per-process hash of identities or sampled values: it tells a change
# within one kernel, and means nothing once stored.
VOLATILE_TAIL = frozenset({"list", "dict", "set", "deque", "bytearray", "ndarray", "Tensor", "object"})


def structure(fp: Fingerprint | None) -> Fingerprint | None:
    """The part of a fingerprint worth storing: kind, sizes, shapes, columns, dtypes, fitted state."""
    if fp is None:
        return None
    return fp[:-1] if fp[0] in VOLATILE_TAIL else fp


def to_json(fp: Fingerprint | None) -> list | None:
    """A JSON form (lists for tuples)."""
    if fp is None:
        return None
    return [to_json(x) if isinstance(x, tuple) else x for x in fp]


def from_json(data: list | None) -> Fingerprint | None:
    """Inverse of :func:`to_json` (lists become tuples again)."""
    if data is None:
        return None
    return tuple(from_json(x) if isinstance(x, list) else x for x in data)


def columns(fp: Fingerprint | None) -> dict[str, str] | None:
    """Column name → dtype of a DataFrame fingerprint (None for anything else, or a very wide frame)."""
    if fp and fp[0] == "DataFrame" and len(fp) == 3:
        return {name: dtype for name, dtype in fp[2]}
    return None


def is_fitted(fp: Fingerprint | None) -> bool | None:
    """Whether an estimator fingerprint shows fitted state (a pipeline: its last step); None if not one."""
    if not fp or fp[0] != "estimator":
        return None
    steps = [s for s in fp[3] if s]
    return bool(fp[2]) or (bool(steps) and is_fitted(steps[-1]) is True)


def describe(fp: Fingerprint | None) -> str:
    """A few words for people: ``DataFrame 1,000 rows × 12 columns``, ``list of 3``, ``fitted LogisticRegression``."""
    if not fp:
        return ""
    kind = fp[0]
    if kind == "DataFrame":
        width = len(fp[2]) if len(fp) == 3 else fp[2]
        return f"DataFrame {fp[1]:,} rows × {width} columns"
    if kind == "Series":
        return f"Series of {fp[1]:,} ({fp[3]})"
    if kind == "ndarray":
        return f"array {'×'.join(map(str, fp[2])) or 'scalar'} {fp[1].lstrip('<>|=')}"
    if kind == "Tensor":
        return f"tensor {list(fp[2])} {fp[1].removeprefix('torch.')} on {fp[3]}"
    if kind == "Module":
        return f"{fp[1]} ({fp[2]:,} parameters on {fp[3] or 'no device'})"
    if kind == "estimator":
        return f"{'fitted' if is_fitted(fp) else 'unfitted'} {fp[1]}"
    if kind in ("list", "dict", "set", "deque", "bytearray"):
        return f"{kind} of {fp[1]:,}"
    if kind == "object" and len(fp) > 2 and fp[2] >= 0:
        return f"{fp[1]} with {fp[2]} attributes"
    return fp[1] if len(fp) > 1 else kind
