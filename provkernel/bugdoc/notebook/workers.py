"""Where instances run: forks of a warm template per package-version set (or a caller's Dask executor).

Without ``--vary-package`` there is one template, the kernel's interpreter. With it, every version set gets
its own template in its own environment (``environments``), started at its first instance, so warm start
holds within a version; :class:`VersionRouter` sends each instance to the template of its versions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from typing import Any

from provkernel.bugdoc.notebook.forkserver import LazyForkServer

Route = tuple[tuple[str, str], ...]


def route_of(versions: Mapping[str, Any], packages: list[str]) -> Route:
    """The key of an instance's (or a version set's) environment: each varied package's version."""
    return tuple((p, str(versions[p])) for p in packages)


class VersionRouter(Executor):
    """An executor over one lazily started :class:`LazyForkServer` per package-version set.

    The engine submits ``fn(evaluate, instance)``; the instance's values of ``packages`` choose the
    template (``pythons[route]``, or the kernel's own interpreter for the kernel's own versions)."""

    def __init__(self, packages: list[str], pythons: dict[Route, str | None], **server: Any) -> None:
        self.packages, self.pythons, self.server = packages, pythons, server
        self.servers: dict[Route, LazyForkServer] = {}
        self._lock = threading.Lock()

    def route(self, instance: dict[str, Any]) -> Route:
        return route_of(instance, self.packages)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        route = self.route(args[1])
        with self._lock:
            if route not in self.servers:
                python = self.pythons.get(route)
                options = dict(self.server)
                if python is not None:  # an overlay: its .pth already lists the kernel's path, after it
                    env = options.get("env") or dict(os.environ)
                    options["env"] = {k: v for k, v in env.items() if k != "PYTHONPATH"}
                self.servers[route] = LazyForkServer(python=python, **options)
            server = self.servers[route]
        return server.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for server in list(self.servers.values()):
            server.shutdown(wait, cancel_futures=cancel_futures)

    def setup_seconds(self) -> float:
        """Warm-up time of every template started (they ran one after another or side by side)."""
        return sum(s.server.setup_seconds for s in self.servers.values() if s.server is not None)
