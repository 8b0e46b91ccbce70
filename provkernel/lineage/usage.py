"""How often each imported package was used in an epoch, and which imports never were.

An import binds an alias (``np``, ``train_test_split``); it is used by every later execution
that reads that alias while the binding holds (a read recorded by lineage), and by its own cell
if the cell reads the alias after importing it (static analysis does not record reads of names
a cell binds itself, so the code is scanned here).

>>> from provkernel.lineage.graph import build_graph
>>> from provkernel.lineage.model import Execution, Event, DEF, USE
>>> xs = [Execution(1, 1, 1, "a", "a", "h1", "import numpy as np\\nimport os", 0.0, 1.0, "ok"),
...       Execution(2, 1, 2, "b", "b", "h2", "x = np.ones(3)", 0.0, 1.0, "ok")]
>>> g = build_graph(xs, [Event(1, DEF, "np"), Event(1, DEF, "os"), Event(2, USE, "np", 1)])
>>> facts = {"h1": {"imports": [["numpy", None, "np", 1], ["os", None, "os", 2]]}}
>>> usage = import_usage(g, facts)
>>> usage["numpy"].used_by, usage["os"].used
([2], False)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from provkernel.lineage.graph import execution, in_order

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class AliasUse:
    """One import statement's binding and the executions that read it."""

    alias: str
    module: str
    name: str | None
    execution_id: int
    used_by: list[int] = field(default_factory=list)


@dataclass
class PackageUse:
    """A top-level package imported by the epoch's cells."""

    package: str
    aliases: list[AliasUse] = field(default_factory=list)

    @property
    def used_by(self) -> list[int]:
        """Executions that read any alias of the package, in order."""
        return sorted({x for a in self.aliases for x in a.used_by})

    @property
    def uses(self) -> int:
        """How many executions used the package."""
        return len(self.used_by)

    @property
    def used(self) -> bool:
        """Some execution read one of its aliases."""
        return bool(self.used_by)

    @property
    def imported_by(self) -> list[int]:
        """Executions whose code imported the package."""
        return sorted({a.execution_id for a in self.aliases})


def names_loaded(code: str) -> set[str]:
    """Names a cell's code reads anywhere (magics and shell escapes skipped; identifiers if unparsable)."""
    kept = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())
    try:
        tree = ast.parse(kept)
    except (SyntaxError, ValueError):
        return set(IDENTIFIER.findall(kept))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def import_usage(graph: nx.DiGraph, facts: Mapping[str, Mapping[str, Any]]) -> dict[str, PackageUse]:
    """Package → its imports and their uses, for one epoch's graph and the code facts by hash."""
    packages: dict[str, PackageUse] = {}
    current: dict[str, AliasUse] = {}  # alias → the import binding in effect
    loaded_cache: dict[str, set[str]] = {}
    nodes = graph.nodes
    for x in in_order(graph):
        run, node = execution(graph, x), nodes[x]
        for name in sorted(node["uses"]):
            binding = current.get(name)
            if binding is not None and x not in binding.used_by:
                binding.used_by.append(x)
        imports = [i for i in facts.get(run.code_hash, {}).get("imports", ()) if not i[0].startswith(".")]
        if imports:
            if run.code_hash not in loaded_cache:
                loaded_cache[run.code_hash] = names_loaded(run.code)
            loaded = loaded_cache[run.code_hash]
        bound_here = set()
        for module, name, alias, _line in imports:
            if alias not in node["defines"]:
                continue  # the import failed before binding it
            binding = AliasUse(alias, module, name, x)
            if alias in loaded:
                binding.used_by.append(x)
            package = module.split(".")[0]
            packages.setdefault(package, PackageUse(package)).aliases.append(binding)
            current[alias] = binding
            bound_here.add(alias)
        for name in node["defines"] - bound_here:
            current.pop(name, None)  # rebound to something that is not the import
        for name in node["deletes"]:
            current.pop(name, None)
    return packages
