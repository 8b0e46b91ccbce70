"""Shortcut and Stacked Shortcut (Lourenço, Freire, Shasha, SIGMOD 2020), with verification.

From a failing instance ``f`` and a succeeding instance ``g`` that differs from it everywhere, walk the
parameters in order and move ``f`` one parameter at a time towards ``g``, keeping a change when the instance
still fails. The parameters that could not move carry the asserted cause. Unlike the reference, the
assertion is then *tested* (see :meth:`Context.verify`); a success inside it shows the assertion was
truncated (the cause overlaps another one, or ``g``'s value also satisfies a predicate of the cause), and the
walk resumes from the failing instance towards that success, adding the parameters that cannot move.
Stacked Shortcut runs the walks towards ``k`` mutually disjoint successes in lockstep (one batch per step, so
they run in parallel), each from the original ``f``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from provkernel.bugdoc.predicates import Box
from provkernel.bugdoc.space import Key
from provkernel.bugdoc.tester import Context


@dataclass(frozen=True)
class Cause:
    """A conjunction (as a box), whether it was verified, and a failing instance inside it."""

    box: Box
    definitive: bool
    witness: Key


def target_for(ctx: Context, f: Key, g: Key) -> Key:
    """``g`` made disjoint from ``f``: where they agree, use the most success-prone other value."""
    out = list(g)
    for p, (a, b) in enumerate(zip(f, g, strict=True)):
        if a == b:
            others = ctx.ranked_values(p, exclude=[a])
            if others:
                out[p] = others[0]
    return tuple(out)


def walk(
    ctx: Context, starts: Sequence[Key], targets: Sequence[Key], skip: Sequence[set[int]] = ()
) -> list[tuple[Key, list[int]]]:
    """Walk each start towards its target in lockstep; return (final failing instance, kept positions).

    A position is kept when moving it made the instance succeed, or when the budget stopped the walk
    before it could be tried (then it stays, untested)."""
    current = [list(s) for s in starts]
    kept: list[list[int]] = [[] for _ in starts]
    alive = [True] * len(starts)
    for p in range(len(ctx.space)):
        batch, owners = [], []
        for j, target in enumerate(targets):
            if (skip and p in skip[j]) or current[j][p] == target[p]:
                continue
            if not alive[j]:
                kept[j].append(p)
                continue
            cand = list(current[j])
            cand[p] = target[p]
            batch.append(tuple(cand))
            owners.append(j)
        for j, cand, outcome in zip(owners, batch, ctx.runner.run(batch), strict=True):
            if outcome is None:
                alive[j] = False
                kept[j].append(p)
            elif outcome.succeeded:
                kept[j].append(p)
            else:
                current[j] = list(cand)
    return [(tuple(c), k) for c, k in zip(current, kept, strict=True)]


def settle(ctx: Context, witness: Key, kept: list[int]) -> Cause:
    """Verify the point cause ``witness`` restricted to ``kept``; on refutation walk on towards the
    refuting success and retry (each round adds at least one parameter, so at most |P| rounds)."""
    kept = sorted(set(kept))
    while True:
        box = Box.point(ctx.space, witness, kept)
        verdict = ctx.verify(box)
        if verdict.definitive or verdict.refuted_by is None:
            return Cause(box, verdict.definitive, witness)
        s = verdict.refuted_by
        [(witness, more)] = walk(ctx, [witness], [s], [set(kept)])
        if not more:  # cannot happen unless the pipeline is not deterministic
            return Cause(box, False, witness)
        kept = sorted(set(kept) | set(more))


def generalize(ctx: Context, cause: Cause) -> Cause:
    """Widen each equality of a verified cause to every value that also fails next to the witness, and keep
    the wider cause only if it verifies too (used by FindAll so one walk covers e.g. ``p > 5``)."""
    if not cause.definitive or not cause.box.parts:
        return cause
    w = cause.witness
    batch = []
    for pos in cause.box.positions:
        for v in range(len(ctx.space.params[pos].values)):
            if v != w[pos]:
                batch.append(w[:pos] + (v,) + w[pos + 1 :])
    outcomes = ctx.runner.run(batch)
    allowed = {pos: {w[pos]} for pos in cause.box.positions}
    for key, outcome in zip(batch, outcomes, strict=True):
        if outcome is not None and not outcome.succeeded:
            pos = next(p for p in cause.box.positions if key[p] != w[p])
            allowed[pos].add(key[pos])
    for pos, values in allowed.items():
        if ctx.space.params[pos].ordinal:  # a threshold gives a run; a value apart is another cause
            run = {w[pos]}
            for step in (-1, 1):
                v = w[pos] + step
                while v in values:
                    run.add(v)
                    v += step
            allowed[pos] = run
    wide = Box.make(ctx.space, allowed)
    if wide == cause.box:
        return cause
    verdict = ctx.verify(wide)
    return Cause(wide, True, w) if verdict.definitive else cause


def shortcut_causes(ctx: Context, f: Key, k: int, goal: str, known: Sequence[Box] = ()) -> list[Cause]:
    """Causes asserted from failing instance ``f`` with ``k`` disjoint successes (k=1: plain Shortcut);
    walks ending inside a ``known`` cause are not verified again."""
    targets: list[Key] = []
    for _ in range(k):
        g = ctx.disjoint_success(f, avoid=targets, max_probes=None if not targets else 2)
        if g is None or target_for(ctx, f, g) in targets:
            break
        targets.append(target_for(ctx, f, g))
    if not targets:
        return []
    causes: list[Cause] = []
    for witness, kept in walk(ctx, [f] * len(targets), targets):
        point = Box.point(ctx.space, witness, kept)
        if any(point.subset_of(b) for b in [*known, *(c.box for c in causes)]):
            continue
        cause = settle(ctx, witness, kept)
        if any(c.box == cause.box for c in causes):
            continue
        causes.append(cause)
        if goal == "one" and cause.definitive:
            return [cause]
    if goal == "one":
        return causes[:1]
    return causes
