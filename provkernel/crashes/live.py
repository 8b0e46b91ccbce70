"""The live state at a crash: the objects the failing line uses, and who owns the frames it went through.

Runs in the kernel right after a traceback, on the exception object (its frames are still alive).
Passive and bounded: objects are read through their fingerprints
(:class:`~provkernel.capture.fingerprint.Fingerprinter`) and, for a few known library types only
(pandas, NumPy, PyTorch, scikit-learn), through library code on at most :data:`MAX_CELLS` values; the
methods of user classes (``__repr__``, ``__len__``, ``__eq__``, properties) are never called. The
whole inspection stops after :data:`BUDGET_S`.

>>> import numpy as np
>>> def fail(values):
...     return np.log(values) + undefined_here  # noqa: F821
>>> try:
...     fail(np.ones(3))
... except NameError as exc:
...     state = inspect_crash(exc, lambda path: path == __file__ or path.startswith("<doctest"))
>>> state.objects["values"].fingerprint[:3]
('ndarray', '<f8', (3,))
"""

from __future__ import annotations

import ast
import linecache
import logging
import re
import sys
import time
import types
from collections.abc import Callable, Iterable
from inspect import getattr_static
from typing import Any

from provkernel.capture.fingerprint import Fingerprinter, columns, is_fitted
from provkernel.crashes.context import LiveObject, LiveState, Owner

log = logging.getLogger("provkernel")

BUDGET_S = 0.015  # the whole inspection; objects left when it runs out are skipped
MAX_OBJECTS = 8
MAX_CELLS = 1_000_000  # values read by a NaN or value search (the first rows of a larger frame)
MAX_COLUMNS = 60
MAX_MODULES = 200  # submodules walked to find a torch model's first layer
TEXT_DTYPES = frozenset({"object", "str", "string"})
_CELL_FILE = re.compile(r"ipykernel_\d+[\\/]\d+\.py$|^<ipython-input-|^<cell")
_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    type,
)
_BLOCKS = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.If,
    ast.Try,
)
# Frames of the kernel machinery between the notebook and the user's libraries.
_MACHINERY = frozenset({"IPython", "ipykernel", "provkernel", "traitlets", "tornado", "asyncio"})

Resolver = Callable[[str], tuple[str | None, str | None]]


def default_is_cell(path: str) -> bool:
    """Whether a code file name is an IPython cell (``…/ipykernel_123/456.py``, ``<ipython-input-…>``)."""
    return bool(_CELL_FILE.search(path))


def inspect_crash(
    exception: BaseException,
    is_cell: Callable[[str], bool] = default_is_cell,
    resolve: Resolver | None = None,
    wants: Iterable[str] = (),
    fingerprinter: Fingerprinter | None = None,
    budget_s: float = BUDGET_S,
) -> LiveState:
    """What the failing line used and which distributions the traceback went through.

    Args:
        exception: The exception the cell raised (with its ``__traceback__``).
        is_cell: Whether a code file name is a notebook cell.
        resolve: Top-level module -> (distribution, version); None skips owners.
        wants: Extra facts the message calls for: ``"nan"`` (which columns hold NaN or infinity),
            ``"value:<text>"`` (which column holds that value).
        fingerprinter: A shared fingerprinter (it remembers slow types); a new one by default.
        budget_s: Time allowed; the objects not reached in time are left out.

    Returns:
        The live state; empty parts when something cannot be read. Never raises.
    """
    deadline = time.perf_counter() + budget_s
    try:
        frames = _frames(exception)
        cell_index = max((i for i, f in enumerate(frames) if is_cell(f[0].f_code.co_filename)), default=None)
        owners = _owners(frames, cell_index, is_cell, resolve) if resolve else ()
        if cell_index is None:
            return LiveState(owners=owners)
        frame, lasti = frames[cell_index][0], frames[cell_index][2]
        node, statement, in_loop, line = _failing_node(frame, frames[cell_index][1], lasti)
        names = _names(node, statement)
        if resolve and cell_index == len(frames) - 1:
            called = _called_owner(node, frame, resolve) or _imported_owner(statement, resolve)
            if called is not None:
                owners = (*owners, called)
        fingerprinter = fingerprinter or Fingerprinter()
        objects = _objects(names, frame, set(wants), fingerprinter, deadline)
        outer = min(i for i, f in enumerate(frames) if is_cell(f[0].f_code.co_filename))
        if outer != cell_index:  # the crash went through notebook functions: the cell's own line too
            top, top_line, top_lasti = frames[outer]
            top_node, top_statement, _, _ = _failing_node(top, top_line, top_lasti)
            more = [n for n in _names(top_node, top_statement) if n not in objects]
            objects |= _objects(more, top, set(wants), fingerprinter, deadline, MAX_OBJECTS - len(objects))
        return LiveState(objects=objects, owners=owners, line=line, in_loop=in_loop)
    except Exception:  # the diagnosis goes on from the traceback alone
        log.debug("provkernel: live crash inspection failed", exc_info=True)
        return LiveState()


