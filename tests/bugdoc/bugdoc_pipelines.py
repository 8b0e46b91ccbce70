"""Picklable evaluation functions for the BugDoc tests (process pools and Dask import them by name)."""

from __future__ import annotations

import os
import signal
import time


def lbfgs_l1(instance: dict) -> bool:
    """Fails iff solver = 'lbfgs' and penalty = 'l1'."""
    return not (instance["solver"] == "lbfgs" and instance["penalty"] == "l1")


def raises(instance: dict) -> bool:
    """Raises ValueError when solver = 'lbfgs' and penalty = 'l1' (a crash of the user's pipeline)."""
    if instance["solver"] == "lbfgs" and instance["penalty"] == "l1":
        raise ValueError("Solver lbfgs supports only 'l2' or None penalties, got l1 penalty.")
    return True


def segfaults(instance: dict) -> bool:
    """Kills its own process with SIGSEGV when solver = 'lbfgs' and penalty = 'l1'."""
    if instance["solver"] == "lbfgs" and instance["penalty"] == "l1":
        os.kill(os.getpid(), signal.SIGSEGV)
    return True


def hangs(instance: dict) -> bool:
    """Sleeps far past any test timeout when solver = 'lbfgs' and penalty = 'l1'."""
    if instance["solver"] == "lbfgs" and instance["penalty"] == "l1":
        time.sleep(60)
    return True


def slow(instance: dict) -> bool:
    """Every instance takes a while (for interrupt tests)."""
    time.sleep(2)
    return not (instance["solver"] == "lbfgs" and instance["penalty"] == "l1")
