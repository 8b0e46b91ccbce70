"""`provkernel bugdoc NOTEBOOK --target N` names the N-th code cell whatever the notebook looks like."""

from __future__ import annotations

import json

import nbformat

from tests.bugdoc_notebook.test_bugdoc_notebooks import run_cli

PARAMETERS = "# Parameters\nmode = 'a'\nsize = 2"
DIVIDE = "value = data[0] / (0 if mode == 'b' and size > 1 else 1)"


def test_markdown_first_and_numeric_cell_ids(prov_db, tmp_path):
    """The report that prompted issue 12: cell ids such as '5' were read as execution counts."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Divide"),
        nbformat.v4.new_code_cell(PARAMETERS.replace("'a'", "'b'"), metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("data = list(range(1, size + 1))"),
        nbformat.v4.new_code_cell("print('loaded')"),
        nbformat.v4.new_code_cell(DIVIDE),  # code cell 3
        nbformat.v4.new_code_cell("print(value)"),
    ]
    for number, cell in enumerate(nb.cells, 1):
        cell.id = str(number)
    path = tmp_path / "numeric_ids.ipynb"
    nbformat.write(nb, path)
    done = run_cli(path, "--target", "3", "-p", "mode", "a", "-p", "size", "1")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["target"]["cell_id"] == "5" and found["target"]["ename"] == "ZeroDivisionError"
    assert found["explanation"] == "mode = 'b' ∧ size = 2"
    assert found["status"] == "definitive"


def test_no_ids_raw_and_injected_cells_and_a_target_after_another_failure(prov_db, tmp_path):
    """nbformat 4.4 (no cell ids), a raw cell, papermill's injected-parameters cell overriding the defaults,
    and an unrelated cell failing before the target: the target still runs and is the one explained."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Divide"),
        nbformat.v4.new_raw_cell("raw text"),
        nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("# Parameters\nmode = 'b'\n", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(undefined_name)"),  # fails first, unrelated to the target
        nbformat.v4.new_code_cell("data = list(range(1, size + 1))"),
        nbformat.v4.new_code_cell(DIVIDE),  # code cell 4
        nbformat.v4.new_code_cell("print(value)"),
    ]
    for cell in nb.cells:
        cell.pop("id", None)
    path = tmp_path / "v44.ipynb"
    path.write_text(nbformat.writes(nb, version=4))
    assert '"id"' not in path.read_text()
    done = run_cli(path, "--target", "4", "-p", "mode", "a", "-p", "size", "1")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["target"]["ename"] == "ZeroDivisionError"
    assert found["parameters"] == {"size": ["2", "1"], "mode": ["'b'", "'a'"]}  # 'b' from the injected cell
    assert found["explanation"] == "size = 2 ∧ mode = 'b'"
    assert [s["label"] for s in found["slice"]][-1] == "In [5]"


def test_a_target_out_of_range_is_a_one_line_usage_error(prov_db, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# x"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "short.ipynb"
    nbformat.write(nb, path)
    done = run_cli(path, "--target", "3")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["--target 3: give a code-cell index from 0 to 0"]
