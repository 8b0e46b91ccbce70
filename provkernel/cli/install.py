"""``provkernel install``: register "Python (prov)" with Jupyter for this interpreter."""

from __future__ import annotations

import argparse

from provkernel.errors import UsageError

HELP = "install the Python (prov) kernelspec pointing at this Python (--uninstall removes it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options mirror ``python -m ipykernel install``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--user",
        dest="scope",
        action="store_const",
        const="user",
        help="install for the current user (~/.local/share/jupyter)",
    )
    where.add_argument(
        "--sys-prefix",
        dest="scope",
        action="store_const",
        const="sys-prefix",
        help="install into this environment's prefix (default inside a virtualenv)",
    )
    where.add_argument("--prefix", metavar="P", help="install into the prefix P")
    parser.add_argument("--name", default="provkernel", help="kernel name (default: provkernel)")
    parser.add_argument("--display-name", default="Python (prov)", help="name shown in Jupyter")
    parser.add_argument("--uninstall", action="store_true", help="remove the kernelspec named --name")


def run(args: argparse.Namespace) -> int:
    """Install or remove the kernelspec and say where."""
    from provkernel.install import install, uninstall

    if not args.name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UsageError(f"--name {args.name!r}: use letters, digits, '-', '_' or '.'")
    if args.uninstall:
        try:
            print(f"removed kernelspec {args.name} from {uninstall(args.name)}")
        except LookupError as exc:
            raise UsageError(str(exc)) from None
        return 0
    try:
        path = install(args.name, args.display_name, args.scope, args.prefix)
    except PermissionError as exc:
        raise UsageError(
            f"cannot write the kernelspec ({exc.strerror}): try --user or --sys-prefix"
        ) from None
    print(f"installed kernelspec {args.name} ({args.display_name}) in {path}")
    return 0
