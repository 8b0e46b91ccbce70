"""Property tests: a cause reported as definitive really is definitive over the enumerated space.

With ``tests`` at least the size of the space every verification is exhaustive, so "definitive" must be
exact; with the default (a sampled design) the other invariants must still hold."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provkernel.bugdoc import find_root_causes, holds
from provkernel.bugdoc.engine.synthetic import DNFPipeline, degenerate


@st.composite
def pipelines(draw):
    n_params = draw(st.integers(2, 4))
    space, kinds = {}, {}
    for i in range(n_params):
        n_values = draw(st.integers(2, 4))
        kinds[f"p{i}"] = draw(st.booleans())
        space[f"p{i}"] = list(range(n_values)) if kinds[f"p{i}"] else [f"v{j}" for j in range(n_values)]
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        names = draw(st.lists(st.sampled_from(list(space)), min_size=1, max_size=3, unique=True))
        clause = []
        for name in names:
            ops = ["==", "<=", ">", "!="] if kinds[name] else ["==", "!="]
            op = draw(st.sampled_from(ops))
            values = space[name][:-1] if op in ("<=", ">") else space[name]
            clause.append((name, op, draw(st.sampled_from(values))))
        clauses.append(tuple(clause))
    dnf = tuple(clauses)
    instances = [dict(zip(space, vals, strict=True)) for vals in itertools.product(*space.values())]
    evaluate = DNFPipeline(dnf)
    failing = [i for i in instances if not evaluate(i)]
    history = [(i, evaluate(i)) for i in draw(st.lists(st.sampled_from(instances), max_size=4))]
    if failing:
        history.append((draw(st.sampled_from(failing)), False))
    return space, dnf, instances, history


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pipelines(),
    st.sampled_from(["shortcut", "stacked", "ddt"]),
    st.sampled_from(["one", "all"]),
    st.integers(0, 2**16),
    st.booleans(),
)
def test_every_definitive_cause_is_definitive_over_the_enumerated_space(
    pipe, algorithm, goal, seed, exhaustive
):
    space, dnf, instances, history = pipe
    evaluate = DNFPipeline(dnf)
    tests = len(instances) if exhaustive else 8
    result = find_root_causes(
        space, evaluate, history=history, algorithm=algorithm, goal=goal, seed=seed, tests=tests
    )
    for cause, sure in zip(result.causes, result.definitive, strict=True):
        region = [i for i in instances if holds(cause, i)]
        assert region, f"empty cause {cause}"
        assert any(not evaluate(i) for i in region)  # every cause explains some failure
        if sure and exhaustive:
            assert not any(evaluate(i) for i in region), f"{cause} is not definitive for {dnf}"
    if not degenerate(space, dnf) and result.causes:
        assert any(result.definitive)  # no budget: a found cause is verified
    assert len({tuple(r["instance"].items()) for r in result.instances}) == len(
        result.instances
    )  # none twice
