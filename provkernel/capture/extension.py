"""The IPython extension: ``%load_ext provkernel`` in any kernel, loaded automatically by ProvKernel."""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref

from provkernel.capture.recorder import Recorder
from provkernel.capture.settings import Settings
from provkernel.log import kernel_logger
from provkernel.store.database import BUGDOC_RUNS, beside

log = logging.getLogger("provkernel")

_recorders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def recorder_for(shell) -> Recorder | None:
    """The recorder attached to ``shell``, if the extension is loaded."""
    return _recorders.get(shell)


def load(shell, kernel: str = "extension") -> Recorder:
    """Attach a recorder and the magics to ``shell`` (idempotent)."""
    kernel_logger()
    recorder = _recorders.get(shell)
    if recorder is not None:
        recorder.install()
        return recorder
    recorder = Recorder(shell, Settings.from_config(shell.config), kernel=kernel)
    recorder.open()
    recorder.install()
    _recorders[shell] = recorder
    atexit.register(recorder.close)
    if kernel == "extension":
        _bridge_foreign_kernel(shell, recorder)
    _attach_features(shell, recorder)
    return recorder


def unload(shell) -> None:
    """Stop recording in ``shell``; the epoch is closed."""
    recorder = _recorders.pop(shell, None)
    if recorder is not None:
        recorder.uninstall()
        recorder.close()
        atexit.unregister(recorder.close)


def _attach_features(shell, recorder: Recorder) -> None:
    """Magics and crash diagnosis; each optional, so recording works even if one fails to load."""
    try:
        from provkernel.magics import register_magics

        register_magics(shell)
    except Exception:
        log.exception("provkernel: magics unavailable")
    if recorder.settings.diagnose_crashes:
        recorder.listeners.append(LazyDiagnoser(recorder))
    _sweep_bugdoc_orphans(recorder.db_path)


def _sweep_bugdoc_orphans(database: str | None) -> None:
    """Kill what a ``%bugdoc`` run of a SIGKILLed kernel left behind (a grandchild that called
    ``setsid``), now rather than at the next ``%bugdoc``. Only runs are registered beside the database,
    so a kernel that never saw one pays a directory check; the sweep itself runs on a thread, since
    it reads every process's environment."""
    if database is None or not beside(database, BUGDOC_RUNS).is_dir():
        return

    def sweep() -> None:
        try:
            from provkernel.bugdoc.notebook.reaper import sweep as sweep_runs

            killed = sweep_runs(database)
            if killed:
                log.info("provkernel: killed %d processes left by a %%bugdoc run of a killed kernel", killed)
        except Exception:
            log.exception("provkernel: sweeping processes of earlier %bugdoc runs failed")

    threading.Thread(target=sweep, name="provkernel-sweep", daemon=True).start()


class LazyDiagnoser:
    """Loads the crash classifier (tens of milliseconds of imports) at the first crash, not at start-up."""

    __name__ = "crash diagnosis"
    errors_only = True  # the recorder need not tell it of executions that went well

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._diagnoser = None

    def __call__(self, finished) -> None:
        if finished.record.status != "error":
            return
        if self._diagnoser is None:
            from provkernel.crashes.kernel import CrashDiagnoser

            self._diagnoser = CrashDiagnoser(self.recorder)
        self._diagnoser(finished)


def _bridge_foreign_kernel(shell, recorder: Recorder) -> None:
    """In a stock ipykernel, observe request receipt and aborted requests as ProvKernel does.

    Wraps the two metadata hooks of the running kernel instance; both call the original first.
    """
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "finish_metadata"):
        return
    original_init, original_finish = kernel.init_metadata, kernel.finish_metadata

    def init_metadata(parent):
        metadata = original_init(parent)
        note_request(recorder, parent)
        return metadata

    def finish_metadata(parent, metadata, reply_content):
        metadata = original_finish(parent, metadata, reply_content)
        note_reply(recorder, parent, reply_content)
        return metadata

    kernel.init_metadata, kernel.finish_metadata = init_metadata, finish_metadata


def note_request(recorder: Recorder, parent: dict) -> None:
    """Tell the recorder when an execute request arrived and for which cell."""
    try:
        if parent.get("header", {}).get("msg_type") == "execute_request":
            recorder.note_request(time.time(), (parent.get("metadata") or {}).get("cellId"))
    except Exception as exc:  # noqa: BLE001
        recorder.capture_failed("request", exc)


def note_reply(recorder: Recorder, parent: dict, reply_content: dict) -> None:
    """Record an execute request that the kernel aborted without running it."""
    try:
        if reply_content.get("status") == "aborted" and parent["header"]["msg_type"] == "execute_request":
            content = parent.get("content") or {}
            if not content.get("silent"):
                cell_id = (parent.get("metadata") or {}).get("cellId")
                recorder.record_aborted(content.get("code", ""), cell_id, time.time())
    except Exception as exc:  # noqa: BLE001
        recorder.capture_failed("aborted", exc)
