"""History rules over real kernel sessions: restarts, a failed defining cell, a re-run after ``inplace=True``,
a package whose version changes between sessions, a package that disappears, a data file that changes or vanishes.

The recorder (conftest) keeps what the provenance store keeps; every crash comes from a live kernel.
"""

from __future__ import annotations

import shutil

import pytest

from provkernel.crashes import Diagnosis, classify
from provkernel.crashes.render import MIME_TYPE, mimebundle
from tests.kernel.helpers import write_package


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, kernel_factory, recorder_factory) -> dict[str, Diagnosis]:
    """Run one notebook's life across three kernel sessions and diagnose each crash with its history."""
    work = tmp_path_factory.mktemp("work")
    lib = tmp_path_factory.mktemp("lib")
    write_package(lib, "tinystats", "1.0", "def legacy_mean(xs):\n    return sum(xs) / len(xs)\n")
    write_package(lib, "helperpkg", "0.3", "VALUE = 3\n")
    (work / "data.csv").write_text("a,b\n1,2\n3,4\n")
    kernel = kernel_factory(work, {"PYTHONPATH": str(lib)})
    recorder = recorder_factory(kernel, work, libraries=("tinystats", "helperpkg", "pandas"))
    found: dict[str, Diagnosis] = {}

    def crash(name: str, code: str, cell_id: str, reads: tuple[str, ...] = ()) -> None:
        execution = recorder.run(code, cell_id, reads)
        error = recorder.error_of(execution)
        found[name] = classify(
            error["ename"], error["evalue"], error["traceback"], recorder.context(execution)
        )

    try:
        # Session 1: everything works.
        recorder.run("import pandas as pd\nalpha = 41", "setup")
        recorder.run("alpha + 1", "use-alpha")
        recorder.run("import tinystats\ntinystats.legacy_mean([1, 2])", "stats")
        recorder.run("import helperpkg\nhelperpkg.VALUE", "helper")
        recorder.run("pd.read_csv('data.csv')['b'].sum()", "load", reads=("data.csv",))
        # Session 2: restart, then run a cell whose input was defined before the restart.
        recorder.restart()
        crash("restart", "alpha + 1", "use-alpha")
        recorder.run("import pandas as pd\nbeta = 1 / 0", "beta")
        crash("failed-definer", "beta * 2", "use-beta")
        recorder.run("frame = pd.DataFrame({'a': [1], 'b': [2]})", "frame")
        recorder.run("frame.drop(columns=['b'], inplace=True)", "drop")
        crash("rerun-drop", "frame.drop(columns=['b'], inplace=True)", "drop")
        (work / "data.csv").write_text("a,c\n1,2\n3,4\n")
        crash("data-changed", "pd.read_csv('data.csv')['b'].sum()", "load", reads=("data.csv",))
        (work / "data.csv").unlink()
        crash("data-vanished", "pd.read_csv('data.csv')['b'].sum()", "load", reads=("data.csv",))
        # Session 3: tinystats upgraded to 2.0 (legacy_mean removed), helperpkg uninstalled.
        write_package(lib, "tinystats", "2.0", "def mean(xs):\n    return sum(xs) / len(xs)\n")
        shutil.rmtree(lib / "helperpkg")
        shutil.rmtree(next(lib.glob("helperpkg-*.dist-info")))
        recorder.restart()
        crash("version-change", "import tinystats\ntinystats.legacy_mean([1, 2])", "stats")
        crash("module-gone", "import helperpkg\nhelperpkg.VALUE", "helper")
        crash("never-installed", "import surely_not_installed_pkg", "new-import")
    finally:
        kernel.close()
    return found


def _evidence(diagnosis: Diagnosis) -> str:
    return " | ".join(diagnosis.evidence)


def test_restart_is_execution_order(story) -> None:
    d = story["restart"]
    assert (d.root_cause_detail, d.basis, d.library) == ("nb specific - execution order", "history", None)
    assert "`alpha` was assigned by In [1] in kernel session #1" in _evidence(d)
    assert "the kernel has restarted since" in _evidence(d)


def test_failed_defining_cell_is_previous_cell_error(story) -> None:
    d = story["failed-definer"]
    assert d.root_cause_detail == "nb specific - previous cell error"
    assert "which failed with ZeroDivisionError" in _evidence(d)


def test_rerun_after_inplace_drop_is_execution_order(story) -> None:
    d = story["rerun-drop"]
    assert (d.crash_type, d.root_cause_detail) == ("key error", "nb specific - execution order")
    assert "`frame` lost 'b' in In [" in _evidence(d) and "(this cell, previous run" in _evidence(d)
    assert "`frame.drop(columns=['b'], inplace=True)`" in _evidence(d)


def test_changed_data_file_is_named(story) -> None:
    d = story["data-changed"]
    assert (d.crash_type, d.root_cause, d.library) == ("key error", "data confusion", "pandas")
    assert "`data.csv` changed since In [" in _evidence(d) and "content hash" in _evidence(d)


def test_vanished_data_file_was_seen_before(story) -> None:
    d = story["data-vanished"]
    assert (d.crash_type, d.root_cause_detail) == ("io error", "file/path not found or exist")
    assert "`data.csv` was read by In [" in _evidence(d) and "does not exist now" in _evidence(d)


def test_version_change_is_an_api_change_naming_both_versions(story) -> None:
    d = story["version-change"]
    assert (d.crash_type, d.root_cause_detail, d.library) == ("attribute error", "API change", "tinystats")
    assert "with tinystats 1.0; this kernel has tinystats 2.0" in _evidence(d)
    assert "tinystats==1.0" in d.suggestion and "tinystats 2.0" in d.suggestion


def test_module_gone_is_change_of_environment(story) -> None:
    d = story["module-gone"]
    assert (d.crash_type, d.root_cause_detail) == ("module not found", "change of environment")
    assert "`helperpkg` 0.3 was importable in kernel session #2 (In [4] in kernel session #1" in (
        _evidence(d)
    )
    assert "`%pip install helperpkg==0.3`" in d.suggestion


def test_never_seen_module_is_not_installed(story) -> None:
    d = story["never-installed"]
    assert d.root_cause_detail == "module not installed"
    assert "%pip install surely-not-installed-pkg" in d.suggestion
    assert "no earlier kernel session imported `surely_not_installed_pkg`" in _evidence(d)


def test_history_diagnosis_bundle(story) -> None:
    bundle = mimebundle(story["version-change"])
    assert bundle[MIME_TYPE]["basis"] == "history"
    assert "decided from the notebook" in bundle["text/html"]
    assert "tinystats 1.0" in bundle["text/plain"]
