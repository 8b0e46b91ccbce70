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

from provkernel.bugdoc.engine.predicates import Box
from provkernel.bugdoc.engine.space import Key
from provkernel.bugdoc.engine.tester import Context


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


def settle(ctx: Context, witness: Key, kept: list[int], wide: bool = False, anchored: bool = False) -> Cause:
    """Verify the point cause ``witness`` restricted to ``kept``; on refutation walk on towards the
    refuting success and retry (each round adds at least one parameter, so at most |P| rounds).

    With ``wide`` (FindAll), each equality is first widened to the values that also fail next to the
    witness (:func:`widen`) and the wider cause is verified instead; if a success refutes only the widening,
    the point cause is verified on its own. With ``anchored``, the cause keeps the witness's own values
    (it always contains ``witness``); otherwise it takes the values where the walk ended."""
    kept = sorted(set(kept))
    while True:
        point = Box.point(ctx.space, witness, kept)
        box = widen(ctx, witness, point) if wide else point
        verdict = ctx.verify(box)
        if box != point and verdict.refuted_by is not None and not point.contains(verdict.refuted_by):
            box, verdict = point, ctx.verify(point)
        if verdict.definitive or verdict.refuted_by is None:
            return Cause(box, verdict.definitive, witness)
        s = verdict.refuted_by
        [(moved, more)] = walk(ctx, [witness], [s], [set(kept)])
        if not more:  # cannot happen unless the pipeline is not deterministic
            return Cause(box, False, witness)
        witness = witness if anchored else moved
        kept = sorted(set(kept) | set(more))


def widen(ctx: Context, w: Key, point: Box) -> Box:
    """``point`` with each equality widened to the values that also fail next to the witness ``w``, so one
    walk can cover e.g. ``p > 5`` or ``q ≠ 'a'``; the caller verifies the result.

    Ordinal parameters step outwards from ``w``'s value until a success in each direction (a threshold gives
    a run; a value apart belongs to another cause). Categorical ones probe other values four at a time, most
    success-prone first, until a success: a first-probe success keeps the equality; if failures came first
    and a single success, every unprobed value is assumed to fail as well (the ``q ≠ v`` shape)."""
    allowed = {pos: {w[pos]} for pos in point.positions}

    def fails(keys: list[Key]) -> list[bool | None]:
        return [None if o is None else not o.succeeded for o in ctx.runner.run(keys)]

    for pos in point.positions:
        n = len(ctx.space.params[pos].values)
        if ctx.space.params[pos].ordinal:
            ends = {-1: w[pos] - 1, 1: w[pos] + 1}
            while any(0 <= v < n for v in ends.values()):
                steps = [(d, v) for d, v in ends.items() if 0 <= v < n]
                for (d, v), bad in zip(
                    steps, fails([w[:pos] + (v,) + w[pos + 1 :] for _, v in steps]), strict=True
                ):
                    if bad:
                        allowed[pos].add(v)
                        ends[d] = v + d
                    else:
                        ends[d] = -2 if d < 0 else n + 1
            continue
        order = ctx.ranked_values(pos, exclude=[w[pos]])
        seen_bad = []
        for start in range(0, len(order), 4):
            chunk = order[start : start + 4]
            results = fails([w[:pos] + (v,) + w[pos + 1 :] for v in chunk])
            good = [v for v, bad in zip(chunk, results, strict=True) if bad is False]
            seen_bad += [v for v, bad in zip(chunk, results, strict=True) if bad]
            if good or None in results:
                if len(good) == 1 and len(seen_bad) >= 2:
                    seen_bad += order[start + 4 :]
                break
        allowed[pos] |= set(seen_bad)
    return Box.make(ctx.space, allowed)


def shortcut_causes(
    ctx: Context, f: Key, k: int, goal: str, known: Sequence[Box] = (), used: list[Key] | None = None
) -> list[Cause]:
    """Causes asserted from failing instance ``f`` with ``k`` disjoint successes (k=1: plain Shortcut);
    walks ending inside a ``known`` cause are not verified again. ``used`` collects the walk targets and
    steers a later call for the same ``f`` to other successes (FindAll retries an unexplained ``f``)."""
    used = [] if used is None else used
    targets: list[Key] = []
    for _ in range(k):
        g = ctx.disjoint_success(f, avoid=used + targets, max_probes=None if not (used or targets) else 2)
        if g is None or target_for(ctx, f, g) in used + targets:
            break
        targets.append(target_for(ctx, f, g))
    used.extend(targets)
    if not targets:
        return []
    causes: list[Cause] = []
    for witness, kept in walk(ctx, [f] * len(targets), targets):
        point = Box.point(ctx.space, witness, kept)
        if any(point.subset_of(b) for b in [*known, *(c.box for c in causes)]):
            continue
        cause = settle(ctx, witness, kept, wide=goal == "all")
        if any(c.box == cause.box for c in causes):
            continue
        causes.append(cause)
        if goal == "one" and cause.definitive:
            return [cause]
    if goal == "one":
        return causes[:1]
    return causes
