"""The BugDoc engine: pure algorithms over a parameter space (no IPython, Jupyter or SQLite).

``space`` (parameters, instances, outcomes) → ``predicates`` (conjunctions as boxes) → ``tester`` (what the
algorithms share: known outcomes, finding successes, verifying a suspect) → ``shortcut`` / ``ddt`` (the
algorithms) → ``explain`` (a short DNF) → ``search`` (:func:`find_root_causes`, the entry point) →
``report`` (the :class:`Result`). ``execute`` runs instances (in-process, a process pool, Dask or any
``concurrent.futures.Executor``); ``synthetic`` builds pipelines with a known root cause.
"""
