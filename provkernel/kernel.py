"""ProvKernel: the IPython kernel with provenance recording ("Python (prov)").

The class only forwards what a kernel alone knows (when a request arrived, the frontend's cell
id, which requests were aborted) to the capture extension, which does all the work.
"""

from __future__ import annotations

import sys

from ipykernel.ipkernel import IPythonKernel
from traitlets import Bool, Int, Unicode

from provkernel import __version__
from provkernel.capture.extension import load, note_reply, note_request, recorder_for


class ProvKernel(IPythonKernel):
    """IPythonKernel that records the provenance of every execute request."""

    implementation = "provkernel"
    implementation_version = __version__

    # Declared here so `--ProvKernel.x=…` and `c.ProvKernel.x` are validated; read by capture.settings.
    db_path = Unicode("", help="Provenance database (default: Jupyter data dir; PROVKERNEL_DB wins)").tag(
        config=True
    )
    record = Bool(True, help="Record provenance").tag(config=True)
    hash_limit_bytes = Int(64 << 20, help="Files up to this size are hashed with sha256").tag(config=True)
    value_max_length = Int(200, help="Longest string value recorded").tag(config=True)
    diagnose_crashes = Bool(True, help="Show a crash diagnosis under each traceback").tag(config=True)
    stale_notice = Bool(
        False, help="After a cell that changed what other cells read, name those stale cells (one line)"
    ).tag(config=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._recorder = load(self.shell, kernel="provkernel")

    def init_metadata(self, parent):
        """Note when the execute request arrived and its cell id."""
        metadata = super().init_metadata(parent)
        note_request(self._recorder, parent)
        return metadata

    def finish_metadata(self, parent, metadata, reply_content):
        """Record requests aborted after an earlier error (they never reach the shell)."""
        metadata = super().finish_metadata(parent, metadata, reply_content)
        note_reply(self._recorder, parent, reply_content)
        return metadata

    def do_shutdown(self, restart):
        """Close the epoch before the process ends (the base class may return an awaitable)."""
        recorder = recorder_for(self.shell)
        if recorder is not None:
            recorder.close()
        return super().do_shutdown(restart)


def main() -> None:
    """Launch the kernel (the kernelspec runs ``python -m provkernel.kernel -f {connection_file}``)."""
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=ProvKernel)


if __name__ == "__main__":
    if sys.path and sys.path[0] in ("", "."):
        del sys.path[0]  # the notebook's directory must not shadow our imports
    main()
