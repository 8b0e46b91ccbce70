"""``find_root_causes``: the public entry point that wires history, runner and algorithm together."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import Any

from provkernel.bugdoc.engine.cover import complete, minimise, prefer_target
from provkernel.bugdoc.engine.ddt import ddt_causes
from provkernel.bugdoc.engine.execute import BugDocUsageError, OnResult, Runner
from provkernel.bugdoc.engine.explain import render_dnf, simplify
from provkernel.bugdoc.engine.predicates import Box, box_conditions
from provkernel.bugdoc.engine.report import Result
from provkernel.bugdoc.engine.shortcut import Cause, shortcut_causes
from provkernel.bugdoc.engine.space import Key, Outcome, Parameter, Space
from provkernel.bugdoc.engine.tester import TESTS_CAP, Context

ALGORITHMS = ("shortcut", "stacked", "ddt")
GOALS = ("one", "all")
EXPLORE_ROUNDS = 1  # FindAll with walks stops at the first exploration batch without an unexplained failure


def _history(items: Iterable[Any]) -> list[tuple[Mapping[str, Any], Outcome]]:
    out = []
    for item in items:
        try:
            instance, outcome = item
        except (TypeError, ValueError):
            raise BugDocUsageError("history items must be (dict, bool) or (dict, Outcome) pairs") from None
        if not isinstance(instance, Mapping):
            raise BugDocUsageError("history items must be (dict, bool) or (dict, Outcome) pairs")
        out.append((instance, Outcome.of(outcome)))
    return out


def walk_search(ctx: Context, goal: str, k: int) -> list[Cause]:
    """Shortcut (k=1) or Stacked Shortcut; FindAll repeats from failures no found cause explains."""
    if goal == "one":
        failures = ctx.failures()
        if ctx.target_failed():
            f = ctx.target
        else:
            f = failures[-1] if failures else ctx.explore([])
        return [] if f is None else shortcut_causes(ctx, f, k, "one")
    causes: list[Cause] = []
    handled: list[Box] = []
    used: dict[Key, list[Key]] = {}  # walk targets per failing instance already walked from
    idle = 0  # rounds that found nothing new: stop after a few (e.g. no success can be found)
    misses = 0  # exploration batches that found no unexplained failure
    watchdog = ctx.watchdog("Shortcut")
    while idle < 2 and ctx.runner.remaining > 0:
        if watchdog.stalled(
            (len(ctx.runner.cache), tuple(c.box for c in causes), len(handled), misses, idle)
        ):
            break
        f = ctx.explore([c.box for c in causes] + handled)
        if f is None:
            misses += 1
            if misses >= EXPLORE_ROUNDS:
                break
            continue
        if f in used:  # second walk from an unexplained failure (its first walk found another cause)
            handled.append(Box.point(ctx.space, f, range(len(ctx.space))))
        idle += 1
        for cause in shortcut_causes(ctx, f, k, "all", [c.box for c in causes], used.setdefault(f, [])):
            if not any(cause.box.subset_of(c.box) for c in causes):
                causes = [c for c in causes if not c.box.subset_of(cause.box)] + [cause]
                idle = 0
    return causes


def find_root_causes(
    space: Mapping[str, Any] | Space | Iterable[Parameter],
    evaluate: Callable[[dict[str, Any]], Any],
    *,
    history: Iterable[Any] = (),
    algorithm: str = "stacked",
    goal: str = "one",
    budget: int | None = None,
    workers: int = 1,
    seed: int = 0,
    executor: Executor | str | None = None,
    on_result: OnResult | None = None,
    timeout: float | None = None,
    k: int | None = None,
    tests: int = TESTS_CAP,
    target: Mapping[str, Any] | None = None,
) -> Result:
    """Find minimal definitive root causes of a pipeline's failures.

    Args:
        space: ``{name: [values]}`` (or :class:`Space` / list of :class:`Parameter`); dict order is the
            order Shortcut walks. Numbers are ordinal, other and mixed types categorical, unless declared.
        evaluate: ``callable(dict) -> bool | Outcome`` (True = success); picklable for pools and Dask. An
            exception it raises is a failing outcome.
        history: previous runs, ``(dict, bool)`` or ``(dict, Outcome)``, used first and never re-run. Values
            seen in history join the universe; parameters outside the space are ignored (noted); items
            lacking a parameter of the space are skipped (noted).
        algorithm: ``"shortcut"``, ``"stacked"`` or ``"ddt"``.
        goal: ``"one"`` (one minimal definitive cause) or ``"all"`` (all of them).
        budget: most new instances to run; causes whose tests the budget cut short are "suspected".
        workers: instances in flight at once; the answer does not depend on it.
        seed: seeds every random choice (same seed, same answer).
        executor: ``None``, ``"dask"``, ``"tcp://host:port"`` or a ``concurrent.futures.Executor``
            (a caller's executor is used as is and not shut down).
        on_result: ``callable(instance, outcome, new)`` called in the calling thread per outcome.
        timeout: seconds one instance may run (process pool / Dask); a timeout is a failing outcome.
        k: successes Stacked Shortcut walks towards (default 2).
        tests: most test instances run to verify one suspected cause; a cause with at most this many
            instances is tested exhaustively, so "definitive" is exact there and a sampled judgement (a
            covering design anchored on known successes) beyond. FindAll also explores exhaustively when at
            most this many instances lie outside the causes found, so on such spaces it is exact: every cause
            is definitive and minimal, and their union is the failing set.
        target: the instance the user asks about (a notebook's own run): run first if unknown; FindOne
            explains it when it fails, FindAll covers it first.

    Returns:
        a :class:`Result` (``causes``, ``definitive``, ``new_instances``, ``explanation``, ``instances``).

    Raises:
        BugDocUsageError: bad arguments (a ``ValueError`` whose message says what to do).
        KeyboardInterrupt: pending work is cancelled and an engine-owned pool shut down first.
    """
    if algorithm not in ALGORITHMS:
        raise BugDocUsageError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    if goal not in GOALS:
        raise BugDocUsageError(f"goal must be 'one' or 'all', got {goal!r}")
    try:
        base = Space.of(space)
    except ValueError as exc:
        raise BugDocUsageError(str(exc)) from None
    if not len(base):
        raise BugDocUsageError("the space has no parameters")
    if tests < 1:
        raise BugDocUsageError("tests must be at least 1")
    items = _history(history)
    notes: list[str] = []
    outside = sorted({n for inst, _ in items for n in inst if n not in base})
    if outside:
        notes.append(f"ignored parameters outside the space: {', '.join(map(str, outside))}")
    universe = base.extended(inst for inst, _ in items)
    if any(len(p.values) != len(q.values) for p, q in zip(base.params, universe.params, strict=True)):
        notes.append("values seen in history joined the space")
    if any(not p.values for p in universe.params):
        raise BugDocUsageError("every parameter needs at least one value")
    runner = Runner(
        universe,
        evaluate,
        executor=executor,
        workers=workers,
        budget=budget,
        on_result=on_result,
        timeout=timeout,
    )
    skipped = 0
    for inst, outcome in items:
        key = universe.key(inst)
        if key is None:
            skipped += 1
        else:
            runner.add_history(key, outcome)
    if skipped:
        notes.append(f"skipped {skipped} history item(s) lacking a parameter of the space")
    target_key = None
    if target is not None:
        target_key = universe.key(target)
        if target_key is None:
            notes.append("the target instance is outside the space and was ignored")
    ctx = Context(universe, runner, seed, tests, target_key)
    try:
        if target_key is not None and ctx.known(target_key) is None:
            runner.run_one(target_key)
        if algorithm == "ddt":
            found = ddt_causes(ctx, goal)
        else:
            found = walk_search(ctx, goal, 1 if algorithm == "shortcut" else (k or 2))
        found = prefer_target(ctx, found) if goal == "one" else complete(ctx, found)
    finally:
        runner.close()
    return _result(ctx, found, algorithm, goal, notes + ctx.notes, budget)


def _conjunctions(ctx: Context, boxes: list[Box], goal: str) -> list[Box]:
    """The boxes as single conjunctions of comparisons; for FindAll each minimised where known outcomes show
    a restriction is not needed (a box splits into several conjunctions when one comparison cannot express a
    parameter's values, and such a piece may need fewer parameters), and pieces inside another dropped."""
    pieces = [Box.of_conditions(ctx.space, conj) for box in boxes for conj in box_conditions(ctx.space, box)]
    if goal == "all":
        pieces = [minimise(ctx, piece, run=False) for piece in pieces]
    kept: list[Box] = []
    for piece in pieces:
        if not any(piece.subset_of(other) for other in kept):
            kept = [other for other in kept if not other.subset_of(piece)] + [piece]
    return kept


def _result(
    ctx: Context, found: list[Cause], algorithm: str, goal: str, notes: list[str], budget: int | None
) -> Result:
    universe, runner = ctx.space, ctx.runner
    if goal == "one":
        found = sorted(found, key=lambda c: not c.definitive)[:1]
    sure = simplify(universe, [c.box for c in found if c.definitive])
    unsure = [c.box for c in found if not c.definitive and not any(c.box.subset_of(b) for b in sure)]
    causes, flags, behind = [], [], []
    failures = [r.key for r in runner.records if not r.outcome.succeeded]  # in the order they became known
    pieces = _conjunctions(ctx, sure, goal)
    sure = simplify(universe, pieces)  # the same union, or wider where a piece needed fewer parameters
    for boxes, flag in ((pieces, True), (unsure, False)):
        for box in boxes:
            for conj in box_conditions(universe, box):
                causes.append(conj)
                flags.append(flag)
                piece = Box.of_conditions(universe, conj)
                behind.append([universe.instance(k) for k in failures if piece.contains(k)])
    explanation = render_dnf(universe, sure) if sure else "no definitive root cause found"
    if unsure:
        explanation += f"; suspected, not verified: {render_dnf(universe, unsure)}"
    unexplained = [universe.instance(k) for k in failures if not any(b.contains(k) for b in sure + unsure)]
    stopped = ctx.stopped
    if runner.remaining <= 0 and budget is not None:
        stopped = f"the budget of {budget} new instance{'s' * (budget != 1)} ran out"
    if goal == "all" and unexplained:
        n = len(unexplained)
        notes.append(f"{n} failing instance{'s' * (n != 1)} not explained: {stopped or 'the search ended'}")
    elif stopped and (goal == "all" or unsure):
        notes.append(f"{stopped}: {'some causes are only suspected; ' if unsure else ''}others may exist")
    if not failures:
        notes.append("no failing instance known or found")
    return Result(
        universe,
        causes,
        flags,
        runner.new_instances,
        explanation,
        list(runner.records),
        algorithm,
        goal,
        notes,
        behind=behind,
        unexplained=unexplained if goal == "all" else [],
        stopped=stopped,
    )
