"""Running a notebook slice as a BugDoc pipeline, inside a worker process (never the user's kernel).

A :class:`SliceRun` is the picklable evaluation function handed to the engine: called with an
instance (parameter name → value), it runs the slice's cells with those values substituted and
says whether the target succeeded. With warm start, the cells that do not depend on the varied
parameters ran once in the template process (:meth:`SliceRun.warm_up`) and each instance runs only
the rest, in a fork of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provkernel.bugdoc.engine.space import Outcome
from provkernel.bugdoc.notebook.substitute import substitute

WARM = "warm"  # runs once in the template, with the notebook's own values
FORK = "fork"  # runs for every instance
BOTH = "both"  # a parameters-only cell: in the template with its own values, again per instance with new ones

_SHELL = None


def worker_shell():
    """The IPython shell of this worker process (magics work; no history file, no colours)."""
    global _SHELL
    if _SHELL is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        config.InteractiveShell.xmode = "Plain"
        _SHELL = InteractiveShell.instance(config=config)
    return _SHELL


def no_setup() -> None:
    """The template of a cold start does nothing: every instance runs the whole slice."""


class CellFailed(RuntimeError):
    """A cell of the warm-up raised (every instance would fail the same way)."""


@dataclass(frozen=True)
class Cell:
    """One cell of the slice.

    Attributes:
        label: how messages name it (``In [7]``).
        code: the code as the user ran it (IPython syntax allowed).
        parameters: the varied parameters this cell assigns (their literals are rewritten).
        role: :data:`WARM`, :data:`FORK` or :data:`BOTH`.
    """

    label: str
    code: str
    parameters: tuple[str, ...] = ()
    role: str = FORK


def _describe(exception: BaseException, limit: int = 200) -> str:
    text = (
        f"{type(exception).__name__}: {exception}".strip().splitlines()[0]
        if str(exception)
        else type(exception).__name__
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run(code: str) -> BaseException | None:
    result = worker_shell().run_cell(code, store_history=False, silent=True)
    return result.error_before_exec or result.error_in_exec


@dataclass(frozen=True)
class SliceRun:
    """Evaluation function of a notebook pipeline: ``instance -> Outcome``.

    Attributes:
        cells: the slice in execution order; the last one is the target.
        check: an expression evaluated after the target in the instance's namespace; falsy fails.
        same_error: if set, only this exception name counts as the failure; other errors count as success
            (they are not the failure being explained) and are noted in the outcome's detail.
        warm: whether the template already ran the warm cells (``warm_up``); else every cell runs here.
        preload: modules the per-instance cells import; the template imports them once (no other effect).
        fresh: clear the worker's namespace first (a process that runs several instances, e.g. a Dask worker).
    """

    cells: tuple[Cell, ...]
    check: str | None = None
    same_error: str | None = None
    warm: bool = True
    preload: tuple[str, ...] = ()
    fresh: bool = False

    def warm_up(self) -> None:
        """In the template: run the cells that do not depend on the varied parameters, once."""
        import importlib

        for module in self.preload:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001, S112 - the cell that imports it will report the error
                continue
        for cell in self.cells:
            if cell.role in (WARM, BOTH):
                error = _run(cell.code)
                if error is not None:
                    raise CellFailed(
                        f"{cell.label} failed before any parameter was varied: {_describe(error)}"
                    )

    def __call__(self, instance: dict[str, Any]) -> Outcome:
        if self.fresh:
            worker_shell().reset(new_session=False)
        for cell in self.cells:
            if self.warm and cell.role == WARM:
                continue
            code = cell.code
            if cell.parameters:
                code = substitute(code, {name: instance[name] for name in cell.parameters})
            error = _run(code)
            if error is not None:
                return self._failure(cell, error)
        if self.check:
            return self._check()
        return Outcome(True)

    def _failure(self, cell: Cell, error: BaseException) -> Outcome:
        detail = f"{cell.label}: {_describe(error)}"
        if self.same_error and type(error).__name__ != self.same_error:
            return Outcome(True, f"other error, not counted: {detail}")
        return Outcome(False, detail)

    def _check(self) -> Outcome:
        namespace = worker_shell().user_ns
        try:
            value = eval(self.check, namespace)  # the user's own expression, in a worker process
        except Exception as exc:  # noqa: BLE001 - a check that cannot be evaluated is a failure
            return Outcome(False, f"check {self.check!r} raised {_describe(exc)}")
        if value:
            return Outcome(True)
        return Outcome(False, f"check failed: {self.check}{_values_in(self.check, namespace)}")


def _values_in(expression: str, namespace: dict[str, Any]) -> str:
    """`` (acc = 0.73)`` for the scalar names an expression reads, to say why a check failed."""
    import ast

    try:
        names = [n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)]
    except SyntaxError:
        return ""
    shown = [
        f"{n} = {namespace[n]!r}"
        for n in dict.fromkeys(names)
        if isinstance(namespace.get(n), bool | int | float | str) and len(repr(namespace[n])) < 40
    ]
    return f" ({', '.join(shown)})" if shown else ""
