"""provkernel: the "Python (prov)" Jupyter kernel.

Records the provenance of every execution, tags crashes with the ML-notebook crash
taxonomy and finds minimal root causes of failures with BugDoc.
"""

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """``%load_ext provkernel``: start recording inside any IPython shell."""
    from provkernel.capture.extension import load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext provkernel``: stop recording."""
    from provkernel.capture.extension import unload

    unload(ipython)
