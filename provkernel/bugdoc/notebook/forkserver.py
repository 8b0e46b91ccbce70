"""A warm-start executor: run setup code once in a template process, then fork a child per task.

``%bugdoc`` reruns the same notebook slice with different parameter values. Loading data and
importing libraries does not depend on the parameters, so a *template* process does that once;
each instance then runs in a ``fork()`` of the template, which inherits the warm state in
copy-on-write memory. The executor is a :class:`concurrent.futures.Executor`, so the BugDoc
engine drives it like any pool.

Isolation and limits, per task: its own process (the user's kernel is never touched), a wall
clock timeout (the child is killed), an address-space limit (``RLIMIT_AS``), and a crash
(segfault, ``os._exit``) becomes that task's result. The template and every child share a
process group, so :meth:`ForkServer.shutdown` (also run when the kernel is interrupted) kills
them all. If the parent dies, even by SIGKILL, the template dies too: Linux kills it
(``PR_SET_PDEATHSIG``, armed for the thread that starts the server, which lives as long as the kernel:
``%bugdoc`` runs in the kernel's main thread), and it also exits when its pipe to the parent closes; each
child is likewise killed when the template dies. Descendants that leave the process group are the
business of :mod:`~provkernel.bugdoc.notebook.reaper`.

Linux and macOS only (``os.fork``); :func:`fork_available` tells.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from multiprocessing.connection import Connection
from typing import Any

# BLAS/OpenMP thread pools and fork() do not mix well, and N parallel children would oversubscribe the
# cores anyway: one thread per process.
SINGLE_THREADED = {
    k: "1"
    for k in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}


def fork_available() -> bool:
    """Whether warm start can be used on this platform."""
    return hasattr(os, "fork") and sys.platform != "win32"


class SetupFailed(RuntimeError):
    """The template could not run the setup (the message carries the error)."""


class ForkServer(Executor):
    """Executor running ``fn(*args)`` in forks of a template that ran ``setup()`` once.

    Args:
        setup: picklable callable run once in the template (its return value is ignored).
        workers: children running at once.
        timeout: seconds a task may run before its child is killed (None: no limit).
        memory_limit: bytes of address space per child (None: no limit).
        failure: turns a failure description (``"timeout after 30 s"``, ``"crashed (SIGSEGV)"``) into the
            task's result; by default the future gets a :class:`TaskFailed` exception instead.
        cwd, env: of the template process.
        python: the interpreter of the template (default: this one), e.g. a package-version overlay.
    """

    def __init__(
        self,
        setup: Callable[[], Any],
        *,
        workers: int = 1,
        timeout: float | None = None,
        memory_limit: int | None = None,
        failure: Callable[[str], Any] | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float | None = None,
        python: str | None = None,
    ) -> None:
        self.failure = failure
        self._futures: dict[int, Future] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; never a pipe, which a chatty template would block on
        parent_end, child_end = socket.socketpair()
        self._conn = Connection(os.dup(parent_end.fileno()))
        parent_end.close()
        fd = child_end.fileno()
        self.process = subprocess.Popen(
            [
                python or sys.executable,
                "-m",
                "provkernel.bugdoc.notebook.forkserver",
                str(fd),
                str(os.getpid()),
            ],
            pass_fds=(fd,),
            cwd=cwd,
            env={**(env if env is not None else os.environ), **SINGLE_THREADED},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr_file,
            start_new_session=True,  # one process group: template and children die together
        )
        child_end.close()
        try:
            self._conn.send_bytes(pickle.dumps((setup, workers, timeout, memory_limit)))
            if startup_timeout is not None and not self._conn.poll(startup_timeout):
                raise SetupFailed(f"the warm-up did not finish within {startup_timeout:g} s")
            kind, detail = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError) as exc:
            stderr = self._stderr()
            self._kill()
            raise SetupFailed(
                f"the template process died during the warm-up{': ' + stderr if stderr else ''}"
            ) from exc
        except BaseException:
            self._kill()
            raise
        if kind != "ready":
            self._kill()
            raise SetupFailed(detail)
        self.setup_seconds = detail
        self._reader = threading.Thread(target=self._read_results, name="forkserver-results", daemon=True)
        self._reader.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` in a fork of the template."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a ForkServer that was shut down")
            task = self._next
            self._next += 1
            self._futures[task] = future
            try:
                self._conn.send_bytes(pickle.dumps((task, fn, args, kwargs)))
            except (OSError, EOFError):
                del self._futures[task]
                future.set_exception(TaskFailed("the template process is gone"))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the template and every child (kills the whole process group)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._futures.values())
            self._futures.clear()
        self._kill()
        for future in pending:
            if not future.done():
                future.cancel() or future.set_exception(TaskFailed("the fork server was shut down"))

    def _kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._conn.close()

    def _stderr(self) -> str:
        """The last line the template wrote to stderr (why it died)."""
        try:
            self.process.wait(timeout=2)
            self._stderr_file.seek(0)
            return self._stderr_file.read().decode(errors="replace").strip().splitlines()[-1]
        except (subprocess.TimeoutExpired, IndexError, OSError):
            return ""

    def _read_results(self) -> None:
        while True:
            try:
                task, kind, payload = pickle.loads(self._conn.recv_bytes())
            except (EOFError, OSError):
                break
            with self._lock:
                future = self._futures.pop(task, None)
            if future is None or future.done():
                continue
            if kind == "result":
                future.set_result(payload)
            elif kind == "error":
                future.set_exception(payload)
            elif self.failure is not None:
                future.set_result(self.failure(payload))
            else:
                future.set_exception(TaskFailed(payload))
        with self._lock:
            orphans = list(self._futures.values())
            self._futures.clear()
        for future in orphans:  # the template died: every task in flight died with it
            if not future.done():
                detail = "crashed (the template process died)"
                if self.failure is not None:
                    future.set_result(self.failure(detail))
                else:
                    future.set_exception(TaskFailed(detail))


class LazyForkServer(Executor):
    """A :class:`ForkServer` started at the first task: when the history already answers, nothing is warmed up."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self.server: ForkServer | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            if self.server is None:
                self.server = ForkServer(**self._kwargs)
        return self.server.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.server is not None:
            self.server.shutdown(wait, cancel_futures=cancel_futures)


