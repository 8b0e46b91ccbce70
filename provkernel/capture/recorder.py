"""IPython events → records → store: the provenance of each execution.

One :class:`Recorder` per shell. Its event handlers never raise into the user's cell: every
failure is caught, logged to the kernel log, counted, and stored as a capture error (visible
in ``%prov status``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import threading
import time
import traceback as tb_module
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from provkernel.capture.analysis import CodeFacts, FactsCache, code_hash
from provkernel.capture.dataflow import AccessCollector
from provkernel.capture.environment import LibraryResolver, classify_package, epoch_facts
from provkernel.capture.identity import VSCODE_VARIABLE, notebook_identity
from provkernel.capture.outputs import OutputCollector
from provkernel.capture.runtime import ModuleWatcher, NamespaceWatcher
from provkernel.capture.settings import Settings
from provkernel.capture.symbols import symbol_events
from provkernel.records import EpochFacts, ExecutionRecord, LibraryRecord
from provkernel.store.background import BackgroundWriter
from provkernel.store.database import StoreError, connect
from provkernel.store.writer import Writer, execution_id

log = logging.getLogger("provkernel")

# A request timestamp from the kernel older than this belongs to some other request.
REQUEST_MAX_AGE_S = 5.0


@dataclass
class Running:
    """The execution in progress."""

    execution_id: int
    code: str
    facts: CodeFacts
    started: float
    cell_id: str | None
    count: int | None
    traceback_before: int  # id() of the shell's last traceback before the cell, to spot a stale one
    pending: PendingWrite


@dataclass
class Finished:
    """What listeners (crash diagnosis) receive after an execution is stored."""

    execution_id: int
    epoch_id: int
    record: ExecutionRecord
    facts: CodeFacts
    code: str
    cell_id: str | None
    count: int | None
    exception: BaseException | None = None
    extra: dict = field(default_factory=dict)


class PendingWrite:
    """The two writes of one execution. Both run on the writer thread, in order; when the cell ended
    before its start was written (most cells take milliseconds), the start writes the whole row and
    the finish does not update it again."""

    __slots__ = ("_whole_row", "epoch_id", "record", "start_args")

    def __init__(self, start_args: tuple) -> None:
        self.start_args = start_args
        self.record: ExecutionRecord | None = None
        self.epoch_id: int | None = None
        self._whole_row = False

    def write_start(self, writer: Writer) -> None:
        record = self.record  # set by the main thread once the cell ends
        writer.start_execution(*self.start_args, finished=record)
        self._whole_row = record is not None

    def write_finish(self, writer: Writer) -> None:
        writer.finish_execution(self.epoch_id, self.record, row_written=self._whole_row)


def guarded(stage: str) -> Callable:
    """Catch, log and count any failure of the decorated handler; the user's cell goes on."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: Recorder, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - by design: capture must never break a cell
                self.capture_failed(stage, exc)
                return None

        return wrapper

    return decorate


