"""IPython events → records → store: the provenance of each execution.

One :class:`Recorder` per shell. Each stage of capture (static facts, namespace, data, outputs,
values, libraries, the write, the diagnosis) fails alone: the execution is recorded with what
the other stages got, and the failure is counted per stage (``%prov status``), logged to the log
file and stored. Nothing of ours reaches the cell's output streams; a condition the user must act
on (the database cannot be written) is said once per session, as a display under the cell.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable

from provkernel.capture.environment import LibraryResolver, classify_package
from provkernel.capture.epochs import EpochTracker
from provkernel.capture.execution import Finished, PendingWrite, Running
from provkernel.capture.facts import code_hash
from provkernel.capture.health import Health
from provkernel.capture.observer import ExecutionObserver
from provkernel.capture.parsehook import ParseHook
from provkernel.capture.settings import Settings
from provkernel.capture.stalewatch import StaleWatch
from provkernel.capture.stalewatch import notice as stale_notice
from provkernel.log import log_to_file, scrub_log_with
from provkernel.records import ExecutionRecord, LibraryRecord
from provkernel.secrets import EnvironmentReads
from provkernel.store.background import USER_ACTIONABLE, BackgroundWriter
from provkernel.store.database import StoreError, connect, default_path
from provkernel.store.schema import DEF, UPDATE
from provkernel.store.writer import Writer, execution_id

log = logging.getLogger("provkernel")

# A request timestamp from the kernel older than this belongs to some other request.
REQUEST_MAX_AGE_S = 5.0


class Recorder:
    """Records every execute request of one IPython shell."""

    def __init__(self, shell, settings: Settings | None = None, kernel: str = "extension") -> None:
        self.shell = shell
        self.settings = settings or Settings()
        self.kernel = kernel
        self.health = Health(self._store_failure)
        self.writer: BackgroundWriter | None = None
        self.db_path: str | None = None
        self.log_path: str | None = None
        self.disabled_reason: str | None = None
        self.epochs = EpochTracker(shell, kernel)
        self.observer = ExecutionObserver(shell, self.settings, self.health, _kernel_dirs())
        # the observer's parts, as reports, magics and tests reach them
        observer = self.observer
        self.facts, self.namespace, self.files = observer.facts, observer.namespace, observer.files
        self.outputs, self.secrets, self.last_writer = (
            observer.outputs,
            observer.secrets,
            observer.last_writer,
        )
        self.libraries = LibraryResolver(self._store_libraries)
        self.parse_hook = ParseHook(shell, self._observe_parse)
        self.stale_watch = StaleWatch()
        self.costs: deque[float] = deque(maxlen=10_000)
        self.stage = self.health.stage
        self.listeners: list[Callable[[Finished], None]] = []
        # cells in progress, outermost first: (IPython's ExecutionInfo, the execution or None)
        self._stack: list[tuple[object, Running | None]] = []
        self._request: tuple[float, str | None] | None = None
        self._seq = 0
        self._installed = False
        self._closed = False

    # --- compatibility: what reports and tests read ------------------------------------
    @property
    def errors(self) -> int:
        """Failures of our own code in this kernel session."""
        return self.health.total

    @property
    def epoch_id(self) -> int | None:
        return self.epochs.epoch_id

    @property
    def epoch_number(self) -> int | None:
        return self.epochs.number

    @property
    def notebook(self) -> str | None:
        return self.epochs.notebook

    @property
    def _running(self) -> Running | None:
        return self._stack[0][1] if self._stack else None

    # --- lifecycle ------------------------------------------------------------------
    def open(self) -> bool:
        """Open the database; on failure keep running without recording (and say so once)."""
        EnvironmentReads.install()
        if not self.settings.record:
            self.disabled_reason = "recording is switched off (c.ProvKernel.record = False)"
            return False
        try:
            path = self.settings.database() or str(default_path())
            scrub_log_with(self.secrets.scrub)
            self.log_path = log_to_file(os.path.dirname(os.path.abspath(path)))
        except Exception:  # noqa: BLE001 - without a log file, messages are dropped
            path = self.settings.database()
        try:
            conn = connect(path)
            conn.execute("PRAGMA busy_timeout = 5000")  # never hold a cell long for another kernel's lock
        except StoreError as exc:
            self.disabled_reason = str(exc)
            log.warning("not recording provenance: %s", exc)
            self.health.raise_notice("not recording provenance", _what_to_do(str(exc)))
            return False
        self.db_path = conn.execute("PRAGMA database_list").fetchone()[2]
        self.writer = BackgroundWriter(Writer(conn), self._write_failed, self._database_unavailable)
        self.epochs.start(self.writer)
        self.files.ignore_file(self.db_path)
        return True

    def install(self) -> None:
        """Register with the shell's events, its parser, the audit hook and the output hooks."""
        if self._installed:
            return
        events = self.shell.events
        events.register("pre_run_cell", self.pre_run_cell)
        events.register("post_run_cell", self.post_run_cell)
        self.parse_hook.install()
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
        self.parse_hook.uninstall()
        self.files.stop()
        self.outputs.uninstall()
        self._installed = False

    def close(self) -> None:
        """The kernel is going away: finish the epoch and pending writes."""
        if self._closed:
            return
        self._closed = True
        with self.stage("shutdown"):
            self.libraries.flush()
            if self.writer is not None:
                self.files.hasher.wait(2.0)
                self.epochs.close(self.writer)
                self.writer.close()

    def flush(self) -> None:
        """Wait until everything recorded so far is in the database (before a report reads it)."""
        if self.writer is not None:
            self.libraries.flush()
            self.writer.flush()

    @property
    def current_execution_id(self) -> int | None:
        """The execution running now (the cell calling a magic), if it is being recorded."""
        running = self._running
        return running.execution_id if running is not None else None

    # --- requests from the kernel -----------------------------------------------------
    def note_request(self, received: float, cell_id: str | None) -> None:
        """The kernel received an execute request (called before the cell runs)."""
        self._request = (received, cell_id)

    def record_aborted(self, code: str, cell_id: str | None, received: float) -> None:
        """An execute request the kernel aborted because an earlier cell failed."""
        if self.writer is None or not code.strip():
            return
        with self.stage("aborted"):
            self.epochs.ensure(self.writer, self.last_writer)
            digest = code_hash(code)
            facts = self.observer.facts_of(code, self._transform(code))
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
    def pre_run_cell(self, info) -> None:
        """Insert the execution and snapshot the state it starts from (a cell run from inside a cell,
        such as a ``%%capture`` body, becomes part of the outer execution)."""
        if self._stack:
            self._stack.append((info, None))
            outer = self._running
            if outer is not None:
                with self.stage("static"):
                    outer.nested.append(self.observer.facts_of(info.raw_cell, _transformed(info)))
            return
        started = time.perf_counter()
        running = None
        try:
            running = self._begin(info)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
            self.capture_failed("pre_run_cell", exc)
        self._stack.append((info, running))
        if running is not None:
            self.observer.starting()
            running.cost += time.perf_counter() - started

    def _begin(self, info) -> Running | None:
        if self.writer is None:
            return None
        now = time.time()
        started, cell_id = now, getattr(info, "cell_id", None)
        if self._request is not None:
            received, request_cell = self._request
            self._request = None
            if now - received < REQUEST_MAX_AGE_S:
                started, cell_id = received, cell_id or request_cell
        self.epochs.ensure(self.writer, self.last_writer, on_new=self._reset_sequence)
        code = info.raw_cell
        digest = code_hash(code)
        count = self.shell.execution_count - 1 if info.store_history else None
        running = Running(
            info,
            self._next_id(),
            code,
            digest,
            _transformed(info),
            self.facts.cached(digest),
            started,
            cell_id,
            count,
        )
        running.pending = PendingWrite(running, self.epoch_id)
        self.writer.submit(running.pending.write_start)
        return running

    def _observe_parse(self, source: str, tree, filename: str) -> None:
        """IPython parsed a cell and runs it next: analyse its tree (if its code is new), remember
        which file its functions will come from, and fingerprint the objects it may change."""
        running = self._running
        if running is None or running.parsed or len(self._stack) != 1:
            return
        if source != running.transformed:
            return  # another parse during the cell (%time, a nested run_cell)
        running.parsed = True
        started = time.perf_counter()
        self.observer.parsed(running, source, tree, filename)
        running.cost += time.perf_counter() - started

    def post_run_cell(self, result) -> None:
        """Turn what the execution did into records and store them."""
        started = time.perf_counter()
        running = self._running
        try:
            self._finish(result)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
            self.capture_failed("post_run_cell", exc)
        with self.stage("notice"):
            self._show_notice()
        if running is not None and not self._stack:
            # seconds our hooks kept the kernel's main thread busy (benchmarks read them)
            self.costs.append(running.cost + time.perf_counter() - started)

    def _finish(self, result) -> None:
        # IPython sends post_run_cell without pre_run_cell for an empty cell: match by ExecutionInfo
        if not self._stack or self._stack[-1][0] is not result.info:
            return
        _, running = self._stack.pop()
        if self._stack:
            return  # a cell run from inside the execution: its effects are the outer one's
        exception = result.error_before_exec or result.error_in_exec
        if running is None or self.writer is None:
            with self.stage("data"):
                self.files.stop()
            if exception is not None and self.listeners:
                self._notify_unrecorded(result, exception)  # diagnosis still works without a database
            return
        record, facts, exception = self.observer.finished(running, exception)
        with self.stage("data"):
            self._hash_later(running.execution_id, self.files.pending_hashes)
        with self.stage("libraries"):
            self._submit_libraries(running, facts)
        with self.stage("writer"):
            running.pending.record = record
            running.pending.epoch_id = self.epoch_id
            self.writer.submit(running.pending.write_finish)
        if self.settings.stale_notice:
            with self.stage("stale notice"):
                self._stale_notice(running, record)
        if exception is None and all(getattr(listener, "errors_only", False) for listener in self.listeners):
            return  # nothing listens to executions that went well
        finished = Finished(
            running.execution_id,
            self.epoch_id,
            record,
            facts,
            running.code,
            running.cell_id,
            running.count,
            exception,
        )
        self._notify(finished)

    def _notify(self, finished: Finished) -> None:
        for listener in list(self.listeners):
            with self.stage(getattr(listener, "__name__", "listener")):
                listener(finished)

    def _notify_unrecorded(self, result, exception: BaseException) -> None:
        record = self.observer.error_record(0, exception)
        info = result.info
        code = getattr(info, "raw_cell", "") if info is not None else ""
        count = result.execution_count if info is not None and info.store_history else None
        # the facts of the code IPython ran (a magic line is transformed first), as for recorded cells
        facts = self.observer.facts_of(code, _transformed(info) if info is not None else code)
        self._notify(Finished(0, None, record, facts, code, None, count, exception))

    # --- helpers ----------------------------------------------------------------------
    def _hash_later(self, execution: int, pending) -> None:
        writer = self.writer
        for path, mode, st in pending:

            def done(digest: str, path=path, mode=mode) -> None:
                writer.submit(lambda w: w.set_data_hash(execution, path, mode, digest))

            self.files.hasher.later(path, st, done)

    def _transform(self, code: str) -> str:
        try:
            return self.shell.transform_cell(code)
        except Exception:  # noqa: BLE001 - IPython reports the error itself when it runs the cell
            return code

    def _reset_sequence(self) -> None:
        self._seq = 0

    def _next_id(self) -> int:
        self._seq += 1
        return execution_id(self.epoch_id, self._seq)

    def _submit_libraries(self, running: Running, facts) -> None:
        packages: dict[str, tuple[str, str, int]] = {}
        for name in self.observer.modules.new_packages():
            kind = classify_package(name)
            if kind == "package":
                packages[name] = (name, "indirect", running.execution_id)
        for imp in facts.imports:
            name = imp.package
            kind = classify_package(name) if name else None
            if kind is not None and name in sys.modules:
                packages[name] = (name, "stdlib" if kind == "stdlib" else "direct", running.execution_id)
        if packages:
            self.libraries.submit(self.epoch_id, packages.values())

    def _store_libraries(self, epoch_id: int, libraries: list[LibraryRecord]) -> None:
        if self.writer is not None:
            self.writer.submit(lambda w: w.add_libraries(epoch_id, libraries))

    def _stale_notice(self, running: Running, record: ExecutionRecord) -> None:
        from provkernel.lineage.model import first_line  # only with the notice on

        cell = running.cell_id or f"code:{running.code_hash}"
        tag = f"[{running.count}]" if running.count is not None else "[*]"
        label = f"{tag} `{first_line(running.code, 40)}`"
        stale = self.stale_watch.ran(cell, label, record.symbols)
        if stale:
            from IPython.display import display

            changed = sorted({e.name for e in record.symbols if e.kind in (DEF, UPDATE)})
            with self.outputs.muted():
                display(stale_notice(changed, stale), raw=True)

    def _show_notice(self) -> None:
        notice = self.health.take_notice()
        if notice is None:
            return
        from IPython.display import display

        with self.outputs.muted():
            display(notice.bundle(), raw=True)

    def capture_failed(self, stage: str, exc: BaseException) -> None:
        """Log and count a failure of our own code; store it if the database still works."""
        self.health.failed(stage, exc)

    def _store_failure(self, stage: str, message: str) -> None:
        if self.writer is not None:
            epoch_id, when = self.epoch_id, time.time()
            text = self.secrets.scrub(message)
            self.writer.submit(lambda w: w.capture_error(epoch_id, when, stage, text))

    def _write_failed(self, stage: str, exc: BaseException) -> None:
        """A record could not be written (called on the writer thread)."""
        self.health.failed(f"write {stage}", exc, store=False)

    def _database_unavailable(self, reason: str) -> None:
        """Writes fail as a whole (called on the writer thread): say so once if the user must act."""
        if any(marker in reason.lower() for marker in USER_ACTIONABLE):
            self.health.raise_notice("provenance is not being saved", _what_to_do(reason))


def _transformed(info) -> str:
    transformed = getattr(info, "transformed_cell", None)
    return transformed if transformed is not None else info.raw_cell


def _what_to_do(reason: str) -> str:
    lower = reason.lower()
    if "disk is full" in lower:
        return f"the disk is full ({reason}). Free some space; records are kept in memory meanwhile."
    if "readonly" in lower or "read-only" in lower:
        return f"the database cannot be written ({reason}). Make it writable or set PROVKERNEL_DB."
    return f"{reason}. Set PROVKERNEL_DB to a writable path (or c.ProvKernel.db_path)."


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
