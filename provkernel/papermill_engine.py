"""A papermill engine that files provenance under the input notebook: ``papermill -k provkernel -e provkernel``.

Plain ``papermill -k provkernel`` records too, but papermill tells the kernel neither the
notebook's path nor cell ids, so provenance is filed under the kernel's working directory.
This engine passes both (``JPY_SESSION_NAME`` and ``cellId``), and is otherwise papermill's own.
"""

from __future__ import annotations

import os
from pathlib import Path

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger

from provkernel.capture.identity import SESSION_ENV
from provkernel.headless import MEMORY_HISTORY, CellIdMixin


class ProvPapermillClient(CellIdMixin, PapermillNotebookClient):
    """papermill's client, sending cell ids."""


class ProvEngine(NBClientEngine):
    """papermill's nbclient engine, naming the notebook and its cells to the kernel."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        input_path = kwargs.pop("input_path", None) or nb_man.nb.metadata.get("papermill", {}).get(
            "input_path"
        )
        kwargs.pop("timeout", None)
        kwargs.pop("startup_timeout", None)
        env = dict(os.environ)
        if input_path and "://" not in str(input_path):
            env[SESSION_ENV] = str(Path(input_path).resolve())
        extra = list(kwargs.pop("extra_arguments", []) or [])
        if not any(a.startswith("--HistoryManager.hist_file") for a in extra):
            extra.append(MEMORY_HISTORY)
        client = ProvPapermillClient(
            nb_man,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            extra_arguments=extra,
            **kwargs,
        )
        return client.execute(env=env)
