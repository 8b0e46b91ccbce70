"""Running instances: in-process, a local process pool, Dask, or a caller's Executor, with a cache.

Every outcome is cached by instance, so no instance runs twice. A batch runs at most ``slots`` tasks at
once so that a per-instance ``timeout`` is measured from the start of the task. An exception raised by the
evaluation function, a crashed worker process and a timed-out task are failing :class:`Outcome` objects with
a detail, never exceptions of the search.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from provkernel.bugdoc.engine.space import Key, Outcome, Space

OnResult = Callable[[dict[str, Any], Outcome, bool], None]


class BugDocUsageError(ValueError):
    """Bad arguments from the caller; the message says what to do."""


def call_evaluate(evaluate: Callable[[dict[str, Any]], Any], instance: dict[str, Any]) -> Outcome:
    """Evaluate one instance; an exception becomes a failing outcome whose detail names it."""
    try:
        return Outcome.of(evaluate(instance))
    except Exception as exc:  # noqa: BLE001 - the user's pipeline failing is data, not an error of the search
        text = f"{type(exc).__name__}: {exc}".strip()
        return Outcome(False, text if len(text) <= 200 else text[:197] + "...")


@dataclass(frozen=True)
class Record:
    """One instance considered by a search, in the order considered."""

    key: Key
    outcome: Outcome
    new: bool


def _dask_executor(address: str | None, workers: int) -> tuple[Executor, list[Any]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise BugDocUsageError('executor="dask" needs Dask: pip install "provkernel[dask]"') from exc
    closers: list[Any] = []
    if address is None:
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        )
        client = Client(cluster)
        closers = [client, cluster]
    else:
        client = Client(address)
        closers = [client]
    return client.get_executor(pure=False), closers


def _shutdown(pool: Executor, wait: bool) -> None:
    try:
        pool.shutdown(wait=wait, cancel_futures=True)
    except TypeError:  # Dask's ClientExecutor has no cancel_futures
        pool.shutdown(wait=wait)


def _crash_detail(processes: Sequence[Any]) -> str:
    """Name the signal or exit code of the worker that died (the pool terminates the others)."""
    deadline = time.monotonic() + 2
    for proc in processes:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    # the pool's manager thread may reap a process first; its exit code then appears a moment later
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.02)
    codes = [p.exitcode for p in processes if p.exitcode]
    mine = [c for c in codes if c not in (-signal.SIGTERM, -signal.SIGKILL)] or codes
    if not mine:
        return "crashed (worker process died)"
    code = mine[0]
    if code < 0:
        try:
            return f"crashed ({signal.Signals(-code).name})"
        except ValueError:
            return f"crashed (signal {-code})"
    return f"crashed (exit code {code})"


class Runner:
    """Evaluates instances of a space through an executor, caching outcomes and counting new runs.

    Args:
        space: the (extended) space; instances are index tuples of it.
        evaluate: picklable ``callable(dict) -> bool | Outcome`` (picklable only for pools and Dask).
        executor: ``None`` (in-process when ``workers == 1``, else a spawn process pool), ``"dask"``
            (a loopback ``LocalCluster``), ``"tcp://host:port"`` (a running Dask scheduler), or an
            ``Executor`` used as is and never shut down here.
        workers: tasks in flight at once.
        budget: maximum number of new instances; ``None`` for no limit.
        on_result: called in the calling thread as each outcome arrives.
        timeout: seconds one instance may run (pools and Dask only); ``None`` for no limit.
    """

    def __init__(
        self,
        space: Space,
        evaluate: Callable[[dict[str, Any]], Any],
        *,
        executor: Executor | str | None = None,
        workers: int = 1,
        budget: int | None = None,
        on_result: OnResult | None = None,
        timeout: float | None = None,
    ) -> None:
        if not callable(evaluate):
            raise BugDocUsageError("evaluate must be a callable(dict) -> bool")
        if workers < 1:
            raise BugDocUsageError("workers must be at least 1")
        if budget is not None and budget < 0:
            raise BugDocUsageError("budget must be a non-negative number of instances")
        self.space, self.evaluate, self.workers = space, evaluate, workers
        self.budget = math.inf if budget is None else budget
        self.on_result, self.timeout = on_result, timeout
        self.cache: dict[Key, Outcome] = {}
        self.records: list[Record] = []
        self.new_instances = 0
        self._spec = executor
        self._pool: Executor | None = None
        self._owned = False
        self._closers: list[Any] = []
        self._procs: dict[int, Any] = {}  # every worker process of the current pool, by pid
        if isinstance(executor, str):
            if executor != "dask" and not executor.startswith(("tcp://", "tls://", "ws://", "wss://")):
                raise BugDocUsageError(
                    f"executor must be None, 'dask', a scheduler address or an Executor, got {executor!r}"
                )
        elif executor is not None and not isinstance(executor, Executor):
            raise BugDocUsageError(
                "executor must be None, 'dask', a scheduler address or a concurrent.futures.Executor"
            )

    # -- executor lifecycle -------------------------------------------------------------------
    def _ensure_pool(self) -> Executor | None:
        if self._pool is not None:
            return self._pool
        spec = self._spec
        if isinstance(spec, Executor):
            self._pool = spec
        elif isinstance(spec, str):
            self._pool, self._closers = _dask_executor(None if spec == "dask" else spec, self.workers)
            self._owned = True
        elif self.workers > 1:
            ctx = multiprocessing.get_context("spawn")  # fork is unsafe inside a kernel with threads
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
            self._owned = True
        return self._pool

    def _kill_pool(self) -> None:
        pool, known = self._pool, self._procs
        self._pool, self._procs = None, {}
        if pool is None or not self._owned:
            return
        processes = list({**known, **(getattr(pool, "_processes", None) or {})}.values())
        for proc in processes:
            if proc.is_alive():
                proc.kill()
        # with every worker dead the pool's manager thread ends at once; waiting for it also reaps a
        # worker that was being spawned while we killed the others
        _shutdown(pool, wait=isinstance(pool, ProcessPoolExecutor))
        for proc in processes:
            proc.join(timeout=5)

    def close(self) -> None:
        """Shut down what this runner started (never a caller's executor)."""
        if self._pool is not None and self._owned:
            _shutdown(self._pool, wait=True)
        self._pool = None
        for closer in self._closers:
            closer.close()
        self._closers = []

    # -- bookkeeping -------------------------------------------------------------------------
    @property
    def remaining(self) -> float:
        return self.budget - self.new_instances

    def add_history(self, key: Key, outcome: Outcome) -> None:
        if key in self.cache:
            return
        self.cache[key] = outcome
        self.records.append(Record(key, outcome, False))
        if self.on_result is not None:
            self.on_result(self.space.instance(key), outcome, False)

    def _finish(self, key: Key, outcome: Outcome) -> None:
        self.cache[key] = outcome
        self.new_instances += 1
        if self.on_result is not None:
            self.on_result(self.space.instance(key), outcome, True)

    def run(self, keys: Sequence[Key]) -> list[Outcome | None]:
        """Outcomes of ``keys`` (cached ones without running); ``None`` for those the budget did not allow."""
        todo: list[Key] = []
        for key in keys:
            if key not in self.cache and key not in todo and len(todo) < self.remaining:
                todo.append(key)
        if todo:
            pool = self._ensure_pool()
            if pool is None:
                for key in todo:
                    self._finish(key, call_evaluate(self.evaluate, self.space.instance(key)))
            else:
                self._run_pool(todo)
            self.records.extend(Record(k, self.cache[k], True) for k in todo)
        return [self.cache.get(k) for k in keys]

    def run_one(self, key: Key) -> Outcome | None:
        return self.run([key])[0]

    # -- pooled execution --------------------------------------------------------------------
    def _run_pool(self, todo: list[Key]) -> None:
        queue = list(todo)
        isolate: list[Key] = []  # keys caught in a broken pool: rerun one at a time to find the culprit
        running: dict[Future, tuple[Key, float]] = {}
        try:
            while queue or isolate or running:
                pool = self._ensure_pool()
                assert pool is not None
                slots = 1 if isolate else self.workers
                source = isolate if isolate else queue
                while source and len(running) < slots:
                    try:
                        future = pool.submit(call_evaluate, self.evaluate, self.space.instance(source[0]))
                    except BrokenProcessPool:  # broke since the last wait: its running futures will say so
                        if not running:
                            self._kill_pool()
                        break
                    running[future] = (source.pop(0), time.monotonic())
                if not running:
                    continue
                # remember the worker processes: a broken pool forgets them before we can ask how they died
                self._procs.update(getattr(pool, "_processes", None) or {})
                wait_for = None
                if self.timeout is not None:
                    wait_for = max(0.0, min(t for _, t in running.values()) + self.timeout - time.monotonic())
                done, _ = wait(list(running), timeout=wait_for, return_when=FIRST_COMPLETED)
                if not done:
                    self._expire(running, queue)
                    continue
                broken: list[Key] = []
                for future in done:
                    key, _ = running.pop(future)
                    try:
                        self._finish(key, Outcome.of(future.result()))
                    except BrokenProcessPool:
                        broken.append(key)
                    except Exception as exc:  # noqa: BLE001 - a Dask worker lost, a pickling error, ...
                        self._finish(key, Outcome(False, f"crashed ({type(exc).__name__}: {exc})"[:200]))
                if broken:
                    self._broken(broken, running, isolate, alone=slots == 1 and len(broken) == 1)
        except BaseException:
            for future in running:
                future.cancel()
            self._kill_pool()
            raise

    def _broken(self, broken: list[Key], running: dict, isolate: list[Key], alone: bool) -> None:
        self._procs.update(getattr(self._pool, "_processes", None) or {})
        detail = _crash_detail(list(self._procs.values()))
        for future in list(running):  # everything in flight died with the pool
            broken.append(running.pop(future)[0])
        owned = self._owned
        self._kill_pool()
        if alone or not owned:
            for key in broken:
                self._finish(key, Outcome(False, detail))
        else:
            isolate.extend(broken)

    def _expire(self, running: dict, queue: list[Key]) -> None:
        now = time.monotonic()
        late = [f for f, (_, t) in running.items() if now - t >= self.timeout - 1e-3]
        for future in late:
            key, _ = running.pop(future)
            future.cancel()
            self._finish(key, Outcome(False, f"timeout after {self.timeout:g} s"))
        if late and self._owned and isinstance(self._pool, ProcessPoolExecutor):
            # a running task cannot be cancelled: replace the pool, requeue the innocent tasks
            queue[:0] = [key for key, _ in running.values()]
            running.clear()
            self._kill_pool()
