"""Running instances: process pools (spawn), crashes, timeouts, a caller's executor, interrupts, Dask."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ThreadPoolExecutor

import bugdoc_pipelines as pipelines
import pytest

from provkernel.bugdoc import BugDocUsageError, find_root_causes

SPACE = {
    "solver": ["lbfgs", "saga", "newton-cg", "liblinear"],
    "penalty": ["l1", "l2", None],
    "C": [0.1, 1.0, 10.0],
}
HISTORY = [
    ({"solver": "lbfgs", "penalty": "l1", "C": 1.0}, False),
    ({"solver": "saga", "penalty": "l2", "C": 0.1}, True),
]
CAUSE = [[("solver", "==", "lbfgs"), ("penalty", "==", "l1")]]


def details(result) -> set[str]:
    return {r["detail"] for r in result.instances if r["new"] and not r["succeeded"]}


@pytest.mark.parametrize("algorithm", ["stacked", "ddt"])
def test_two_workers_give_the_same_answer_as_one(algorithm):
    runs = [
        find_root_causes(
            SPACE, pipelines.lbfgs_l1, history=HISTORY, algorithm=algorithm, goal="all", workers=w
        )
        for w in (1, 2)
    ]
    assert runs[0].causes == runs[1].causes == CAUSE
    assert runs[0].definitive == runs[1].definitive == [True]
    assert runs[0].new_instances == runs[1].new_instances
    assert [r["instance"] for r in runs[0].instances] == [r["instance"] for r in runs[1].instances]


def test_an_exception_is_a_failing_outcome_with_its_message():
    result = find_root_causes(SPACE, pipelines.raises, history=HISTORY[:1])
    assert result.causes == CAUSE and result.definitive == [True]
    assert "ValueError: Solver lbfgs supports only 'l2' or None penalties, got l1 penalty." in details(result)


def test_a_crashed_worker_is_a_failing_outcome_and_the_pool_recovers():
    result = find_root_causes(SPACE, pipelines.segfaults, history=HISTORY[:1], workers=2, goal="all")
    assert result.causes == CAUSE and result.definitive == [True]
    assert details(result) == {"crashed (SIGSEGV)"}
    assert multiprocessing.active_children() == []


def test_a_timed_out_instance_is_a_failing_outcome():
    result = find_root_causes(
        SPACE, pipelines.hangs, history=HISTORY, algorithm="shortcut", workers=2, timeout=0.5, budget=5
    )
    assert details(result) == {"timeout after 0.5 s"}
    assert result.new_instances <= 5
    assert multiprocessing.active_children() == []


def test_a_callers_executor_is_used_and_left_running():
    with ThreadPoolExecutor(max_workers=2) as pool:
        result = find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY, executor=pool, workers=2)
        assert result.causes == CAUSE
        assert pool.submit(pow, 2, 3).result() == 8  # not shut down by the engine


def test_keyboard_interrupt_cancels_and_leaves_no_processes():
    seen = []

    def on_result(instance, outcome, new):
        seen.append(new)
        if new:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find_root_causes(SPACE, pipelines.slow, history=HISTORY, workers=2, goal="all", on_result=on_result)
    assert seen[:2] == [False, False] and seen[-1] is True
    assert multiprocessing.active_children() == []


def test_on_result_sees_every_outcome_in_the_calling_thread():
    import threading

    calls = []
    result = find_root_causes(
        SPACE,
        pipelines.lbfgs_l1,
        history=HISTORY,
        on_result=lambda i, o, n: calls.append((threading.get_ident(), n)),
    )
    assert len(calls) == len(result.instances)
    assert {t for t, _ in calls} == {threading.get_ident()}
    assert sum(n for _, n in calls) == result.new_instances


def test_budget_is_respected_and_untested_causes_are_only_suspected():
    for budget in (1, 3, 5):
        result = find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY, budget=budget, goal="all")
        assert result.new_instances <= budget
    history = [*HISTORY, ({"solver": "lbfgs", "penalty": "l1", "C": 0.1}, False)]
    none = find_root_causes(SPACE, pipelines.lbfgs_l1, history=history, budget=0, algorithm="ddt")
    assert none.new_instances == 0
    assert none.causes == [[("solver", "==", "lbfgs")]] and none.definitive == [False]
    assert "suspected" in none.explanation


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(BugDocUsageError, match=r'pip install "provkernel\[dask\]"'):
        find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY, executor="dask")


def test_dask_local_cluster_and_scheduler_address_on_loopback():
    distributed = pytest.importorskip("distributed")
    one = find_root_causes(SPACE, pipelines.lbfgs_l1, history=HISTORY, goal="all")
    local = find_root_causes(
        SPACE, pipelines.lbfgs_l1, history=HISTORY, goal="all", executor="dask", workers=2
    )
    assert (local.causes, local.new_instances) == (one.causes, one.new_instances)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as c:
        remote = find_root_causes(
            SPACE, pipelines.raises, history=HISTORY, goal="all", executor=c.scheduler_address, workers=2
        )
        assert remote.causes == one.causes
        assert any(d.startswith("ValueError") for d in details(remote))
