"""BugDoc: find minimal definitive root causes of a pipeline's failures.

>>> from provkernel.bugdoc import find_root_causes
>>> space = {"solver": ["lbfgs", "saga"], "penalty": ["l1", "l2"], "C": [0.1, 1.0]}
>>> fails = lambda i: i["solver"] == "lbfgs" and i["penalty"] == "l1"
>>> find_root_causes(space, lambda i: not fails(i)).explanation
"solver = 'lbfgs' ∧ penalty = 'l1'"
"""

from provkernel.bugdoc.engine.execute import BugDocUsageError
from provkernel.bugdoc.engine.explain import simplify_conditions
from provkernel.bugdoc.engine.predicates import holds, render_conditions
from provkernel.bugdoc.engine.report import Result
from provkernel.bugdoc.engine.search import find_root_causes
from provkernel.bugdoc.engine.space import Outcome, Parameter, Space

__all__ = [
    "BugDocUsageError",
    "Outcome",
    "Parameter",
    "Result",
    "Space",
    "find_root_causes",
    "holds",
    "render_conditions",
    "simplify_conditions",
]