class TaskFailed(RuntimeError):
    """A task's child was killed or crashed; the message says how."""


# --- the template process -------------------------------------------------------------------------
def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent (thread) dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"crashed ({signal.Signals(number).name})"
        except ValueError:
            return f"crashed (signal {number})"
    return f"crashed (exit code {os.WEXITSTATUS(status)})"


def _child(conn_fd: int, task: int, fn, args, kwargs, memory_limit: int | None, template: int) -> None:
    """In the forked child: run the task, send the result through our own pipe, exit at once."""
    status = 0
    try:
        die_with_parent(template)
        if memory_limit:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        try:
            payload = ("result", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - sent back as the task's exception
            payload = ("error", exc)
        try:
            data = pickle.dumps(payload)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
            data = pickle.dumps(("error", TaskFailed(f"result could not be sent back: {exc}")))
        with os.fdopen(conn_fd, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        status = 70
    finally:
        os._exit(status)


def _serve(fd: int) -> None:
    conn = Connection(fd)
    template = os.getpid()
    setup, workers, timeout, memory_limit = pickle.loads(conn.recv_bytes())
    began = time.perf_counter()
    try:
        setup()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises SetupFailed
        conn.send_bytes(pickle.dumps(("failed", f"{type(exc).__name__}: {exc}")))
        return
    conn.send_bytes(pickle.dumps(("ready", time.perf_counter() - began)))
    queue: list[tuple] = []
    running: dict[int, tuple[int, int, float]] = {}  # pid -> (task, read fd, started)
    chunks: dict[int, list[bytes]] = {}
    while True:
        while queue and len(running) < workers:
            task, fn, args, kwargs = queue.pop(0)
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                conn.close()
                _child(write_fd, task, fn, args, kwargs, memory_limit, template)
            os.close(write_fd)
            os.set_blocking(read_fd, False)
            running[pid] = (task, read_fd, time.monotonic())
            chunks[pid] = []
        # wake on a new task, on a child's output or exit (its pipe closes), or on the next deadline
        wait_s = None
        if running and timeout is not None:
            wait_s = max(0.0, min(started for _, _, started in running.values()) + timeout - time.monotonic())
        readable, _, _ = select.select(
            [conn.fileno(), *(fd for _, fd, _ in running.values())], [], [], wait_s
        )
        if conn.fileno() in readable:
            try:
                queue.append(pickle.loads(conn.recv_bytes()))
            except (EOFError, OSError):  # the parent is gone: take the children with us
                for pid in running:
                    os.kill(pid, signal.SIGKILL)
                return
        now = time.monotonic()
        for pid, (task, read_fd, started) in list(running.items()):
            eof = _drain(read_fd, chunks[pid]) if read_fd in readable else False
            late = timeout is not None and now - started > timeout
            if eof:
                _, status = os.waitpid(pid, 0)  # its pipe closed: it has exited (or is exiting)
                data = b"".join(chunks[pid])
                if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and data:
                    kind, payload = pickle.loads(data)
                    _finish(conn, task, kind, payload)
                else:
                    _finish(conn, task, "failed", _describe_exit(status))
            elif late:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                _finish(conn, task, "failed", f"timeout after {timeout:g} s")
            else:
                continue
            os.close(read_fd)
            del running[pid], chunks[pid]


def _drain(fd: int, into: list[bytes]) -> bool:
    """Read what is available; True at end of file (the child closed its end: it is done)."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not chunk:
            return True
        into.append(chunk)


def _finish(conn: Connection, task: int, kind: str, payload: Any) -> None:
    try:
        conn.send_bytes(pickle.dumps((task, kind, payload)))
    except Exception:  # noqa: BLE001 - e.g. an exception that cannot be pickled
        conn.send_bytes(pickle.dumps((task, "failed", f"crashed (unpicklable {kind})")))


if __name__ == "__main__":
    die_with_parent(int(sys.argv[2]))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # user code must not write into anything we read
    _serve(int(sys.argv[1]))
