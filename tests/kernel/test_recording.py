"""What the prov kernel records for a real notebook run headless (nbclient sending cell ids)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys

import pytest

from provkernel.headless import execute_notebook
from provkernel.store.schema import DEF, DELETE, UPDATE, USE
from tests.kernel.helpers import notebook, query

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

CELLS = [
    # 0: parameters and a secret
    "test_size = 0.25\nsolver = 'lbfgs'\napi_key = 'sk-123'\nimport os\nhome = os.environ.get('HOME')",
    # 1: imports (numpy unused)
    "import pandas as pd\nimport numpy as np\nimport matplotlib\nimport matplotlib.pyplot as plt",
    # 2: read a real CSV and change it in place
    "df = pd.read_csv('data.csv')\ndf.dropna(inplace=True)\nn_rows = len(df)",
    # 3: a derived value and a written file
    "ratio = n_rows * test_size\ndf.to_csv('clean.csv', index=False)\nratio",
    # 4: a figure
    "fig, ax = plt.subplots()\nax.plot(df['x'], df['y'])\nplt.show()",
    # 5: runtime-only definitions the static analysis cannot see
    "globals()['hidden'] = 41\nexec('made_by_exec = hidden + 1')\ndel api_key\ndf.drop(columns=['y'], inplace=True)",
    # 6: an error
    "undefined_thing + 1",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory):
    """Run the notebook once; return (db, nb, notebook path, data dir)."""
    work = tmp_path_factory.mktemp("recording")
    db = work / "prov.sqlite"
    (work / "data.csv").write_text("x,y\n1,2\n2,\n3,5\n4,9\n")
    nb = notebook(*CELLS)
    path = work / "analysis.ipynb"
    mp = pytest.MonkeyPatch()
    mp.setenv("PROVKERNEL_DB", str(db))
    try:
        result = execute_notebook(nb, path, allow_errors=True, timeout=120)
    finally:
        mp.undo()
    assert result.error is None
    return db, nb, path, work


def _executions(db):
    return query(
        db,
        "SELECT id, count, cell_id, code_hash, status, started, ended, ename, evalue, traceback "
        "FROM executions ORDER BY id",
    )


def _symbols(db, execution_id, kind):
    return dict(
        query(
            db,
            "SELECT n.name, COALESCE(s.value, s.source) FROM symbols s JOIN names n ON n.id = s.name_id "
            "WHERE s.execution_id = ? AND s.kind = ?",
            execution_id,
            kind,
        )
    )


def test_epoch_facts(recorded):
    db, _, path, work = recorded
    (nb_path,) = query(db, "SELECT path FROM notebooks")[0]
    assert nb_path == str(path)
    row = query(
        db,
        "SELECT number, python, ipython, ipykernel, executable, cwd, kernel, hostname, os, started, ended "
        "FROM epochs",
    )[0]
    number, python, ipython, ipykernel, executable, cwd, kernel, hostname, os_name, started, ended = row
    assert number == 1
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    assert ipython == importlib.metadata.version("ipython")
    assert ipykernel == importlib.metadata.version("ipykernel")
    assert executable == sys.executable
    assert cwd == str(work)
    assert kernel == "provkernel"
    assert hostname and os_name
    assert ended is not None and ended >= started  # clean shutdown closed the epoch


def test_executions_carry_cell_ids_counts_code_and_timing(recorded):
    db, nb, _, _ = recorded
    rows = _executions(db)
    assert [r[1] for r in rows] == list(range(1, len(CELLS) + 1))
    assert [r[2] for r in rows] == [cell.id for cell in nb.cells]
    for row, cell in zip(rows, nb.cells, strict=True):
        (code,) = query(db, "SELECT text FROM code WHERE hash = ?", row[3])[0]
        assert code == cell.source
        assert row[6] >= row[5]
    assert [r[4] for r in rows] == ["ok"] * 6 + ["error"]
    assert rows[-1][7:9] == ("NameError", "name 'undefined_thing' is not defined")
    assert "undefined_thing" in "".join(json.loads(rows[-1][9]))


def test_static_facts_are_stored_once_per_code(recorded):
    db, _, _, _ = recorded
    facts = {h: json.loads(f) for h, f in query(db, "SELECT hash, facts FROM code")}
    by_code = {json.dumps(sorted(f["defined"])): f for f in facts.values()}
    params = next(f for f in facts.values() if "test_size" in f["defined"])
    assert ["test_size", "0.25"] in params["parameters"] and ["solver", "'lbfgs'"] in params["parameters"]
    imports = next(f for f in facts.values() if "pd" in f["defined"])
    assert ["pandas", None, "pd", 1] in imports["imports"]
    assert ["matplotlib.pyplot", None, "plt", 4] in imports["imports"]
    reader = next(f for f in facts.values() if "n_rows" in f["defined"])
    assert reader["free"] == ["pd"]
    assert ["df", "dropna", 2] in reader["updates"]
    assert by_code


def test_lineage_resolves_reads_to_the_defining_execution(recorded):
    db, _, _, _ = recorded
    ids = [r[0] for r in _executions(db)]
    uses_ratio = _symbols(db, ids[3], USE)
    assert uses_ratio == {"n_rows": ids[2], "test_size": ids[0], "df": ids[2]}
    # dropna in the cell that defined df is part of that definition; to_csv only reads df;
    # the drop in cell 6 updates the version of df that cell 3 wrote
    updates = query(
        db,
        "SELECT x.count, s.source FROM symbols s JOIN names n ON n.id = s.name_id "
        "JOIN executions x ON x.id = s.execution_id WHERE s.kind = ? AND n.name = 'df'",
        UPDATE,
    )
    assert updates == [(6, ids[2])]
    # the figure cell reads df as last written by cell 2 and plt from the import cell
    uses_fig = _symbols(db, ids[4], USE)
    assert uses_fig["df"] == ids[2] and uses_fig["plt"] == ids[1]


def test_runtime_definitions_and_deletions_are_seen(recorded):
    db, _, _, _ = recorded
    ids = [r[0] for r in _executions(db)]
    defs = _symbols(db, ids[5], DEF)
    assert defs["hidden"] == "41" and defs["made_by_exec"] == "42"
    assert "api_key" in _symbols(db, ids[5], DELETE)


def test_values_are_recorded_and_secrets_redacted(recorded):
    db, _, _, _ = recorded
    ids = [r[0] for r in _executions(db)]
    defs = _symbols(db, ids[0], DEF)
    assert defs["test_size"] == "0.25" and defs["solver"] == "'lbfgs'"
    assert defs["api_key"] == "<redacted>"
    assert defs["home"] == "<redacted>"  # read from os.environ
    assert _symbols(db, ids[2], DEF)["n_rows"] == "3"
    assert _symbols(db, ids[3], DEF)["ratio"] == "0.75"


def test_libraries_with_versions_from_the_kernel_environment(recorded):
    db, _, _, _ = recorded
    libs = {
        name: (dist, version, kind)
        for name, dist, version, kind in query(db, "SELECT name, distribution, version, kind FROM libraries")
    }
    assert libs["pandas"] == ("pandas", importlib.metadata.version("pandas"), "direct")
    assert libs["matplotlib"][1] == importlib.metadata.version("matplotlib")
    assert libs["numpy"][2] == "direct"
    assert (
        libs["dateutil"][0] == "python-dateutil" and libs["dateutil"][2] == "indirect"
    )  # pulled in by pandas
    assert libs["os"][2] == "stdlib"
    assert "IPython" not in libs and "provkernel" not in libs


def test_data_files_read_and_written_with_hashes(recorded):
    db, _, _, work = recorded
    rows = query(
        db,
        "SELECT d.location, a.mode, a.size, a.hash, x.count FROM data_access a "
        "JOIN data_sources d ON d.id = a.source_id JOIN executions x ON x.id = a.execution_id",
    )
    by_file = {(r[0], r[1]): r for r in rows}
    data = work / "data.csv"
    read = by_file[(str(data), "read")]
    assert read[2] == data.stat().st_size
    assert read[3] == "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest()
    assert read[4] == 3
    written = by_file[(str(work / "clean.csv"), "write")]
    assert written[3] == "sha256:" + hashlib.sha256((work / "clean.csv").read_bytes()).hexdigest()
    assert all("site-packages" not in r[0] and "zoneinfo" not in r[0] for r in rows)


def test_rich_outputs_have_mime_types_and_hashes(recorded):
    db, nb, _, _ = recorded
    from provkernel.capture.outputs import content_hash

    png = next(o["data"]["image/png"] for o in nb.cells[4].outputs if "image/png" in o.get("data", {}))
    rows = query(
        db,
        "SELECT x.count, o.mime FROM outputs o JOIN executions x ON x.id = o.execution_id WHERE o.hash = ?",
        content_hash(png),
    )
    assert rows == [(5, "image/png")]
    (mimes,) = query(
        db,
        "SELECT group_concat(mime) FROM outputs o JOIN executions x ON x.id = o.execution_id "
        "WHERE x.count = 4",
    )[0]
    assert "text/plain" in mimes  # `ratio` was the cell's execute_result


def test_database_file_is_private(recorded):
    db, _, _, _ = recorded
    assert db.stat().st_mode & 0o777 == 0o600
