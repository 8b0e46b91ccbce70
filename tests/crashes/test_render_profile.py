"""Display of one diagnosis, the crash profile, JSON round trips, and the static binding extractor."""

from __future__ import annotations

import json

import pytest

from provkernel.crashes import CrashContext, Diagnosis, Epoch, Execution
from provkernel.crashes.bindings import bindings_in, file_literals, python_source
from provkernel.crashes.profile import NO_LIBRARY, crash_profile
from provkernel.crashes.render import MIME_TYPE, mimebundle, text, to_html


def _diagnosis(**overrides) -> Diagnosis:
    values = {
        "evidence": ["KeyError: a key is missing", "crashed at In [3] line 1: `df['<b>age</b>']`"],
        "suggestion": "Compare with `df.columns`.",
        "ename": "KeyError",
        "evalue": "'age'",
        "execution_count": 3,
        "library": "pandas",
    }
    values.update(overrides)
    return Diagnosis.from_labels("keyerror", "misunderstanding of data structure", **values)


def test_labels_come_from_the_taxonomy() -> None:
    d = _diagnosis()
    assert (d.crash_type, d.root_cause) == ("key error", "data confusion")
    with pytest.raises(KeyError):
        Diagnosis.from_labels("keyerror", "not a label")


def test_plain_text_is_two_lines() -> None:
    lines = text(_diagnosis()).splitlines()
    assert lines[0].startswith(
        "Diagnosis: key error · data confusion (misunderstanding of data structure) · pandas — "
    )
    assert lines[1] == "What to do: Compare with `df.columns`."


def test_html_escapes_and_inherits_theme_colours() -> None:
    html = to_html(_diagnosis())
    assert "<b>age</b>" not in html and "&lt;b&gt;age&lt;/b&gt;" in html
    assert "<code>df.columns</code>" in html
    assert "color:inherit" in html and "<link" not in html and "class=" in html


def test_bundle_and_json_round_trip() -> None:
    d = _diagnosis(basis="history")
    bundle = d._repr_mimebundle_()
    assert bundle == mimebundle(d)
    assert set(bundle) == {"text/plain", "text/html", MIME_TYPE}
    payload = json.dumps(bundle[MIME_TYPE])
    assert Diagnosis.from_json(payload) == d
    assert Diagnosis.from_json({**d.to_json(), "future_field": 1}) == d


def test_profile_counts_in_taxonomy_order() -> None:
    items = [
        _diagnosis(),
        _diagnosis(library=None, basis="history"),
        Diagnosis.from_labels("variable not found", "nb specific - execution order", basis="history"),
    ]
    profile = crash_profile(items)
    assert profile.total == 3 and profile.history_decided == 2
    assert profile.root_causes == [("data confusion", 2), ("NB specific", 1)]
    assert profile.libraries == [(NO_LIBRARY, 2), ("pandas", 1)]
    assert profile.crosstab[("key error", "data confusion")] == 2
    bundle = profile._repr_mimebundle_()
    assert "Crash profile: 3 crashes" in bundle["text/plain"] and "66.7%" in bundle["text/plain"]
    assert "<table" in bundle["text/html"]
    assert "application/json" not in bundle  # JupyterLab would show a JSON tree instead of the tables
    assert bundle["application/vnd.provkernel.crashes+json"]["root_cause_details"] == {
        "misunderstanding of data structure": 2,
        "nb specific - execution order": 1,
    }


def test_empty_profile_renders() -> None:
    profile = crash_profile([])
    assert profile.total == 0 and "0 crashes" in profile.text()


def test_bindings_of_notebook_code() -> None:
    code = (
        "%matplotlib inline\n"
        "import numpy as np, os.path\n"
        "from sklearn.model_selection import train_test_split as tts\n"
        "files = !ls\n"
        "df = load()\n"
        "df.drop(columns=['a'], inplace=True)\n"
        "df['b'] = 1\n"
        "for i, (j, k) in enumerate(pairs):\n"
        "    total += i\n"
        "def f():\n"
        "    hidden = 1\n"
        "del df['b']\n"
        "del np\n"
        "squares = [n * n for n in range(3)]\n"
    )
    found = [(b.name, b.kind, b.module, b.operation) for b in bindings_in(code)]
    assert found == [
        ("np", "import", "numpy", None),
        ("os", "import", "os", None),
        ("tts", "import", "sklearn.model_selection:train_test_split", None),
        ("files", "assign", None, None),
        ("df", "assign", None, None),
        ("df", "inplace", None, "drop(inplace=True)"),
        ("df", "update", None, None),
        ("i", "for", None, None),
        ("j", "for", None, None),
        ("k", "for", None, None),
        ("total", "update", None, None),
        ("f", "def", None, None),
        ("df", "inplace", None, "del item"),
        ("np", "del", None, None),
        ("squares", "assign", None, None),
    ]


def test_bindings_survive_code_that_does_not_parse() -> None:
    assert python_source("%%bash\necho hi") == ""
    found = [(b.name, b.kind) for b in bindings_in("import pandas as pd\nx = (1,\ndef g(): pass")]
    assert found == [("pd", "import"), ("x", "assign"), ("g", "def")]


def test_file_literals() -> None:
    code = "df = pd.read_csv('in.csv')\nwith open('log.txt', 'w') as f:\n    pass\ntorch.save(m, 'model.pt')"
    assert file_literals(code) == [("in.csv", "r", 1), ("log.txt", "w", 2), ("model.pt", "w", 4)]


def test_context_helpers_answer_session_questions() -> None:
    old = Execution(count=3, cell_id="a", epoch=1, status="ok", code="x = 1")
    rerun = Execution(count=2, cell_id="a", epoch=2, status="ok", code="x = 1")
    other = Execution(count=1, cell_id="b", epoch=2, status="error", code="y = f()", ename="TypeError")
    crash = Execution(count=4, cell_id="c", epoch=2, status="error", code="x + y", ename="NameError")
    context = CrashContext(
        crash=crash,
        history=[old, other, rerun],
        epochs={1: Epoch(1, "/a/python", {"pandas": "1.5.3"}), 2: Epoch(2, "/a/python", {"pandas": "2.2.0"})},
        current_epoch=2,
    )
    assert context.ran_since_restart(old) and not context.ran_since_restart(Execution(cell_id="z", epoch=1))
    assert context.in_current_epoch(rerun) and not context.in_current_epoch(old)
    assert context.versions_at(old) == {"pandas": "1.5.3"}
    assert context.is_crash(
        Execution(count=4, cell_id="c", epoch=2, status="error", code="x + y", ename="NameError")
    )
    assert (
        Execution(count=2, position=4).label == "cell 5 (In [2])"
        and Execution(position=0, status="not run").label == "cell 1"
    )
