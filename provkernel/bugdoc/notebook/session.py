"""One ``%bugdoc`` (or ``provkernel bugdoc``) run: read the provenance, build the pipeline, search, store.

The magic and the CLI only parse arguments and show what :func:`prepare` and :func:`search` return.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from provkernel.bugdoc.engine.report import Result
from provkernel.bugdoc.engine.search import find_root_causes
from provkernel.bugdoc.engine.space import Outcome, Version
from provkernel.bugdoc.notebook.cells import SliceRun, no_setup
from provkernel.bugdoc.notebook.environments import ensure, environment_root
from provkernel.bugdoc.notebook.forkserver import SetupFailed, fork_available
from provkernel.bugdoc.notebook.pipeline import (
    Evaluation,
    Pipeline,
    build_pipeline,
    literal_value,
    past_instance,
)
from provkernel.bugdoc.notebook.reaper import guarded_run
from provkernel.bugdoc.notebook.versions import add_packages, routes
from provkernel.bugdoc.notebook.workers import VersionRouter, route_of
from provkernel.errors import UsageError
from provkernel.lineage.graph import execution
from provkernel.lineage.loading import load_graph
from provkernel.parameters import python_literal
from provkernel.reports.common import cell_execution, is_introspection
from provkernel.store.bugdoc_runs import stored_instances
from provkernel.store.database import default_path
from provkernel.store.queries import Queries

DEFAULT_TIMEOUT_S = 600.0


def default_workers() -> int:
    """Instances in flight at once: the cores, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Options:
    """What the user asked for (magic and CLI share it)."""

    target: str | None = None  # an execution count or cell id (prefix), as the user typed it
    target_cell: str | None = None  # an exact cell id (the CLI names code cells by position)
    declared: dict[str, list[Any]] = field(default_factory=dict)
    only: list[str] | None = None
    check: str | None = None
    same_error: bool = False
    algorithm: str = "stacked"
    goal: str = "all"  # a user wants the whole answer ("solver ∈ {…} ∧ penalty = 'l1'"), not one clause of it
    budget: int | None = None
    workers: int = field(default_factory=default_workers)
    executor: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT_S
    memory_limit: int | None = None
    cold: bool = False
    seed: int = 0
    packages: dict[str, list[Version]] = field(default_factory=dict)  # --vary-package NAME==V1,V2
    index_args: list[str] = field(default_factory=list)  # --find-links DIR, --no-index (for building them)


@dataclass
class Prepared:
    """Everything known before running anything."""

    pipeline: Pipeline
    evaluation: Evaluation
    signature: str
    notebook: dict[str, Any]
    epoch: dict[str, Any]
    target_id: int
    from_provenance: int  # history instances from earlier executions
    from_store: int  # history instances from earlier %bugdoc runs
    database: str = ""  # the provenance database (package environments are kept beside it)


def _target(graph, options: Options, epoch_number: int, running: int | None) -> int:
    """The execution to explain: an exact cell id (CLI), ``--target`` (count or cell id), else the last
    failure (or, with ``--check``, the last execution) of the epoch that is not a provkernel magic."""
    if options.target_cell is not None:
        runs = [x for x in graph if x != running and execution(graph, x).cell_id == options.target_cell]
        if not runs:
            raise UsageError(f"the target cell {options.target_cell} did not run; nothing to explain")
        return max(runs)
    if options.target:
        return cell_execution(graph, options.target, epoch_number)
    candidates = [
        x
        for x in sorted(graph, reverse=True)
        if x != running and not is_introspection(execution(graph, x).code)
    ]
    for x in candidates:
        run = execution(graph, x)
        if run.status in ("error", "died") or (options.check and run.status == "ok"):
            return x
    if options.check:
        raise UsageError("nothing has run in this kernel yet to check; run the notebook first")
    raise UsageError(
        "no cell has failed in this kernel session; name one with --target N, or give --check EXPR"
    )


