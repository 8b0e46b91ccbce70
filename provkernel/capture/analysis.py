"""Static facts of a cell's code: what it defines, reads, imports, mutates, and its literal parameters.

Pure AST analysis, cached by code hash, so a cell that is run again costs one dictionary lookup.

>>> facts = analyze("import numpy as np\\nn = 3\\nx = np.ones(n) * k\\nx.sort()")
>>> sorted(facts.defined), facts.free, facts.parameters
(['n', 'np', 'x'], ('k',), (('n', '3'),))
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field

from provkernel.capture.facts import CONSUMING_METHODS, CodeFacts, code_hash  # noqa: F401 - crash rules import it
from provkernel.capture.shallow import shallow_facts
from provkernel.capture.visitor import CellVisitor

MAX_FULL_STATEMENTS = 2000  # longer cells (generated code) get the shallow facts


def analyze(code: str, code_id: str | None = None) -> CodeFacts:
    """Static facts of ``code`` (Python source after IPython's transformations).

    Code that CPython runs can still be too deep for a recursive walk (a sum of 500 terms, 400
    chained calls, ``~~~…x``): then the facts come from :func:`shallow_facts`, marked ``partial``.
    """
    code_id = code_id or code_hash(code)
    try:
        with warnings.catch_warnings():
            # IPython already showed the cell's SyntaxWarnings once; a second parse must not repeat them
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return CodeFacts(code_hash=code_id, syntax_error=True)
    except (RecursionError, MemoryError):
        return shallow_facts(code, code_id, None)
    return analyze_tree(tree, code_id, code)


def analyze_tree(tree: ast.Module, code_id: str, code: str = "") -> CodeFacts:
    """Static facts from an already parsed cell (IPython's own tree: no second parse).

    Cells of more than :data:`MAX_FULL_STATEMENTS` statements (generated code) get the shallow,
    linear-time facts: the full analysis would cost more than running them.
    """
    if len(tree.body) > MAX_FULL_STATEMENTS:
        return shallow_facts(code, code_id, tree)
    try:
        return _full_facts(tree, code_id)
    except (RecursionError, MemoryError):
        return shallow_facts(code, code_id, tree)


def _full_facts(tree: ast.Module, code_id: str) -> CodeFacts:
    visitor = CellVisitor()
    for stmt in tree.body:
        visitor.visit(stmt)
    # a function body reads globals when it is called, not when it is defined: those reads are in
    # its ScopeFacts, and the recorder counts them for the executions that call it
    defined = set(visitor.bound)
    return CodeFacts(
        code_hash=code_id,
        defined=frozenset(defined),
        free=tuple(visitor.free),
        functions=tuple(visitor.functions),
        classes=tuple(visitor.classes),
        imports=tuple(visitor.imports),
        parameters=tuple(visitor.parameters.items()),
        updates=tuple(visitor.updates),
        deleted=frozenset(visitor.deleted),
        star_imports=tuple(visitor.star_imports),
        from_environ=frozenset(visitor.from_environ),
        def_lines=tuple(sorted(visitor.bound.items(), key=lambda kv: kv[1])),
        calls=tuple(visitor.calls),
        methods=tuple(visitor.methods),
        scopes=tuple(visitor.scopes),
    )


@dataclass
class FactsCache:
    """Bounded memo of :func:`analyze` keyed by code hash (cells are re-run far more often than edited)."""

    limit: int = 4096
    _facts: dict[str, CodeFacts] = field(default_factory=dict)

    def get(self, code: str, code_id: str) -> tuple[CodeFacts, bool]:
        """Facts for ``code`` and whether they were computed now (True) or cached (False)."""
        facts = self._facts.get(code_id)
        if facts is not None:
            return facts, False
        return self.put(code_id, analyze(code, code_id)), True

    def cached(self, code_id: str) -> CodeFacts | None:
        """Facts already known for a code hash."""
        return self._facts.get(code_id)

    def put(self, code_id: str, facts: CodeFacts) -> CodeFacts:
        """Remember facts computed elsewhere (from IPython's tree)."""
        if len(self._facts) >= self.limit:
            self._facts.pop(next(iter(self._facts)))
        self._facts[code_id] = facts
        return facts
