"""Small real scikit-learn / pandas notebooks whose every parameter combination can be run by hand.

Each has a parameters cell (its values first in :attr:`RealNotebook.space`) and ends with the target cell.
:meth:`RealNotebook.fails` is the brute-force ground truth: the cells executed in-process, in a fresh
namespace, with the parameters set to one combination; it shares no code with ``%bugdoc`` (no slicing, no
substitution, no workers). Used by ``test_exact_notebooks.py`` and ``benchmarks/bugdoc_exact.py``.
"""

from __future__ import annotations

import itertools
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from provkernel.parameters import python_literal


@dataclass(frozen=True)
class RealNotebook:
    name: str
    cells: tuple[str, ...]  # code cells; the first sets the parameters, the last is the target
    space: dict[str, list[Any]]  # parameter → values, the notebook's own value first
    check: str | None = None

    def source(self) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "provkernel",
            "display_name": "Python (prov)",
            "language": "python",
        }
        params = "# Parameters\n" + "".join(f"{n} = {python_literal(v[0])}\n" for n, v in self.space.items())
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {self.name}"),
            nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
            *(nbformat.v4.new_code_cell(code) for code in self.cells),
        ]
        return nb

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}.ipynb"
        nbformat.write(self.source(), path)
        return path

    def cli_args(self) -> list[str]:
        """``-p`` for every value besides the notebook's own (papermill typing: None, True, 0.1, text), and
        the check."""
        args = [a for n, vs in self.space.items() for v in vs[1:] for a in ("-p", n, str(v))]
        return args + (["--check", self.check] if self.check else [])

    def size(self) -> int:
        return len(list(itertools.product(*self.space.values())))

    def fails(self, instance: dict[str, Any]) -> bool:
        """Run the notebook's cells with ``instance``'s values in a fresh namespace: did it fail?"""
        namespace: dict[str, Any] = dict(instance)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                for code in self.cells:
                    exec(compile(code, self.name, "exec"), namespace)  # noqa: S102 - the notebook's own code
                return bool(self.check) and not eval(self.check, namespace)
            except Exception:  # noqa: BLE001 - any error of the notebook is a failure
                return True


def cells(*sources: str) -> tuple[str, ...]:
    return tuple(textwrap.dedent(source).strip() for source in sources)


LOGREG = RealNotebook(
    "logreg_solver_penalty",
    cells(
        """
        from sklearn.datasets import load_breast_cancer
        from sklearn.preprocessing import StandardScaler
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        """,
        """
        from sklearn.linear_model import LogisticRegression
        model = LogisticRegression(solver=solver, penalty=penalty, C=C, max_iter=200).fit(X, y)
        accuracy = model.score(X, y)
        """,
    ),
    {"solver": ["lbfgs", "liblinear", "saga"], "penalty": ["l1", "l2", None], "C": [1.0, 0.1]},
)

IMPUTE = RealNotebook(
    "impute_model_scale",
    cells(
        """
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        n = 600
        df = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n) * 1000})
        df["label"] = (df["signal"] + 0.3 * rng.normal(size=n) > 0).astype(int)
        df.loc[rng.choice(n, 60, replace=False), "signal"] = np.nan
        """,
        """
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import StandardScaler

        X = df[["signal", "noise"]]
        if impute != "none":
            X = pd.DataFrame(SimpleImputer(strategy=impute).fit_transform(X), columns=X.columns)
        if scale:
            X = pd.DataFrame(StandardScaler().fit_transform(X), columns=X.columns)
        """,
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.tree import DecisionTreeClassifier

        X_train, X_test, y_train, y_test = train_test_split(X, df["label"], test_size=0.3, random_state=0)
        models = {
            "logistic": LogisticRegression(),
            "knn": KNeighborsClassifier(),
            "tree": DecisionTreeClassifier(max_depth=3, random_state=0),
        }
        model = models[model_name].fit(X_train, y_train)
        acc = model.score(X_test, y_test)
        """,
    ),
    {"impute": ["mean", "median", "none"], "model_name": ["knn", "logistic", "tree"], "scale": [False, True]},
    check="acc >= 0.8",
)

PANDAS = RealNotebook(
    "pandas_merge_groupby",
    cells(
        """
        import pandas as pd

        sales = pd.DataFrame(
            {"store": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "c", "b"], "amount": [3.0, 4.0, 5.0, None, 2.0]}
        )
        """,
        """
        stores = pd.DataFrame({"store": [1, 2, 3], "city": ["x", "y", "z"]})
        if key_type == "str":
            stores["store"] = stores["store"].astype(str)
        merged = sales.merge(stores, on="store")
        """,
        """
        summary = merged.groupby("city").agg(agg, numeric_only=numeric_only)
        """,
    ),
    {"key_type": ["int", "str"], "agg": ["mean", "sum", "max"], "numeric_only": [False, True]},
)

NOTEBOOKS = (LOGREG, IMPUTE, PANDAS)
