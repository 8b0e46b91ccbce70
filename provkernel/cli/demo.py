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
    notebook = workdir / "quickstart.ipynb"
    console.print(
        f"Everything above is in {db}. From a shell:\n"
        f"  export PROVKERNEL_DB={db}\n"
        f"  provkernel graph {notebook} --var accuracy     # the cells accuracy depends on\n"
        f"  provkernel env {notebook}                      # interpreter and kernel per epoch\n"
        f"  provkernel crashes --all                        # your crash profile\n"
        f"  provkernel export {notebook} prov.json          # W3C PROV\n"
        f"In JupyterLab, open {notebook} with the 'Python (prov)' kernel and try %provgraph, %prov history, "
        "%bugdoc."
    )
    return 0


class Step:
    """One demo step: a title and a function yielding renderables."""

    def __init__(self, title: str, run) -> None:
        self.title, self.run = title, run


def demo_steps(examples: Path, workdir: Path) -> list[Step]:
    """The steps, in order."""
    quickstart = workdir / "quickstart.ipynb"
    logreg = workdir / "bugdoc_solver_penalty.ipynb"
    for path in (quickstart, logreg):
        shutil.copy(examples / path.name, path)
    return [
        Step(
            "1. run quickstart.ipynb on the prov kernel (epoch 1, default parameters)",
            lambda: run_notebook(quickstart, {}),
        ),
        Step(
            "2. run it again with other parameters (epoch 2: test_size=0.4, n_estimators=5)",
            lambda: run_notebook(quickstart, {"test_size": 0.4, "n_estimators": 5}),
        ),
        Step("3. provkernel history quickstart.ipynb", lambda: [report("history", quickstart)]),
        Step(
            "4. provkernel values accuracy quickstart.ipynb: a result across epochs, with its parameters",
            lambda: [report("values", quickstart, "accuracy")],
        ),
        Step(
            "5. provkernel imports quickstart.ipynb --epoch 2: versions, use counts, unused imports",
            lambda: [report("imports", quickstart, "--epoch", "2")],
        ),
        Step(
            "6. provkernel data quickstart.ipynb: files read and written, with content hashes",
            lambda: [report("data", quickstart)],
        ),
        Step(
            "7. provkernel graph quickstart.ipynb --format text: what depends on what",
            lambda: [report("graph", quickstart, "--format", "text")],
        ),
        Step(
            "8. a crash, diagnosed with the ML-notebook crash taxonomy (run bugdoc_solver_penalty.ipynb)",
            lambda: crash_diagnosis(logreg),
        ),
        Step(
            "9. provkernel bugdoc bugdoc_solver_penalty.ipynb: the minimal combination that makes it fail",
            lambda: [bugdoc(logreg)],
        ),
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


def report(name: str, notebook: Path, *argv: str):
    """A report exactly as ``provkernel NAME NOTEBOOK ARGV`` builds it."""
    from provkernel.argparsing import OneLineParser
    from provkernel.reports import ReportContext, report_module
    from provkernel.store.queries import Queries

    module = report_module(name)
    parser = OneLineParser(prog=f"provkernel {name}")
    module.add_arguments(parser)
    queries = Queries.open()
    try:
        return module.build(
            ReportContext(queries, queries.find_notebook(str(notebook))), parser.parse_args(argv)
        )
    finally:
        queries.close()


def crash_diagnosis(path: Path) -> list:
    """Run a failing notebook and show the diagnosis the kernel put under its traceback."""
    from provkernel.cli.run import read_notebook
    from provkernel.crashes.render import MIME_TYPE
    from provkernel.headless import execute_notebook

    nb = read_notebook(str(path))
    result = execute_notebook(nb, path, timeout=600)
    shown = [f"{path.name}: {result.error}"]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if MIME_TYPE in output.get("data", {}):
                shown.append(output["data"]["text/plain"])
    return shown


def bugdoc(path: Path):
    from provkernel.bugdoc.notebook.offline import bugdoc_notebook
    from provkernel.bugdoc.notebook.session import Options

    declared = {
        "solver": ["lbfgs", "liblinear", "saga", "newton-cg"],
        "penalty": ["l1", "l2"],
        "C": [0.1, 1.0],
    }
    return bugdoc_notebook(str(path), Options(declared=declared))