def prepare(
    queries: Queries,
    notebook: dict[str, Any],
    epoch: dict[str, Any],
    options: Options,
    *,
    running: int | None = None,
    allowed: Iterable[str] | None = None,
) -> Prepared:
    """Build the pipeline behind the target and gather its history (earlier runs and stored instances)."""
    graph = load_graph(queries, notebook["id"], epoch)
    target_id = _target(graph, options, epoch["number"], running)
    all_runs = queries.executions(notebook["id"])
    facts = {h: queries.code_facts(h) or {} for h in {r["code_hash"] for r in all_runs}}
    known: dict[str, list[str]] = {}
    for run in all_runs:
        for name, source in facts[run["code_hash"]].get("parameters", ()):
            known.setdefault(name, []).append(source)
    pipeline = build_pipeline(
        graph,
        target_id,
        facts,
        declared=options.declared,
        allowed=allowed,
        known_values=known,
        skip=lambda run: is_introspection(run.code),
        packages=bool(options.packages),
    )
    if options.packages and options.executor:
        raise UsageError("--vary-package runs instances in local workers; leave out --executor")
    libraries = queries.libraries(notebook["id"]) if options.packages else []
    versions = add_packages(pipeline, options.packages, libraries, epoch["number"])
    target = pipeline.target
    evaluation = Evaluation(options.check, target.ename if options.same_error else None)
    if options.same_error and not target.ename:
        raise UsageError("--same-error needs a failing target; this one did not raise")
    past = _past_instances(queries, notebook, epoch, graph, target, facts, pipeline, evaluation, versions)
    signature = pipeline.signature(evaluation)
    stored_rows = {params: (ok, detail) for params, ok, detail in stored_instances(queries, signature)}
    stored = [
        ({name: literal_value(source) for name, source in json.loads(params).items()}, Outcome(ok, detail))
        for params, (ok, detail) in stored_rows.items()
    ]
    for instance, _ in stored:
        instance.update({p: Version(instance[p]) for p in pipeline.packages if p in instance})
    # an instance of a version not asked for now would need an environment nobody built
    allowed = {p: set(pipeline.space[p]) for p in pipeline.packages}
    past, stored = (
        [(i, o) for i, o in items if all(i.get(p) in vs for p, vs in allowed.items())]
        for items in (past, stored)
    )
    pipeline.history = past + stored
    return Prepared(
        pipeline, evaluation, signature, notebook, epoch, target_id, len(past), len(stored), queries.path
    )


def _past_instances(queries, notebook, epoch, graph, target, facts, pipeline, evaluation, versions) -> list:
    """Every run of the target's cell in the notebook's epochs, as (instance, outcome), this one included;
    with varied packages, only the epochs whose versions are known (``versions``: package → epoch → version)."""
    found = []
    names = [n for n in pipeline.space if n not in pipeline.packages]
    for other in queries.epochs(notebook["id"]):
        used = {p: by_epoch.get(other["number"]) for p, by_epoch in versions.items()}
        if None in used.values():
            continue
        g = graph if other["id"] == epoch["id"] else None
        ids = None
        if g is None:
            ids = [
                r["id"]
                for r in queries.executions(notebook["id"], other["number"])
                if (r["cell_id"] or f"code:{r['code_hash']}") == target.cell
            ]
            if not ids:
                continue
            g = load_graph(queries, notebook["id"], other)
        ids = ids or [x for x in g if execution(g, x).cell == target.cell and x <= target.id]
        for x in ids:
            item = past_instance(g, x, facts, names, evaluation)
            if item is not None:
                found.append(({**item[0], **used}, item[1]))
    return found


def search(
    prepared: Prepared,
    options: Options,
    *,
    cwd: str,
    env: dict[str, str] | None = None,
    on_result: Callable[[dict[str, Any], Outcome, bool], None] | None = None,
) -> tuple[Result, dict[str, Any]]:
    """Run BugDoc on the pipeline; returns the result and facts about the run (warm start, timings).
    Every process it starts dies with it (see :mod:`~provkernel.bugdoc.notebook.reaper`)."""
    with guarded_run(prepared.database or default_path()) as marker:
        return _search(prepared, options, cwd, {**(os.environ if env is None else env), **marker}, on_result)


