"""Tasks for the fork-server tests (importable by the template and its children)."""

from __future__ import annotations

import os
import time

SETUP_SECONDS = 0.3
STATE: dict = {}


def setup() -> None:
    time.sleep(SETUP_SECONDS)  # stands for loading data
    STATE["data"] = list(range(1000))


def failing_setup() -> None:
    1 / 0  # noqa: B018 - the failure is the point


def task(kind: str):
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    if kind == "exit":
        os._exit(3)
    if kind == "hang":
        time.sleep(120)
    if kind == "raise":
        raise ValueError("boom")
    if kind == "hog":
        bytearray(2 << 30)
    if kind == "mutate":
        STATE["data"] = []
        return sum(STATE["data"])
    return sum(STATE["data"])
