"""A real machine-learning pipeline: scikit-learn's LogisticRegression rejects some solver/penalty pairs."""

from __future__ import annotations

import itertools
import warnings

import pytest

from provkernel.bugdoc import find_root_causes, holds

pytest.importorskip("sklearn")

SPACE = {
    "solver": ["lbfgs", "liblinear", "newton-cg", "saga"],
    "penalty": ["l1", "l2", None],
    "C": [0.1, 1.0],
}


def fit(instance: dict) -> bool:
    """Fit on iris; an unsupported combination raises ValueError (the engine records it as a failure)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and deprecation warnings are not failures here
        model = LogisticRegression(
            solver=instance["solver"], penalty=instance["penalty"], C=instance["C"], max_iter=50
        )
        model.fit(X, y)
    return model.score(X, y) > 0.5


def succeeds(instance: dict) -> bool:
    try:
        return fit(instance)
    except ValueError:
        return False


@pytest.mark.parametrize("algorithm", ["stacked", "ddt"])
def test_finds_every_unsupported_combination_of_a_real_estimator(algorithm):
    instances = [dict(zip(SPACE, values, strict=True)) for values in itertools.product(*SPACE.values())]
    failing = [i for i in instances if not succeeds(i)]
    first = {"solver": "lbfgs", "penalty": "l1", "C": 1.0}
    if succeeds(first):
        pytest.skip("this scikit-learn accepts lbfgs with an l1 penalty")
    result = find_root_causes(SPACE, fit, history=[(first, False)], algorithm=algorithm, goal="all")
    assert result.causes and all(result.definitive)
    for cause in result.causes:  # definitive over the enumerated space
        assert not any(succeeds(i) for i in instances if holds(cause, i))
    assert all(
        any(holds(c, i) for c in result.causes) for i in failing
    )  # and together they explain every failure
    assert result.new_instances < len(instances)
    details = {r["detail"].split(":")[0] for r in result.instances if r["new"] and not r["succeeded"]}
    assert details == {"ValueError"}
