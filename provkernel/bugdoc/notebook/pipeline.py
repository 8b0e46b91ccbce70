"""From a notebook's provenance to a BugDoc pipeline: the slice behind a result, its parameters, their
values in the notebook's history, and the earlier runs that already tell success from failure.

Pure functions over execution graphs (:mod:`provkernel.lineage`) and code facts; no SQL, no IPython.

Warm start needs to know which cells do not depend on the varied parameters: a cell *depends* if it
assigns a varied parameter, reads a name or file a depending cell wrote, or rebinds a name a depending
cell wrote earlier (running it early, in the template, would reorder those writes).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from provkernel.bugdoc.engine.space import Outcome
from provkernel.bugdoc.notebook.cells import BOTH, FORK, WARM, Cell
from provkernel.bugdoc.notebook.substitute import is_parameters_only, reads_after_assignment
from provkernel.errors import UsageError
from provkernel.lineage.graph import execution
from provkernel.lineage.model import Execution
from provkernel.lineage.slicing import backward_slice
from provkernel.parameters import python_literal

Facts = Mapping[str, Mapping[str, Any]]  # code hash → static facts (JSON form)
SAFE_BUILTINS = {f.__name__: f for f in (abs, min, max, round, len, bool, int, float)}


@dataclass
class Evaluation:
    """What counts as a failure: the target (or a cell before it) raising, optionally only ``same_error``;
    with ``check``, a falsy check after the target too."""

    check: str | None = None
    same_error: str | None = None

    def signature(self) -> str:
        return json.dumps([self.check, self.same_error])


@dataclass
class Pipeline:
    """A notebook slice made a BugDoc pipeline."""

    target: Execution
    steps: list[Execution]  # the slice in execution order, ending with the target
    sites: dict[str, list[int]]  # varied parameter → executions assigning it (their literals are rewritten)
    current: dict[str, Any]  # the values the target ran with
    space: dict[str, list[Any]]  # parameter → values (the target's value first)
    cells: tuple[Cell, ...]
    preload: tuple[str, ...]  # modules the per-instance cells import (imported once in the template)
    history: list[tuple[dict[str, Any], Outcome]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # varied package versions (no cell assigns them)

    def signature(self, evaluation: Evaluation) -> str:
        """Identity of "this slice, these parameters, this notion of failure": stored instances are reused
        by a later run with the same signature."""
        parts = [[s.cell, s.code_hash] for s in self.steps] + [sorted(self.space), evaluation.signature()]
        return hashlib.blake2b(json.dumps(parts).encode(), digest_size=12).hexdigest()


def literal_value(source: str) -> Any:
    """The value of a recorded literal (``"'lbfgs'"`` → ``'lbfgs'``, ``"float('nan')"`` → nan)."""
    if source.startswith("float(") and source.endswith(")"):
        return float(ast.literal_eval(source[6:-1]))
    return ast.literal_eval(source)


def parameters_of(facts: Facts, run: Execution) -> dict[str, str]:
    """Literal assignments (name → source) in the code of ``run``."""
    return dict(facts.get(run.code_hash, {}).get("parameters", ()))


def effective_sites(graph: nx.DiGraph, steps: Sequence[int], facts: Facts) -> dict[str, list[int]]:
    """Parameter name → the slice executions whose literal assignment of it the slice actually uses:
    a later slice cell read it from there, or the cell itself reads it after assigning it."""
    inside = set(steps)
    sites: dict[str, list[int]] = {}
    for x in steps:
        run = execution(graph, x)
        for name in parameters_of(facts, run):
            read_later = any(name in graph.edges[x, y]["names"] for y in graph.successors(x) if y in inside)
            if read_later or reads_after_assignment(run.code, name):
                sites.setdefault(name, []).append(x)
    return sites


def _names_written(graph: nx.DiGraph, x: int) -> set[str]:
    node = graph.nodes[x]
    return set(node["defines"]) | set(node["updates"]) | set(node["deletes"])


def cell_roles(
    graph: nx.DiGraph, steps: Sequence[int], varied_sites: Mapping[str, list[int]]
) -> dict[int, str]:
    """WARM / FORK / BOTH per slice execution (see the module docstring); the target always FORK."""
    assigns: dict[int, set[str]] = {}
    for name, xs in varied_sites.items():
        for x in xs:
            assigns.setdefault(x, set()).add(name)
    tainted_names: set[str] = set(varied_sites)
    tainted_files: set[str] = set()
    forked_writes: set[str] = set()
    roles: dict[int, str] = {}
    for x in steps:
        node = graph.nodes[x]
        run = node["execution"]
        reads = set(node["uses"]) | set(node["updates"])
        reads_files = set(node["reads"])
        writes = _names_written(graph, x)
        if x in assigns and is_parameters_only(run.code):
            roles[x] = BOTH
            continue
        depends = (
            x in assigns
            or reads & tainted_names
            or reads_files & tainted_files
            or writes & forked_writes
            or x == steps[-1]
        )
        if depends:
            roles[x] = FORK
            tainted_names |= writes
            tainted_files |= set(node["writes"])
            forked_writes |= writes
        else:
            roles[x] = WARM
    return roles


def build_pipeline(
    graph: nx.DiGraph,
    target: int,
    facts: Facts,
    *,
    declared: Mapping[str, Sequence[Any]] | None = None,
    allowed: Iterable[str] | None = None,
    only: Iterable[str] | None = None,
    known_values: Mapping[str, Sequence[str]] | None = None,
    skip: Callable[[Execution], bool] = lambda run: False,
    packages: bool = False,
) -> Pipeline:
    """The pipeline behind execution ``target`` of an epoch graph.

    Args:
        declared: parameter → extra values (``-p``/``-y``/``-f``/``%%bugdoc``), added to the values known.
        allowed: parameters that vary without being declared (the notebook's ``parameters`` cell, in CLI mode).
        only: vary only these parameters (``--only``).
        known_values: parameter → literal sources seen in the notebook's history (the universe).
        skip: executions to leave out of the slice (``%prov``/``%bugdoc`` cells).
        packages: package versions will be varied too (then varying no literal is fine).

    Raises:
        UsageError: nothing to vary, or a declared name is not a literal parameter of the slice.
    """
    steps = [x for x in backward_slice(graph, [target]) if x == target or not skip(execution(graph, x))]
    runs = [execution(graph, x) for x in steps]
    sites = effective_sites(graph, steps, facts)
    notes: list[str] = []
    declared = dict(declared or {})
    unknown = sorted((set(declared) | set(only or ())) - set(sites))
    if unknown:
        have = ", ".join(sorted(sites)) or "none"
        raise UsageError(
            f"{', '.join(unknown)}: not a literal assignment (name = value) in a cell the target depends on;"
            f" parameters found: {have}"
        )
    keep = set(sites) if allowed is None else set(allowed) | set(declared)
    if only:
        keep &= set(only)
    sites = {n: xs for n, xs in sites.items() if n in keep}
    current = {
        name: literal_value(parameters_of(facts, execution(graph, xs[-1]))[name])
        for name, xs in sites.items()
    }
    space: dict[str, list[Any]] = {}
    for name in sites:
        values = [current[name]]
        for source in (known_values or {}).get(name, ()):
            values.append(literal_value(source))
        values.extend(declared.get(name, ()))
        space[name] = _distinct(values)
    single = [n for n, values in space.items() if len(values) < 2]
    for name in single:
        notes.append(
            f"{name} = {python_literal(current[name])} is the only value known; add others with -p {name} VALUE"
        )
    space = {n: v for n, v in space.items() if n not in single}
    if not space and not packages:
        found = ", ".join(sorted(sites)) or "no literal parameters"
        raise UsageError(
            f"nothing to vary: the target depends on {found} but no parameter has two known values;"
            " declare some, e.g. %bugdoc -p NAME VALUE -p NAME OTHER"
        )
    varied = {n: xs for n, xs in sites.items() if n in space}
    roles = cell_roles(graph, steps, varied)
    cells = tuple(
        Cell(
            label=run.tag.replace("[", "In [")
            if run.count is not None
            else f"cell {run.cell_id or run.code_hash}",
            code=run.code,
            parameters=tuple(sorted(n for n, xs in varied.items() if x in xs)),
            role=roles[x],
        )
        for x, run in zip(steps, runs, strict=True)
    )
    preload = tuple(
        dict.fromkeys(
            entry[0]
            for x, run in zip(steps, runs, strict=True)
            if roles[x] != WARM
            for entry in facts.get(run.code_hash, {}).get("imports", ())
            if not entry[0].startswith(".")
        )
    )
    return Pipeline(
        target=execution(graph, target),
        steps=runs,
        sites=varied,
        current={n: current[n] for n in space},
        space=space,
        cells=cells,
        preload=preload,
        notes=notes,
    )


def _distinct(values: Iterable[Any]) -> list[Any]:
    """Values in first-seen order without repeats (1 and 1.0 and True stay apart: their types differ)."""
    seen: list[Any] = []
    for value in values:
        if not any(type(value) is type(other) and _same(value, other) for other in seen):
            seen.append(value)
    return seen


def _same(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True  # nan is one value of a parameter, though nan != nan
        return bool(a == b)
    except Exception:  # noqa: BLE001 - values that cannot be compared are different
        return False


def past_instance(
    graph: nx.DiGraph, target: int, facts: Facts, parameters: Iterable[str], evaluation: Evaluation
) -> tuple[dict[str, Any], Outcome] | None:
    """An earlier run of the target cell as a BugDoc instance: the parameter values its slice used and
    whether it failed; None if it cannot tell (a parameter missing, a check it cannot evaluate)."""
    steps = backward_slice(graph, [target])
    sites = effective_sites(graph, steps, facts)
    instance = {}
    for name in parameters:
        if name not in sites:
            return None
        instance[name] = literal_value(parameters_of(facts, execution(graph, sites[name][-1]))[name])
    outcome = _past_outcome(graph, steps, target, evaluation)
    return None if outcome is None else (instance, outcome)


def _past_outcome(graph: nx.DiGraph, steps: list[int], target: int, evaluation: Evaluation) -> Outcome | None:
    for x in steps:
        run = execution(graph, x)
        if run.status in ("error", "died"):
            detail = f"{run.tag.replace('[', 'In [')}: {run.ename or run.status}: {run.evalue or ''}".rstrip(
                ": "
            )
            if evaluation.same_error and run.ename != evaluation.same_error:
                return Outcome(True, f"other error, not counted: {detail}")
            return Outcome(False, detail)
        if run.status not in ("ok",):
            return None  # aborted or still running: no outcome
    if not evaluation.check:
        return Outcome(True)
    values = {}
    for x in steps:  # the scalar values the slice recorded, as of the target
        for name, text in graph.nodes[x]["values"].items():
            try:
                values[name] = literal_value(text)
            except (ValueError, SyntaxError):
                values.pop(name, None)
    try:
        ok = eval(evaluation.check, {"__builtins__": SAFE_BUILTINS}, values)  # recorded scalars only
    except Exception:  # noqa: BLE001 - the check needs something not recorded: not usable as history
        return None
    return Outcome(bool(ok), "" if ok else f"check failed: {evaluation.check}")
