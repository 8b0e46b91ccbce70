"""The BugDoc paper's worked examples (Lourenço, Freire, Shasha, SIGMOD 2020), as hand-made spaces.

The paper's running example is a machine-learning pipeline (Table 1: previous runs; Table 2: the instances
Shortcut creates). Its definitions (hypothetical / definitive / minimal root cause), Shortcut's truncated
assertion when causes overlap, and Debugging Decision Trees finding disjunctions and inequalities are
reproduced below on spaces small enough to enumerate, so every claim is checked against the ground truth.
"""

from __future__ import annotations

import itertools

from provkernel.bugdoc import find_root_causes, holds
from provkernel.bugdoc.engine.synthetic import DNFPipeline

ML_SPACE = {
    "dataset": ["iris", "digits"],
    "estimator": ["logistic_regression", "decision_tree", "gradient_boosting"],
    "library_version": [1.0, 2.0],
}
ML_TRUTH = DNFPipeline(((("estimator", "==", "gradient_boosting"), ("library_version", "==", 2.0)),))
TABLE_1 = [
    ({"dataset": "iris", "estimator": "logistic_regression", "library_version": 1.0}, True),
    ({"dataset": "digits", "estimator": "decision_tree", "library_version": 1.0}, True),
    ({"dataset": "iris", "estimator": "gradient_boosting", "library_version": 2.0}, False),
]


def enumerate_space(space):
    names = list(space)
    for values in itertools.product(*space.values()):
        yield dict(zip(names, values, strict=True))


def definitive(space, evaluate, conjunction) -> bool:
    """Ground truth by enumeration: every instance satisfying the conjunction fails."""
    return all(not evaluate(i) for i in enumerate_space(space) if holds(conjunction, i))


def test_table_2_shortcut_walk_creates_three_instances_and_finds_the_cause():
    result = find_root_causes(ML_SPACE, ML_TRUTH, history=TABLE_1, algorithm="shortcut")
    new = [(r["instance"], r["succeeded"]) for r in result.instances if r["new"]]
    # Table 2: CPf = (iris, gradient_boosting, 2.0) walks towards the disjoint CPg = (digits, decision_tree, 1.0)
    assert new == [
        ({"dataset": "digits", "estimator": "gradient_boosting", "library_version": 2.0}, False),
        ({"dataset": "digits", "estimator": "decision_tree", "library_version": 2.0}, True),
        ({"dataset": "digits", "estimator": "gradient_boosting", "library_version": 1.0}, True),
    ]
    assert result.causes == [[("estimator", "==", "gradient_boosting"), ("library_version", "==", 2.0)]]
    assert result.definitive == [True]
    assert result.new_instances == 3
    assert result.explanation == "estimator = 'gradient_boosting' ∧ library_version = 2.0"
    assert [r["new"] for r in result.instances[:3]] == [False, False, False]  # history first


def test_example_2_definitions_hypothetical_definitive_minimal():
    # hypothetical (no known success satisfies it) but not definitive: (iris, gb, 1.0) succeeds
    hypothetical = [("dataset", "==", "iris"), ("estimator", "==", "gradient_boosting")]
    assert not any(holds(hypothetical, i) for i, ok in TABLE_1 if ok)
    assert not definitive(ML_SPACE, ML_TRUTH, hypothetical)
    # definitive but not minimal: a proper subset is definitive
    assert definitive(ML_SPACE, ML_TRUTH, hypothetical + [("library_version", "==", 2.0)])
    for algorithm in ("shortcut", "stacked", "ddt"):
        result = find_root_causes(ML_SPACE, ML_TRUTH, history=TABLE_1, algorithm=algorithm, goal="all")
        assert result.definitive == [True]
        [cause] = result.causes
        assert definitive(ML_SPACE, ML_TRUTH, cause)
        for i in range(len(cause)):  # minimal: no proper subset is definitive
            assert not definitive(ML_SPACE, ML_TRUTH, cause[:i] + cause[i + 1 :])


ABC = {"A": [1, 2, 3], "B": [1, 2, 3], "C": [1, 2, 3]}
OVERLAP = DNFPipeline(((("A", "==", 1), ("B", "==", 1)), (("A", "==", 2), ("C", "==", 1))))


def test_example_4_truncated_assertion_is_refuted_and_repaired():
    # CPf = (1,1,1) satisfies both causes; walking towards CPg = (2,2,2) moves A to 2 (still failing through
    # A=2 ∧ C=1) and B, and only C cannot move: the reference asserts the truncated cause C = 1.
    history = [({"A": 1, "B": 1, "C": 1}, False), ({"A": 2, "B": 2, "C": 2}, True)]
    result = find_root_causes(ABC, OVERLAP, history=history, algorithm="shortcut")
    rows = [(r["instance"], r["succeeded"]) for r in result.instances]
    assert rows[2:4] == [({"A": 2, "B": 1, "C": 1}, False), ({"A": 2, "B": 2, "C": 1}, False)]
    assert not definitive(ABC, OVERLAP, [("C", "==", 1)])
    # the truncated assertion was tested: some instance with C = 1 succeeded, and the walk resumed
    assert any(ok and i["C"] == 1 for i, ok in rows)
    assert result.causes == [[("A", "==", 2), ("C", "==", 1)]]
    assert result.definitive == [True]


def test_example_4_find_all_recovers_both_overlapping_causes():
    history = [({"A": 1, "B": 1, "C": 1}, False), ({"A": 2, "B": 2, "C": 2}, True)]
    for algorithm in ("shortcut", "stacked", "ddt"):
        result = find_root_causes(ABC, OVERLAP, history=history, algorithm=algorithm, goal="all")
        assert sorted(result.causes) == [[("A", "==", 1), ("B", "==", 1)], [("A", "==", 2), ("C", "==", 1)]]
        assert result.definitive == [True, True]
        assert result.explanation == "(A = 1 ∧ B = 1) ∨ (A = 2 ∧ C = 1)"


DDT_SPACE = {"p1": list(range(10)), "p2": ["a", "b", "c"], "p3": [0, 1, 2, 3, 4]}
DDT_TRUTH = DNFPipeline(((("p1", ">", 6),), (("p2", "==", "a"), ("p3", "<=", 1))))


def test_example_6_decision_trees_find_inequalities_and_disjunctions():
    history = [
        ({"p1": 8, "p2": "b", "p3": 3}, False),
        ({"p1": 2, "p2": "a", "p3": 0}, False),
        ({"p1": 3, "p2": "c", "p3": 4}, True),
        ({"p1": 5, "p2": "a", "p3": 3}, True),
    ]
    result = find_root_causes(DDT_SPACE, DDT_TRUTH, history=history, algorithm="ddt", goal="all")
    assert result.explanation == "p1 ≥ 7 ∨ (p2 = 'a' ∧ p3 ≤ 1)"
    assert sorted(result.causes) == [[("p1", ">=", 7)], [("p2", "==", "a"), ("p3", "<=", 1)]]
    assert result.definitive == [True, True]
    for cause in result.causes:
        assert definitive(DDT_SPACE, DDT_TRUTH, cause)
    one = find_root_causes(DDT_SPACE, DDT_TRUTH, history=history, algorithm="ddt", goal="one")
    assert len(one.causes) == 1 and one.definitive == [True]
    assert definitive(DDT_SPACE, DDT_TRUTH, one.causes[0])
