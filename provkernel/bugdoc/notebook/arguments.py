"""Arguments of ``%bugdoc`` and ``provkernel bugdoc``, and turning them into :class:`~provkernel.bugdoc.notebook.session.Options`."""

from __future__ import annotations

import argparse
import re
from typing import Any

from provkernel.bugdoc.notebook.session import DEFAULT_TIMEOUT_S, Options, default_workers
from provkernel.bugdoc.notebook.versions import from_yaml as versions_from_yaml
from provkernel.bugdoc.notebook.versions import parse_spec
from provkernel.errors import UsageError
from provkernel.parameters import add_parameter_options, load_yaml, resolve_value

SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def memory_size(text: str) -> int:
    """``"4G"`` → bytes."""
    match = SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 512M or 4G")
    number, unit = float(match[1]), match[2].lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def add_arguments(parser: argparse.ArgumentParser, *, cli: bool = False) -> None:
    """The options both ``%bugdoc`` and ``provkernel bugdoc`` take."""
    target_help = (
        "the code cell to explain, as a 0-based code-cell index (default: the first cell that fails)"
        if cli
        else "the execution to explain: its execution count or cell id (default: the last failure)"
    )
    parser.add_argument("--target", metavar="CELL", help=target_help)
    add_parameter_options(parser, "values to try; declared parameters are the only ones varied")
    parser.add_argument(
        "--check", metavar="EXPR", help="a result check after the target: a falsy value is a failure"
    )
    parser.add_argument(
        "--same-error", action="store_true", help="only the target's exception type is a failure"
    )
    parser.add_argument("--algorithm", choices=("stacked", "shortcut", "ddt"), default="stacked")
    parser.add_argument(
        "--goal",
        choices=("one", "all"),
        default="all",
        help="all minimal causes (default), or stop at the first one",
    )
    parser.add_argument("--budget", type=int, metavar="N", help="most new instances to run")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), metavar="N", help="instances at once"
    )
    parser.add_argument(
        "--executor", metavar="dask|tcp://HOST:PORT", help="run instances on Dask (no warm start)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds one instance may run (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--memory-limit", type=memory_size, metavar="SIZE", help="address space per instance, e.g. 4G"
    )
    parser.add_argument(
        "--cold", action="store_true", help="no warm start: every instance runs the whole slice"
    )
    parser.add_argument(
        "--vary-package",
        action="append",
        default=[],
        metavar="NAME==V1,V2",
        help="package versions to try, each in its own cached environment (repeatable)",
    )
    parser.add_argument(
        "--find-links", action="append", default=[], metavar="DIR", help="where to find those packages too"
    )
    parser.add_argument(
        "--no-index", action="store_true", help="install those packages from --find-links only"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def declared_values(
    args: argparse.Namespace, cell: str | None = None, packages: dict | None = None
) -> dict[str, list[Any]]:
    """Declared parameter values, merged in papermill's order (files, YAML, -p) plus a ``%%bugdoc`` body.

    In YAML a list is a list of values to try; a single value is one value. A ``packages:`` mapping
    declares package versions instead (``packages: {scikit-learn: ['1.5.2', '1.6.1']}``), added to
    ``packages``.
    """
    declared: dict[str, list[Any]] = {}
    packages = {} if packages is None else packages

    def add(name: str, values: Any) -> None:
        if not str(name).isidentifier():
            raise UsageError(f"{name!r} is not a parameter name")
        for value in values if isinstance(values, list) else [values]:
            declared.setdefault(str(name), []).append(value)

    def add_package(_: str, value: Any) -> None:
        for name, versions in versions_from_yaml(value).items():
            packages.setdefault(name, []).extend(versions)

    from pathlib import Path

    for path in args.file:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        for name, values in load_yaml(text, path).items():
            (add_package if name == "packages" else add)(name, values)
    for text in args.yaml + ([cell] if cell and cell.strip() else []):
        for name, values in load_yaml(text, "%%bugdoc cell" if text is cell else "-y").items():
            (add_package if name == "packages" else add)(name, values)
    for name, value in args.parameter:
        add(name, resolve_value(value))
    return declared


def options_from(args: argparse.Namespace, cell: str | None = None) -> Options:
    """Options from parsed arguments."""
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.budget is not None and args.budget < 0:
        raise UsageError("--budget must be 0 or more")
    if args.check:
        try:
            compile(args.check, "--check", "eval")
        except SyntaxError as exc:
            raise UsageError(f"--check {args.check!r} is not a Python expression ({exc.msg})") from None
    packages: dict = {}
    for spec in args.vary_package:
        name, versions = parse_spec(spec)
        packages.setdefault(name, []).extend(versions)
    declared = declared_values(args, cell, packages)
    index_args = [a for d in args.find_links for a in ("--find-links", d)] + ["--no-index"] * args.no_index
    return Options(
        target=args.target,
        declared=declared,
        packages={n: list(dict.fromkeys(vs)) for n, vs in packages.items()},
        index_args=index_args,
        check=args.check,
        same_error=args.same_error,
        algorithm=args.algorithm,
        goal=args.goal,
        budget=args.budget,
        workers=args.workers,
        executor=args.executor,
        timeout=args.timeout if args.timeout and args.timeout > 0 else None,
        memory_limit=args.memory_limit,
        cold=args.cold,
        seed=args.seed,
    )
