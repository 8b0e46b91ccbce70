"""What every algorithm needs around the runner: known outcomes, value preferences, finding a succeeding
instance disjoint from a failing one, designing tests of a suspected cause, and verifying it."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from provkernel.bugdoc.engine.execute import Runner
from provkernel.bugdoc.engine.predicates import Box
from provkernel.bugdoc.engine.space import Key, Space

TESTS_CAP = 60  # most tests spent verifying one suspect
CHUNK = 8  # tests run per batch (fixed, so the answer does not depend on the number of workers)
ENUMERATE_LIMIT = 4096  # spaces up to this size are enumerated to see whether exploring them all is cheap


@dataclass
class Verdict:
    """Result of testing a suspected cause: ``definitive`` only if every planned test ran and failed."""

    definitive: bool
    refuted_by: Key | None = None  # a succeeding instance inside the suspect, if one was found
    complete: bool = True  # False when the budget stopped the tests


class Watchdog:
    """Ends a search loop that stopped making progress (a bug in an algorithm, never an endless loop).

    Each round the loop passes a progress state (e.g. instances known, causes confirmed); a state equal to
    the previous round's means the round achieved nothing, so the loop must stop. The stop is recorded in the
    context's notes, where tests (and users) see it."""

    def __init__(self, ctx: Context, loop: str) -> None:
        self.ctx, self.loop, self.last = ctx, loop, None

    def stalled(self, state: object) -> bool:
        if state == self.last:
            self.ctx.notes.append(f"the {self.loop} loop made no progress and was stopped")
            return True
        self.last = state
        return False


