"""No orphans when the kernel is SIGKILLed during %bugdoc, not even a grandchild that called os.setsid()."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from provkernel.bugdoc.notebook.reaper import registry, start_time, sweep
from tests.bugdoc_notebook.test_forkserver import server_processes
from tests.kernel.helpers import Kernel

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc")

ESCAPE = (
    "import os, subprocess, sys, time\n"
    "if mode == 'b':\n"
    "    subprocess.Popen([sys.executable, '-c', 'import os, sys, time; os.setsid(); "
    'open(os.path.join(sys.argv[1], str(os.getpid())), "w").close(); time.sleep(300)\', {folder!r}])\n'
    "    time.sleep(300)\n"
    "value = 1"
)


def alive(pid: int) -> bool:
    return start_time(pid) is not None  # None: gone, or a zombie


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_sigkill_of_the_kernel_leaves_no_process_of_the_run(prov_db, tmp_path):
    folder = tmp_path / "pids"
    folder.mkdir()
    before = set(server_processes())
    escaped: list[int] = []
    k = Kernel(cwd=tmp_path)
    try:
        k.execute("# Parameters\nmode = 'a'")
        k.execute(ESCAPE.format(folder=str(folder)))
        k.send("%bugdoc --target 2 --check 'value > 0' -p mode b --timeout 600 --workers 1")
        assert wait_until(lambda: any(folder.iterdir()), 60), "the instance never started its grandchild"
        escaped = [int(p.name) for p in folder.iterdir()]
        workers = set(server_processes()) - before
        assert workers and all(alive(p) for p in escaped)
        assert list(registry(prov_db).glob("*.json")), "the run is not registered"
        os.kill(k.km.provisioner.process.pid, signal.SIGKILL)
        # the template and the instance's child die with the kernel (PR_SET_PDEATHSIG, the closed pipe)
        assert wait_until(lambda: not any(alive(p) for p in workers), 10), "worker processes survived"
        # the grandchild left the process group and its parent is gone: only the sweep can find it,
        # which the next kernel on the database runs as it starts
        assert all(alive(p) for p in escaped)
        nxt = Kernel(cwd=tmp_path)
        try:
            assert wait_until(lambda: not any(alive(p) for p in escaped), 10), (
                "the setsid grandchild survived"
            )
            assert wait_until(lambda: not list(registry(prov_db).glob("*.json")), 5), (
                "the run is still registered"
            )
            assert nxt.execute("print('after the sweep')").outputs[0]["text"] == "after the sweep\n"
        finally:
            nxt.shutdown()
        assert sweep(prov_db) == 0
    finally:
        for pid in escaped:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            k.kc.stop_channels()
            k.km.cleanup_resources()
        except Exception:  # noqa: BLE001, S110 - the kernel was killed on purpose
            pass
