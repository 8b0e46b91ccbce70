"""The parameters a result depended on: literal assignments anywhere upstream of it.

Cheaper than a slice per result: one pass over an epoch's executions in time order, each
inheriting the parameters of the executions it read from (the most recent assignment of a
name wins), so the values of a name across a long history cost O(executions × parameters).

>>> edges = [(2, 1), (3, 2)]               # 2 read from 1, 3 read from 2
>>> params = {1: {"test_size": "0.25"}, 2: {"seed": "0"}}
>>> parameter_inputs(edges, params, [3])[3]
{'seed': ('0', 2), 'test_size': ('0.25', 1)}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Inputs = dict[str, tuple[str, int]]  # name → (value, execution that assigned it)


def parameter_inputs(
    edges: Iterable[tuple[int, int]],
    params: Mapping[int, Mapping[str, str]],
    targets: Iterable[int],
) -> dict[int, Inputs]:
    """For each target execution, the parameters upstream of it (including its own).

    Args:
        edges: (execution, source) pairs: ``execution`` read something ``source`` wrote.
        params: literal parameters each execution assigned, name → recorded value.
        targets: the executions whose inputs are wanted.
    """
    sources: dict[int, set[int]] = {}
    for x, source in edges:
        if source < x:
            sources.setdefault(x, set()).add(source)
    wanted = set(targets)
    needed = set(wanted)
    stack = list(wanted)
    while stack:  # only the executions upstream of a target matter
        for source in sources.get(stack.pop(), ()):
            if source not in needed:
                needed.add(source)
                stack.append(source)
    reach: dict[int, Inputs] = {}
    for x in sorted(needed):
        merged: Inputs = {}
        for source in sorted(sources.get(x, ())):
            for name, (value, origin) in reach[source].items():
                if name not in merged or merged[name][1] < origin:
                    merged[name] = (value, origin)
        for name, value in params.get(x, {}).items():
            merged[name] = (value, x)
        reach[x] = merged
    return {x: dict(sorted(reach[x].items())) for x in wanted}
