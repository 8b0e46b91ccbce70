"""``crashes``: the user's own crash profile by root cause, crash type and library (the paper's tables)."""

from __future__ import annotations

import argparse

from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.profile import CrashProfile, crash_profile
from provkernel.errors import UsageError
from provkernel.reports import ReportContext
from provkernel.store.history import diagnoses

HELP = "crash profile: diagnosed crashes by root cause, crash type and library (NOTEBOOK, or --all)"
NEEDS_NOTEBOOK = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--all``: every notebook in the database."""
    parser.add_argument("--all", action="store_true", help="all notebooks in the database")


def build(context: ReportContext, args: argparse.Namespace) -> CrashProfile:
    """The profile of the notebook's diagnosed crashes (or of every notebook's with ``--all``)."""
    if args.all:
        notebook_id = None
    elif context.notebook is not None:
        notebook_id = context.notebook["id"]
    else:
        raise UsageError("name a notebook or pass --all: provkernel crashes NOTEBOOK.ipynb | --all")
    return crash_profile(Diagnosis.from_json(d) for d in diagnoses(context.queries, notebook_id))
