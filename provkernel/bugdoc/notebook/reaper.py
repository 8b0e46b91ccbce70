"""No orphans: every process a ``%bugdoc`` run starts dies with it, even when the kernel is SIGKILLed.

Three layers. The template and each instance's child ask the kernel (Linux) to kill them when their parent
dies (``PR_SET_PDEATHSIG``; see ``forkserver``), and the template also exits when its pipe to the kernel
closes. Neither reaches a process the user's code starts that calls ``os.setsid()`` (it leaves the process
group) or whose parent already died. So every process of a run carries a token in its environment
(:data:`TOKEN_ENV`, inherited by all descendants, ``setsid`` or not), and the run is registered in a file
beside the database with its owner's pid and start time. When the run ends, and at the start of every later
run, processes carrying the token of a run whose owner is gone (or that ended) are killed: after a SIGKILL of
the kernel, the next kernel to start on the database (or the next ``%bugdoc``, ``provkernel bugdoc``) sweeps
what survived. Linux only (``/proc``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

from provkernel.store.database import BUGDOC_RUNS, beside

TOKEN_ENV = "PROVKERNEL_BUGDOC_RUN"


def registry(database: str | os.PathLike) -> Path:
    """Where runs are registered: ``bugdoc-runs`` beside the database."""
    return beside(database, BUGDOC_RUNS)


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a pid from a later reuse of it); ``None``
    when it is gone or a zombie (dead, not yet reaped by its parent)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # the command name (field 2) may contain spaces and parentheses: split after its last ')'
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    try:
        return None if fields[0] == b"Z" else int(fields[19])
    except (IndexError, ValueError):
        return None


def carrying(token: str) -> list[int]:
    """Pids of the processes whose environment holds ``token`` (this process excluded)."""
    needle = f"{TOKEN_ENV}={token}".encode()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def kill_run(token: str) -> int:
    """SIGKILL every process of run ``token``; returns how many were signalled."""
    killed = 0
    for pid in carrying(token):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def sweep(database: str | os.PathLike) -> int:
    """Kill the surviving processes of every registered run whose owner is gone; returns how many."""
    folder = registry(database)
    killed = 0
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            owner = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if start_time(owner["pid"]) == owner["start"]:
            continue  # still running
        killed += kill_run(path.stem)
        path.unlink(missing_ok=True)
    return killed


@contextlib.contextmanager
def guarded_run(database: str | os.PathLike) -> Iterator[dict[str, str]]:
    """Register a run (after sweeping dead ones) and yield the environment its processes must carry; at the
    end, kill whatever of it is still alive and unregister it."""
    if not os.path.isdir("/proc"):
        yield {}
        return
    sweep(database)
    folder = registry(database)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = uuid.uuid4().hex
    path = folder / f"{token}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "start": start_time(os.getpid())}))
    try:
        yield {TOKEN_ENV: token}
    finally:
        kill_run(token)
        path.unlink(missing_ok=True)
