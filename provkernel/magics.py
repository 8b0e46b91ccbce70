"""Magics: argument parsing and one call each; the work is in reports/, lineage, crashes/, bugdoc/."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from provkernel.argparsing import HelpShown, OneLineParser
from provkernel.errors import UsageError
from provkernel.reports import ReportContext, available_reports, report_module
from provkernel.store.database import StoreError
from provkernel.store.queries import Queries


def kernel_context(shell) -> ReportContext:
    """Reports' view from inside a kernel: this notebook, this epoch, the live recorder."""
    from provkernel.capture.extension import recorder_for

    recorder = recorder_for(shell)
    if recorder is None:
        raise UsageError("provkernel is not loaded in this kernel: run %load_ext provkernel")
    if recorder.writer is None:
        raise UsageError(f"provkernel is not recording: {recorder.disabled_reason}")
    recorder.flush()
    queries = Queries.open(recorder.db_path)
    notebook = None
    if recorder.notebook is not None:
        notebook = next((n for n in queries.notebooks() if n["path"] == recorder.notebook), None)
    return ReportContext(queries, notebook, recorder.epoch_id, recorder)


def parse(prog: str, add_arguments, argv: list[str]):
    """Parse ``argv`` for one report or command; errors become one-line usage errors."""
    parser = OneLineParser(prog=prog, add_help=True)
    add_arguments(parser)
    return parser.parse_args(argv)


@magics_class
class ProvMagics(Magics):
    """``%prov <report> [options]``: ask what the kernel recorded."""

    @line_magic
    def prov(self, line: str) -> None:
        """Show a provenance report: ``%prov status``, ``%prov history`` … (``%prov`` lists them)."""
        argv = self._split("%prov", line)
        if not argv or argv[0] in ("-h", "--help", "help"):
            print("usage: %prov REPORT [options]; reports: " + ", ".join(available_reports()))
            return
        self._show(argv[0], f"%prov {argv[0]}", argv[1:])

    @line_magic
    def provgraph(self, line: str) -> None:
        """Draw the notebook's dependency graph: ``%provgraph [--epoch N] [--at N] [--var NAME] [--slice CELL]
        [--data] [--format svg|mermaid|dot|json|text] [-o FILE]`` (``%provgraph --help``)."""
        self._show("graph", "%provgraph", self._split("%provgraph", line))

    @line_cell_magic
    def bugdoc(self, line: str, cell: str | None = None) -> None:
        """Find the minimal parameter combination behind a failure: reruns the cells it depends on, in worker
        processes, with other values. ``%bugdoc [--check EXPR] [-p NAME VALUE]…`` (``%bugdoc --help``); the body
        of ``%%bugdoc`` declares values in YAML (``solver: [lbfgs, saga]``)."""
        from provkernel.bugdoc import BugDocUsageError
        from provkernel.bugdoc.notebook import arguments
        from provkernel.bugdoc.notebook.in_kernel import run_bugdoc

        with own_io(self.shell):
            try:
                args = parse("%bugdoc", arguments.add_arguments, self._split("%bugdoc", line))
                options = arguments.options_from(args, cell)
                context = kernel_context(self.shell)
                try:
                    run_bugdoc(context, options, as_json=args.json)
                finally:
                    context.queries.close()
            except HelpShown:
                return
            except (UsageError, StoreError, BugDocUsageError) as exc:
                raise IPythonUsageError(str(exc)) from None

    @staticmethod
    def _split(prog: str, line: str) -> list[str]:
        try:
            return shlex.split(line)
        except ValueError as exc:
            raise IPythonUsageError(f"{prog}: {exc}") from None

    def _show(self, name: str, prog: str, argv: list[str]) -> None:
        with own_io(self.shell):
            self._build_and_show(name, prog, argv)

    def _build_and_show(self, name: str, prog: str, argv: list[str]) -> None:
        try:
            module = report_module(name)
            args = parse(prog, module.add_arguments, argv)
            context = kernel_context(self.shell)
            try:
                report = module.build(context, args)
            finally:
                context.queries.close()
        except HelpShown:
            return
        except (UsageError, StoreError) as exc:
            raise IPythonUsageError(str(exc)) from None
        display(report)


@contextlib.contextmanager
def own_io(shell) -> Iterator[None]:
    """While a provkernel magic runs, its own file reads and writes are not recorded as the cell's data."""
    from provkernel.capture.extension import recorder_for

    recorder = recorder_for(shell)
    if recorder is None:
        yield
        return
    with recorder.files.paused():
        yield


def register_magics(shell) -> None:
    """Register all provkernel magics with ``shell``."""
    shell.register_magics(ProvMagics)
