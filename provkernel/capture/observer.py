"""What one execution did: the state it starts from, and its record once it ran.

:class:`ExecutionObserver` holds the watchers (namespace, objects, calls, files, outputs) and
turns an execution into an :class:`~provkernel.records.ExecutionRecord`; the recorder owns the
event plumbing, the epoch and the writes. Every step runs as a named *stage* of the
session's :class:`~provkernel.capture.health.Health`: a failing stage is counted and the others go on.
"""

from __future__ import annotations

import sys
import time
import traceback as tb_module

from provkernel.capture.analysis import FactsCache, analyze_tree
from provkernel.capture.calls import CallEffects, CallResolver
from provkernel.capture.dataflow import AccessCollector
from provkernel.capture.execution import Running
from provkernel.capture.facts import CodeFacts, code_hash, merged_facts
from provkernel.capture.health import Health
from provkernel.capture.objects import ObjectChanges, ObjectWatcher
from provkernel.capture.outputs import OutputCollector
from provkernel.capture.runtime import ModuleWatcher, NamespaceWatcher
from provkernel.capture.settings import Settings
from provkernel.capture.symbols import symbol_events
from provkernel.records import ExecutionRecord
from provkernel.secrets import EnvironmentReads, Secrets
from provkernel.store.schema import DEF, UPDATE
from provkernel.textsafety import MESSAGE_LIMIT, clip, clip_traceback, safe_text


class ExecutionObserver:
    """Observes executions of one shell, one at a time.

    Args:
        shell: the IPython shell.
        settings: recording settings.
        health: where failures are counted (``health.stage(name)``).
        ignore_dirs: directories whose files are never the cell's data (IPython, Jupyter state).
    """

    def __init__(self, shell, settings: Settings, health: Health, ignore_dirs: list[str]) -> None:
        self.shell = shell
        self.settings = settings
        self.health = health
        self.stage = health.stage
        self.facts = FactsCache()
        self.namespace = NamespaceWatcher(shell.user_ns, getattr(shell, "user_ns_hidden", {}))
        self.modules = ModuleWatcher()
        self.files = AccessCollector(settings.hash_limit_bytes, ignore_dirs=ignore_dirs)
        self.outputs = OutputCollector()
        self.secrets = Secrets(read=EnvironmentReads.names)
        self.calls = CallResolver()
        self.objects = ObjectWatcher()
        self.last_writer: dict[str, int] = {}

    # --- before ----------------------------------------------------------------------
    def starting(self) -> None:
        """An execution starts: snapshot the namespace, start collecting outputs and file accesses."""
        with self.stage("namespace"):
            self.modules.absorb()
            self.namespace.before()
        with self.stage("outputs"):
            self.outputs.start()
        with self.stage("data"):
            self.files.start()

    def parsed(self, running: Running, source: str, tree, filename: str) -> None:
        """IPython parsed the execution's cell and runs it next: analyse the tree (if the code is
        new), remember which file its functions come from, and fingerprint what it may change."""
        if running.facts is None:
            with self.stage("static"):
                running.facts = self.facts.put(
                    running.code_hash, analyze_tree(tree, running.code_hash, source)
                )
        if running.facts is None:
            return
        with self.stage("calls"):
            self.calls.remember(filename, running.facts)
        with self.stage("fingerprints"):
            # the resolver keeps it: after the cell, the same resolution is reused if it still holds
            calls = self.calls.effects(running.facts, self.shell.user_ns)
            if calls.watched is None:
                calls.watched = self._watched(running.facts, calls)
            running.snapshot = self.objects.before(calls.watched, self.shell.user_ns)

    @staticmethod
    def _watched(facts: CodeFacts, calls: CallEffects) -> list[str]:
        """Names whose objects an execution may change: what it reads or updates, and what the
        notebook functions it calls (as defined now) read or change."""
        names = dict.fromkeys(facts.free)
        names.update(dict.fromkeys(u.name for u in facts.updates))
        names.update(dict.fromkeys(calls.names))
        return list(names)

    def facts_of(self, code: str, transformed: str) -> CodeFacts:
        """Static facts of a cell's code (cached by the code's hash)."""
        return self.facts.get(transformed, code_hash(code))[0]

    # --- after -----------------------------------------------------------------------
    def finished(
        self, running: Running, exception: BaseException | None
    ) -> tuple[ExecutionRecord, CodeFacts, BaseException | None]:
        """The record of an execution that just ended (``exception``: what it raised, if anything), its
        code's facts, and the exception the user saw (a result whose display raised counts too)."""
        with self.stage("data"):
            self.files.stop()
        exception = exception or self.display_error()
        record = self.error_record(running.execution_id, exception)
        with self.stage("static"):
            if running.facts is None:
                running.facts = self.facts_of(running.code, running.transformed)
        facts = running.facts or CodeFacts(code_hash=running.code_hash, partial=True)
        with self.stage("lineage"):
            self._symbols(running, record, merged_facts(facts, running.nested), exception)
        with self.stage("data"):
            record.data = self.files.drain()
        with self.stage("outputs"):
            record.outputs = self.outputs.records
        return record, facts, exception

    def error_record(self, execution_id: int, exception: BaseException | None) -> ExecutionRecord:
        """A record with the execution's status as the user saw it, and a bounded, scrubbed error."""
        record = ExecutionRecord(execution_id, time.time(), "ok" if exception is None else "error")
        if exception is not None:
            with self.stage("record"):
                scrub = self.secrets.scrub
                record.ename = type(exception).__name__
                record.evalue = scrub(clip(safe_text(_message(exception)), MESSAGE_LIMIT))
                record.traceback = [scrub(line) for line in clip_traceback(self._traceback(exception))]
        return record

    def display_error(self) -> BaseException | None:
        """The error shown while displaying the cell's result (a ``__repr__`` that raised), if any:
        ipykernel then replies with an error, so the execution failed as far as the user can see."""
        if getattr(self.shell, "_last_traceback_during_displayhook", False):
            return getattr(sys, "last_value", None) or RuntimeError("the result could not be displayed")
        return None

    def _symbols(
        self, running: Running, record: ExecutionRecord, facts, exception: BaseException | None
    ) -> None:
        """The execution's symbol events and object states, into ``record``."""
        namespace = self.shell.user_ns
        objects = ObjectChanges()
        with self.stage("fingerprints"):
            objects = self.objects.compare(running.snapshot, namespace)
        effects = None
        with self.stage("calls"):
            effects = self.calls.effects(facts, namespace)
        change = self.namespace.after(objects.changed_ids)
        record.symbols = symbol_events(
            facts,
            change,
            namespace,
            self.last_writer,
            running.execution_id,
            exception,
            self.settings.value_max_length,
            self.secrets,
            self.health.failed,
            effects,
            objects.changed,
        )
        with self.stage("fingerprints"):
            written = [e.name for e in record.symbols if e.kind in (DEF, UPDATE)]
            self.objects.record_states(objects, namespace, written)
            record.states = objects.states

    def _traceback(self, exception: BaseException) -> list[str]:
        """The traceback IPython showed (with its colours), else one formatted here."""
        stb = getattr(self.shell, "_last_traceback", None)
        if stb:
            return list(stb)
        try:
            return tb_module.format_exception(exception)
        except Exception:  # noqa: BLE001 - an exception whose formatting raises
            return [f"{type(exception).__name__}"]


def _message(exception: BaseException) -> str:
    try:
        return str(exception)
    except Exception:  # noqa: BLE001 - a __str__ that raises: IPython showed "<unprintable …>" too
        return f"<unprintable {type(exception).__name__} object>"
