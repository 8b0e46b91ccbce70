"""Static analysis never raises on code CPython compiles (issue 14): generated cells, deep nesting included."""

from __future__ import annotations

import keyword
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provkernel.capture.analysis import CodeFacts, analyze

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

NAMES = st.sampled_from(["a", "b", "df", "x", "lst", "model", "os", "rate", "seen", "_", "value"])
ATOMS = st.one_of(NAMES, st.integers(-5, 300).map(str), st.sampled_from(["'s'", "None", "1.5", "f'{a}'"]))

# Ways to wrap an expression once; applied hundreds of times they build the deep cells CPython accepts
WRAPPERS = [
    "({}) + a",
    "-{}",
    "~{}",
    "not {}",
    "f({})",
    "{}.attr",
    "{}[0]",
    "{}.method()",
    "lambda: {}",
    "[{} for a in b]",
    "(y := {})",
    "{} if x else b",
    "({}, a)",
    "{{'k': {}}}",
    "await_like({})",
]


@st.composite
def expressions(draw) -> str:
    expr = draw(ATOMS)
    for wrapper in draw(st.lists(st.sampled_from(WRAPPERS), max_size=40)):
        expr = wrapper.format(expr)
    return expr


@st.composite
def deep_expressions(draw) -> str:
    """One wrapper repeated: a sum of 700 terms, 500 chained calls, 400 unary operators …"""
    wrapper = draw(
        st.sampled_from(["{} + a", "{}.f()", "~{}", "-{}", "{}[a]", "{}.x", "lambda: {}", "not {}"])
    )
    expr = draw(ATOMS)
    for _ in range(draw(st.integers(50, 700))):
        expr = wrapper.format(expr)
    return expr


STATEMENTS = [
    "{n} = {e}",
    "{n} += {e}",
    "{n}.append({e})",
    "{n}[0] = {e}",
    "del {n}",
    "import numpy as {n}",
    "from os import path as {n}",
    "def {n}(p={e}):\n    global rate\n    rate = p\n    return {e}",
    "class {n}:\n    attr = {e}\n    def m(self):\n        seen.add(self)",
    "for {n} in {e}:\n    pass",
    "with open('f') as {n}:\n    {n}.read()",
    "try:\n    {n} = {e}\nexcept Exception as err:\n    pass",
    "if {e}:\n    {n} = 1\nelse:\n    {n} = 2",
    "{n}: int = {e}",
    "{n}.drop(columns=['a'], inplace=True)",
    "print({e})",
]


@st.composite
def cells(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        template = draw(st.sampled_from(STATEMENTS))
        name = draw(NAMES.filter(lambda n: not keyword.iskeyword(n)))
        expr = draw(st.one_of(expressions(), deep_expressions()) if draw(st.booleans()) else expressions())
        lines.append(template.format(n=name, e=expr))
    return "\n".join(lines)


def compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(cells())
def test_analysis_never_raises_on_code_cpython_compiles(source):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # analysing must not emit the cell's warnings a second time
        facts = analyze(source)
    assert isinstance(facts, CodeFacts)
    if compiles(source):
        assert not facts.syntax_error
    for name in facts.defined:
        assert name in source


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_expressions(), NAMES)
def test_deep_expressions_keep_their_names(expr, target):
    source = f"{target} = {expr}"
    facts = analyze(source)
    if compiles(source):
        assert target in facts.defined
        assert not facts.syntax_error


def test_the_hostile_cells_of_the_issue():
    cells = {
        "sum of 500": "s = " + " + ".join(["a"] * 500),
        "400 chained calls": "r = c" + ".f()" * 400,
        "tilde 500": "t = " + "~" * 500 + "x",
        "nested lambdas": "f = " + "lambda: " * 300 + "v",
        "20,000 statements": "lst = []\n" + "\n".join(f"lst.append({i})" for i in range(20_000)),
        "3,000 terms (too deep for ast.parse)": "s = " + " + ".join(["a"] * 3000),
    }
    expected_reads = {"sum of 500": "a", "400 chained calls": "c", "tilde 500": "x"}
    for label, source in cells.items():
        facts = analyze(source)
        assert facts.defined and not facts.syntax_error, label
        if label in expected_reads:
            assert expected_reads[label] in facts.free, label
    # a lambda's body is read when it is called: the innermost one reads v
    assert ("v",) in {scope.reads for scope in analyze(cells["nested lambdas"]).scopes}