def _frames(exception: BaseException) -> list[tuple[types.FrameType, int, int]]:
    found = []
    tb = exception.__traceback__
    while tb is not None and len(found) < 500:
        found.append((tb.tb_frame, tb.tb_lineno, tb.tb_lasti))
        tb = tb.tb_next
    return found


def _module_of(frame: types.FrameType) -> str:
    name = frame.f_globals.get("__name__")
    return name if isinstance(name, str) else ""


def _owners(
    frames: list, cell_index: int | None, is_cell: Callable[[str], bool], resolve: Resolver
) -> tuple[Owner, ...]:
    """Distributions of the frames below the notebook's innermost frame (the innermost one ``raised``)."""
    start = 0 if cell_index is None else cell_index + 1
    tops: list[str] = []
    for frame, _line, _lasti in frames[start:]:
        if is_cell(frame.f_code.co_filename):
            continue
        top = _module_of(frame).split(".")[0]
        if top and top not in _MACHINERY and top not in sys.stdlib_module_names and top != "__main__":
            if top in tops:
                tops.remove(top)
            tops.append(top)
    owners = []
    for index, top in enumerate(tops):
        distribution, version = resolve(top)
        owners.append(Owner(top, distribution, version, "raised" if index == len(tops) - 1 else "frame"))
    return tuple(owners)


def _position(code: types.CodeType, lasti: int) -> tuple | None:
    if lasti < 0:
        return None
    for index, position in enumerate(code.co_positions()):
        if index == lasti // 2:
            return position
    return None


def _failing_node(
    frame: types.FrameType, lineno: int, lasti: int
) -> tuple[ast.AST | None, ast.AST | None, bool, str]:
    """The expression that failed (from the instruction's source position), its statement, whether it is
    in a loop, and its source text (the statement's when the position is unknown)."""
    source = "".join(linecache.getlines(frame.f_code.co_filename))
    if not source:
        return None, None, False, ""
    tree = ast.parse(source)
    position = _position(frame.f_code, lasti)
    best: ast.AST | None = None
    in_loop = False
    for node in ast.walk(tree):
        if isinstance(node, ast.For | ast.While | ast.AsyncFor) and node.lineno <= lineno <= (
            node.end_lineno or node.lineno
        ):
            body_start = node.body[0].lineno if node.body else node.lineno
            in_loop = in_loop or lineno >= body_start
        if position and position[0] is not None and isinstance(node, ast.expr):
            span = (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)
            if span == tuple(position):
                best = node
    statement = _statement_at(tree, lineno)
    shown = best if best is not None else statement
    text = ast.get_source_segment(source, shown) if shown is not None else ""
    return best, statement, in_loop, (text or "").strip()


def _statement_at(tree: ast.AST, lineno: int) -> ast.AST | None:
    """The innermost statement spanning ``lineno``."""
    found = None
    for node in ast.walk(tree):
        spans = isinstance(node, ast.stmt) and node.lineno <= lineno <= (node.end_lineno or node.lineno)
        if spans and not isinstance(node, _BLOCKS) and (found is None or node.lineno >= found.lineno):
            found = node
    return found


def _names(*nodes: ast.AST | None) -> list[str]:
    """Variables the failing expression reads, then the rest of its statement's, each in source order."""
    names: list[str] = []
    for node in nodes:
        if node is None:
            continue
        for sub in sorted(
            (n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)),
            key=lambda n: (n.lineno, n.col_offset),
        ):
            if sub.id not in names:
                names.append(sub.id)
    return names


def _lookup(name: str, frame: types.FrameType) -> tuple[bool, Any]:
    for namespace in (frame.f_locals, frame.f_globals):
        if type(namespace) is dict and name in namespace:
            return True, namespace[name]
    return False, None


def _imported_owner(statement: ast.AST | None, resolve: Resolver) -> Owner | None:
    """The distribution of the module a failing ``from X import y`` / ``import X.y`` names."""
    if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
        top = statement.module.split(".")[0]
    elif isinstance(statement, ast.Import) and statement.names:
        top = statement.names[0].name.split(".")[0]
    else:
        return None
    if top in sys.stdlib_module_names:
        return None
    distribution, version = resolve(top)
    return Owner(top, distribution, version, "called")


def _called_owner(node: ast.AST | None, frame: types.FrameType, resolve: Resolver) -> Owner | None:
    """The distribution of the function a call on the failing line names (for calls rejected before the
    function ran, e.g. an unknown keyword argument)."""
    if not isinstance(node, ast.Call):
        return None
    chain: list[str] = []
    func = node.func
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    found, target = _lookup(func.id, frame)
    if not found:
        return None
    for attribute in reversed(chain):
        if isinstance(target, types.ModuleType):
            target = object.__getattribute__(target, "__dict__").get(attribute)
        else:
            target = getattr_static(target, attribute, None)
        if target is None:
            return None
    if isinstance(target, staticmethod | classmethod):
        target = target.__func__
    if isinstance(target, _FUNCTION_TYPES):
        module = getattr(target, "__module__", None) or ""
    elif isinstance(target, types.ModuleType):
        return None
    else:
        module = type(target).__module__
    top = module.split(".")[0] if isinstance(module, str) else ""
    if not top or top in sys.stdlib_module_names or top in {"builtins", "__main__"}:
        return None
    distribution, version = resolve(top)
    return Owner(top, distribution, version, "called")


