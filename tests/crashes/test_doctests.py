"""The examples in the crash modules' docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import provkernel.crashes

MODULES = sorted(m.name for m in pkgutil.iter_modules(provkernel.crashes.__path__, "provkernel.crashes."))


@pytest.mark.parametrize("name", ["provkernel.crashes", *MODULES])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
