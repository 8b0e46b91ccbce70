"""Parameter substitution rewrites literal assignments, not text."""

from __future__ import annotations

import math

import pytest

from provkernel.bugdoc.notebook.substitute import (
    SubstitutionError,
    is_parameters_only,
    reads_after_assignment,
    substitute,
)


def test_the_last_literal_assignment_is_rewritten_whatever_the_formatting():
    code = "solver='lbfgs'   # default\nC = 1.0\nsolver = \"liblinear\"\nmodel = make(solver, C)"
    out = substitute(code, {"solver": "saga", "C": 0.5})
    namespace: dict = {"make": lambda s, c: (s, c)}
    exec(out, namespace)  # noqa: S102 - checking what the rewritten code does
    assert namespace["model"] == ("saga", 0.5)


def test_magics_survive_and_special_values_are_written_as_python():
    out = substitute(
        "%matplotlib inline\nalpha = 0.1\nlayers = [64, 32]", {"alpha": float("nan"), "layers": (8,)}
    )
    namespace: dict = {"get_ipython": lambda: type("S", (), {"run_line_magic": lambda *a: None})()}
    exec(out, namespace)  # noqa: S102
    assert math.isnan(namespace["alpha"]) and namespace["layers"] == (8,)


def test_a_computed_value_cannot_be_substituted():
    with pytest.raises(SubstitutionError, match="n"):
        substitute("n = compute()", {"n": 3})


def test_parameters_only_and_reads_after_assignment():
    assert is_parameters_only("# Parameters\nsolver = 'lbfgs'\nC: float = 1.0\n")
    assert not is_parameters_only("n = 10\ndata = load(n)")
    assert reads_after_assignment("n = 10\ndata = load(n)", "n")
    assert not reads_after_assignment("n = 10\nm = 3", "n")
