"""The engine is pure: it imports and runs with IPython, Jupyter and SQLite made unimportable."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

BLOCKED = (
    "IPython",
    "ipykernel",
    "traitlets",
    "jupyter_client",
    "jupyter_core",
    "nbformat",
    "nbclient",
    "sqlite3",
    "zmq",
)

SCRIPT = textwrap.dedent(
    """
    import json, sys

    BLOCKED = {blocked!r}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED or name == "_sqlite3":
                raise ImportError(f"{{name}} is blocked in this test")
            return None

    sys.meta_path.insert(0, Block())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]

    from provkernel.bugdoc import find_root_causes
    from provkernel.bugdoc.engine import ddt, execute, explain, predicates, report, search, shortcut
    from provkernel.bugdoc.engine import space, synthetic, tester

    try:
        import IPython  # noqa: F401
        blocked = False
    except ImportError:
        blocked = True
    space = {{"solver": ["lbfgs", "saga", "sag"], "penalty": ["l1", "l2"], "C": [0.1, 1.0]}}
    fails = lambda i: i["solver"] == "lbfgs" and i["penalty"] == "l1"
    history = [({{"solver": "lbfgs", "penalty": "l1", "C": 1.0}}, False)]
    result = find_root_causes(space, lambda i: not fails(i), history=history, goal="all", algorithm="ddt")
    loaded = sorted({{n.split(".")[0] for n in sys.modules}} & set(BLOCKED))
    print(json.dumps({{"blocked": blocked, "explanation": result.explanation, "loaded": loaded}}))
    """
)


def test_the_engine_imports_and_runs_without_ipython_jupyter_or_sqlite():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(blocked=BLOCKED)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["blocked"], "the import blocker did not work, so the test proves nothing"
    assert out["explanation"] == "solver = 'lbfgs' ∧ penalty = 'l1'"
    assert out["loaded"] == []
