"""Real crashes in this process, with the live state the kernel would read: for rule tests without a kernel.

Code runs as an IPython cell would (a ``<ipython-input-N-…>`` file in ``linecache``), so tracebacks parse
like a notebook's and :func:`provkernel.crashes.live.inspect_crash` finds the failing line.
"""

from __future__ import annotations

import linecache
import traceback
from dataclasses import dataclass, field
from typing import Any

from provkernel.crashes import Diagnosis, classify
from provkernel.crashes.bindings import bindings_in
from provkernel.crashes.context import ERROR, OK, Binding, CrashContext, Epoch, Execution, LiveState
from provkernel.crashes.live import inspect_crash
from provkernel.crashes.live_rules import facts_wanted


def cell_file(count: int) -> str:
    return f"<ipython-input-{count}-0123456789ab>"


def run_cell(code: str, namespace: dict[str, Any], count: int) -> BaseException | None:
    """Execute ``code`` as cell ``In [count]``; the exception it raised, if any."""
    name = cell_file(count)
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        exec(compile(code, name, "exec"), namespace)  # noqa: S102 - the cell under test
    except Exception as exc:  # noqa: BLE001 - the crash under test
        return exc
    return None


@dataclass
class Notebook:
    """Cells run in one namespace, recorded as a provenance store would (one epoch)."""

    namespace: dict[str, Any] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def run(
        self, code: str, cell_id: str, position: int | None = None
    ) -> tuple[Execution, BaseException | None]:
        self.count += 1
        error = run_cell(code, self.namespace, self.count)
        status = ERROR if error else OK
        execution = Execution(
            self.count, cell_id, position, 1, status, None, code, type(error).__name__ if error else None
        )
        self.executions.append(execution)
        for b in bindings_in(code):
            self.bindings.append(Binding(b.name, b.kind, execution, b.module, b.operation, b.line))
        return execution, error

    def diagnose(self, code: str, cell_id: str, position: int | None = None, **extra: Any) -> Diagnosis:
        """Run a failing cell and classify it with the history so far and its live state."""
        crash, error = self.run(code, cell_id, position)
        assert error is not None, "the cell did not fail"
        ename, evalue = type(error).__name__, str(error)
        live = inspect_crash(error, wants=facts_wanted(ename, evalue), resolve=extra.pop("resolve", None))
        context = CrashContext(
            crash=crash,
            history=[e for e in self.executions if e is not crash],
            bindings=list(self.bindings),
            aliases={b.name: b.module for b in self.bindings if b.module},
            epochs={1: Epoch(1, None, dict(self.versions))},
            current_epoch=1,
            source="kernel",
            live=live,
            **extra,
        )
        return classify(ename, evalue, traceback.format_exception(error), context)


def live_only(code: str, namespace: dict[str, Any], count: int = 1) -> tuple[Diagnosis, LiveState]:
    """Classify a failing cell with only its live state (no recorded history), as without a database."""
    error = run_cell(code, namespace, count)
    assert error is not None, "the cell did not fail"
    ename, evalue = type(error).__name__, str(error)
    live = inspect_crash(error, wants=facts_wanted(ename, evalue))
    context = CrashContext(crash=Execution(count, code=code), live=live, source="live")
    return classify(ename, evalue, traceback.format_exception(error), context), live
