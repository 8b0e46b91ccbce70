"""`%bugdoc --vary-package`: a package's versions as a parameter, each version in its own cached environment.

Two versions of a small package are built as wheels in the test (no network): the kernel has 1.0 (on its
PYTHONPATH), 2.0 is installed from the local wheel folder into an overlay environment beside the database.
"""

from __future__ import annotations

from tests.bugdoc_notebook.test_bugdoc_notebooks import report_of
from tests.kernel.helpers import Kernel, build_wheel, write_package

V1 = "def compute(mode):\n    return 1\n"
V2 = (
    "def compute(mode):\n"
    "    if mode == 'legacy':\n"
    "        raise ValueError('legacy mode was removed in 2.0')\n"
    "    return 2\n"
)
CELL = (
    "import importlib.metadata, tinylib\n"
    "assert importlib.metadata.version('tinylib') == tinylib.__version__, 'metadata and module disagree'\n"
    "result = tinylib.compute(mode)"
)


def test_a_package_version_is_a_parameter_and_its_environment_is_reused(prov_db, tmp_path):
    wheels = tmp_path / "wheels"
    for version, body in (("1.0", V1), ("2.0", V2)):
        build_wheel(wheels, "tinylib", version, body)
    site = tmp_path / "site"
    write_package(site, "tinylib", "1.0", V1)
    index = f"--find-links {wheels} --no-index"
    with Kernel(cwd=tmp_path, env={"PYTHONPATH": str(site)}) as k:
        k.execute("# Parameters\nmode = 'fast'")
        assert k.execute(CELL).status == "ok"
        first = report_of(
            k.execute(
                f"%bugdoc --target 2 --check 'result > 0' --vary-package tinylib==2.0 -p mode legacy {index}"
            )
        )
        second = report_of(
            k.execute(
                f"%%bugdoc --target 2 --check 'result > 0' {index}\nmode: [legacy]\npackages:\n  tinylib: ['2.0']"
            )
        )
        broken = k.execute(f"%bugdoc --target 2 --vary-package tinylib==9.9 -p mode legacy {index}")
        still = k.execute("import tinylib; tinylib.__version__")
    assert first["explanation"] == "tinylib = 2.0 ∧ mode = 'legacy'", first["explanation"]
    assert first["status"] == "definitive"
    outcomes = {(r["instance"]["tinylib"], r["instance"]["mode"]): r for r in first["instances"]}
    assert set(outcomes) == {("1.0", "fast"), ("1.0", "legacy"), ("2.0", "fast"), ("2.0", "legacy")}
    assert outcomes[("2.0", "legacy")]["detail"].endswith("ValueError: legacy mode was removed in 2.0")
    assert all(outcomes[k]["succeeded"] for k in outcomes if k != ("2.0", "legacy"))  # metadata agreed
    assert first["run"]["environments"]["tinylib==2.0"]["reused"] is False
    assert (prov_db.parent / "bugdoc-envs").is_dir()
    # the YAML space names the same versions: the environment and the instances are reused
    assert second["explanation"] == first["explanation"]
    assert second["run"]["environments"]["tinylib==2.0"]["reused"] is True
    assert second["new_instances"] == 0
    # no such version: one line that says so
    assert broken.status == "error" and broken.error is None
    message = broken.stderr().strip().splitlines()
    assert len(message) == 1 and message[0].startswith(
        "UsageError: cannot build an environment for tinylib==9.9"
    )
    assert still.data("text/plain") == ["'1.0'"]  # the kernel itself never changed version
