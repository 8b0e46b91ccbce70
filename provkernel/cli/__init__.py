"""The ``provkernel`` command: a thin dispatcher over one module per subcommand.

Each module in :data:`COMMANDS` defines ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Modules import heavy dependencies inside ``run`` so that
``provkernel --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from provkernel.argparsing import HelpShown, OneLineParser
from provkernel.errors import UsageError

COMMANDS: dict[str, str] = {
    "install": "provkernel.cli.install",
    "run": "provkernel.cli.run",
    "demo": "provkernel.cli.demo",
    "scan": "provkernel.cli.scan",
    "bugdoc": "provkernel.cli.bugdoc",
}


def build_parser(commands: dict[str, str] = COMMANDS) -> OneLineParser:
    """The top-level parser with one subparser per available command."""
    parser = OneLineParser(
        prog="provkernel",
        description="Python (prov): record the provenance of notebook executions, diagnose crashes, find root causes.",
    )
    from provkernel import __version__

    parser.add_argument("--version", action="version", version=f"provkernel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, module_name in commands.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not written yet in this checkout
                continue
            raise
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    from provkernel.cli.reports import add_report_commands

    add_report_commands(sub, OneLineParser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``provkernel`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except HelpShown:
        return 0
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("provkernel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `provkernel history nb.ipynb --json | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
