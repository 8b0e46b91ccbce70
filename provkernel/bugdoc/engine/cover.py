"""Completing an answer: every known failure explained, whatever the algorithm left over.

An algorithm's own loop can end with failures it saw but did not explain (a walk drifted into another cause,
no succeeding instance was found to walk towards, an exploration round came back empty). FindAll must not
return then: :func:`complete` takes each known failure that no cause covers, the target's first, and grows a
cause from it with :func:`grow`, which needs no disjoint success and always ends with a cause that contains
the failure (at worst the instance itself, which is trivially definitive). When the space outside the causes
is small enough (at most ``tests`` instances), it is also explored exhaustively, so FindAll is then exact:
the causes' union is the failing set. Only the budget can stop it short; the result then says so.
"""

from __future__ import annotations

from provkernel.bugdoc.engine.predicates import Box
from provkernel.bugdoc.engine.shortcut import Cause, settle
from provkernel.bugdoc.engine.space import Key
from provkernel.bugdoc.engine.tester import Context


def necessary(ctx: Context, f: Key) -> list[int]:
    """Parameters of failing instance ``f`` whose change alone (to their most success-prone other value) makes
    it succeed, plus those the budget left untried. Each probe changes one parameter of ``f`` itself, so the
    probes do not drift into another cause the way a cumulative walk can."""
    probes, positions = [], []
    for pos in range(len(ctx.space)):
        others = ctx.ranked_values(pos, exclude=[f[pos]])
        if others:
            probes.append(f[:pos] + (others[0],) + f[pos + 1 :])
            positions.append(pos)
    kept = []
    for pos, outcome in zip(positions, ctx.runner.run(probes), strict=True):
        if outcome is None or outcome.succeeded:
            kept.append(pos)
    return kept


def grow(ctx: Context, f: Key, wide: bool = True) -> Cause:
    """A cause containing failing instance ``f``: the parameters found :func:`necessary`, then verified and
    refined towards any success found inside (:func:`~provkernel.bugdoc.engine.shortcut.settle`)."""
    return settle(ctx, f, necessary(ctx, f), wide=wide, anchored=True)


def uncovered(ctx: Context, causes: list[Cause]) -> list[Key]:
    """Known failures that no cause covers (the target first)."""
    boxes = [c.box for c in causes]
    return [k for k in ctx.failures() if not any(b.contains(k) for b in boxes)]


def complete(ctx: Context, causes: list[Cause]) -> list[Cause]:
    """``causes`` plus a cause for every known failure none of them covers (FindAll); with a small space, the
    rest of it is explored first so that every failure is known."""
    causes = list(causes)
    watchdog = ctx.watchdog("FindAll completion")
    while ctx.runner.remaining > 0:
        left = uncovered(ctx, causes)
        if watchdog.stalled((len(ctx.runner.cache), tuple(left))):
            break
        if left:
            # with no success to contrast, a sampled test would call the whole space a cause
            no_success = not ctx.successes() and ctx.space.size() > ctx.tests_cap
            if no_success and ctx.disjoint_success(left[0]) is None:
                ctx.stopped = ctx.stopped or "no succeeding instance found: every instance run failed"
                break
            causes.append(grow(ctx, left[0]))
            continue
        rest = ctx.unknown_outside([c.box for c in causes])
        if not rest or len(rest) > ctx.tests_cap:
            break
        ctx.runner.run(rest)
    return causes


def prefer_target(ctx: Context, causes: list[Cause]) -> list[Cause]:
    """FindOne: a definitive cause containing the target's failing instance, growing one if none does."""
    if not ctx.target_failed():
        return causes
    if not any(c.definitive and c.box.contains(ctx.target) for c in causes) and ctx.runner.remaining > 0:
        causes = [*causes, grow(ctx, ctx.target, wide=False)]
    return sorted(causes, key=lambda c: (not c.definitive, not c.box.contains(ctx.target)))


def minimise(ctx: Context, box: Box, run: bool = True) -> Box:
    """Drop each restriction whose complement region (the rest of the box held) also always fails. With
    ``run=False`` only regions whose every instance is known and failing count (nothing new is run)."""
    for pos, values in list(box.parts):
        if pos not in box.as_dict():
            continue
        rest = {p: v for p, v in box.parts if p != pos}
        outside = Box.make(
            ctx.space, {**rest, pos: frozenset(range(len(ctx.space.params[pos].values))) - values}
        )
        if ctx.verify(outside).definitive if run else ctx.known_to_fail(outside):
            box = Box.make(ctx.space, rest)
    return box
