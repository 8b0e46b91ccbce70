"""Installing the "Python (prov)" kernelspec for the current interpreter."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ipykernel.kernelspec import get_kernel_dict

KERNEL_NAME = "provkernel"
DISPLAY_NAME = "Python (prov)"
SPEC_DIR = Path(__file__).resolve().parent.parent / "kernelspec"


def kernel_spec(display_name: str = DISPLAY_NAME, executable: str | None = None) -> dict:
    """The kernel.json content, pinned to ``executable`` (default: this interpreter).

    Pinning matters: a bare ``python`` would be replaced by the *launching* client's interpreter,
    which may be another environment, without provkernel or with other library versions.
    """
    # ipykernel's own spec says what the kernel machinery supports (debugger, CurveZMQ transport
    # encryption, protocol version); ProvKernel runs on that machinery, so it declares the same.
    spec = get_kernel_dict()
    spec.update(
        argv=[executable or sys.executable, "-m", "provkernel.kernel", "-f", "{connection_file}"],
        display_name=display_name,
        language="python",
        interrupt_mode="signal",
    )
    return spec


def default_scope() -> str:
    """``sys-prefix`` inside a virtual environment (the spec travels with it), else ``user``."""
    return "sys-prefix" if sys.prefix != sys.base_prefix or os.environ.get("CONDA_PREFIX") else "user"


def install(
    name: str = KERNEL_NAME,
    display_name: str = DISPLAY_NAME,
    scope: str | None = None,
    prefix: str | None = None,
) -> str:
    """Install the kernelspec; returns the directory it was written to.

    Args:
        scope: ``user``, ``sys-prefix`` or ``system``; ignored when ``prefix`` is given.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    scope = scope or default_scope()
    with tempfile.TemporaryDirectory() as tmp:
        for logo in SPEC_DIR.glob("logo-*"):
            shutil.copy(logo, tmp)
        Path(tmp, "kernel.json").write_text(json.dumps(kernel_spec(display_name), indent=1) + "\n")
        if prefix is None and scope == "sys-prefix":
            prefix = sys.prefix
        return KernelSpecManager().install_kernel_spec(
            tmp, kernel_name=name, user=prefix is None and scope == "user", prefix=prefix, replace=True
        )


def uninstall(name: str = KERNEL_NAME) -> str:
    """Remove an installed kernelspec; returns the directory removed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        path = manager.get_kernel_spec(name).resource_dir
    except NoSuchKernel:
        raise LookupError(f"no kernelspec named {name!r} is installed") from None
    manager.remove_kernel_spec(name)
    return path
