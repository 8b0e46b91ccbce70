"""Synthetic pipelines with a known root cause (a DNF), as in the BugDoc paper's evaluation.

Used by the tests and by ``benchmarks/bugdoc_synthetic.py``. :class:`DNFPipeline` is picklable, so it can be
evaluated in a process pool or on Dask workers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from provkernel.bugdoc.engine.explain import covered
from provkernel.bugdoc.engine.predicates import Box, Condition, holds
from provkernel.bugdoc.engine.space import Space


@dataclass(frozen=True)
class DNFPipeline:
    """An evaluation function: an instance fails iff it satisfies any clause of ``dnf``."""

    dnf: tuple[tuple[Condition, ...], ...]

    def __call__(self, instance: dict[str, Any]) -> bool:
        return not any(holds(clause, instance) for clause in self.dnf)


def random_clause(
    rng: random.Random, space: dict[str, list], ordinal: dict[str, bool], size: int
) -> tuple[Condition, ...]:
    """A conjunction over ``size`` distinct parameters with comparators ``= ≠`` (categorical) or
    ``= ≤ >`` (ordinal; thresholds never make a predicate vacuous)."""
    names = rng.sample(list(space), size)
    clause = []
    for name in names:
        values = space[name]
        if ordinal[name]:
            op = rng.choice(["==", "<=", ">"])
            value = rng.choice(values if op == "==" else values[:-1])
        else:
            op = rng.choice(["==", "!="])
            value = rng.choice(values)
        clause.append((name, op, value))
    return tuple(clause)


def generate(
    rng: random.Random, n_params: int, n_values: int, group: str
) -> tuple[dict[str, list], tuple[tuple[Condition, ...], ...]] | None:
    """One pipeline: a space of ``n_params`` parameters with ``n_values`` values each (ordinal ints or
    categorical strings with probability ½) and a root cause of the given group: ``"single"`` (one
    predicate), ``"conjunction"`` (one clause of 2..4 predicates) or ``"disjunction"`` (2..4 clauses of
    1..3 predicates). Returns ``None`` for degenerate pipelines (always or never failing)."""
    space: dict[str, list] = {}
    ordinal: dict[str, bool] = {}
    for i in range(n_params):
        ordinal[f"p{i}"] = rng.random() < 0.5
        space[f"p{i}"] = list(range(n_values)) if ordinal[f"p{i}"] else [f"p{i}v{j}" for j in range(n_values)]
    if group == "single":
        dnf = (random_clause(rng, space, ordinal, 1),)
    elif group == "conjunction":
        dnf = (random_clause(rng, space, ordinal, rng.randint(2, min(4, n_params))),)
    else:
        dnf = tuple(
            random_clause(rng, space, ordinal, rng.randint(1, min(3, n_params)))
            for _ in range(rng.randint(2, 4))
        )
    if degenerate(space, dnf):
        return None
    return space, dnf


def degenerate(space: dict[str, list], dnf: tuple[tuple[Condition, ...], ...]) -> bool:
    """True if the pipeline never fails or always fails."""
    sp = Space.of(space)
    boxes = [Box.of_conditions(sp, clause) for clause in dnf]
    if all(b.is_empty() for b in boxes):
        return True
    return covered(sp, Box(), boxes)
