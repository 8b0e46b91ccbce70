"""``provkernel scan`` on real executed notebooks in a temporary directory (subprocess, all three formats)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from provkernel.crashes.scan import COLUMNS, scan


def _execute(path: Path, cells: list[str], order: list[int]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# analysis"), *(nbformat.v4.new_code_cell(c) for c in cells)]
    client = NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for index in order:
            client.execute_cell(nb.cells[index + 1], index + 1)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two executed notebooks (one nested), a checkpoint copy, an unreadable and an invalid notebook."""
    root = tmp_path_factory.mktemp("notebooks")
    (root / "team" / ".ipynb_checkpoints").mkdir(parents=True)
    _execute(
        root / "clean.ipynb",
        ["import pandas as pd\ndf = pd.DataFrame({'Age': [1, 2]})", "df['age']", "raise KeyboardInterrupt"],
        [0, 1, 2],
    )
    _execute(root / "team" / "model.ipynb", ["total = sum(values)", "values = [1, 2]"], [0, 1])
    (root / "team" / ".ipynb_checkpoints" / "model-checkpoint.ipynb").write_text(
        (root / "team" / "model.ipynb").read_text()
    )
    (root / "broken.ipynb").write_text("{ not json")
    (root / "team" / "notes.ipynb").write_text(json.dumps({"metadata": {}}))
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provkernel", "scan", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_lists_every_crash_with_its_diagnosis(folder: Path) -> None:
    result = _cli(str(folder), "--format", "json")
    assert result.returncode == 1  # two notebooks could not be read
    report = json.loads(result.stdout)
    assert report["notebooks"] == 2 and report["skipped_keyboard_interrupts"] == 1
    crashes = {Path(c["notebook"]).name: c for c in report["crashes"]}
    assert set(crashes) == {"clean.ipynb", "model.ipynb"}  # the checkpoint copy is skipped
    key = crashes["clean.ipynb"]
    assert (key["cell"], key["execution_count"], key["crash_type"], key["library"]) == (
        3,
        2,
        "key error",
        "pandas",
    )
    assert key["eid"] == str(uuid.uuid3(uuid.NAMESPACE_DNS, "nb_exception://clean.ipynb.2.keyerror"))
    name = crashes["model.ipynb"]
    assert (
        name["root_cause_detail"] == "nb specific - need execute future cells" and name["basis"] == "history"
    )
    assert any("ran only after this cell" in item for item in name["evidence"])
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 2 and all(line.startswith("provkernel scan: ") for line in problems)
    assert "Traceback" not in result.stderr


def test_csv_has_one_row_per_crash(folder: Path) -> None:
    result = _cli(str(folder / "clean.ipynb"), "--format", "csv")
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 1
    assert rows[0]["root_cause"] == "data confusion"


def test_table_shows_crashes_and_profile(folder: Path) -> None:
    result = _cli(str(folder / "team"), "--format", "table")
    assert "1 crashes in 1 notebooks" in result.stdout
    assert "Crash profile" in result.stdout and "variable not found" in result.stdout


def test_missing_path_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = _cli(str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such file or directory" in result.stderr


def test_bad_format_is_a_one_line_usage_error(folder: Path) -> None:
    result = _cli(str(folder), "--format", "xml")
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0


def test_report_profile_counts(folder: Path) -> None:
    report = scan([folder])
    profile = report.profile
    assert profile.total == 2 and profile.history_decided == 1
    assert dict(profile.root_causes) == {"NB specific": 1, "data confusion": 1}
    bundle = profile._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "application/vnd.provkernel.crashes+json"}
    assert bundle["application/vnd.provkernel.crashes+json"]["crash_types"] == {
        "key error": 1,
        "variable not found": 1,
    }
