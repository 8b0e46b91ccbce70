"""Argument parsing shared by the CLI and the magics: errors are one line, never an exit or traceback."""

from __future__ import annotations

import argparse

from provkernel.errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` with a one-line message instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if status:
            raise UsageError(message.strip() if message else f"{self.prog}: invalid arguments")
        raise HelpShown(message or "")


class HelpShown(Exception):
    """``--help`` was asked for; the help text has been printed."""
