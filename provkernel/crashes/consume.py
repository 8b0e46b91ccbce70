"""Static facts about how a cell's code uses up its own data: which statement removes which columns from
which variable, which lines run inside a loop, which assignments store ``None``.

Plain AST over one cell's code (IPython syntax neutralised); never raises on code that does not parse.

>>> [(r.name, r.columns, r.rebinds) for r in removals("df = df.drop(columns=['Amount'])")]
[('df', ('Amount',), True)]
>>> in_loop("for c in cols:\\n    df.drop(c, axis=1, inplace=True)", 2)
True
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from provkernel.crashes.bindings import python_source

# Methods that remove labels or items from their receiver (in place, or in the copy they return).
REMOVING_METHODS = frozenset({"drop", "pop"})
# Methods of lists and similar that change the receiver and return None: ``x = x.sort()`` stores None.
NONE_RETURNING = frozenset(
    {"sort", "append", "extend", "insert", "reverse", "remove", "clear", "shuffle", "update"}
)


@dataclass(frozen=True)
class Removal:
    """A statement that removes labels from a variable's data.

    Attributes:
        name: The variable that ends up without the labels (the assignment target, or the receiver).
        source: The variable the labels were removed from (the receiver of the call).
        columns: The literal labels removed (empty when not literal).
        line: Line number in the cell.
        operation: How: ``drop``, ``drop(inplace=True)``, ``pop`` or ``del``.
        rebinds: Whether the statement both reads and rebinds the name (``df = df.drop(…)``) or changes it in
            place: running it twice removes twice.
        axis_columns: Whether the labels are columns (``columns=``, ``axis=1``, ``pop``, ``del df[c]``).
    """

    name: str
    source: str
    columns: tuple[str, ...]
    line: int
    operation: str
    rebinds: bool
    axis_columns: bool


@lru_cache(maxsize=512)
def _tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(code))
    except (SyntaxError, ValueError):
        return None


def _strings(node: ast.AST | None) -> tuple[str, ...]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return ()


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _removal_call(call: ast.Call) -> tuple[str, tuple[str, ...], str, bool] | None:
    """(receiver, labels, operation, columns axis) of ``x.drop(…)``/``x.pop(…)``."""
    if not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
        return None
    method = call.func.attr
    if method not in REMOVING_METHODS:
        return None
    receiver = call.func.value.id
    if method == "pop":
        return receiver, _strings(call.args[0]) if call.args else (), "pop", True
    columns = _keyword(call, "columns")
    axis = _keyword(call, "axis")
    axis_columns = columns is not None or (isinstance(axis, ast.Constant) and axis.value in (1, "columns"))
    labels = (
        _strings(columns)
        or _strings(_keyword(call, "labels"))
        or _strings(call.args[0] if call.args else None)
    )
    operation = "drop(inplace=True)" if _is_true(_keyword(call, "inplace")) else "drop"
    return receiver, labels, operation, axis_columns


def removals(code: str) -> list[Removal]:
    """Every statement of the cell (at any depth) that removes labels from a variable, in line order."""
    tree = _tree(code)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            removal = _removal_call(node.value)
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if removal and targets and removal[2] != "pop":
                receiver, labels, operation, axis = removal
                for target in targets:
                    found.append(
                        Removal(target, receiver, labels, node.lineno, operation, target == receiver, axis)
                    )
                continue
        if isinstance(node, ast.Expr | ast.Assign) and isinstance(node.value, ast.Call):
            removal = _removal_call(node.value)
            if removal and (removal[2] != "drop"):
                receiver, labels, operation, axis = removal
                found.append(Removal(receiver, receiver, labels, node.lineno, operation, True, axis))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    labels = _strings(target.slice)
                    found.append(
                        Removal(target.value.id, target.value.id, labels, node.lineno, "del", True, True)
                    )
    return sorted(found, key=lambda r: r.line)


def additions(code: str) -> list[tuple[str, str, int]]:
    """``(variable, column, line)`` for statements that add a literal column to a variable's data:
    ``df['c'] = …``, ``df.insert(i, 'c', …)``, ``df = df.assign(c=…)``, ``df = df.rename(columns={…: 'c'})``.

    >>> additions("df['ratio'] = df['a'] / df['b']\\ndf = df.assign(total=1)")
    [('df', 'ratio', 1), ('df', 'total', 2)]
    """
    tree = _tree(code)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    found += [(target.value.id, c, node.lineno) for c in _strings(target.slice)]
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if call.func.attr == "assign":
                    found += [(n, k.arg, node.lineno) for n in names for k in call.keywords if k.arg]
                elif call.func.attr == "rename" and isinstance(_keyword(call, "columns"), ast.Dict):
                    renamed = _keyword(call, "columns")
                    new = [
                        v.value
                        for v in renamed.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    ]
                    found += [(n, c, node.lineno) for n in names for c in new]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "insert"
                and isinstance(call.func.value, ast.Name)
                and len(call.args) >= 2
            ):
                found += [(call.func.value.id, c, node.lineno) for c in _strings(call.args[1])]
    return sorted(found, key=lambda item: item[2])


def in_loop(code: str, line: int) -> bool:
    """Whether line ``line`` of the cell is in the body of a ``for`` or ``while`` loop."""
    tree = _tree(code)
    if tree is None:
        return False
    return any(
        isinstance(node, ast.For | ast.AsyncFor | ast.While)
        and node.body
        and node.body[0].lineno <= line <= (node.end_lineno or node.lineno)
        for node in ast.walk(tree)
    )


def none_assignments(code: str) -> list[tuple[str, int, str]]:
    """``(name, line, call)`` for assignments that store the ``None`` an in-place method returns
    (``df = df.dropna(inplace=True)``, ``xs = xs.sort()``).

    >>> none_assignments("clean = df.dropna(inplace=True)")
    [('clean', 1, 'df.dropna(inplace=True)')]
    """
    tree = _tree(code)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        if not isinstance(call.func, ast.Attribute):
            continue
        inplace = _is_true(_keyword(call, "inplace"))
        if inplace or call.func.attr in NONE_RETURNING:
            receiver = ast.unparse(call.func.value)
            text = (
                f"{receiver}.{call.func.attr}(inplace=True)" if inplace else f"{receiver}.{call.func.attr}()"
            )
            found += [(t.id, node.lineno, text) for t in node.targets if isinstance(t, ast.Name)]
    return found
