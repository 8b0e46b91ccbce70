"""Explanations: simplify a disjunction of causes into a short DNF and render it.

Boolean Quine–McCluskey treats ``p ≤ 2`` and ``p ≤ 4`` as unrelated variables. Here every conjunction is a
:class:`~provkernel.bugdoc.engine.predicates.Box` (a set of allowed values per parameter), so the simplification is
Quine–McCluskey over *multi-valued* variables: every prime implicant (maximal box inside the union) is generated
by iterated consensus, then a cover is chosen (essential primes first, then greedy). Because value sets carry the domain knowledge,
thresholds merge into intervals (``p > 3 ∧ p > 5 → p > 5``, ``p ≤ 2 ∨ p ≤ 4 → p ≤ 4``), ``≠`` on a two-valued
parameter becomes ``=``, and a condition covering the whole domain disappears.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from provkernel.bugdoc.engine.predicates import Box, Condition, box_conditions, render_box
from provkernel.bugdoc.engine.space import Space

MAX_TERMS = 4000  # consensus can blow up on adversarial inputs; past this the cover uses what exists


def consensus(space: Space, a: Box, b: Box, pos: int) -> Box | None:
    """The consensus of ``a`` and ``b`` on parameter ``pos``: the union of their value sets there, the
    intersection elsewhere (``None`` if empty). It lies inside ``a ∪ b``: an instance in it is in ``a`` or in
    ``b`` according to its value of ``pos``."""
    da, db = a.as_dict(), b.as_dict()
    allowed: dict[int, frozenset[int]] = {}
    for p in set(da) | set(db):
        full = frozenset(range(len(space.params[p].values)))
        va, vb = da.get(p, full), db.get(p, full)
        allowed[p] = va | vb if p == pos else va & vb
        if not allowed[p]:
            return None
    return Box.make(space, allowed)


def prime_implicants(space: Space, boxes: Iterable[Box]) -> list[Box]:
    """Every maximal box inside the union of ``boxes`` (its prime implicants), by iterated consensus with
    absorption, which is complete for multi-valued variables as for Boolean ones. Consensus is only taken
    on a parameter where neither value set contains the other (otherwise the result is absorbed)."""
    terms = [b for b in dict.fromkeys(boxes) if not b.is_empty()]
    terms = [t for t in terms if not any(t != u and t.subset_of(u) for u in terms)]
    pending = [(i, j) for j in range(len(terms)) for i in range(j)]
    while pending and len(terms) < MAX_TERMS:
        i, j = pending.pop()
        a, b = terms[i], terms[j]
        if a is None or b is None:
            continue
        da, db = a.as_dict(), b.as_dict()
        for pos in set(da) | set(db):
            full = frozenset(range(len(space.params[pos].values)))
            va, vb = da.get(pos, full), db.get(pos, full)
            if va <= vb or vb <= va:
                continue
            c = consensus(space, a, b, pos)
            if c is None or any(t is not None and c.subset_of(t) for t in terms):
                continue
            terms = [None if t is not None and t.subset_of(c) else t for t in terms]
            terms.append(c)
            k = len(terms) - 1
            pending.extend((m, k) for m in range(k) if terms[m] is not None)
    return [t for t in terms if t is not None]


def simplify(space: Space, boxes: Sequence[Box]) -> list[Box]:
    """A short disjunction of boxes with the same union as ``boxes``."""
    originals = list(dict.fromkeys(b for b in boxes if not b.is_empty()))
    if not originals:
        return []
    primes = sorted(prime_implicants(space, originals), key=lambda b: (len(b.parts), render_box(space, b)))
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
