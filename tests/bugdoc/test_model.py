"""The model: parameters and their types, history handling, outcomes, usage errors, the report."""

from __future__ import annotations

import json

import bugdoc_pipelines as pipelines
import pytest
from rich.console import Console

from provkernel.bugdoc import BugDocUsageError, Outcome, Parameter, Space, find_root_causes

SPACE = {"solver": ["lbfgs", "saga", "newton-cg"], "penalty": ["l1", "l2"], "C": [0.1, 1.0, 10.0]}
HISTORY = [
    ({"solver": "lbfgs", "penalty": "l1", "C": 1.0}, False),
    ({"solver": "saga", "penalty": "l2", "C": 0.1}, True),
]


def test_parameter_types_are_inferred_and_can_be_declared():
    assert Parameter("C", (10.0, 0.1, 1)).ordinal and Parameter("C", (10.0, 0.1, 1)).values == (0.1, 1, 10.0)
    assert Parameter("fit_intercept", (True, False)).ordinal  # bool is numeric, as in the reference
    assert not Parameter("solver", ("lbfgs", "saga")).ordinal
    assert not Parameter("max_depth", (None, 3, 10)).ordinal  # mixed types are categorical
    assert not Parameter("n", (1, 2, 3), ordinal=False).ordinal
    assert len(Parameter("flags", (1, True, 1.0, 1)).values) == 3  # 1, True and 1.0 stay distinct values
    with pytest.raises(ValueError, match="ordinal"):
        Parameter("solver", ("a", "b"), ordinal=True)


def test_history_values_join_the_universe_and_outside_parameters_are_ignored():
    history = [
        ({"solver": "liblinear", "penalty": "l1", "C": 1.0, "seed": 3}, False),
        ({"solver": "saga", "penalty": "l2", "C": 100.0}, True),
        ({"solver": "saga"}, True),
    ]
    result = find_root_causes(SPACE, lambda i: i["solver"] != "liblinear", history=history)
    assert result.space.params[0].values[-1] == "liblinear"
    assert 100.0 in result.space.params[2].values
    assert result.causes == [[("solver", "==", "liblinear")]] and result.definitive == [True]
    assert any("seed" in n for n in result.notes)
    assert any("skipped 1 history item" in n for n in result.notes)
    assert any("joined" in n for n in result.notes)


def test_history_accepts_outcomes_and_is_never_rerun():
    calls = []

    def evaluate(instance):
        calls.append(instance)
        return pipelines.lbfgs_l1(instance)

    history = [(HISTORY[0][0], Outcome(False, "ValueError: boom")), HISTORY[1]]
    result = find_root_causes(SPACE, evaluate, history=history, goal="all")
    assert all(i not in calls for i, _ in history)
    assert len(calls) == result.new_instances == len(result.instances) - 2
    assert result.instances[0]["detail"] == "ValueError: boom"


def test_same_seed_same_answer():
    runs = [
        find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY, algorithm="ddt", goal="all", seed=5)
        for _ in "ab"
    ]
    assert runs[0].to_json() == runs[1].to_json()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "magic"}, "algorithm must be one of"),
        ({"goal": "some"}, "goal must be"),
        ({"workers": 0}, "workers"),
        ({"budget": -1}, "budget"),
        ({"executor": "local"}, "executor must be"),
        ({"history": [("solver", True)]}, "history items"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(kwargs, message):
    with pytest.raises(BugDocUsageError, match=message) as info:
        find_root_causes(SPACE, pipelines.lbfgs_l1, **kwargs)
    assert "\n" not in str(info.value)


def test_bad_spaces_are_usage_errors():
    with pytest.raises(BugDocUsageError, match="must be a list"):
        find_root_causes({"solver": "lbfgs"}, pipelines.lbfgs_l1)
    with pytest.raises(BugDocUsageError, match="no parameters"):
        find_root_causes({}, pipelines.lbfgs_l1)
    assert isinstance(BugDocUsageError("x"), ValueError)
    assert Space.of(Space.of(SPACE)).names == ["solver", "penalty", "C"]


def test_report_renders_in_terminal_notebook_and_json():
    result = find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY)
    data = result.to_json()
    assert data["causes"] == [
        [{"param": "solver", "op": "==", "value": "lbfgs"}, {"param": "penalty", "op": "==", "value": "l1"}]
    ]
    assert data["definitive"] == [True] and data["new_instances"] == result.new_instances
    assert data["explanation"] == "solver = 'lbfgs' ∧ penalty = 'l1'"
    assert len(data["instances"]) == len(result.instances) and data["instances"][0]["new"] is False
    json.dumps(data)
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "application/vnd.provkernel.bugdoc+json"}
    assert bundle["application/vnd.provkernel.bugdoc+json"]["causes"] == data["causes"]
    assert "solver = 'lbfgs'" in bundle["text/html"] and "<table" in bundle["text/html"]
    console = Console(record=True, width=120)
    console.print(result)
    shown = console.export_text()
    assert "Root cause: solver = 'lbfgs' ∧ penalty = 'l1'" in shown and "history" in shown and "new" in shown


def test_synthetic_generator_makes_non_degenerate_pipelines_of_each_group():
    import random

    from provkernel.bugdoc.engine.synthetic import DNFPipeline, degenerate, generate

    rng = random.Random(3)
    sizes = {"single": set(), "conjunction": set(), "disjunction": set()}
    for group, seen in sizes.items():
        for _ in range(30):
            made = generate(rng, rng.randint(3, 6), rng.randint(5, 8), group)
            if made is None:
                continue
            space, dnf = made
            assert not degenerate(space, dnf)
            seen.add((len(dnf), max(len(c) for c in dnf)))
            for clause in dnf:
                for name, op, value in clause:
                    assert value in space[name] and op in ("==", "!=", "<=", ">")
            assert DNFPipeline(dnf)({k: v[0] for k, v in space.items()}) in (True, False)
    assert sizes["single"] == {(1, 1)}
    assert all(n == 1 and k >= 2 for n, k in sizes["conjunction"])
    assert all(n >= 2 for n, _ in sizes["disjunction"])
    assert degenerate({"p": [0, 1]}, ((("p", "<=", 1),),))  # always fails
    assert degenerate({"p": ["a", "b"]}, ((("p", "==", "c"),),))  # never fails
