"""Which notebook a kernel belongs to (DESIGN.md "Identity")."""

from __future__ import annotations

import os
from collections.abc import Mapping

SESSION_ENV = "JPY_SESSION_NAME"  # set by jupyter_server, and by `provkernel run`
VSCODE_VARIABLE = "__vsc_ipynb_file__"  # set by VS Code in the user namespace


def notebook_identity(user_ns: Mapping[str, object], environ: Mapping[str, str] = os.environ) -> str:
    """Absolute path of the notebook, or the working directory when no frontend says.

    ``JPY_SESSION_NAME`` may be relative to the server's root while the kernel runs in the
    notebook's directory; then the notebook is that directory plus the file name.
    """
    vscode = user_ns.get(VSCODE_VARIABLE)
    if isinstance(vscode, str) and vscode:
        return os.path.abspath(vscode)
    session = environ.get(SESSION_ENV, "")
    cwd = os.getcwd()
    if session:
        if os.path.isabs(session):
            return os.path.normpath(session)
        head, tail = os.path.split(session)
        if head and cwd.endswith(os.sep + head.strip(os.sep)):
            return os.path.join(cwd, tail)
        return (
            os.path.join(cwd, tail) if os.path.exists(os.path.join(cwd, tail)) else os.path.abspath(session)
        )
    return cwd
