"""Debugging Decision Trees (Lourenço, Freire, Shasha, SIGMOD 2020).

An unpruned decision tree over every known instance (features = parameters, target = outcome) splits
categorical parameters with ``p = v`` / ``p ≠ v`` and ordinal ones with ``p ≤ t`` / ``p > t``, until every
leaf is pure, choosing the split of highest information gain (true ``log2``, unlike the reference's floor-division bug; ties go to the
first parameter, then the lowest value, so trees are deterministic). Each path to a pure-fail leaf is a
suspect: a box that extends to values never observed. Suspects are tested with instances drawn from the
whole universe (the reference draws only observed values); a success refutes a suspect and the tree is
rebuilt with it. Confirmed suspects are minimised by dropping each condition whose complement also always
fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from provkernel.bugdoc.engine.cover import minimise
from provkernel.bugdoc.engine.predicates import Box
from provkernel.bugdoc.engine.shortcut import Cause
from provkernel.bugdoc.engine.space import Key
from provkernel.bugdoc.engine.tester import Context

# FindAll stops after this many exploration batches find no unexplained failure: a tree only knows the regions
# it has seen, so DDT explores more than the walks (measured: recall on disjunctions, see the benchmark)
EXPLORE_ROUNDS = 5


def _entropy(bad: int, total: int) -> float:
    if total == 0 or bad in (0, total):
        return 0.0
    p = bad / total
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


@dataclass
class Leaf:
    box: Box
    bad: int
    total: int


def _best_split(ctx: Context, rows: Sequence[tuple[Key, bool]], allowed: dict[int, frozenset[int]]):
    """The (gain, position, left index set) of the best split (ties: first parameter, lowest value), or
    None when no parameter separates the rows. A zero-gain split is taken when nothing gains, so every leaf
    ends pure (an XOR of two parameters gains nothing on either alone); the reference stops there instead."""
    total, bad = len(rows), sum(1 for _, ok in rows if not ok)
    base = _entropy(bad, total)
    best = None
    for pos, param in enumerate(ctx.space.params):
        n = len(param.values)
        count, fails = [0] * n, [0] * n
        for key, ok in rows:
            count[key[pos]] += 1
            fails[key[pos]] += not ok
        observed = [v for v in range(n) if count[v]]
        if len(observed) < 2:
            continue
        domain = allowed.get(pos, frozenset(range(n)))
        if param.ordinal:
            # thresholds between observed values: left = values ≤ the observed value
            candidates = []
            c = b = 0
            for v in observed[:-1]:
                c, b = c + count[v], b + fails[v]
                candidates.append((c, b, frozenset(x for x in domain if x <= v)))
        else:
            candidates = [(count[v], fails[v], frozenset({v})) for v in observed]
        for c, b, left in candidates:
            gain = base - (c / total) * _entropy(b, c) - ((total - c) / total) * _entropy(bad - b, total - c)
            if best is None or gain > best[0] + 1e-12:  # zero gain still splits an impure node (XOR)
                best = (gain, pos, left)
    return best


def build_tree(ctx: Context, rows: Sequence[tuple[Key, bool]]) -> list[Leaf]:
    """The leaves of an unpruned tree over ``rows``, each with the box of its path."""
    leaves: list[Leaf] = []
    stack: list[tuple[list[tuple[Key, bool]], dict[int, frozenset[int]]]] = [(list(rows), {})]
    while stack:
        part, allowed = stack.pop()
        bad = sum(1 for _, ok in part if not ok)
        split = None if bad in (0, len(part)) else _best_split(ctx, part, allowed)
        if split is None:
            leaves.append(Leaf(Box.make(ctx.space, allowed), bad, len(part)))
            continue
        _, pos, left = split
        domain = allowed.get(pos, frozenset(range(len(ctx.space.params[pos].values))))
        right = domain - left
        stack.append(([r for r in part if r[0][pos] not in left], {**allowed, pos: right}))
        stack.append(([r for r in part if r[0][pos] in left], {**allowed, pos: left}))
    return leaves


def ddt_causes(ctx: Context, goal: str) -> list[Cause]:
    """Build, suspect, test, rebuild until the suspects are confirmed (FindOne: the first)."""
    confirmed: list[Cause] = []
    suspected: list[Cause] = []
    watchdog = ctx.watchdog("DDT")
    misses = 0  # FindAll: exploration batches that found no unexplained failure
    while True:  # ends: every round confirms, refutes with a new run, or stops on the budget
        if watchdog.stalled((len(ctx.runner.cache), len(confirmed), misses)):
            break
        failures = ctx.failures()
        if not failures:
            if ctx.explore([]) is None:
                break
            continue
        if not ctx.successes() and ctx.disjoint_success(failures[-1]) is None:
            break
        rows = [(r.key, r.outcome.succeeded) for r in ctx.runner.records]
        leaves = [leaf for leaf in build_tree(ctx, rows) if leaf.bad == leaf.total and leaf.total]
        target = ctx.target if ctx.target_failed() else None  # FindOne: the target's own leaf first
        leaves.sort(
            key=lambda leaf: (
                target is not None and not leaf.box.contains(target),
                len(leaf.box.parts),
                -leaf.total,
            )
        )
        suspects = [lf.box for lf in leaves if not any(lf.box.subset_of(c.box) for c in confirmed)]
        if not suspects:
            if goal == "one":
                break
            if ctx.explore([c.box for c in confirmed]) is None:
                misses += 1
                if misses >= EXPLORE_ROUNDS:
                    break
            continue
        for box in suspects[:1] if goal == "one" else suspects:
            verdict = ctx.verify(box)
            if verdict.definitive:
                small = minimise(ctx, box)
                witness = next(k for k in ctx.failures() if small.contains(k))
                confirmed.append(Cause(small, True, witness))
                if goal == "one":
                    return confirmed
            elif not verdict.complete:
                witness = next(k for k in ctx.failures() if box.contains(k))
                suspected.append(Cause(box, False, witness))
                return confirmed + suspected
    return confirmed + suspected