def _objects(
    names: list[str],
    frame: types.FrameType,
    wants: set[str],
    fingerprinter: Fingerprinter,
    deadline: float,
    limit: int = MAX_OBJECTS,
) -> dict[str, LiveObject]:
    objects: dict[str, LiveObject] = {}
    for name in names:
        if len(objects) >= limit or time.perf_counter() > deadline:
            break
        found, value = _lookup(name, frame)
        if not found or isinstance(value, (types.ModuleType, *_FUNCTION_TYPES)):
            continue
        kind = type(value)
        type_name = f"{kind.__module__}.{kind.__qualname__}"
        fingerprint = fingerprinter.of(value)
        try:
            facts = _facts(value, fingerprint, wants)
        except Exception:  # an odd object: its fingerprint is enough
            log.debug("provkernel: facts of %s failed", type_name, exc_info=True)
            facts = {}
        objects[name] = LiveObject(name, type_name, fingerprint, facts)
    return objects


def _facts(value: Any, fingerprint: tuple | None, wants: set[str]) -> dict[str, Any]:
    """Bounded facts of known library types; nothing for anything else."""
    if not fingerprint:
        return {}
    kind = fingerprint[0]
    if kind == "DataFrame":
        return _frame_facts(value, fingerprint, wants)
    if kind in {"Series", "ndarray"}:
        return _array_facts(value, kind, wants)
    if kind == "estimator":
        return _estimator_facts(value, fingerprint)
    if kind == "Module":
        return _torch_facts(value)
    return {}


def _frame_facts(frame: Any, fingerprint: tuple, wants: set[str]) -> dict[str, Any]:
    dtypes = list((columns(fingerprint) or {}).items())[:MAX_COLUMNS]
    facts: dict[str, Any] = {
        "rows": fingerprint[1],
        "columns": [c for c, _ in dtypes],
        "object_columns": [c for c, t in dtypes if t in TEXT_DTYPES],
    }
    if not dtypes:
        return facts
    # by position: labels in fingerprints are text, the frame's may be numbers
    head = frame.iloc[: max(1, MAX_CELLS // len(dtypes)), : len(dtypes)]
    if "nan" in wants:
        missing = head.isna().any().to_numpy()
        facts["nan_columns"] = [c for (c, _), bad in zip(dtypes, missing, strict=True) if bad]
        floats = [i for i, (_, t) in enumerate(dtypes) if t.startswith("float")]
        if floats:
            import numpy as np

            infinite = np.isinf(head.iloc[:, floats].to_numpy()).any(axis=0)
            facts["inf_columns"] = [dtypes[i][0] for i, bad in zip(floats, infinite, strict=True) if bad]
    values = [w.split(":", 1)[1] for w in wants if w.startswith("value:")]
    if values:
        for index, (column, dtype) in enumerate(dtypes):
            if (dtype in TEXT_DTYPES or dtype == "category") and bool(
                (head.iloc[:, index].astype(object) == values[0]).any()
            ):
                facts["value_column"] = column
                break
    return facts


def _array_facts(value: Any, kind: str, wants: set[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if "nan" in wants:
        head = value[:MAX_CELLS] if kind == "Series" else value.reshape(-1)[:MAX_CELLS]
        if kind == "Series":
            facts["has_nan"] = bool(head.isna().any())
        elif head.dtype.kind in "fc":
            import numpy as np

            facts["has_nan"] = bool(np.isnan(head).any())
            facts["has_inf"] = bool(np.isinf(head).any())
    return facts


def _estimator_facts(value: Any, fingerprint: tuple) -> dict[str, Any]:
    state = object.__getattribute__(value, "__dict__")
    facts: dict[str, Any] = {"fitted": bool(is_fitted(fingerprint))}
    n_features = state.get("n_features_in_")
    if type(n_features) is int:
        facts["n_features_in"] = n_features
    names = state.get("feature_names_in_")
    if names is not None and type(names).__name__ == "ndarray" and len(names) <= MAX_COLUMNS:
        facts["feature_names_in"] = [str(n) for n in names.tolist()]
    return facts


def _torch_facts(value: Any) -> dict[str, Any]:
    """The first layer that declares its input width (``in_features``, ``in_channels``, ``num_embeddings``)."""
    pending = [("", value)]
    seen = 0
    while pending and seen < MAX_MODULES:
        path, module = pending.pop(0)
        seen += 1
        state = object.__getattribute__(module, "__dict__")
        for key in ("in_features", "in_channels", "num_embeddings"):
            width = state.get(key)
            if type(width) is int:
                return {
                    "first_layer": path or type(module).__name__,
                    "layer_type": type(module).__name__,
                    key: width,
                }
        children = state.get("_modules")
        if type(children) is dict:
            pending.extend((f"{path}.{k}" if path else k, m) for k, m in children.items() if m is not None)
    return {}
