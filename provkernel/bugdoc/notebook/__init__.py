"""BugDoc on a notebook: from provenance to a pipeline, and running its instances in worker processes.

``pipeline`` (the slice behind a failure, its literal parameters and their values) → ``substitute`` (other
values in a cell's literals) → ``cells`` (the evaluation function a worker runs) → ``forkserver`` (warm
start: a template process forked per instance) → ``session`` (one run: prepare, search, store) →
``notebook_report`` / ``display`` (what is shown) → ``in_kernel`` (``%bugdoc``) and ``offline``
(``provkernel bugdoc NOTEBOOK``); ``arguments`` are the options both take.
"""
