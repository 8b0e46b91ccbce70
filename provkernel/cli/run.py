"""``provkernel run NOTEBOOK``: execute a notebook headless on the prov kernel and summarise what was recorded."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from provkernel.errors import UsageError

HELP = "execute a notebook headless on the prov kernel (papermill-style parameters) and record its provenance"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``provkernel run``."""
    parser.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file to execute")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the executed notebook here")
    from provkernel.parameters import add_parameter_options

    add_parameter_options(parser, "set a parameter")
    parser.add_argument("--kernel", default="provkernel", help="kernel name (default: provkernel)")
    parser.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="per-cell timeout in seconds"
    )
    parser.add_argument("--allow-errors", action="store_true", help="keep going after a failing cell")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def read_notebook(path: str):
    """Read and validate a notebook, or raise a one-line usage error."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise UsageError(f"no such notebook: {path}") from None
    except (OSError, ValueError, nbformat.reader.NotJSONError) as exc:
        raise UsageError(f"cannot read {path} as a notebook: {str(exc).splitlines()[0]}") from None
    nbformat.validator.normalize(nb)
    return nb


def run(args: argparse.Namespace) -> int:
    """Execute, write the output notebook, print a summary; exit 1 if a cell failed."""
    from provkernel.headless import execute_notebook
    from provkernel.parameters import inject_parameters, merge_parameters

    nb = read_notebook(args.notebook)
    parameters = merge_parameters(args.file, args.yaml, args.parameter)
    nb = inject_parameters(nb, parameters)
    result = execute_notebook(
        nb, args.notebook, kernel_name=args.kernel, timeout=args.timeout, allow_errors=args.allow_errors
    )
    if args.output:
        import nbformat

        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(result.notebook, args.output)
    summary = summarise(result.path)
    summary.update(
        {
            "notebook": result.path,
            "output": args.output,
            "error": result.error,
            "failed_cell": result.failed_cell,
            "parameters": parameters,
        }
    )
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print_summary(summary)
    return 1 if result.error else 0


def summarise(notebook_path: str) -> dict:
    """What the latest epoch of the notebook recorded (empty when nothing was)."""
    from provkernel.store.database import StoreError
    from provkernel.store.queries import NotebookNotFound, Queries

    try:
        queries = Queries.open()
    except StoreError as exc:
        return {"recorded": False, "reason": str(exc)}
    try:
        notebook = queries.find_notebook(notebook_path)
        epoch = queries.epochs(notebook["id"])[-1]
        return {"recorded": True, "database": queries.path, **queries.epoch_summary(epoch["id"])}
    except (NotebookNotFound, IndexError):
        return {"recorded": False, "reason": "the kernel recorded nothing (is it the prov kernel?)"}
    finally:
        queries.close()


def print_summary(summary: dict) -> None:
    """A few lines for a terminal."""
    out = sys.stdout
    status = "failed: " + summary["error"] if summary.get("error") else "ok"
    print(f"{summary['notebook']}: {status}", file=out)
    if summary.get("error") and summary.get("failed_cell") is not None:
        print(f"  first failing code cell: index {summary['failed_cell']}", file=out)
    if not summary.get("recorded"):
        print(f"  provenance not recorded: {summary.get('reason')}", file=out)
        return
    print(
        f"  recorded epoch {summary['epoch']}: {summary['executions']} executions "
        f"({summary['errors']} failed), {summary['libraries']} libraries, {summary['data']} data sources",
        file=out,
    )
    if summary.get("output"):
        print(f"  executed notebook written to {summary['output']}", file=out)
    print(f"  database: {summary['database']}  (try: provkernel history {summary['notebook']})", file=out)
