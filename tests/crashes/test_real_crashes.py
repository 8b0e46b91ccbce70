"""Classify crashes produced for real in a live python3 kernel (pandas, numpy, scikit-learn, matplotlib, torch)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from provkernel.crashes import Diagnosis, classify
from provkernel.crashes.render import MIME_TYPE, mimebundle
from provkernel.crashes.traceback import parse_traceback

SETUP = """
import io
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler
df = pd.DataFrame({"Age": [1, 2, 3, 4]})
def helper():
    return missing_global + 1
"""

# (id, code, ename, crash type, root cause, library)
CASES = [
    ("pandas-missing-column", "df['age']", "KeyError", "key error", "data confusion", "pandas"),
    ("pandas-drop-missing", "df.drop(columns=['Name'])", "KeyError", "key error", "data confusion", "pandas"),
    ("pandas-length", "df['pred'] = [0, 1, 0]", "ValueError", "value error", "data confusion", "pandas"),
    (
        "pandas-no-file",
        "pd.read_csv('no_such_file.csv')",
        "FileNotFoundError",
        "io error",
        "environment setting",
        None,
    ),
    (
        "pandas-parser",
        "pd.read_csv(io.StringIO('a,b\\n1,2\\n3,4,5\\n'))",
        "ParserError",
        "io error",
        "data confusion",
        "pandas",
    ),
    (
        "pandas-removed-append",
        "df.append({'Age': 5}, ignore_index=True)",
        "AttributeError",
        "attribute error",
        "library cause",
        "pandas",
    ),
    (
        "pandas-typo",
        "pd.dataframe({'a': [1]})",
        "AttributeError",
        "attribute error",
        "implementation error",
        None,
    ),
    (
        "numpy-broadcast",
        "np.ones(68) - np.ones(272)",
        "ValueError",
        "unsupported broadcast",
        "implementation error",
        "numpy",
    ),
    ("numpy-index", "np.arange(10)[10]", "IndexError", "index error", "data confusion", "numpy"),
    (
        "numpy-matmul",
        "np.ones((4, 3)) @ np.ones((4, 5))",
        "ValueError",
        "tensor shape mismatch",
        "data confusion",
        "numpy",
    ),
    (
        "sklearn-nan",
        "LogisticRegression().fit(np.array([[1., np.nan], [2., 1.]]), [0, 1])",
        "ValueError",
        "data value violation",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-not-fitted",
        "RandomForestClassifier().predict([[1, 2]])",
        "NotFittedError",
        "model initialization error",
        "API misuse",
        "sklearn",
    ),
    (
        "sklearn-strings",
        "LinearRegression().fit(pd.DataFrame({'sex': ['m', 'f'], 'age': [20, 30]}), [1, 2])",
        "ValueError",
        "value error",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-samples",
        "LinearRegression().fit([[1], [2], [3]], [1, 2])",
        "ValueError",
        "tensor shape mismatch",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-1d",
        "StandardScaler().fit_transform([1.0, 2.0, 3.0])",
        "ValueError",
        "tensor shape mismatch",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-features",
        "LogisticRegression().fit([[0, 1], [1, 2]], [0, 1]).predict([[1, 2, 3]])",
        "ValueError",
        "tensor shape mismatch",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-labels",
        "LogisticRegression().fit([[0], [1], [2]], [0.5, 1.5, 2.5])",
        "ValueError",
        "data value violation",
        "data confusion",
        "sklearn",
    ),
    (
        "sklearn-missing-argument",
        "LinearRegression().fit([[1], [2]])",
        "TypeError",
        "invalid argument",
        "API misuse",
        "sklearn",
    ),
    (
        "matplotlib-shapes",
        "plt.plot(range(10), range(9))",
        "ValueError",
        "tensor shape mismatch",
        "data confusion",
        "matplotlib",
    ),
    (
        "module-missing",
        "import xgboost_not_installed_here",
        "ModuleNotFoundError",
        "module not found",
        "environment setting",
        None,
    ),
    ("numpy-empty", "np.max(np.array([]))", "ValueError", "value error", "implementation error", "numpy"),
    (
        "sklearn-empty",
        "LinearRegression().fit(np.empty((0, 1)), [])",
        "ValueError",
        "tensor shape mismatch",
        "implementation error",
        "sklearn",
    ),
    (
        "sklearn-removed-keyword",
        "from sklearn.metrics import mean_squared_error\nmean_squared_error([1.0], [1.0], squared=False)",
        "TypeError",
        "invalid argument",
        "library cause",
        "sklearn",
    ),
    (
        "sklearn-removed-import",
        "from sklearn.metrics import plot_confusion_matrix",
        "ImportError",
        "environment error",
        "environment setting",
        "sklearn",
    ),
    (
        "sklearn-removed-method",
        (
            "from sklearn.feature_extraction.text import CountVectorizer\n"
            "CountVectorizer().fit(['hello world']).get_feature_names()"
        ),
        "AttributeError",
        "attribute error",
        "library cause",
        "sklearn",
    ),
    ("numpy-removed-alias", "np.float(1)", "AttributeError", "attribute error", "library cause", "numpy"),
    ("pandas-type-in-library", "pd.concat(1)", "TypeError", "invalid argument", "API misuse", "pandas"),
    (
        "os-invalid-argument",
        "import tempfile\ntempfile.TemporaryFile().seek(-1)",
        "OSError",
        "invalid argument",
        "API misuse",
        None,
    ),
    (
        "name-library-symbol",
        "train_test_split([1, 2])",
        "NameError",
        "name error",
        "implementation error",
        None,
    ),
    ("name-alias", "sns.histplot([1, 2])", "NameError", "module not found", "NB specific", None),
    ("name-function", "undefined_helper(3)", "NameError", "name error", "NB specific", None),
    ("name-in-function", "helper()", "NameError", "variable not found", "NB specific", None),
    ("not-callable", "model = 3\nmodel(2)", "TypeError", "type error", "implementation error", None),
    (
        "zero-division",
        "tp = 0\nfp = 0\ntp / (tp + fp)",
        "ZeroDivisionError",
        "other",
        "implementation error",
        None,
    ),
    ("syntax", "x = (1,", "SyntaxError", "other", "implementation error", None),
    (
        "chained",
        (
            "try:\n    {}['x']\nexcept KeyError as e:\n    raise ValueError('could not convert string to float: "
            "abc') from e"
        ),
        "ValueError",
        "value error",
        "data confusion",
        None,
    ),
]

TORCH_SETUP = "import torch"
TORCH_CASES = [
    (
        "torch-matmul",
        "torch.nn.Linear(4, 5)(torch.ones(2, 3))",
        "RuntimeError",
        "tensor shape mismatch",
        "data confusion",
        "torch",
    ),
    (
        "torch-no-cuda",
        "torch.zeros(1).cuda()",
        "AssertionError",
        "environment error",
        "environment setting",
        None,
    ),
    (
        "torch-oom",
        "raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 3.15 GiB')",
        "OutOfMemoryError",
        "OOM",
        "insufficient resource",
        "torch",
    ),
    (
        "torch-backward",
        "(torch.ones(2) * 2).sum().backward()",
        "RuntimeError",
        "runtime error",
        "API misuse",
        "torch",
    ),
    (
        "torch-devices",
        "torch.ones(2).to('meta') + torch.ones(2)",
        "RuntimeError",
        "runtime error",
        "implementation error",
        "torch",
    ),
]


@pytest.fixture(scope="module")
def crashes(kernel) -> dict[str, dict]:
    """Every case run once in the shared kernel: id -> the real error output content."""
    assert kernel.run(SETUP)["error"] is None
    errors = {}
    for case_id, code, *_ in CASES:
        errors[case_id] = kernel.run(code)["error"]
    if importlib.util.find_spec("torch") is not None:
        assert kernel.run(TORCH_SETUP)["error"] is None
        for case_id, code, *_ in TORCH_CASES:
            errors[case_id] = kernel.run(code)["error"]
    return errors


def _check(error: dict, ename: str, crash_type: str, root_cause: str, library: str | None) -> Diagnosis:
    assert error is not None, "the code did not fail"
    assert error["ename"].endswith(ename)
    assert any("\x1b[" in chunk for chunk in error["traceback"]), "expected a coloured (ANSI) traceback"
    diagnosis = classify(error["ename"], error["evalue"], error["traceback"])
    assert (diagnosis.crash_type, diagnosis.root_cause, diagnosis.library) == (
        crash_type,
        root_cause,
        library,
    ), diagnosis.evidence
    assert not any("\x1b" in item for item in diagnosis.evidence)
    return diagnosis


@pytest.mark.parametrize(
    ("case_id", "code", "ename", "crash_type", "root_cause", "library"), CASES, ids=[c[0] for c in CASES]
)
def test_real_crash(crashes, case_id, code, ename, crash_type, root_cause, library) -> None:
    diagnosis = _check(crashes[case_id], ename, crash_type, root_cause, library)
    assert diagnosis.suggestion
    if case_id != "syntax":
        assert diagnosis.execution_count is not None
        assert any(
            item.startswith(f"crashed at In [{diagnosis.execution_count}]") for item in diagnosis.evidence
        )


@pytest.mark.parametrize(
    ("case_id", "code", "ename", "crash_type", "root_cause", "library"),
    TORCH_CASES,
    ids=[c[0] for c in TORCH_CASES],
)
def test_real_torch_crash(crashes, case_id, code, ename, crash_type, root_cause, library) -> None:
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    _check(crashes[case_id], ename, crash_type, root_cause, library)


def test_library_frames_name_the_library_function(crashes) -> None:
    error = crashes["pandas-missing-column"]
    parsed = parse_traceback(error["ename"], error["evalue"], error["traceback"])
    assert parsed.cell_frames and parsed.cell_frames[-1].code == "df['age']"
    assert {f.package for f in parsed.library_frames} == {"pandas"}
    assert parsed.causes and parsed.causes[0].ename == "KeyError"  # pandas re-raises "from err"
    diagnosis = classify(error["ename"], error["evalue"], error["traceback"])
    assert any(item.startswith("raised inside pandas") for item in diagnosis.evidence)


def test_chained_exception_keeps_both_blocks(crashes) -> None:
    error = crashes["chained"]
    parsed = parse_traceback(error["ename"], error["evalue"], error["traceback"])
    assert [b.ename for b in parsed.causes] == ["KeyError"]
    assert parsed.causes[0].evalue == "'x'"
    assert parsed.evalue.startswith("could not convert string to float")
    assert parsed.cell_frames[-1].code.startswith("raise ValueError")


def test_error_inside_a_notebook_function_is_located(crashes) -> None:
    error = crashes["name-in-function"]
    diagnosis = classify(error["ename"], error["evalue"], error["traceback"])
    assert any("inside `helper`" in item and "missing_global" in item for item in diagnosis.evidence)


def test_ignored_evalue_is_recovered_from_the_traceback(crashes) -> None:
    error = crashes["sklearn-not-fitted"]
    diagnosis = classify(error["ename"], "ignored", error["traceback"])
    assert diagnosis.evalue.startswith("This RandomForestClassifier instance is not fitted yet")
    assert diagnosis.crash_type == "model initialization error"


def test_mime_bundle_of_a_real_diagnosis(crashes) -> None:
    error = crashes["pandas-missing-column"]
    diagnosis = classify(error["ename"], error["evalue"], error["traceback"])
    bundle = mimebundle(diagnosis)
    assert set(bundle) == {"text/plain", "text/html", MIME_TYPE}
    first, second = bundle["text/plain"].splitlines()
    assert first.startswith(
        "Diagnosis: key error · data confusion (misunderstanding of data structure) · pandas"
    )
    assert second.startswith("What to do: ")
    assert (
        "<code>df[&#x27;age&#x27;]</code>" in bundle["text/html"]
        or "<code>df['age']</code>" in bundle["text/html"]
    )
    assert Diagnosis.from_json(json.dumps(bundle[MIME_TYPE])) == diagnosis
