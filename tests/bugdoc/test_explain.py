"""Explanations: interval merging, two-valued ≠, whole-domain conditions, QM combining, rendering."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from provkernel.bugdoc import Parameter, Space, simplify_conditions
from provkernel.bugdoc.engine.explain import covered, render_dnf, simplify
from provkernel.bugdoc.engine.predicates import Box, render_box

SPACE = Space.of(
    {
        "p": list(range(10)),
        "solver": ["lbfgs", "newton-cg", "sag", "saga"],
        "penalty": ["l1", "l2"],
        "max_depth": [None, 3, 10],
    }
)


def text(dnf) -> str:
    return render_dnf(SPACE, simplify(SPACE, [Box.of_conditions(SPACE, c) for c in dnf]))


def test_thresholds_on_one_parameter_combine_into_intervals():
    assert text([[("p", ">", 3), ("p", ">", 5)]]) == "p ≥ 6"
    assert text([[("p", "<=", 2)], [("p", "<=", 4)]]) == "p ≤ 4"
    assert text([[("p", ">", 2), ("p", "<", 7)]]) == "3 ≤ p ≤ 6"
    assert simplify_conditions(SPACE, [[("p", ">", 3), ("p", ">", 5)]]) == [[("p", ">=", 6)]]
    assert simplify_conditions(SPACE, [[("p", "<=", 2)], [("p", "<=", 4)]]) == [[("p", "<=", 4)]]


def test_not_equal_on_a_two_valued_parameter_becomes_equal():
    assert text([[("penalty", "!=", "l2")]]) == "penalty = 'l1'"
    assert simplify_conditions(SPACE, [[("penalty", "!=", "l2")]]) == [[("penalty", "==", "l1")]]


def test_a_condition_covering_the_whole_domain_disappears():
    assert text([[("solver", "==", "sag"), ("p", ">=", 0)]]) == "solver = 'sag'"
    assert text(
        [
            [("solver", "==", "sag"), ("penalty", "==", "l1")],
            [("solver", "==", "sag"), ("penalty", "==", "l2")],
        ]
    ) == ("solver = 'sag'")


def test_equalities_on_one_categorical_parameter_render_as_a_set():
    dnf = [
        [("solver", "==", "lbfgs"), ("penalty", "==", "l1")],
        [("solver", "==", "newton-cg"), ("penalty", "==", "l1")],
    ]
    assert text(dnf) == "solver ∈ {'lbfgs', 'newton-cg'} ∧ penalty = 'l1'"
    # causes stay expressible with the six comparators: the set becomes a conjunction of ≠
    assert simplify_conditions(SPACE, dnf) == [
        [("solver", "!=", "sag"), ("solver", "!=", "saga"), ("penalty", "==", "l1")]
    ]


def test_quine_mccluskey_removes_redundant_terms_and_keeps_distinct_causes_apart():
    dnf = [
        [("solver", "==", "sag")],
        [("solver", "==", "sag"), ("penalty", "==", "l1")],  # subsumed
        [("p", ">", 6), ("penalty", "==", "l2")],
    ]
    assert text(dnf) == "solver = 'sag' ∨ (p ≥ 7 ∧ penalty = 'l2')"
    empty = simplify(SPACE, [])
    assert render_dnf(SPACE, empty) == "no root cause found"


def test_mixed_types_are_categorical_and_render_readably():
    assert not SPACE.params[SPACE.position("max_depth")].ordinal
    assert render_box(SPACE, Box.of_conditions(SPACE, [("max_depth", "==", None)])) == "max_depth = None"
    ordinal = Space.of([Parameter("max_depth", (3, 10, 30))])
    assert render_box(ordinal, Box.of_conditions(ordinal, [("max_depth", ">", 3)])) == "max_depth ≥ 10"


def test_covered_is_exact_box_algebra():
    a = Box.of_conditions(SPACE, [("p", "<=", 5)])
    halves = [
        Box.of_conditions(SPACE, [("p", "<=", 2)]),
        Box.of_conditions(SPACE, [("p", ">", 2), ("p", "<", 6)]),
    ]
    assert covered(SPACE, a, halves)
    assert not covered(SPACE, a, halves[:1])
    assert covered(SPACE, Box.of_conditions(SPACE, [("p", "==", 1), ("solver", "==", "sag")]), halves[:1])


def _all_boxes(space: Space) -> list[Box]:
    subsets = []
    for param in space.params:
        n = len(param.values)
        subsets.append([frozenset(i for i in range(n) if mask >> i & 1) for mask in range(1, 2**n)])
    return [Box.make(space, dict(enumerate(combo))) for combo in itertools.product(*subsets)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(2, 3), min_size=1, max_size=3), st.data())
def test_simplify_keeps_the_union_with_terms_that_each_contain_an_input(sizes, data):
    """Against brute force: the same instances, no more terms than given, every input inside one term."""
    space = Space.of({f"p{i}": list(range(n)) for i, n in enumerate(sizes)})
    keys = list(Box().keys(space))
    boxes = data.draw(st.lists(st.sampled_from(_all_boxes(space)), min_size=1, max_size=4))
    union = {k for k in keys if any(b.contains(k) for b in boxes)}
    chosen = simplify(space, boxes)
    assert {k for k in keys if any(b.contains(k) for b in chosen)} == union
    assert len(chosen) <= len(set(boxes))
    assert all(any(b.subset_of(c) for c in chosen) for b in boxes)
