"""``classify`` and the notebook builder never raise on odd input (property-based)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from provkernel.crashes import classify
from provkernel.crashes.notebook_context import NotebookHistory, error_outputs
from provkernel.crashes.taxonomy import CRASH_TYPES, ROOT_CAUSES

NAMES = st.sampled_from(
    ["NameError", "KeyError", "ValueError", "error", "ModuleNotFoundError", "SyntaxError", ""]
)
LINES = st.lists(
    st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            [
                "\x1b[31mValueError\x1b[39m: bad",
                "Cell In[3], line 2",
                "----> 2 df['x']",
                "File /x/site-packages/pandas/core/frame.py:10, in f()",
                "The above exception was the direct cause of the following exception:",
                "KeyError                                  Traceback (most recent call last)",
                "<ipython-input-4-abc> in <module>",
            ]
        ),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(ename=NAMES, evalue=st.text(max_size=120), traceback=LINES)
def test_classify_always_returns_published_labels(ename: str, evalue: str, traceback: list[str]) -> None:
    diagnosis = classify(ename, evalue, traceback)
    assert diagnosis.root_cause in ROOT_CAUSES
    assert diagnosis.root_cause_detail in ROOT_CAUSES[diagnosis.root_cause]
    assert diagnosis.crash_type in CRASH_TYPES
    assert diagnosis.crash_type_detail in CRASH_TYPES[diagnosis.crash_type]


@settings(max_examples=100, deadline=None)
@given(sources=st.lists(st.text(max_size=60), max_size=5), ename=NAMES, evalue=st.text(max_size=40))
def test_notebook_builder_accepts_any_cell_source(sources: list[str], ename: str, evalue: str) -> None:
    cells = [
        {"cell_type": "code", "source": s, "execution_count": i or None, "outputs": []}
        for i, s in enumerate(sources)
    ]
    cells.append(
        {
            "cell_type": "code",
            "source": "x",
            "execution_count": 9,
            "outputs": [{"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}],
        }
    )
    notebook = {"cells": cells}
    error = error_outputs(notebook)[-1]
    context = NotebookHistory(notebook).context(error.position)
    diagnosis = classify(error.ename, error.evalue, list(error.traceback), context)
    assert diagnosis.root_cause in ROOT_CAUSES