class Context:
    """Shared state of one search: the space, the runner (cache + budget), a seeded RNG, and the instance
    the user asked about (``target``: FindOne explains it first, FindAll covers it first)."""

    def __init__(
        self,
        space: Space,
        runner: Runner,
        seed: int = 0,
        tests_cap: int = TESTS_CAP,
        target: Key | None = None,
    ) -> None:
        self.space, self.runner = space, runner
        self.rng = random.Random(seed)
        self.tests_cap = tests_cap
        self.target = target
        self.notes: list[str] = []
        self.stopped: str | None = (
            None  # why a search ended before explaining every failure (besides the budget)
        )
        # a fixed random tie-break per (parameter, value), so preferences do not depend on call order
        self._tiebreak = [[self.rng.random() for _ in p.values] for p in space.params]

    def watchdog(self, loop: str) -> Watchdog:
        return Watchdog(self, loop)

    # -- knowledge ---------------------------------------------------------------------------
    def known(self, key: Key) -> bool | None:
        outcome = self.runner.cache.get(key)
        return None if outcome is None else outcome.succeeded

    def failures(self) -> list[Key]:
        """Known failing instances in the order they became known, the target first if it failed."""
        found = [r.key for r in self.runner.records if not r.outcome.succeeded]
        if self.target is not None and self.target in found:
            found.remove(self.target)
            found.insert(0, self.target)
        return found

    def target_failed(self) -> bool:
        return self.target is not None and self.known(self.target) is False

    def successes(self) -> list[Key]:
        return [r.key for r in self.runner.records if r.outcome.succeeded]

    def ranked_values(self, pos: int, exclude: Iterable[int] = ()) -> list[int]:
        """Value indices of parameter ``pos``, most success-prone first (lowest smoothed failure rate
        among known instances, a seeded random tie-break)."""
        n = len(self.space.params[pos].values)
        seen, bad = [0] * n, [0] * n
        for key, outcome in self.runner.cache.items():
            seen[key[pos]] += 1
            bad[key[pos]] += not outcome.succeeded
        skip = set(exclude)
        order = [i for i in range(n) if i not in skip]
        return sorted(order, key=lambda i: ((bad[i] + 0.5) / (seen[i] + 1), self._tiebreak[pos][i]))

    # -- finding a disjoint success ----------------------------------------------------------
    def disjoint_success(
        self, f: Key, avoid: Sequence[Key] = (), max_probes: int | None = None
    ) -> Key | None:
        """A succeeding instance that differs from ``f`` (and from every key in ``avoid``) in every
        parameter that has another value, running as few new instances as possible.

        Strategy: first any known success that qualifies (history first, in order). Otherwise run probes one
        at a time. Probe ``i`` takes, for every parameter, the ``i``-th most success-prone value among those
        not used by ``f`` or ``avoid``: failures need specific values, so an instance that avoids every value of
        the failing instance escapes every cause that is a conjunction of its equalities, and preferring
        values seen in successes (and rarely in failures) steers towards the succeeding region. Successive
        probes are mutually disjoint, so each one tries fresh values on every parameter. Probes stop at the
        first success or after ``max_probes`` (default: the largest domain, at least 4). If none succeeds, the
        known success farthest from ``f`` (most differing parameters) is returned; when no success is known
        at all, as many random instances avoiding ``f``'s values are tried before giving up (``None``).
        """
        blocked = [{f[p]} | {a[p] for a in avoid} for p in range(len(self.space))]
        free = [p for p in range(len(self.space)) if len(self.space.params[p].values) > len(blocked[p])]

        def disjoint(key: Key) -> bool:
            return all(key[p] not in blocked[p] for p in free)

        for key in self.successes():
            if disjoint(key):
                return key
        ranked = [self.ranked_values(p, exclude=blocked[p]) or [f[p]] for p in range(len(self.space))]
        limit = max_probes if max_probes is not None else max(4, max(len(r) for r in ranked))
        for i in range(limit):
            probe = tuple(ranked[p][i % len(ranked[p])] for p in range(len(self.space)))
            outcome = self.runner.run_one(probe)
            if outcome is None:
                break
            if outcome.succeeded:
                return probe
        known = self.successes()
        if not known:  # successes are rare: probe random instances as far from f as they come
            for _ in range(limit):
                probe = tuple(self.rng.choice(r) for r in ranked)
                outcome = self.runner.run_one(probe)
                if outcome is None:
                    return None
                if outcome.succeeded:
                    return probe
            return None
        return max(known, key=lambda k: sum(a != b for a, b in zip(k, f, strict=True)))

    # -- testing a suspect -------------------------------------------------------------------
    def design(self, box: Box, n: int | None = None) -> list[Key]:
        """Test instances inside ``box`` that vary every other parameter (at most ``n``, default the cap).

        The whole box when it is small. Otherwise, in this order: the box transplanted into known successes
        (they avoid every cause, so a success after the transplant shows the box is not sufficient); then
        the first success with two other parameters changed per test, covering every other value of every
        free parameter (most success-prone first), which exposes a missing condition such as ``q ≠ v``
        (dense failure regions hide it from instances that change everything at once); then a one-wise
        design where test ``i`` takes each parameter's ``i``-th most success-prone value; then, room permitting,
        the first success with one change at a time.
        """
        cap = self.tests_cap if n is None else n
        allowed = box.as_dict()
        space = self.space
        ranked = []
        for p in range(len(space)):
            values = self.ranked_values(p)
            ranked.append([v for v in values if v in allowed[p]] if p in allowed else values)
        if any(not r for r in ranked):
            return []
        if box.size(space) <= cap:
            return sorted(box.keys(space))

        def inside(key: Key) -> Key:
            return tuple(
                key[p] if key[p] in allowed.get(p, (key[p],)) else ranked[p][0] for p in range(len(space))
            )

        tests: list[Key] = []
        anchors = self.successes()[-8:][::-1]
        tests += [inside(a) for a in anchors[:4]]
        free = [p for p in range(len(space)) if len(ranked[p]) > 1]  # constrained sets vary too
        singles: list[Key] = []
        if anchors and free:
            base = inside(anchors[0])
            changes = [
                (q, ranked[q][r])
                for r in range(max(len(ranked[q]) for q in free))
                for q in free
                if r < len(ranked[q]) and ranked[q][r] != base[q]
            ]
            singles = [base[:q] + (v,) + base[q + 1 :] for q, v in changes]
            while changes and len(tests) < cap:
                q, v = changes.pop(0)
                key = list(base)
                key[q] = v
                other = next((c for c in changes if c[0] != q), None)
                if other is not None:
                    changes.remove(other)
                    key[other[0]] = other[1]
                tests.append(tuple(key))
        width = max(len(r) for r in ranked)
        tests += [tuple(r[i % len(r)] for r in ranked) for i in range(width)]
        tests += singles  # one change at a time, if the cap leaves room
        return list(dict.fromkeys(tests))[:cap]

    def verify(self, box: Box, n: int | None = None) -> Verdict:
        """Run the design of ``box`` (known instances count without running) and judge it."""
        for key, outcome in self.runner.cache.items():
            if outcome.succeeded and box.contains(key):
                return Verdict(False, key)
        tests = self.design(box, n)
        complete = True
        for start in range(0, len(tests), CHUNK):  # chunks: stop soon after a refutation
            chunk = tests[start : start + CHUNK]
            outcomes = self.runner.run(chunk)
            for key, outcome in zip(chunk, outcomes, strict=True):
                if outcome is not None and outcome.succeeded:
                    return Verdict(False, key)
            complete = complete and all(o is not None for o in outcomes)
        return Verdict(complete and bool(tests), None, complete)

    def known_to_fail(self, box: Box) -> bool:
        """Whether every instance of ``box`` is known and failed (no new run; small boxes only)."""
        if box.size(self.space) > self.tests_cap:
            return False
        return all(self.known(key) is False for key in box.keys(self.space))

    def unknown_outside(self, exclude: Sequence[Box]) -> list[Key] | None:
        """Every instance outside the ``exclude`` boxes whose outcome is unknown, when the space is small
        enough to enumerate; ``None`` otherwise."""
        if self.space.size() > ENUMERATE_LIMIT:
            return None
        return [
            key
            for key in Box().keys(self.space)
            if key not in self.runner.cache and not any(b.contains(key) for b in exclude)
        ]

    def explore(self, exclude: Sequence[Box], n: int | None = None) -> Key | None:
        """Look for a failing instance outside the ``exclude`` boxes (FindAll): known failures first, then
        one batch of instances outside them: all of those not yet run when there are at most ``tests`` of them
        (then, with nothing failing, every instance outside the boxes is known), else seeded random ones.
        Returns the first failure or ``None``."""
        for key in self.failures():
            if not any(b.contains(key) for b in exclude):
                return key
        space = self.space
        rest = self.unknown_outside(exclude)
        if rest is not None and len(rest) <= self.tests_cap:
            for key, outcome in zip(rest, self.runner.run(rest), strict=True):
                if outcome is not None and not outcome.succeeded:
                    return key
            return None
        n = n if n is not None else min(self.tests_cap, max(8, 2 * max(len(p.values) for p in space.params)))
        batch: list[Key] = []
        for _ in range(n * 20):
            if len(batch) >= n:
                break
            key = tuple(self.rng.randrange(len(p.values)) for p in space.params)
            if (
                key not in self.runner.cache
                and key not in batch
                and not any(b.contains(key) for b in exclude)
            ):
                batch.append(key)
        for key, outcome in zip(batch, self.runner.run(batch), strict=True):
            if outcome is not None and not outcome.succeeded:
                return key
        return None
