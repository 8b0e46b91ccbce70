"""Giving a notebook cell other parameter values by rewriting its literal assignments (not its text).

>>> print(substitute("solver = 'lbfgs'  # the default\\nmodel = fit(solver)", {"solver": "saga"}))
solver = 'saga'
model = fit(solver)
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from provkernel.capture.visitor import literal_source
from provkernel.parameters import python_literal


class SubstitutionError(ValueError):
    """A parameter has no literal assignment in the cell to rewrite."""


def python_code(code: str) -> str:
    """The cell as plain Python: IPython syntax (``%magic``, ``!cmd``) turned into calls, as IPython runs it."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def _literal_assignments(tree: ast.Module) -> dict[str, ast.Assign | ast.AnnAssign]:
    """The last module-level ``name = <literal>`` of each name: the value the rest of the notebook sees."""
    found: dict[str, ast.Assign | ast.AnnAssign] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name = node.target.id
        else:
            continue
        if literal_source(node.value) is not None:
            found[name] = node
        else:
            found.pop(name, None)
    return found


def substitute(code: str, values: Mapping[str, Any]) -> str:
    """``code`` with the literal assigned to each name in ``values`` replaced by that value.

    Raises:
        SubstitutionError: a name has no literal assignment in ``code``.
    """
    tree = ast.parse(python_code(code))
    sites = _literal_assignments(tree)
    missing = sorted(set(values) - set(sites))
    if missing:
        raise SubstitutionError(f"no literal assignment of {', '.join(missing)} in this cell")
    for name, value in values.items():
        sites[name].value = ast.parse(python_literal(value), mode="eval").body
    return ast.unparse(tree)


def is_parameters_only(code: str) -> bool:
    """True if every statement is a literal assignment (or a docstring/pass): re-running it costs nothing
    and has no other effect, so warm start may run it early and again with new values.
    """
    try:
        tree = ast.parse(python_code(code))
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            if literal_source(node.value) is None:
                return False
        elif not (
            isinstance(node, ast.Pass) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            return False
    return True


def reads_after_assignment(code: str, name: str) -> bool:
    """Whether the cell itself reads ``name`` after assigning it (so its own later lines depend on it)."""
    try:
        tree = ast.parse(python_code(code))
    except SyntaxError:
        return True
    site = _literal_assignments(tree).get(name)
    if site is None:
        return False
    after = False
    for node in tree.body:
        if node is site:
            after = True
            continue
        if after and any(
            isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(node)
        ):
            return True
    return False