def _search(prepared: Prepared, options: Options, cwd: str, env: dict[str, str], on_result) -> tuple:
    pipeline = prepared.pipeline
    run = SliceRun(
        pipeline.cells,
        prepared.evaluation.check,
        prepared.evaluation.same_error,
        warm=False,
        preload=pipeline.preload,
        fresh=True,
    )
    info: dict[str, Any] = {"mode": f"executor {options.executor}", "setup_seconds": 0.0}
    executor: Any = options.executor
    server = None
    if executor is None:
        warm = fork_available() and not options.cold
        run = SliceRun(run.cells, run.check, run.same_error, warm=warm, preload=pipeline.preload)
        pythons, info["environments"] = _environments(prepared, options)
        server = VersionRouter(
            pipeline.packages,
            pythons,
            setup=run.warm_up if warm else no_setup,
            workers=options.workers,
            timeout=options.timeout,
            memory_limit=options.memory_limit,
            failure=lambda detail: Outcome(False, detail),
            cwd=cwd,
            env=env,
        )
        executor = server
        info["mode"] = "warm" if warm else "cold"
    began = time.perf_counter()
    try:
        result = find_root_causes(
            pipeline.space,
            run,
            history=pipeline.history,
            algorithm=options.algorithm,
            goal=options.goal,
            budget=options.budget,
            workers=options.workers,
            seed=options.seed,
            executor=executor,
            on_result=on_result,
            timeout=None if server is not None else options.timeout,
            target=pipeline.current,
        )
    except SetupFailed as exc:
        raise UsageError(f"bugdoc cannot run the pipeline: {exc}") from None
    finally:
        if server is not None:
            server.shutdown()
    if server is not None:
        info["setup_seconds"] = round(server.setup_seconds(), 3)
    info["search_seconds"] = round(time.perf_counter() - began, 3)
    return result, info


def _environments(prepared: Prepared, options: Options) -> tuple[dict, dict[str, Any]]:
    """The interpreter of every package-version set (built or reused now, before any instance runs),
    and what that cost."""
    pipeline = prepared.pipeline
    pythons: dict = {}
    facts: dict[str, Any] = {}
    root = environment_root(prepared.database or default_path())
    for versions in routes(pipeline.space, pipeline.packages):
        route = route_of(versions, pipeline.packages)
        differ = {p: str(v) for p, v in versions.items() if v != pipeline.current[p]}
        if not differ:
            pythons[route] = None  # the kernel's own versions: the kernel's interpreter
            continue
        built = ensure(differ, root, options.index_args)
        pythons[route] = built.python
        spec = ", ".join(f"{n}=={v}" for n, v in differ.items())
        facts[spec] = {"reused": built.reused, "seconds": round(built.seconds, 3)}
    return pythons, facts


def record_run(writer, prepared: Prepared, result: Result, report_json: dict, started: float) -> None:
    """Store a finished run and the instances it executed (``writer``: a :class:`~provkernel.store.writer.Writer`
    inside a transaction)."""
    spec = {
        "target": prepared.target_id,
        "parameters": {n: [repr(v) for v in vs] for n, vs in prepared.pipeline.space.items()},
        "check": prepared.evaluation.check,
        "same_error": prepared.evaluation.same_error,
        "algorithm": result.algorithm,
        "goal": result.goal,
    }
    writer.add_bugdoc_run(
        prepared.notebook["id"],
        prepared.epoch["id"],
        prepared.target_id,
        prepared.signature,
        started,
        time.time(),
        spec,
        report_json,
        stored_form(result),
    )


def stored_form(result: Result) -> list[tuple[str, bool, str, bool]]:
    """The instances this run executed, as the store keeps them (history is stored where it came from)."""
    return [
        (
            json.dumps({k: python_literal(_plain(v)) for k, v in row["instance"].items()}, sort_keys=True),
            row["succeeded"],
            row["detail"],
            True,
        )
        for row in result.instances
        if row["new"]
    ]


def _plain(value: Any) -> Any:
    """A :class:`Version` is stored as the plain string it is."""
    return str(value) if isinstance(value, Version) else value
