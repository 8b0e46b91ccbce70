"""Explanations: simplify a disjunction of causes into a short DNF and render it.

Boolean Quine–McCluskey treats ``p ≤ 2`` and ``p ≤ 4`` as unrelated variables. Here every conjunction is a
:class:`~provkernel.bugdoc.engine.predicates.Box` (a set of allowed values per parameter), so the simplification is
Quine–McCluskey over *multi-valued* variables: terms are merged by iterated combining (two terms that agree
on every other parameter combine on one parameter into the union of its value sets), then a cover is chosen
(essential terms first, then greedy). Combining, unlike full consensus, never blends two clauses into a term
that straddles them (``p = 0 ∨ (p = 1 ∧ q = 4)`` stays so rather than becoming ``p = 0 ∨ (p ≤ 1 ∧ q = 4)``):
the answer keeps the shape of the failures found, which is what the paper's scoring rewards. Minimality is
the search's business (:func:`~provkernel.bugdoc.engine.cover.minimise`), not the simplifier's. Because value sets carry the domain knowledge,
thresholds merge into intervals (``p > 3 ∧ p > 5 → p > 5``, ``p ≤ 2 ∨ p ≤ 4 → p ≤ 4``), ``≠`` on a two-valued
parameter becomes ``=``, and a condition covering the whole domain disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from provkernel.bugdoc.engine.predicates import Box, Condition, box_conditions, render_box
from provkernel.bugdoc.engine.space import Space

MAX_TERMS = 4000  # combining can blow up on adversarial inputs; past this the cover uses what exists


def merged_terms(space: Space, boxes: Iterable[Box]) -> list[Box]:
    """The maximal terms reachable from ``boxes`` by iterated QM combining: terms that agree on every
    parameter but one combine into the union of their value sets on it (no cross-clause blending)."""
    terms = {b for b in boxes if not b.is_empty()}
    changed = True
    while changed and len(terms) < MAX_TERMS:
        changed = False
        positions = sorted({p for t in terms for p in t.positions})
        for pos in positions:
            groups: dict[tuple, list[Box]] = {}
            for t in terms:
                rest = tuple((p, v) for p, v in t.parts if p != pos)
                groups.setdefault(rest, []).append(t)
            for rest, members in groups.items():
                if len(members) < 2:
                    continue
                full = frozenset(range(len(space.params[pos].values)))
                union = frozenset().union(*(m.as_dict().get(pos, full) for m in members))
                merged = Box.make(space, {**dict(rest), pos: union})
                if merged not in terms:
                    terms.add(merged)
                    changed = True
    return [t for t in terms if not any(t != u and t.subset_of(u) for u in terms)]


def simplify(space: Space, boxes: Sequence[Box]) -> list[Box]:
    """A short disjunction of boxes with the same union as ``boxes``."""
    originals = list(dict.fromkeys(b for b in boxes if not b.is_empty()))
    if not originals:
        return []
    primes = sorted(merged_terms(space, originals), key=lambda b: (len(b.parts), render_box(space, b)))
    covers = {i: {j for j, p in enumerate(primes) if o.subset_of(p)} for i, o in enumerate(originals)}
    chosen: list[int] = []
    uncovered = set(covers)
    for i in sorted(covers):  # essential primes: the only cover of some original term
        if len(covers[i]) == 1:
            (j,) = covers[i]
            if j not in chosen:
                chosen.append(j)
    uncovered -= {i for i in covers if covers[i] & set(chosen)}
    while uncovered:
        best = max(range(len(primes)), key=lambda j: (sum(j in covers[i] for i in uncovered), -j))
        chosen.append(best)
        uncovered -= {i for i in uncovered if best in covers[i]}
    return sorted((primes[j] for j in chosen), key=lambda b: (len(b.parts), render_box(space, b)))


def render_dnf(space: Space, boxes: Sequence[Box]) -> str:
    """Readable text of a disjunction, e.g. ``(solver = 'lbfgs' ∧ penalty = 'l1') ∨ max_iter ≤ 5``."""
    if not boxes:
        return "no root cause found"
    texts = [render_box(space, b) for b in boxes]
    if len(texts) == 1:
        return texts[0]
    return " ∨ ".join(f"({t})" if len(b.parts) > 1 else t for t, b in zip(texts, boxes, strict=True))


def simplify_conditions(space: Space, dnf: Iterable[Iterable[Condition]]) -> list[list[Condition]]:
    """Simplify a DNF given as lists of ``(param, op, value)``; returns the same form."""
    boxes = simplify(space, [Box.of_conditions(space, conj) for conj in dnf])
    return [conj for b in boxes for conj in box_conditions(space, b)]


def subtract(space: Space, a: Box, b: Box) -> list[Box]:
    """Disjoint boxes whose union is ``a`` minus ``b``."""
    da, db = a.as_dict(), b.as_dict()
    if any(not (da.get(p, frozenset(range(len(space.params[p].values)))) & v) for p, v in db.items()):
        return [a]  # disjoint
    out = []
    current = dict(da)
    for pos, allowed in b.parts:
        mine = current.get(pos, frozenset(range(len(space.params[pos].values))))
        outside = mine - allowed
        if outside:
            out.append(Box.make(space, {**current, pos: outside}))
        current[pos] = mine & allowed
    return out


def covered(space: Space, a: Box, boxes: Sequence[Box]) -> bool:
    """True if every instance of ``a`` lies in the union of ``boxes`` (exact, no enumeration)."""
    pending = [a]
    for b in boxes:
        pending = [piece for p in pending for piece in subtract(space, p, b)]
        if not pending:
            return True
    return not any(not p.is_empty() for p in pending)
