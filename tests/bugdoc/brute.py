"""Brute-force checks of a BugDoc answer against every instance of a small space."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from provkernel.bugdoc import Result, holds


def instances(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(space, values, strict=True)) for values in itertools.product(*space.values())]


def check_exact(
    space: Mapping[str, Sequence[Any]],
    fails: Callable[[dict[str, Any]], bool],
    result: Result | Mapping[str, Any],
) -> None:
    """Every cause definitive and minimal (dropping the conditions on any one parameter lets a success in),
    and the causes' union exactly the failing instances. ``result``: a :class:`Result` or its JSON."""
    if isinstance(result, Result):
        causes, definitive = result.causes, result.definitive
    else:
        causes = [[(c["param"], c["op"], c["value"]) for c in cause] for cause in result["causes"]]
        definitive = result["definitive"]
    everything = instances(space)
    failing = [i for i in everything if fails(i)]
    assert all(definitive), f"suspected causes in an exact search: {causes}"
    for cause in causes:
        region = [i for i in everything if holds(cause, i)]
        assert region and all(fails(i) for i in region), f"{cause} is not definitive"
        for name in {n for n, _, _ in cause}:
            wider = [c for c in cause if c[0] != name]
            assert any(not fails(i) for i in everything if holds(wider, i)), (
                f"{cause} is not minimal: without {name} it still always fails"
            )
    covered = [i for i in everything if any(holds(c, i) for c in causes)]
    assert covered == failing, (
        f"union of causes ≠ failing set: missed {[i for i in failing if i not in covered]}"
    )


def check_invariant(result: Result) -> None:
    """FindAll: every known failure is covered by a reported cause, or listed as unexplained with the reason."""
    known = [row["instance"] for row in result.instances if not row["succeeded"]]
    left = [i for i in known if not any(holds(c, i) for c in result.causes)]
    assert left == result.unexplained, (left, result.unexplained)
    if left:
        assert result.stopped, f"{len(left)} failing instances left without a reason"
    for cause, sure, rows in zip(result.causes, result.definitive, result.behind, strict=True):
        assert rows == [i for i in known if holds(cause, i)]
        assert sure or rows, f"suspected cause {cause} with no failing instance behind it"
    assert not [n for n in result.notes if "no progress" in n], result.notes
    assert len({tuple(r["instance"].items()) for r in result.instances}) == len(result.instances)
