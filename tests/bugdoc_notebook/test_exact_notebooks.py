"""`provkernel bugdoc` on small real notebooks, checked against every combination run by hand."""

from __future__ import annotations

import json

import pytest

from tests.bugdoc.brute import check_exact, instances
from tests.bugdoc_notebook.real_notebooks import IMPUTE, LOGREG, PANDAS, RealNotebook
from tests.bugdoc_notebook.test_bugdoc_notebooks import bugdoc_cli

pytest.importorskip("sklearn")


def bugdoc(nb: RealNotebook, folder, *extra: str) -> dict:
    return bugdoc_cli(nb.write(folder), *nb.cli_args(), *extra)


@pytest.mark.parametrize(
    ("nb", "algorithm"),
    [(LOGREG, "stacked"), (IMPUTE, "stacked"), (IMPUTE, "shortcut"), (IMPUTE, "ddt"), (PANDAS, "stacked")],
    ids=lambda x: x.name if isinstance(x, RealNotebook) else x,
)
def test_findall_equals_brute_force(prov_db, tmp_path, nb, algorithm):
    truth = {json.dumps(i, sort_keys=True): nb.fails(i) for i in instances(nb.space)}
    assert any(truth.values()) and not all(truth.values()), "the notebook must both fail and succeed"
    found = bugdoc(nb, tmp_path, "--algorithm", algorithm)
    check_exact(nb.space, lambda i: truth[json.dumps(i, sort_keys=True)], found)
    # every instance %bugdoc ran (in forks of a warm template, values substituted) behaved as by hand
    for row in found["instances"]:
        assert row["succeeded"] != truth[json.dumps(row["instance"], sort_keys=True)], row
    assert found["new_instances"] + found["history"]["provenance"] <= nb.size()
    assert found["status"] == "definitive" and not found["unexplained"]
