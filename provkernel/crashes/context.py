"""What a notebook's history knows about a crash: the input the classifier's history rules decide on.

Two producers fill :class:`CrashContext`: the offline scanner from a saved ``.ipynb``
(:mod:`provkernel.crashes.notebook_context`) and the kernel from its provenance store. Plain data
only; nothing here imports IPython or sqlite3.

A kernel adapter, sketched (one :class:`Execution` per stored execution, reused everywhere it appears)::

    runs = {row.id: Execution(row.count, row.cell_id, row.position, row.epoch, row.status, row.time,
                              row.code, row.ename) for row in executions_of(notebook)}
    context = CrashContext(
        crash=runs[failed_id],
        history=[e for i, e in runs.items() if i != failed_id],
        bindings=[Binding(d.name, d.kind, runs[d.execution_id], d.module, d.operation, d.line) for d in defs],
        aliases={d.name: d.module for d in defs if d.kind == IMPORT},
        epochs={e.number: Epoch(e.number, e.executable, e.versions, e.started) for e in epochs},
        current_epoch=current, files=[FileAccess(f.path, runs[f.execution_id], f.mode, f.digest, f.time)
                                       for f in files],
        exists={f.path: os.path.exists(f.path) for f in files}, source="kernel")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
ERROR = "error"
ABORTED = "aborted"
NOT_RUN = "not run"

# Binding kinds.
ASSIGN = "assign"
DEF = "def"
CLASS = "class"
IMPORT = "import"
FOR = "for"
WITH = "with"
DELETE = "del"
UPDATE = "update"
INPLACE = "inplace"
# Kinds that make a name exist (the others need it to exist already, or remove it).
CREATING_KINDS = frozenset({ASSIGN, DEF, CLASS, IMPORT, FOR, WITH})


@dataclass(frozen=True)
class Execution:
    """One run of a cell (for a saved notebook: the cell's last run, or the cell itself if never run).

    Attributes:
        count: The execution count (``In[n]``); None when the cell has not run.
        cell_id: The frontend's cell id (nbformat ≥ 4.5), or None.
        position: 0-based index of the cell in the notebook (markdown cells included), when known.
        epoch: Number of the kernel process this ran in (a restart starts a new epoch); None when unknown.
        status: ``"ok"``, ``"error"`` (raised), ``"aborted"`` (interrupted or never finished) or
            ``"not run"`` (a notebook cell with no execution).
        time: Start time in POSIX seconds, when known.
        code: The source that ran.
        ename: The exception's name when ``status == "error"``.
    """

    count: int | None = None
    cell_id: str | None = None
    position: int | None = None
    epoch: int | None = None
    status: str = OK
    time: float | None = None
    code: str = ""
    ename: str | None = None

    @property
    def label(self) -> str:
        """How evidence names it: ``cell 4 (In [12])``, ``In [12]`` or ``cell 4``."""
        where = f"cell {self.position + 1}" if self.position is not None else ""
        when = f"In [{self.count}]" if self.count is not None else ""
        if where and when:
            return f"{where} ({when})"
        return where or when or (f"cell {self.cell_id}" if self.cell_id else "a cell")


@dataclass(frozen=True)
class Binding:
    """A name bound, rebound, mutated in place or deleted by an execution.

    Attributes:
        name: The top-level name (``df`` for ``df["x"] = …``).
        kind: ``assign``, ``def``, ``class``, ``import``, ``for``, ``with``, ``del`` (unbinds),
            ``update`` (augmented or item assignment) or ``inplace`` (``drop(…, inplace=True)``,
            ``pop``, ``del df[col]`` …: mutates without rebinding).
        execution: The execution that did it.
        module: For imports, what the name refers to: ``"numpy"`` (``import numpy as np``) or
            ``"sklearn.model_selection:train_test_split"`` (``from … import``).
        operation: For ``inplace``, the operation (``"drop"``, ``"pop"``, ``"del item"`` …).
        line: Line number within the cell, when known.
    """

    name: str
    kind: str
    execution: Execution
    module: str | None = None
    operation: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Epoch:
    """One kernel process lifetime.

    Attributes:
        number: Epoch number (increasing; restarts start a new one).
        executable: ``sys.executable`` of that kernel.
        versions: Library or distribution name -> version string, as imported/installed then.
        started: Start time in POSIX seconds, when known.
    """

    number: int
    executable: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    started: float | None = None


@dataclass(frozen=True)
class FileAccess:
    """A data file or URL an execution read or wrote.

    Attributes:
        path: Path as the code gave it (or the URL).
        execution: The execution that touched it.
        mode: ``"r"``, ``"w"``, ``"a"`` or ``"url"``.
        digest: Content hash at that moment, when known.
        time: When, in POSIX seconds.
    """

    path: str
    execution: Execution
    mode: str = "r"
    digest: str | None = None
    time: float | None = None


@dataclass(frozen=True)
class ObjectState:
    """``name`` looked like this after ``execution`` (a fingerprint of the runtime-lineage capture).

    Attributes:
        name: The notebook variable.
        execution: The execution after which the object had this fingerprint.
        fingerprint: :meth:`provkernel.capture.fingerprint.Fingerprinter.of` of the object then.
    """

    name: str
    execution: Execution
    fingerprint: tuple


@dataclass(frozen=True)
class LiveObject:
    """An object the failing line uses, as it was at the crash (read without running user code).

    Attributes:
        name: The variable as written on the line (``X_train``).
        type_name: Qualified type (``pandas.DataFrame``, ``sklearn.ensemble.RandomForestClassifier``).
        fingerprint: Its fingerprint (None for immutable values such as numbers and strings).
        facts: Bounded extra facts the diagnosis asked for: ``object_columns``, ``nan_columns``,
            ``value_column`` (the column holding a value the message names), ``n_features_in``,
            ``feature_names_in``, ``in_features`` (a torch model's first layer), ``fitted``, ``length`` …
    """

    name: str
    type_name: str
    fingerprint: tuple | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Owner:
    """The installed distribution that owns a module the crash went through.

    Attributes:
        module: Top-level module (``tinystats``, ``sklearn``).
        distribution: Distribution name (``scikit-learn``), when installed with metadata.
        version: Its version now.
        role: ``"raised"`` (the innermost frame outside the notebook), ``"called"`` (the function the
            failing line called, when the call itself was rejected) or ``"frame"`` (any other frame).
    """

    module: str
    distribution: str | None
    version: str | None
    role: str = "frame"


@dataclass(frozen=True)
class LiveState:
    """What the kernel saw at the crash, beyond the traceback text.

    Attributes:
        objects: The objects on the failing line (in the innermost notebook frame), by name.
        owners: Distributions of the frames the exception went through, outermost first, and of the
            called function when the call itself was rejected.
        line: The failing expression's source, when found.
        in_loop: Whether the failing line runs inside a ``for``/``while`` loop of the cell.
    """

    objects: Mapping[str, LiveObject] = field(default_factory=dict)
    owners: tuple[Owner, ...] = ()
    line: str = ""
    in_loop: bool = False

    def owner(self, role: str) -> Owner | None:
        """The first owner with ``role``."""
        return next((o for o in self.owners if o.role == role), None)


@dataclass
class CrashContext:
    """Everything the history knows that can decide or explain a crash.

    Attributes:
        crash: The execution that crashed (with its code), when known.
        history: Every other known execution, in the order they ran; a saved notebook's unexecuted
            cells are included with status ``"not run"``. Earlier runs of the crashing cell are here too.
        bindings: Bindings by executions in ``history`` and, from static analysis, by ``crash``.
        aliases: Import aliases and imported symbols seen anywhere (``np`` -> ``"numpy"``,
            ``train_test_split`` -> ``"sklearn.model_selection:train_test_split"``).
        epochs: Epoch number -> :class:`Epoch` (executable and library versions).
        current_epoch: The epoch the crash happened in (the live kernel), when known.
        files: Data files and URLs touched, in time order.
        exists: Path -> whether it exists now.
        source: ``"kernel"`` (provenance) or ``"notebook"`` (a saved ``.ipynb``: one run per cell,
            no epochs), which changes how execution counts are read.
        states: What objects looked like after each execution that defined or changed them, oldest
            first (filled from the store's fingerprints when recorded).
        live: The objects and frames at the crash (kernel only), or None.
    """

    crash: Execution | None = None
    history: list[Execution] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    epochs: dict[int, Epoch] = field(default_factory=dict)
    current_epoch: int | None = None
    files: list[FileAccess] = field(default_factory=list)
    exists: dict[str, bool] = field(default_factory=dict)
    source: str = "kernel"
    states: list[ObjectState] = field(default_factory=list)
    live: LiveState | None = None

    def states_of(self, name: str) -> list[ObjectState]:
        """The recorded states of ``name``, oldest first."""
        return [s for s in self.states if s.name == name]

    def bindings_of(self, name: str, *, include_crash: bool = False) -> list[Binding]:
        """Bindings of ``name``, oldest first; those by the crashing execution only if asked."""
        return [
            b for b in self.bindings if b.name == name and (include_crash or not self.is_crash(b.execution))
        ]

    def is_crash(self, execution: Execution) -> bool:
        """Whether ``execution`` is the crashing one (executions compare by value: count, epoch, cell …)."""
        return self.crash is not None and execution == self.crash

    def same_cell(self, a: Execution, b: Execution) -> bool:
        """Whether two executions ran the same cell (same cell id, else same code)."""
        if a.cell_id and b.cell_id:
            return a.cell_id == b.cell_id
        return bool(a.code) and a.code == b.code

    def earlier_runs_of_crash_cell(self) -> list[Execution]:
        """Earlier executions of the crashing cell, oldest first."""
        if self.crash is None:
            return []
        return [e for e in self.history if self.same_cell(e, self.crash)]

    def earlier_ok_runs_of_crash_cell(self) -> list[Execution]:
        """Earlier successful executions of the crashing cell in this kernel process (or, in a saved
        notebook where epochs are unknown, any), oldest first."""
        return [
            e
            for e in self.earlier_runs_of_crash_cell()
            if e.status == OK and (self.current_epoch is None or self.in_current_epoch(e))
        ]

    def recreated_in_crash_cell_before(self, name: str, line: int) -> bool:
        """Whether the crashing cell creates ``name`` anew above ``line`` (a re-run then starts afresh)."""
        return any(
            self.is_crash(b.execution)
            and b.name == name
            and b.kind in CREATING_KINDS
            and (b.line or 0) < line
            for b in self.bindings
        )

    def in_current_epoch(self, execution: Execution) -> bool:
        """Whether ``execution`` ran in the current kernel process (False when unknown)."""
        return self.current_epoch is not None and execution.epoch == self.current_epoch

    def ran_since_restart(self, execution: Execution) -> bool:
        """Whether the cell of ``execution`` has run in the current kernel process."""
        return any(self.in_current_epoch(e) and self.same_cell(e, execution) for e in self.history)

    def versions_at(self, execution: Execution) -> Mapping[str, str]:
        """Library versions in effect when ``execution`` ran (empty when unknown)."""
        epoch = self.epochs.get(execution.epoch) if execution.epoch is not None else None
        return epoch.versions if epoch else {}
