"""Capture details found in use: calls on modules are not updates; provkernel's own file I/O is not data."""

from __future__ import annotations

import types

from provkernel.capture.analysis import analyze
from provkernel.capture.dataflow import AccessCollector
from provkernel.capture.runtime import NamespaceChange
from provkernel.capture.symbols import symbol_events
from provkernel.store.schema import UPDATE


def test_a_call_on_a_module_is_not_an_update_of_the_module():
    facts = analyze("np.bincount(y)\nlst.append(1)")
    namespace = {"np": types.ModuleType("numpy"), "lst": [1], "y": [0]}
    empty = NamespaceChange(frozenset(), frozenset(), frozenset())
    events = symbol_events(facts, empty, namespace, {}, 7, None)
    assert [e.name for e in events if e.kind == UPDATE] == ["lst"]


def test_paused_collector_does_not_record(tmp_path):
    collector = AccessCollector()
    collector.install()
    collector.start()
    with collector.paused():
        (tmp_path / "ours.svg").write_text("<svg/>")
    (tmp_path / "theirs.csv").write_text("a\n")
    assert [a.location for a in collector.drain()] == [str(tmp_path / "theirs.csv")]
