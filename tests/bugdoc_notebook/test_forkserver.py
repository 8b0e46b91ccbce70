"""The warm-start executor with real processes: warm state, crashes, timeouts, memory limits, clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from provkernel.bugdoc.notebook.forkserver import ForkServer, SetupFailed, TaskFailed, fork_available
from tests.bugdoc_notebook import fs_tasks

pytestmark = pytest.mark.skipif(not fork_available(), reason="warm start needs os.fork")


def server_processes() -> list[int]:
    """Pids of fork-server templates and children still alive (they share the template's command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if b"provkernel.bugdoc.notebook.forkserver" in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.fixture
def server():
    before = set(server_processes())
    fs = ForkServer(fs_tasks.setup, workers=2, timeout=3, memory_limit=1 << 30)
    yield fs
    fs.shutdown()
    deadline = time.monotonic() + 5
    while set(server_processes()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(server_processes()) - before, "fork server processes survived shutdown"


def test_children_inherit_the_warm_state_and_are_isolated(server):
    assert server.setup_seconds >= fs_tasks.SETUP_SECONDS
    assert [server.submit(fs_tasks.task, "ok").result(timeout=10) for _ in range(3)] == [499500] * 3
    # a child's change does not leak into the next child or the template
    assert server.submit(fs_tasks.task, "mutate").result(timeout=10) == 0
    assert server.submit(fs_tasks.task, "ok").result(timeout=10) == 499500


@pytest.mark.parametrize(
    ("kind", "message"),
    [("segfault", "crashed (SIGSEGV)"), ("exit", "crashed (exit code 3)"), ("hang", "timeout after 3 s")],
)
def test_a_crash_or_hang_is_that_tasks_result(server, kind, message):
    with pytest.raises(TaskFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        server.submit(fs_tasks.task, kind).result(timeout=20)
    assert server.submit(fs_tasks.task, "ok").result(timeout=10) == 499500  # the server goes on


def test_exceptions_and_the_memory_limit(server):
    with pytest.raises(ValueError, match="boom"):
        server.submit(fs_tasks.task, "raise").result(timeout=10)
    with pytest.raises(MemoryError):
        server.submit(fs_tasks.task, "hog").result(timeout=10)


def test_failure_factory_turns_crashes_into_results():
    fs = ForkServer(fs_tasks.setup, timeout=3, failure=lambda detail: ("failed", detail))
    try:
        assert fs.submit(fs_tasks.task, "segfault").result(timeout=10) == ("failed", "crashed (SIGSEGV)")
    finally:
        fs.shutdown()


def test_setup_failure_is_reported():
    with pytest.raises(SetupFailed, match="ZeroDivisionError"):
        ForkServer(fs_tasks.failing_setup)


def test_the_template_exits_when_its_parent_dies(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = {sys.path!r}
        from provkernel.bugdoc.notebook.forkserver import ForkServer
        from tests.bugdoc_notebook import fs_tasks
        fs = ForkServer(fs_tasks.setup)
        fs.submit(fs_tasks.task, "hang")
        print(fs.process.pid, flush=True)
        time.sleep(60)
    """)
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    template = int(parent.stdout.readline())
    time.sleep(0.5)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(template, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the template outlived its parent")
