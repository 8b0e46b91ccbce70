"""Lineage of one execution: the names it used, defined, updated and deleted, resolved to their sources.

Combines the static facts of the code with the runtime namespace change (so ``globals()[…]``,
``exec``, ``%run`` and star imports are seen), and resolves each read name to the execution of
this epoch that last wrote it. Work is O(names in the cell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from types import ModuleType

from provkernel.capture.calls import CallEffects
from provkernel.capture.facts import CodeFacts
from provkernel.capture.runtime import NamespaceChange, value_repr
from provkernel.records import SymbolEvent
from provkernel.secrets import Secrets
from provkernel.store.schema import DEF, DELETE, UPDATE, USE


def error_line(exception: BaseException | None, namespace: Mapping[str, object]) -> int | None:
    """Line of the cell's own code where ``exception`` was raised; 0 if the code never ran."""
    if exception is None:
        return None
    tb = exception.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "<module>" and frame.f_globals is namespace:
            return tb.tb_lineno
        tb = tb.tb_next
    return 0


def symbol_events(
    facts: CodeFacts,
    change: NamespaceChange,
    namespace: Mapping[str, object],
    last_writer: MutableMapping[str, int],
    execution_id: int,
    exception: BaseException | None,
    value_limit: int = 200,
    secrets: Secrets | None = None,
    failed: Callable[[str, BaseException], None] | None = None,
    effects: CallEffects | None = None,
    changed: Iterable[str] = (),
) -> list[SymbolEvent]:
    """Symbol events of one execution; updates ``last_writer`` (name → execution id) in place.

    Reads are the cell's own free names plus the globals read by the notebook functions it called
    (``effects``); updates are the cell's static in-place changes, those of the functions it called,
    and every object whose fingerprint ``changed`` (with its aliases). A failing execution is
    credited only with what it reached: static bindings and in-place updates before the failing
    line, plus whatever the namespace shows actually changed. A value that cannot be described is
    left out (``failed("values", exc)``); its event is kept.
    """
    stop = error_line(exception, namespace)

    def reached(line: int) -> bool:
        return stop is None or (stop > 0 and line < stop)

    source_of = last_writer.get
    reads: Iterable[str] = facts.free  # distinct names, in order
    if effects is not None and effects.reads:
        # a called function's reads of names this cell binds itself are the cell's own business
        reads = dict.fromkeys(reads)
        reads.update(
            dict.fromkeys(
                n
                for n in sorted(effects.reads)
                if n not in facts.defined and (n in namespace or n in last_writer)
            )
        )
    # tuple.__new__ skips SymbolEvent's Python-level constructor: a cell makes dozens of events
    new, event = tuple.__new__, SymbolEvent
    events = [new(event, (name, USE, source_of(name), None)) for name in reads]
    if stop is None:
        static_defs = namespace.keys() & facts.defined
    else:
        static_defs = {name for name, line in facts.def_lines if reached(line) and name in namespace}
    defs = static_defs | change.added | change.changed
    # a call on a module (np.bincount(y), plt.show()) changes nothing the lineage tracks
    candidates = {u.name for u in facts.updates if reached(u.line)} | change.aliases
    candidates.update(changed)
    if effects is not None:
        candidates |= effects.mutates
    updates = {
        name for name in candidates if name in namespace and not isinstance(namespace[name], ModuleType)
    } - defs
    deletes = set(change.removed) | {name for name in facts.deleted if name not in namespace}
    deletes -= defs

    redact = facts.from_environ
    get = namespace.get

    def value(name: str) -> str | None:
        try:
            return value_repr(name, get(name), value_limit, redact, secrets)
        except Exception as exc:  # noqa: BLE001 - an odd scalar subclass; the event stays
            if failed is not None:
                failed("values", exc)
            return None

    events += [new(event, (n, DEF, None, value(n))) for n in defs]
    events += [new(event, (n, UPDATE, source_of(n), value(n))) for n in updates]
    events += [new(event, (n, DELETE, source_of(n), None)) for n in deletes]

    for name in defs | updates:
        last_writer[name] = execution_id
    for name in deletes:
        last_writer.pop(name, None)
    return events
