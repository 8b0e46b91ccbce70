"""``provkernel demo``: run the example notebooks on the prov kernel and show what was recorded."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from provkernel.errors import UsageError

HELP = "run the example notebooks on the prov kernel and show what was recorded"
EXAMPLE_PACKAGES = ("pandas", "sklearn", "matplotlib")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``provkernel demo``."""
    parser.add_argument(
        "--workdir", type=Path, help="where to run (default: a new temporary directory, kept)"
    )


def examples_dir() -> Path:
    """The example notebooks: inside the installed package, or beside it in a source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "examples", package.parent / "examples"):
        if (candidate / "quickstart.ipynb").exists():
            return candidate
    raise UsageError("the example notebooks are missing from this installation; reinstall provkernel")


def check_requirements() -> None:
    """The examples use pandas, scikit-learn and matplotlib (the ``examples`` extra)."""
    missing = [name for name in EXAMPLE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f'the demo needs {", ".join(missing)}: pip install "provkernel[examples]" (or pip install -e ".[examples]")'
        )
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("provkernel")
    except NoSuchKernel:
        from provkernel.install import install

        print(f"installed the Python (prov) kernelspec in {install()}")


def run(args: argparse.Namespace) -> int:
    """Run the demo steps, printing each result."""
    from rich.console import Console
    from rich.rule import Rule

    check_requirements()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="provkernel-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "provenance.sqlite"
    os.environ["PROVKERNEL_DB"] = str(db)  # the demo keeps its own database
    console = Console()
    for step in demo_steps(examples_dir(), workdir):
        console.print(Rule(step.title, align="left"))
        for renderable in step.run():
            console.print(renderable)
    console.print(Rule("explore", align="left"))
    console.print(
        f"Everything above is in {db}.\nTry: PROVKERNEL_DB={db} provkernel status\n"
        f"Open {workdir / 'quickstart.ipynb'} in JupyterLab with the 'Python (prov)' kernel and run %prov status."
    )
    return 0


class Step:
    """One demo step: a title and a function yielding renderables."""

    def __init__(self, title: str, run) -> None:
        self.title, self.run = title, run


def demo_steps(examples: Path, workdir: Path) -> list[Step]:
    """The steps, in order (grows as features land)."""
    notebook = workdir / "quickstart.ipynb"
    shutil.copy(examples / "quickstart.ipynb", notebook)
    return [
        Step(
            "1. run quickstart.ipynb on the prov kernel (epoch 1, default parameters)",
            lambda: run_notebook(notebook, {}),
        ),
        Step(
            "2. run it again with other parameters (epoch 2: test_size=0.4, n_estimators=5)",
            lambda: run_notebook(notebook, {"test_size": 0.4, "n_estimators": 5}),
        ),
        Step("3. what the database holds", lambda: [status_report()]),
    ]


def run_notebook(path: Path, parameters: dict) -> list:
    from provkernel.cli.run import read_notebook, summarise
    from provkernel.headless import execute_notebook
    from provkernel.parameters import inject_parameters

    nb = inject_parameters(read_notebook(str(path)), parameters)
    result = execute_notebook(nb, path, timeout=600)
    summary = summarise(result.path)
    status = f"failed: {result.error}" if result.error else "ok"
    return [
        (
            f"{path.name}: {status}; epoch {summary.get('epoch')}: {summary.get('executions')} executions, "
            f"{summary.get('libraries')} libraries, {summary.get('data')} data sources recorded"
        )
    ]


def status_report():
    from provkernel.reports import ReportContext, report_module
    from provkernel.store.queries import Queries

    queries = Queries.open()
    try:
        return report_module("status").build(ReportContext(queries), argparse.Namespace())
    finally:
        queries.close()
