"""A failure inside crash diagnosis never changes what the user's cell shows (issue 13): the traceback, streams
and results stay exactly python3's, whether the diagnosis fails as a whole, in one of its sources of facts,
on a hostile object on the failing line, or on a broken notebook file."""

from __future__ import annotations

import re

import nbformat

from provkernel.crashes.render import MIME_TYPE
from tests.kernel.helpers import Kernel, notebook

INJECT = """
import provkernel.crashes.kernel as _diagnosis
def _boom(*args, **kwargs):
    raise RuntimeError("injected {what} failure")
_diagnosis.{target} = _boom
"""

HOSTILE = """
import time
class Hostile:
    def __repr__(self):
        raise RuntimeError("repr must not be called")
    def __len__(self):
        time.sleep(30)
        return 0
    def __eq__(self, other):
        raise RuntimeError("eq must not be called")
    __hash__ = object.__hash__
    def __getattr__(self, name):
        if name == "shape":
            time.sleep(30)
        raise AttributeError(name)
    @property
    def dtypes(self):
        time.sleep(30)
thing = Hostile()
"""

CELLS = [
    "import pandas as pd\nframe = pd.DataFrame({'Age': [1, 2]})\nprint('before', len(frame))",
    "frame['age']",
    "undefined_name + 1",
    "print('still here')\n1 / 0",
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _observable(reply):
    """What the user's own code shows: status, error (name, message, traceback text), streams, results;
    the prov kernel's own diagnosis display left out."""
    error = reply.error or {}
    traceback = [ANSI.sub("", line) for line in error.get("traceback", [])]
    data = [o["data"].get("text/plain") for o in reply.outputs if "data" in o and MIME_TYPE not in o["data"]]
    return (
        reply.status,
        error.get("ename"),
        error.get("evalue"),
        traceback,
        reply.stdout(),
        reply.stderr(),
        data,
    )


def _expected(tmp_path, cells, setup=()):
    """python3's outputs for ``cells``, after the same ``setup`` cells (execution counts line up)."""
    with Kernel("python3", cwd=tmp_path) as stock:
        for code in setup:
            stock.execute(code)
        return [_observable(stock.execute(code)) for code in cells]


def test_failing_diagnosis_leaves_the_traceback_unchanged(prov_db, tmp_path):
    setup = INJECT.format(what="classifier", target="classify")
    expected = _expected(tmp_path, CELLS, [setup])
    with Kernel(cwd=tmp_path) as k:
        assert k.execute(setup).status == "ok"
        replies = [k.execute(code) for code in CELLS]
        status = "".join(k.execute("%prov status").data("text/plain"))
    assert [_observable(r) for r in replies] == expected
    assert all(r.data(MIME_TYPE) == [] for r in replies)  # no diagnosis, nothing else either
    assert "injected classifier failure" in status


def test_failing_sources_of_facts_leave_a_diagnosis_and_the_traceback(prov_db, tmp_path):
    setup = [
        INJECT.format(what=what, target=target)
        for what, target in (("live state", "inspect_crash"), ("saved notebook", "with_saved_cells"))
    ]
    expected = _expected(tmp_path, CELLS, setup)
    nbformat.write(notebook(*CELLS), tmp_path / "saved.ipynb")
    with Kernel(cwd=tmp_path, notebook=tmp_path / "saved.ipynb") as k:
        for code in setup:
            assert k.execute(code).status == "ok"
        replies = [k.execute(code) for code in CELLS]
        status = "".join(k.execute("%prov status").data("text/plain"))
    assert [_observable(r) for r in replies] == expected
    diagnoses = [r.data(MIME_TYPE) for r in replies[1:]]
    assert all(len(d) == 1 for d in diagnoses)  # each crash still diagnosed, from provenance and traceback
    assert diagnoses[0][0]["crash_type"] == "key error"
    assert "injected live state failure" in status and "injected saved notebook failure" in status


def test_hostile_object_on_the_failing_line_is_never_asked_anything(prov_db, tmp_path):
    cells = [HOSTILE, "thing.fit(thing, frame_rows=3)"]
    expected = _expected(tmp_path, cells)
    with Kernel(cwd=tmp_path) as k:
        replies = [k.execute(code, timeout=20) for code in cells]
    assert [_observable(r) for r in replies] == expected
    (diagnosis,) = replies[1].data(MIME_TYPE)
    assert "the failing line used `thing` (Hostile" in " ".join(diagnosis["evidence"])
