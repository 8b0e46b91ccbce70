"""Every crash in the prov kernel carries a diagnosis decided with its provenance (issue 4, in the kernel).

Real crashes in real prov kernels: restarts, a failed defining cell, a re-run after an in-place drop, a data
file that changes and vanishes, a tiny local package whose version changes between epochs, a package that
disappears, and library crashes from pandas, numpy, scikit-learn (and torch when installed).
"""

from __future__ import annotations

import json
import shutil

import pytest

from provkernel.crashes.render import MIME_TYPE
from tests.kernel.helpers import Kernel, flush, query, write_package


def diagnosis_of(reply) -> dict:
    """The one diagnosis display of a failing cell, after its single error message."""
    assert reply.status == "error" and reply.error is not None
    found = reply.data(MIME_TYPE)
    assert len(found) == 1, reply.outputs
    bundle = next(o["data"] for o in reply.outputs if MIME_TYPE in o.get("data", {}))
    assert bundle["text/plain"].startswith("Diagnosis: ") and "<" in bundle["text/html"]
    return found[0]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One notebook's life across three prov kernel sessions; each crash's diagnosis and the database."""
    work = tmp_path_factory.mktemp("crash-story")
    lib = tmp_path_factory.mktemp("crash-lib")
    db = work / "prov.sqlite"
    write_package(lib, "tinystats", "1.0", "def legacy_mean(xs):\n    return sum(xs) / len(xs)\n")
    write_package(lib, "helperpkg", "0.3", "VALUE = 3\n")
    (work / "data.csv").write_text("a,b\n1,2\n3,4\n")
    env = {"PYTHONPATH": str(lib), "PROVKERNEL_DB": str(db)}
    found: dict = {"db": db}
    with Kernel(cwd=work, notebook=work / "story.ipynb", env=env) as k:
        # Session 1: everything works.
        k.execute("import pandas as pd\nalpha = 41", cell_id="setup")
        k.execute("alpha + 1", cell_id="use-alpha")
        k.execute("import tinystats\ntinystats.legacy_mean([1, 2])", cell_id="stats")
        k.execute("import helperpkg\nhelperpkg.VALUE", cell_id="helper")
        k.execute("pd.read_csv('data.csv')['b'].sum()", cell_id="load")
        # Session 2: a restart, then cells whose inputs are gone.
        k.restart()
        found["restart"] = k.execute("alpha + 1", cell_id="use-alpha")
        k.execute("import pandas as pd\nbeta = 1 / 0", cell_id="beta")
        found["failed-definer"] = k.execute("beta * 2", cell_id="use-beta")
        k.execute("frame = pd.DataFrame({'a': [1], 'b': [2]})", cell_id="frame")
        k.execute("frame.drop(columns=['b'], inplace=True)", cell_id="drop")
        found["rerun-drop"] = k.execute("frame.drop(columns=['b'], inplace=True)", cell_id="drop")
        (work / "data.csv").write_text("a,c\n1,2\n3,4\n")
        found["data-changed"] = k.execute("pd.read_csv('data.csv')['b'].sum()", cell_id="load")
        (work / "data.csv").unlink()
        found["data-vanished"] = k.execute("pd.read_csv('data.csv')['b'].sum()", cell_id="load")
        # Session 3: tinystats upgraded to 2.0 (legacy_mean gone), helperpkg uninstalled.
        write_package(lib, "tinystats", "2.0", "def mean(xs):\n    return sum(xs) / len(xs)\n")
        shutil.rmtree(lib / "helperpkg")
        shutil.rmtree(next(lib.glob("helperpkg-*.dist-info")))
        k.restart()
        found["version-change"] = k.execute(
            "import tinystats\ntinystats.legacy_mean([1, 2])", cell_id="stats"
        )
        found["module-gone"] = k.execute("import helperpkg\nhelperpkg.VALUE", cell_id="helper")
        found["never-installed"] = k.execute("import surely_not_installed_pkg", cell_id="new-import")
        found["profile"] = k.execute("%prov crashes")
        flush(k)
    return found


def _evidence(diagnosis: dict) -> str:
    return " | ".join(diagnosis["evidence"])


def test_restart_is_execution_order_naming_the_defining_cell(story):
    d = diagnosis_of(story["restart"])
    assert (d["crash_type"], d["root_cause_detail"]) == (
        "variable not found",
        "nb specific - execution order",
    )
    assert "In [1]" in _evidence(d) and "restart" in _evidence(d)
    assert d["basis"] == "history"


def test_failed_defining_cell_is_previous_cell_error(story):
    d = diagnosis_of(story["failed-definer"])
    assert d["root_cause_detail"] == "nb specific - previous cell error"
    assert "ZeroDivisionError" in _evidence(d) or "failed" in _evidence(d)


def test_rerun_after_inplace_drop_is_execution_order(story):
    d = diagnosis_of(story["rerun-drop"])
    assert d["root_cause_detail"] == "nb specific - execution order"
    assert "drop" in _evidence(d)


def test_changed_data_file_is_named(story):
    d = diagnosis_of(story["data-changed"])
    assert "data.csv" in _evidence(d) and "changed" in _evidence(d)


def test_vanished_data_file_was_seen_before(story):
    d = diagnosis_of(story["data-vanished"])
    assert d["crash_type"] == "io error" and d["root_cause_detail"] == "file/path not found or exist"
    assert "`data.csv` was read by" in _evidence(d) and "does not exist now" in _evidence(d)


def test_version_change_is_an_api_change_naming_both_versions(story):
    d = diagnosis_of(story["version-change"])
    assert (d["root_cause_detail"], d["library"]) == ("API change", "tinystats")
    assert "1.0" in _evidence(d) and "2.0" in _evidence(d)


def test_module_gone_is_change_of_environment(story):
    d = diagnosis_of(story["module-gone"])
    assert d["crash_type"] == "module not found"
    assert d["root_cause_detail"] == "change of environment"


def test_never_seen_module_is_not_installed_and_suggests_pip(story):
    d = diagnosis_of(story["never-installed"])
    assert d["root_cause_detail"] == "module not installed"
    assert "%pip install" in d["suggestion"]


def test_diagnoses_are_stored_and_profiled(story):
    stored = query(story["db"], "SELECT x.ename, x.diagnosis FROM executions x WHERE x.diagnosis IS NOT NULL")
    assert len(stored) == 9  # the eight above and the failed definition of beta
    assert all(json.loads(d)["ename"] == ename for ename, d in stored)
    profile = story["profile"].data("application/vnd.provkernel.crashes+json")[0]
    assert profile["total"] == 9 and profile["root_causes"]["NB specific"] >= 3


LIBRARY_CRASHES = [
    (
        (
            "from sklearn.linear_model import LogisticRegression\nimport numpy as np\n"
            "LogisticRegression().fit(np.array([[1., np.nan], [2., 1.], [3., .5], [4., 2.]]), [0, 1, 0, 1])"
        ),
        "data value violation",
        "sklearn",
    ),
    (
        "from sklearn.ensemble import RandomForestClassifier\nRandomForestClassifier().predict([[1, 2]])",
        None,
        "sklearn",
    ),
    ("import numpy as np\nnp.ones(68) - np.ones(272)", "unsupported broadcast", "numpy"),
    ("import pandas as pd\npd.DataFrame({'Age': [1, 2]})['age']", "key error", "pandas"),
]


@pytest.mark.parametrize(("code", "crash_type", "library"), LIBRARY_CRASHES)
def test_library_crashes_are_typed_and_attributed(prov_db, tmp_path, code, crash_type, library):
    with Kernel(cwd=tmp_path) as k:
        d = diagnosis_of(k.execute(code))
    if crash_type:
        assert d["crash_type"] == crash_type
    assert d["library"] == library


def test_torch_shape_mismatch(prov_db, tmp_path):
    pytest.importorskip("torch")
    with Kernel(cwd=tmp_path) as k:
        d = diagnosis_of(k.execute("import torch\ntorch.nn.Linear(4, 5)(torch.ones(2, 3))"))
    assert (d["crash_type"], d["library"]) == ("tensor shape mismatch", "torch")


def test_interrupts_and_usage_errors_get_no_diagnosis(prov_db, tmp_path):
    with Kernel(cwd=tmp_path) as k:
        assert k.execute("raise KeyboardInterrupt").data(MIME_TYPE) == []
        assert k.execute("%prov no-such-report").data(MIME_TYPE) == []


def test_diagnosis_without_a_database(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("PROVKERNEL_DB", str(blocker / "prov.sqlite"))
    with Kernel(cwd=tmp_path) as k:
        d = diagnosis_of(k.execute("import numpy as np\nnp.ones(3) @ np.ones(4)"))
    assert d["basis"] == "traceback" and d["library"] == "numpy"