class Recorder:
    """Records every execute request of one IPython shell."""

    def __init__(self, shell, settings: Settings | None = None, kernel: str = "extension") -> None:
        self.shell = shell
        self.settings = settings or Settings()
        self.kernel = kernel
        self.errors = 0
        self.recent_errors: deque[str] = deque(maxlen=20)
        self.writer: BackgroundWriter | None = None
        self.db_path: str | None = None
        self.disabled_reason: str | None = None
        self._warned = False
        self.epoch_id: int | None = None
        self.epoch_number: int | None = None
        self.notebook: str | None = None
        self.facts = FactsCache()
        self.namespace = NamespaceWatcher(shell.user_ns, getattr(shell, "user_ns_hidden", {}))
        self.modules = ModuleWatcher()
        self.files = AccessCollector(self.settings.hash_limit_bytes, ignore_dirs=_kernel_dirs())
        self.outputs = OutputCollector()
        self.libraries = LibraryResolver(self._store_libraries)
        self.last_writer: dict[str, int] = {}
        self.listeners: list[Callable[[Finished], None]] = []
        self._running: Running | None = None
        self._request: tuple[float, str | None] | None = None
        self._seq = 0
        self._epoch_started = time.time()
        self._epoch_facts: EpochFacts | None = None
        self._prepared_epoch: tuple[int, int, str] | None = None
        self._vscode_name: object = None
        self._facts_ready = threading.Event()
        self._installed = False
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------
    def open(self) -> bool:
        """Open the database; on failure keep running without recording (and say so once)."""
        if not self.settings.record:
            self.disabled_reason = "recording is switched off (c.ProvKernel.record = False)"
            return False
        try:
            conn = connect(self.settings.database())
            conn.execute("PRAGMA busy_timeout = 5000")  # never hold a cell long for another kernel's lock
        except StoreError as exc:
            self.disabled_reason = str(exc)
            log.warning("provkernel: not recording provenance: %s", exc)
            return False
        self.db_path = conn.execute("PRAGMA database_list").fetchone()[2]
        self.writer = BackgroundWriter(Writer(conn), self._write_failed)
        # Gathering the epoch's facts takes milliseconds: do it now, off the first cell's path.
        threading.Thread(target=self._gather_epoch_facts, name="provkernel-epoch", daemon=True).start()
        self.files.ignore_file(self.db_path)
        return True

    def install(self) -> None:
        """Register with the shell's events, the audit hook and the output hooks."""
        if self._installed:
            return
        events = self.shell.events
        events.register("pre_run_cell", self.pre_run_cell)
        events.register("post_run_cell", self.post_run_cell)
        self.files.install()
        self.outputs.install(self.shell)
        self._installed = True

    def uninstall(self) -> None:
        """Stop recording (the audit hook stays, inactive: Python cannot remove it)."""
        if not self._installed:
            return
        for name, handler in (("pre_run_cell", self.pre_run_cell), ("post_run_cell", self.post_run_cell)):
            try:
                self.shell.events.unregister(name, handler)
            except ValueError:
                pass
        self.files.stop()
        self.outputs.uninstall()
        self._installed = False

    @guarded("shutdown")
    def close(self) -> None:
        """The kernel is going away: finish the epoch and pending writes."""
        if self._closed:
            return
        self._closed = True
        self.libraries.flush()
        if self.writer is not None:
            self._facts_ready.wait(5.0)
            if self.epoch_id is not None:
                epoch_id, ended = self.epoch_id, time.time()
                self.writer.submit(lambda w: w.end_epoch(epoch_id, ended))
            elif self._prepared_epoch is not None:  # the kernel ran nothing: leave no empty epoch behind
                unused = self._prepared_epoch[0]
                self.writer.submit(lambda w: w.discard_epoch_if_empty(unused))
            self.writer.close()

    def flush(self) -> None:
        """Wait until everything recorded so far is in the database (before a report reads it)."""
        if self.writer is not None:
            self.libraries.flush()
            self.writer.flush()

    @property
    def current_execution_id(self) -> int | None:
        """The execution running now (the cell calling a magic), if it is being recorded."""
        return self._running.execution_id if self._running is not None else None

    # --- requests from the kernel -----------------------------------------------------
    def note_request(self, received: float, cell_id: str | None) -> None:
        """The kernel received an execute request (called before the cell runs)."""
        self._request = (received, cell_id)

    @guarded("aborted")
    def record_aborted(self, code: str, cell_id: str | None, received: float) -> None:
        """An execute request the kernel aborted because an earlier cell failed."""
        if self.writer is None or not code.strip():
            return
        self._ensure_epoch()
        digest = code_hash(code)
        facts, _ = self.facts.get(self._transform(code), digest)
        args = (
            self._next_id(),
            self.epoch_id,
            None,
            cell_id,
            digest,
            code,
            facts.to_json,
            received,
            "aborted",
        )
        self.writer.submit(lambda w: w.start_execution(*args))

    # --- IPython events ---------------------------------------------------------------
    @guarded("pre_run_cell")
    def pre_run_cell(self, info) -> None:
        """Insert the execution and snapshot the state it starts from."""
        self._running = None
        if self.writer is None:
            self._warn_once()
            return
        now = time.time()
        started, cell_id = now, getattr(info, "cell_id", None)
        if self._request is not None:
            received, request_cell = self._request
            self._request = None
            if now - received < REQUEST_MAX_AGE_S:
                started, cell_id = received, cell_id or request_cell
        self._ensure_epoch()
        code = info.raw_cell
        digest = code_hash(code)
        transformed = getattr(info, "transformed_cell", None)
        facts, _ = self.facts.get(transformed if transformed is not None else self._transform(code), digest)
        count = self.shell.execution_count - 1 if info.store_history else None
        execution_id = self._next_id()
        pending = PendingWrite(
            (execution_id, self.epoch_id, count, cell_id, digest, code, facts.to_json, started)
        )
        self.writer.submit(pending.write_start)
        stale_traceback = id(getattr(self.shell, "_last_traceback", None))
        self._running = Running(execution_id, code, facts, started, cell_id, count, stale_traceback, pending)
        self.modules.absorb()
        self.namespace.before()
        self.outputs.start()
        self.files.start()

    @guarded("post_run_cell")
    def post_run_cell(self, result) -> None:
        """Turn what the execution did into records and store them."""
        self.files.stop()
        running, self._running = self._running, None
        exception = result.error_before_exec or result.error_in_exec
        if running is None or self.writer is None:
            if exception is not None and self.listeners:
                self._notify_unrecorded(result, exception)  # diagnosis still works without a database
            return
        record = ExecutionRecord(running.execution_id, time.time(), "ok" if exception is None else "error")
        if exception is not None:
            record.ename, record.evalue = type(exception).__name__, str(exception)
            record.traceback = self._traceback(exception, running.traceback_before)
        # Each part is captured on its own: one failing leaves the others, and the execution
        # itself is recorded with its status whatever happens.
        try:
            record.symbols = self._symbols(running, exception)
        except Exception as exc:  # noqa: BLE001 - counted, logged and stored by capture_failed
            self.capture_failed("lineage", exc)
        try:
            record.data = self.files.drain()
        except Exception as exc:  # noqa: BLE001
            self.capture_failed("data", exc)
        record.outputs = self.outputs.records
        try:
            self._submit_libraries(running)
        except Exception as exc:  # noqa: BLE001
            self.capture_failed("libraries", exc)
        running.pending.record = record
        running.pending.epoch_id = self.epoch_id
        self.writer.submit(running.pending.write_finish)
        self._notify(
            Finished(
                running.execution_id,
                self.epoch_id,
                record,
                running.facts,
                running.code,
                running.cell_id,
                running.count,
                exception,
            )
        )

    def _notify(self, finished: Finished) -> None:
        for listener in list(self.listeners):
            try:
                listener(finished)
            except Exception as exc:  # noqa: BLE001
                self.capture_failed(getattr(listener, "__name__", "listener"), exc)

    def _notify_unrecorded(self, result, exception: BaseException) -> None:
        record = ExecutionRecord(
            0, time.time(), "error", ename=type(exception).__name__, evalue=str(exception)
        )
        record.traceback = self._traceback(exception, None)
        code = getattr(result.info, "raw_cell", "") if result.info is not None else ""
        count = result.execution_count if result.info is not None and result.info.store_history else None
        self._notify(
            Finished(0, None, record, self.facts.get(code, code_hash(code))[0], code, None, count, exception)
        )

    # --- helpers ----------------------------------------------------------------------
    def _symbols(self, running: Running, exception: BaseException | None) -> list:
        change = self.namespace.after()
        return symbol_events(
            running.facts,
            change,
            self.shell.user_ns,
            self.last_writer,
            running.execution_id,
            exception,
            self.settings.value_max_length,
        )

    def _transform(self, code: str) -> str:
        try:
            return self.shell.transform_cell(code)
        except Exception:  # noqa: BLE001 - IPython reports the error itself when it runs the cell
            return code

    def _traceback(self, exception: BaseException, stale: int | None) -> list[str]:
        """The traceback IPython showed (with its colours), unless it is a stale one from before the cell."""
        stb = getattr(self.shell, "_last_traceback", None)
        if stb and id(stb) != stale:
            return list(stb)
        return tb_module.format_exception(exception)

    def _gather_epoch_facts(self) -> None:
        """At start-up, off the first cell's path: gather the epoch's facts and register the epoch."""
        try:
            facts = dataclasses.replace(epoch_facts(self.kernel), started=self._epoch_started)
            self._epoch_facts = facts
            notebook = notebook_identity(self.shell.user_ns)
            epoch_id, number = self.writer.writer.begin_epoch(notebook, facts)
            self._prepared_epoch = (epoch_id, number, notebook)
        except Exception:  # done again, and reported, on the first cell
            log.debug("provkernel: preparing the epoch failed", exc_info=True)
        finally:
            self._facts_ready.set()

    def _next_id(self) -> int:
        self._seq += 1
        return execution_id(self.epoch_id, self._seq)

    def _ensure_epoch(self) -> None:
        # The identity is fixed for an epoch, except that VS Code names its notebook in the namespace.
        vscode = self.shell.user_ns.get(VSCODE_VARIABLE)
        if self.epoch_id is not None and vscode == self._vscode_name:
            return
        self._vscode_name = vscode
        notebook = notebook_identity(self.shell.user_ns)
        if self.epoch_id is not None and notebook == self.notebook:
            return
        if self.epoch_id is None:
            self._facts_ready.wait(5.0)
            prepared, self._prepared_epoch = self._prepared_epoch, None
            if prepared is not None:
                self.epoch_id, self.epoch_number, self.notebook = prepared
                if notebook != self.notebook:  # VS Code named the notebook after start-up
                    self.epoch_number = self.writer.writer.move_epoch(self.epoch_id, notebook)
                    self.notebook = notebook
                return
        else:
            # the notebook was named after executions were recorded: the same process is a new epoch of it
            old, ended = self.epoch_id, time.time()
            self.writer.submit(lambda w: w.end_epoch(old, ended))
            self.last_writer.clear()
        facts = self._epoch_facts or dataclasses.replace(
            epoch_facts(self.kernel), started=self._epoch_started
        )
        self.epoch_id, self.epoch_number = self.writer.writer.begin_epoch(notebook, facts)
        self.notebook = notebook
        self._seq = 0

    def _submit_libraries(self, running: Running) -> None:
        packages: dict[str, tuple[str, str, int]] = {}
        for name in self.modules.new_packages():
            kind = classify_package(name)
            if kind == "package":
                packages[name] = (name, "indirect", running.execution_id)
        for imp in running.facts.imports:
            name = imp.package
            kind = classify_package(name) if name else None
            if kind is not None and name in sys.modules:
                packages[name] = (name, "stdlib" if kind == "stdlib" else "direct", running.execution_id)
        if packages:
            self.libraries.submit(self.epoch_id, packages.values())

    def _store_libraries(self, epoch_id: int, libraries: list[LibraryRecord]) -> None:
        if self.writer is not None:
            self.writer.submit(lambda w: w.add_libraries(epoch_id, libraries))

    def _warn_once(self) -> None:
        if not self._warned and self.disabled_reason and self.settings.record:
            self._warned = True
            print(f"provkernel: not recording provenance: {self.disabled_reason}", file=sys.stderr)

    def capture_failed(self, stage: str, exc: BaseException) -> None:
        """Log and count a failure of our own code; store it if the database still works."""
        self.errors += 1
        message = f"{type(exc).__name__}: {exc}"
        self.recent_errors.append(f"{stage}: {message}")
        log.error("provkernel capture failed in %s", stage, exc_info=exc)
        if self.writer is not None:
            epoch_id, when = self.epoch_id, time.time()
            self.writer.submit(lambda w: w.capture_error(epoch_id, when, stage, message))

    def _write_failed(self, stage: str, exc: BaseException) -> None:
        """A record could not be written (called on the writer thread)."""
        self.errors += 1
        self.recent_errors.append(f"write: {type(exc).__name__}: {exc}")
        log.error("provkernel: a provenance record could not be written", exc_info=exc)


def _kernel_dirs() -> list[str]:
    """Directories of IPython and Jupyter state (history, connection files): never user data."""
    dirs = []
    try:
        from IPython.paths import get_ipython_dir

        dirs.append(get_ipython_dir())
    except Exception:
        log.debug("provkernel: no IPython directory", exc_info=True)
    try:
        from jupyter_core.paths import jupyter_data_dir, jupyter_runtime_dir

        dirs += [jupyter_runtime_dir(), jupyter_data_dir()]
    except Exception:
        log.debug("provkernel: no Jupyter directories", exc_info=True)
    return dirs
