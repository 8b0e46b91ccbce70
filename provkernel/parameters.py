"""Notebook parameters with papermill's conventions: value parsing, and the injected-parameters cell.

Same rules as papermill, so notebooks and habits carry over: ``-p NAME VALUE`` values become
``True``/``False``/``None``, int, float, else str; ``-y``/``-f`` take YAML; the first cell tagged
``parameters`` holds defaults; an ``injected-parameters`` cell is inserted after it (replacing an
earlier one), or at the top when there is no ``parameters`` cell.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat

from provkernel.errors import UsageError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


def resolve_value(text: str) -> Any:
    """Papermill's ``-p`` typing: booleans and None by name, then int, then float, else the string."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def load_yaml(text: str, origin: str) -> dict[str, Any]:
    """Parameters from YAML text (papermill keeps dates as strings; so do we)."""
    import yaml

    class NoDatesSafeLoader(yaml.SafeLoader):
        pass

    NoDatesSafeLoader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        data = yaml.load(text, Loader=NoDatesSafeLoader)
    except yaml.YAMLError as exc:
        raise UsageError(f"{origin}: not valid YAML ({exc.__class__.__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{origin}: expected a mapping of parameter names to values")
    return {str(k): v for k, v in data.items()}


def merge_parameters(
    files: Iterable[str] = (), yamls: Iterable[str] = (), pairs: Iterable[tuple[str, str]] = ()
) -> dict[str, Any]:
    """Merge in papermill's order: ``-f`` files, then ``-y`` YAML, then ``-p`` pairs (later wins)."""
    merged: dict[str, Any] = {}
    for path in files:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read parameters file {path}: {exc.strerror}") from None
        merged.update(load_yaml(text, path))
    for text in yamls:
        merged.update(load_yaml(text, "-y"))
    for name, value in pairs:
        if not name.isidentifier():
            raise UsageError(f"-p {name}: a parameter name must be a Python identifier")
        merged[name] = resolve_value(value)
    return merged


def python_literal(value: Any) -> str:
    """Source text that evaluates to ``value`` (as papermill's Python translator writes it)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return f"float('{value}')"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    text = repr(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"parameter value {value!r} cannot be written as a Python literal") from None
    return text


def parameters_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first cell tagged ``parameters``."""
    for index, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def inject_parameters(nb: nbformat.NotebookNode, parameters: Mapping[str, Any]) -> nbformat.NotebookNode:
    """A copy of ``nb`` with an ``injected-parameters`` cell holding ``parameters``."""
    nb = copy.deepcopy(nb)
    if not parameters:
        return nb
    source = "# Parameters\n" + "".join(f"{name} = {python_literal(v)}\n" for name, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    index = parameters_cell_index(nb)
    nb.cells.insert(0 if index is None else index + 1, cell)
    return nb


def add_parameter_options(parser, what: str) -> None:
    """``-p NAME VALUE`` (repeatable), ``-y YAML``, ``-f FILE`` as papermill spells them; ``what`` says what a
    value is for (set in the notebook, or tried by BugDoc)."""
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help=f"{what} (typed like papermill: True/False/None, int, float, else str; repeatable)",
    )
    parser.add_argument("-y", "--yaml", action="append", default=[], metavar="YAML", help=f"{what}, as YAML")
    parser.add_argument(
        "-f", "--file", action="append", default=[], metavar="FILE", help=f"{what}, from a YAML file"
    )
