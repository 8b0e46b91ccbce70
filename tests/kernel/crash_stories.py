"""Live crash stories: notebooks that crash in real prov kernels, each with the diagnosis a user should get.

A story is a few notebook cells, the order they run in (cells may be skipped, repeated, run after a data
file changed, a package was upgraded or the kernel restarted) and the expected root cause, crash type,
library and the decisive words of the evidence. Stories of one group share a kernel and a saved notebook
file (every cell of the group, in story order, so cells that never run are in the file as in a real
notebook). ``tests/kernel/test_crash_stories.py`` asserts each story; ``benchmarks/crash_stories.py``
reports the accuracy per root cause.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from provkernel.crashes.render import MIME_TYPE
from tests.kernel.helpers import Kernel, flush, write_package


@dataclass(frozen=True)
class Restart:
    """Restart the kernel (a new epoch)."""


@dataclass(frozen=True)
class Write:
    """Write a data file in the working directory."""

    path: str
    text: str


@dataclass(frozen=True)
class Delete:
    """Delete a data file of the working directory."""

    path: str


@dataclass(frozen=True)
class Package:
    """Install (or replace) version ``version`` of a tiny package on the kernel's path."""

    name: str
    version: str
    body: str


@dataclass(frozen=True)
class Uninstall:
    """Remove a tiny package."""

    name: str


Step = int | Restart | Write | Delete | Package | Uninstall


@dataclass(frozen=True)
class Story:
    """One crash and the diagnosis it should get.

    Attributes:
        name: Unique id (also the prefix of its cell ids).
        group: ``tabular`` (pandas, scikit-learn, numpy, matplotlib), ``torch`` or ``sessions`` (restarts
            and package versions).
        cells: The story's code cells, in notebook order.
        order: What happens: cell indices to run, and actions; the last cell run must crash.
        root_cause, crash_type, library: The expected summary labels (library None: none named).
        evidence: Words the evidence must contain (the decisive facts).
        detail: The expected fine root cause, when the story is about it.
        files: Data files written before the group starts.
    """

    name: str
    group: str
    cells: tuple[str, ...]
    order: tuple[Step, ...]
    root_cause: str
    crash_type: str
    library: str | None
    evidence: tuple[str, ...]
    detail: str | None = None
    files: dict[str, str] = field(default_factory=dict)


def story(
    name: str, group: str, cells: list[str], order: list[Step], expect: tuple, *evidence: str, **kw: Any
) -> Story:
    root_cause, crash_type, library = expect
    return Story(name, group, tuple(cells), tuple(order), root_cause, crash_type, library, evidence, **kw)


PD = "import pandas as pd"
NP = "import numpy as np"
PLT = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt"
TORCH = "import torch"

NB = "NB specific"
IMPL = "implementation error"
API = "API misuse"
DATA = "data confusion"
ENV = "environment setting"
LIB = "library cause"
RSC = "insufficient resource"
MODEL = "ML model confusion"

STORIES: tuple[Story, ...] = (
    # --- NB specific -----------------------------------------------------------------------------------
    story(
        "nb-skipped-split",
        "tabular",
        [
            f"{PD}\nfrom sklearn.model_selection import train_test_split",
            (
                "churn = pd.DataFrame({'tenure': range(20), 'charges': [float(i % 7) for i in range(20)],\n"
                "                      'churned': [i % 2 for i in range(20)]})"
            ),
            (
                "X_train, X_test, y_train, y_test = train_test_split(churn[['tenure', 'charges']], churn['churned'], "
                "test_size=0.25, random_state=0)"
            ),
            "X_train.describe()",
        ],
        [0, 1, 3],
        (NB, "variable not found", None),
        "`X_train, X_test, … = train_test_split(…)`",
        "has not run since the kernel started",
        detail="nb specific - execution order",
    ),
    story(
        "nb-future-cell",
        "tabular",
        [
            f"{NP}\nreadings = np.linspace(0, 1, 11)",
            "alarms = readings[readings > threshold]",
            "threshold = 0.7",
        ],
        [0, 1],
        (NB, "variable not found", None),
        "only further down",
        "`threshold = 0.7`",
        detail="nb specific - need execute future cells",
    ),
    story(
        "nb-previous-error",
        "tabular",
        [f"{PD}\nprices = pd.read_csv('prices_2023.csv')", "prices['close'].pct_change()"],
        [0, 1],
        (NB, "variable not found", None),
        "FileNotFoundError",
        detail="nb specific - previous cell error",
    ),
    story(
        "nb-rerun-inplace-drop",
        "tabular",
        [
            f"{PD}\ntransactions = pd.DataFrame({{'Time': [0, 1, 2], 'Amount': [9.5, 3.2, 7.7], 'Class': [0, 0, 1]}})",
            "transactions.drop(columns=['Amount'], inplace=True)\ntransactions.shape",
        ],
        [0, 1, 1],
        (NB, "key error", None),
        "`transactions` lost 'Amount'",
        "this cell, previous run",
        detail="nb specific - execution order",
    ),
    story(
        "nb-rerun-reassigned-drop",
        "tabular",
        [
            f"{PD}\nfeatures = pd.DataFrame({{'id': [1, 2], 'age': [30, 40]}})",
            "features = features.drop(columns=['id'])",
        ],
        [0, 1, 1],
        (NB, "key error", None),
        "`features` lost 'id'",
        "this cell, previous run",
        detail="nb specific - execution order",
    ),
    story(
        "nb-rerun-pop",
        "tabular",
        [
            f"{PD}\nlabelled = pd.DataFrame({{'x': [1, 2], 'label': [0, 1]}})",
            "y_labels = labelled.pop('label')",
        ],
        [0, 1, 1],
        (NB, "key error", None),
        "`labelled` lost 'label'",
        detail="nb specific - execution order",
    ),
    story(
        "nb-fit-cell-not-run",
        "tabular",
        [
            (
                "from sklearn.linear_model import LogisticRegression\n"
                "Xc, yc = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]\nclassifier = LogisticRegression()"
            ),
            "classifier.fit(Xc, yc)",
            "classifier.predict([[1.5]])",
        ],
        [0, 2],
        (NB, "model initialization error", None),
        "`classifier` is fitted in cell",
        "`classifier.fit(Xc, yc)`",
        "had not run",
        detail="nb specific - execution order",
    ),
    story(
        "nb-model-recreated",
        "tabular",
        [
            "from sklearn.tree import DecisionTreeRegressor\nXr, yr = [[0.0], [1.0], [2.0]], [0.5, 1.5, 2.5]",
            "regressor = DecisionTreeRegressor(max_depth=2)",
            "regressor.fit(Xr, yr)",
            "regressor.predict([[1.0]])",
        ],
        [0, 1, 2, 1, 3],
        (NB, "model initialization error", None),
        # the recorded shapes decide: fitted after [2]'s run, unfitted again after [1]'s second run
        "was fitted after",
        "and reset by cell",
        detail="nb specific - execution order",
    ),
    story(
        "nb-plot-axes-not-made",
        "tabular",
        [PLT, "fig, axis = plt.subplots(figsize=(4, 3))", "axis.set_title('Monthly revenue')"],
        [0, 2],
        (NB, "variable not found", None),
        "`fig, axis = plt.subplots(figsize=(4, 3))`",
        "has not run since the kernel started",
    ),
    story(
        "nb-column-cell-not-run",
        "tabular",
        [
            f"{PD}\nloans = pd.DataFrame({{'income': [50.0, 80.0], 'debt': [10.0, 40.0]}})",
            "loans['ratio'] = loans['debt'] / loans['income']",
            "loans['ratio'].describe()",
        ],
        [0, 2],
        (NB, "key error", None),
        "'ratio' is added to `loans` in cell",
        "`loans['ratio'] = loans['debt'] / loans['income']`",
        "had not run",
        detail="nb specific - execution order",
    ),
    story(
        "nb-restart",
        "sessions",
        [f"{PD}\nsales_2024 = pd.Series([3.0, 4.0])", "sales_2024.mean()"],
        [0, 1, Restart(), 1],
        (NB, "variable not found", None),
        "the kernel has restarted since",
        detail="nb specific - execution order",
    ),
    # --- implementation error ----------------------------------------------------------------------------
    story(
        "impl-undefined-variable",
        "tabular",
        ["monthly = [120, 95, 143]", "print(sum(monthly) / quarterly_total)"],
        [0, 1],
        (IMPL, "variable not found", None),
        "defines `quarterly_total`",
        detail="undefined variable",
    ),
    story(
        "impl-typo",
        "tabular",
        ["customer_counts = {'north': 12, 'south': 7}", "customer_count['north']"],
        [0, 1],
        (IMPL, "variable not found", None),
        "`customer_counts`",
        detail="typo",
    ),
    story(
        "impl-did-not-import",
        "tabular",
        ["ratings = [4, 5, 3]", "sns.histplot(ratings)"],
        [0, 1],
        (IMPL, "module not found", None),
        "imports `sns`",
        detail="did not import",
    ),
    story(
        "impl-drop-in-loop",
        "tabular",
        [
            f"{PD}\nsurvey = pd.DataFrame({{'q1': [1, 2], 'q2': [3, 4], 'notes': ['a', 'b']}})",
            "for question in ['q1', 'q2']:\n    survey = survey.drop(columns=['notes'])",
        ],
        [0, 1],
        (IMPL, "key error", "pandas"),
        "the loop runs `survey = survey.drop(columns=['notes'])` on every pass",
        detail="wrong implementation",
    ),
    story(
        "impl-unpack",
        "tabular",
        [
            "def split_rows(rows):\n    half = len(rows) // 2\n    return rows[:half], rows[half:], half",
            "train_rows, test_rows = split_rows(list(range(10)))",
        ],
        [0, 1],
        (IMPL, "value error", None),
        "unpacked",
        detail="wrong implementation",
    ),
    story(
        "impl-zero-division",
        "tabular",
        ["true_pos, false_pos = 0, 0", "precision = true_pos / (true_pos + false_pos)"],
        [0, 1],
        (IMPL, "other", None),
        "division by zero",
        detail="wrong implementation",
    ),
    story(
        "impl-undefined-function",
        "tabular",
        ["scores_list = [0.7, 0.8]", "report = summarize_scores(scores_list)"],
        [0, 1],
        (IMPL, "name error", None),
        "defines `summarize_scores`",
        detail="undefined function",
    ),
    # --- API misuse --------------------------------------------------------------------------------------
    story(
        "api-unfitted-scaler",
        "tabular",
        [
            (
                "from sklearn.preprocessing import StandardScaler\nscaler = StandardScaler()\n"
                "measurements = [[1.0, 2.0], [3.0, 4.0]]"
            ),
            "scaler.transform(measurements)",
        ],
        [0, 1],
        (API, "model initialization error", "sklearn"),
        "`scaler` is an unfitted StandardScaler",
        "fits `scaler`",
    ),
    story(
        "api-score-without-y",
        "tabular",
        [
            "from sklearn.svm import SVC\nsvc = SVC().fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])",
            "svc.score([[1.0]])",
        ],
        [0, 1],
        (API, "invalid argument", "sklearn"),
        "signature",
        "`svc` (fitted SVC)",
    ),
    story(
        "api-missing-attribute",
        "tabular",
        [
            "from sklearn.svm import SVC\nsvm_model = SVC().fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])",
            "svm_model.feature_importances_",
        ],
        [0, 1],
        (API, "attribute error", "sklearn"),
        "`svm_model` (fitted SVC)",
    ),
    story(
        "api-none-from-inplace",
        "tabular",
        [
            f"{PD}\norders = pd.DataFrame({{'qty': [1.0, None, 3.0]}})\norders_clean = orders.dropna(inplace=True)",
            "orders_clean.describe()",
        ],
        [0, 1],
        (API, "attribute error", None),
        "`orders_clean` is None",
        "`orders.dropna(inplace=True)`",
    ),
    story(
        "api-plot-keyword",
        "tabular",
        [PLT, "plt.plot([1, 2, 3], [2, 4, 1], colour='red')"],
        [0, 1],
        (API, "attribute error", "matplotlib"),
        "no such attribute or method",
    ),
    story(
        "api-groupby-method",
        "tabular",
        [
            f"{PD}\nspend = pd.DataFrame({{'region': ['n', 's', 'n'], 'amount': [3.0, 4.0, 5.0]}})",
            "spend.groupby('region')['amount'].avg()",
        ],
        [0, 1],
        (API, "attribute error", "pandas"),
        "`spend` (DataFrame 3 rows × 2 columns)",
    ),
    story(
        "api-concatenate",
        "tabular",
        [f"{NP}\npart_a, part_b = np.ones(2), np.zeros(3)", "np.concatenate(part_a, part_b)"],
        [0, 1],
        (API, "type error", "numpy"),
        "`part_a` (array 2 f8)",
    ),
    story(
        "api-tensor-expected",
        "torch",
        [f"{TORCH}\n{NP}\nweights_np = np.ones(3)", "torch.square(weights_np)"],
        [0, 1],
        (API, "invalid argument", "torch"),
        "`weights_np` (array 3 f8)",
    ),
    # --- data confusion ----------------------------------------------------------------------------------
    story(
        "data-text-column",
        "tabular",
        [
            (
                f"{PD}\nfrom sklearn.linear_model import LinearRegression\n"
                "houses = pd.DataFrame({'rooms': [2, 3, 4], 'city': ['Lund', 'Malmo', 'Lund'], 'sqm': [50.0, 70.0, 90.0]})\n"
                "price = [1.0, 1.5, 2.0]"
            ),
            "LinearRegression().fit(houses, price)",
        ],
        [0, 1],
        (DATA, "value error", "sklearn"),
        "column 'city' of `houses` holds text ('Lund')",
    ),
    story(
        "data-missing-values",
        "tabular",
        [
            (
                f"{PD}\nfrom sklearn.linear_model import LogisticRegression\n"
                "passengers = pd.DataFrame({'Age': [22.0, None, 35.0, 54.0], 'Fare': [7.25, 71.28, 8.05, 51.86]})\n"
                "survived = [0, 1, 1, 0]"
            ),
            "LogisticRegression().fit(passengers, survived)",
        ],
        [0, 1],
        (DATA, "data value violation", "sklearn"),
        "`passengers` has missing values (NaN) in 'Age'",
    ),
    story(
        "data-column-case",
        "tabular",
        [
            f"{PD}\nemployees = pd.DataFrame({{'Salary': [50, 60], 'Dept': ['a', 'b']}})",
            "employees['salary'].mean()",
        ],
        [0, 1],
        (DATA, "key error", "pandas"),
        "`employees` has no column 'salary'; it has 'Salary'",
    ),
    story(
        "data-file-changed",
        "tabular",
        [f"{PD}\nsales = pd.read_csv('sales.csv')", "sales['revenue'].sum()"],
        [0, 1, Write("sales.csv", "region,turnover\nnorth,10\nsouth,20\n"), 0, 1],
        (DATA, "key error", "pandas"),
        "`sales.csv`",
        "which changed since",
        files={"sales.csv": "region,revenue\nnorth,10\nsouth,20\n"},
    ),
    story(
        "data-feature-count",
        "tabular",
        [
            (
                f"{PD}\nfrom sklearn.linear_model import LinearRegression\n"
                "train_frame = pd.DataFrame({'a': [1.0, 2.0, 3.0, 4.0], 'b': [1.0, 0.0, 1.0, 0.0], 'c': [2.0, 2.0, 3.0, 5.0]})\n"
                "linreg = LinearRegression().fit(train_frame.to_numpy(), [1.0, 2.0, 3.0, 4.0])"
            ),
            "new_rows = train_frame[['a', 'b']].to_numpy()",
            "linreg.predict(new_rows)",
        ],
        [0, 1, 2],
        (DATA, "tensor shape mismatch", "sklearn"),
        "`linreg` was fitted on 3 features",
    ),
    story(
        "data-plot-lengths",
        "tabular",
        [PLT, "days = list(range(10))\nvisits = [3, 5, 2, 8, 7, 4, 6, 9, 1]", "plt.plot(days, visits)"],
        [0, 1, 2],
        (DATA, "tensor shape mismatch", "matplotlib"),
        "`days` (list of 10)",
        "`visits` (list of 9)",
    ),
    story(
        "data-after-model",
        "torch",
        [f"{TORCH}\nnet_c = torch.nn.Linear(4, 2)", "inputs_c = torch.ones(6, 4)[:, :3]", "net_c(inputs_c)"],
        [0, 1, 2],
        (DATA, "tensor shape mismatch", "torch"),
        "takes 4 input features",
        "the data no longer fits the model",
    ),
    story(
        "data-target-out-of-range",
        "torch",
        [
            f"{TORCH}\nlogits = torch.randn(4, 3)\ntargets = torch.tensor([0, 1, 2, 5])",
            "torch.nn.functional.cross_entropy(logits, targets)",
        ],
        [0, 1],
        (DATA, "index error", "torch"),
        "`targets` (tensor [4] int64 on cpu)",
    ),
    # --- environment setting -----------------------------------------------------------------------------
    story(
        "env-missing-file",
        "tabular",
        [f"{PD}\ntitanic = pd.read_csv('../input/titanic/train.csv')"],
        [0],
        (ENV, "io error", None),
        "no earlier execution used",
        detail="file/path not found or exist",
    ),
    story(
        "env-vanished-file",
        "tabular",
        [f"{PD}\ndaily = pd.read_csv('visits.csv')"],
        [0, Delete("visits.csv"), 0],
        (ENV, "io error", None),
        "`visits.csv` was read by",
        "does not exist now",
        files={"visits.csv": "day,visits\n1,3\n2,5\n"},
    ),
    story(
        "env-not-installed",
        "tabular",
        ["import lightgbm_is_not_installed"],
        [0],
        (ENV, "module not found", None),
        "is not installed in this kernel's environment",
        detail="module not installed",
    ),
    story(
        "env-no-cuda",
        "torch",
        [f"{TORCH}\nbatch_gpu = torch.zeros(2)", "batch_gpu = batch_gpu.cuda()"],
        [0, 1],
        (ENV, "environment error", None),
        "GPU/CUDA setup",
    ),
    story(
        "env-package-uninstalled",
        "sessions",
        ["import helperpkg\nhelperpkg.VALUE"],
        [Package("helperpkg", "0.3", "VALUE = 3\n"), 0, Uninstall("helperpkg"), Restart(), 0],
        (ENV, "module not found", None),
        "`helperpkg` 0.3 was importable in kernel session",
        detail="change of environment",
    ),
    story(
        "env-import-name-gone",
        "sessions",
        ["from geostats import haversine_km\nhaversine_km(0, 0, 1, 1)"],
        [
            Package("geostats", "1.2", "def haversine_km(a, b, c, d):\n    return 1.0\n"),
            0,
            Package("geostats", "2.0", "def distance_km(a, b, c, d):\n    return 1.0\n"),
            Restart(),
            0,
        ],
        (ENV, "environment error", "geostats"),
        "with geostats 1.2; this kernel has geostats 2.0",
        detail="library versions incompatible",
    ),
    # --- library cause -----------------------------------------------------------------------------------
    story(
        "lib-function-removed",
        "sessions",
        ["import tinystats\ntinystats.legacy_mean([1, 2])"],
        [
            Package("tinystats", "1.0", "def legacy_mean(xs):\n    return sum(xs) / len(xs)\n"),
            0,
            Package("tinystats", "2.0", "def mean(xs):\n    return sum(xs) / len(xs)\n"),
            Restart(),
            0,
        ],
        (LIB, "attribute error", "tinystats"),
        "with tinystats 1.0; this kernel has tinystats 2.0",
        detail="API change",
    ),
    story(
        "lib-keyword-removed",
        "sessions",
        ["import textkit\ntextkit.tokenize('a b', lowercase=True)"],
        [
            Package("textkit", "0.9", "def tokenize(text, lowercase=False):\n    return text.split()\n"),
            0,
            Package("textkit", "1.0", "def tokenize(text):\n    return text.split()\n"),
            Restart(),
            0,
        ],
        (LIB, "invalid argument", "textkit"),
        "with textkit 0.9; this kernel has textkit 1.0",
        detail="API change",
    ),
    story(
        "lib-pandas-append",
        "tabular",
        [
            f"{PD}\nledger = pd.DataFrame({{'amount': [1.0]}})",
            "ledger = ledger.append({'amount': 2.0}, ignore_index=True)",
        ],
        [0, 1],
        (LIB, "attribute error", "pandas"),
        "was removed from pandas",
        detail="API change",
    ),
    story(
        "lib-numpy-float",
        "tabular",
        [NP, "ratio = np.float(3.5)"],
        [0, 1],
        (LIB, "attribute error", "numpy"),
        "removed in newer versions of numpy",
        detail="API change",
    ),
    story(
        "lib-sklearn-keyword",
        "tabular",
        ["from sklearn.preprocessing import OneHotEncoder", "encoder = OneHotEncoder(sparse=False)"],
        [0, 1],
        (LIB, "invalid argument", "sklearn"),
        "`sparse=` was removed",
        detail="API change",
    ),
    story(
        "lib-pandas-iteritems",
        "tabular",
        [
            f"{PD}\ninventory = pd.DataFrame({{'units': [1, 2]}})",
            "for column_name, values in inventory.iteritems():\n    print(column_name)",
        ],
        [0, 1],
        (LIB, "attribute error", "pandas"),
        "was removed from pandas",
        detail="API change",
    ),
    # --- insufficient resource ---------------------------------------------------------------------------
    story(
        "rsc-cuda-oom",
        "torch",
        [
            (
                f"{TORCH}\ndef train_step(batch_size):\n    raise torch.OutOfMemoryError(\n"
                "        'CUDA out of memory. Tried to allocate 3.15 GiB. GPU 0 has a total capacity of 14.75 GiB of which '\n"
                "        '1.20 GiB is free. Of the allocated memory 12.10 GiB is allocated by PyTorch.')"
            ),
            "train_step(512)",
        ],
        [0, 1],
        (RSC, "OOM", "torch"),
        "the failed allocation asked for 3.15 GiB",
        "the GPU had 1.20 GiB free of 14.75 GiB",
    ),
    story(
        "rsc-cpu-allocator",
        "torch",
        [TORCH, "huge_buffer = torch.empty(10**13, dtype=torch.uint8)"],
        [0, 1],
        (RSC, "OOM", "torch"),
        "the failed allocation asked for 9.09 TiB",
    ),
    story(
        "rsc-numpy-array",
        "tabular",
        [NP, "grid = np.zeros((10**7, 10**7))"],
        [0, 1],
        (RSC, "OOM", "numpy"),
        "TiB (an array of shape (10000000, 10000000))",
    ),
    story(
        "rsc-pandas-frame",
        "tabular",
        [f"{PD}\n{NP}", "wide = pd.DataFrame(np.ones((10**6, 10**7)))"],
        [0, 1],
        (RSC, "OOM", "numpy"),
        "the failed allocation asked for 72.8 TiB",
    ),
    story(
        "rsc-bytearray",
        "tabular",
        ["buffer = bytearray(10**15)"],
        [0],
        (RSC, "OOM", None),
        "ran out of memory",
    ),
    # --- ML model confusion ------------------------------------------------------------------------------
    story(
        "model-layer-after-data",
        "torch",
        [
            f"{TORCH}\nx_batch = torch.ones(8, 3)",
            "net_a = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))",
            "net_a(x_batch)",
        ],
        [0, 1, 2],
        (MODEL, "tensor shape mismatch", "torch"),
        "takes 4 input features",
        "the model does not fit the data",
    ),
    story(
        "model-width-from-frame",
        "torch",
        [
            (
                f"{TORCH}\n{PD}\nframe_features = torch.tensor(pd.DataFrame({{'a': [1.0], 'b': [2.0]}}).to_numpy(), "
                "dtype=torch.float32)"
            ),
            "regressor_net = torch.nn.Linear(5, 1)",
            "regressor_net(frame_features)",
        ],
        [0, 1, 2],
        (MODEL, "tensor shape mismatch", "torch"),
        "takes 5 input features; `frame_features` has shape [1, 2]",
    ),
    story(
        "model-conv-channels",
        "torch",
        [
            f"{TORCH}\ngray_images = torch.ones(1, 1, 28, 28)",
            "conv = torch.nn.Conv2d(3, 8, kernel_size=3)",
            "conv(gray_images)",
        ],
        [0, 1, 2],
        (MODEL, "tensor shape mismatch", "torch"),
        "takes 3 input channels",
    ),
    story(
        "model-state-dict",
        "torch",
        [
            f"{TORCH}\ntorch.save(torch.nn.Linear(4, 2).state_dict(), 'weights.pt')",
            "net_b = torch.nn.Linear(3, 2)\nnet_b.load_state_dict(torch.load('weights.pt'))",
        ],
        [0, 1],
        (MODEL, "invalid argument", "torch"),
        "the saved weights do not fit the model",
    ),
    story(
        "model-embedding-vocabulary",
        "torch",
        [
            f"{TORCH}\nvocab_embedding = torch.nn.Embedding(100, 8)",
            "token_ids = torch.tensor([[5, 17, 230]])",
            "vocab_embedding(token_ids)",
        ],
        [0, 1, 2],
        (MODEL, "index error", "torch"),
        "beyond its vocabulary",
    ),
)


@dataclass
class Outcome:
    """What a story's crash got: the diagnosis (None if none was shown) and which expectations held."""

    story: Story
    diagnosis: dict[str, Any] | None
    ename: str | None

    @property
    def evidence(self) -> str:
        return " | ".join(self.diagnosis["evidence"]) if self.diagnosis else ""

    @property
    def checks(self) -> dict[str, bool]:
        d = self.diagnosis or {}
        s = self.story
        return {
            "root cause": d.get("root_cause") == s.root_cause
            and (s.detail is None or d.get("root_cause_detail") == s.detail),
            "crash type": d.get("crash_type") == s.crash_type,
            "library": bool(d) and d.get("library") == s.library,
            "evidence": bool(d) and all(word in self.evidence for word in s.evidence),
        }


def _cell_id(story: Story, index: int) -> str:
    return f"{story.name}-{index}"


def _notebook(stories: list[Story], path: Path) -> None:
    """The saved notebook of a group: every cell of its stories, in story order, none executed."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "provkernel", "display_name": "Python (prov)", "language": "python"}
    for s in stories:
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## {s.name}"))
        for index, code in enumerate(s.cells):
            cell = nbformat.v4.new_code_cell(code)
            cell.id = _cell_id(s, index)
            nb.cells.append(cell)
    nbformat.write(nb, path)


def _act(step: Step, kernel: Kernel, work: Path, lib: Path) -> None:
    if isinstance(step, Restart):
        kernel.restart()
    elif isinstance(step, Write):
        (work / step.path).write_text(step.text)
    elif isinstance(step, Delete):
        (work / step.path).unlink()
    elif isinstance(step, Package):
        flush(kernel)  # time passes: what the kernel imported so far is recorded with its version
        write_package(lib, step.name, step.version, step.body)
    elif isinstance(step, Uninstall):
        shutil.rmtree(lib / step.name)
        for info in lib.glob(f"{step.name}-*.dist-info"):
            shutil.rmtree(info)


def run_group(stories: list[Story], work: Path, lib: Path, code: Path | None = None) -> list[Outcome]:
    """Run one group's stories in one prov kernel on a saved notebook; one outcome per story.

    ``code``: a folder with another ``provkernel`` package to run instead of the installed one.
    """
    path = work / f"{stories[0].group}.ipynb"
    _notebook(stories, path)
    for s in stories:
        for name, text in s.files.items():
            (work / name).write_text(text)
    pythonpath = f"{code}:{lib}" if code else str(lib)
    env = {"PYTHONPATH": pythonpath, "PROVKERNEL_DB": str(work / f"{stories[0].group}.sqlite")}
    outcomes = []
    with Kernel(cwd=work, notebook=path, env=env) as kernel:
        for s in stories:
            reply = None
            for step in s.order:
                if isinstance(step, int):
                    reply = kernel.execute(s.cells[step], _cell_id(s, step), timeout=120)
                else:
                    _act(step, kernel, work, lib)
            found = reply.data(MIME_TYPE) if reply is not None else []
            ename = reply.error["ename"] if reply is not None and reply.error else None
            outcomes.append(Outcome(s, found[-1] if found else None, ename))
    return outcomes


def run_stories(
    work: Path,
    stories: tuple[Story, ...] = STORIES,
    groups: tuple[str, ...] | None = None,
    code: Path | None = None,
) -> list[Outcome]:
    """Run every story (of ``groups``), group by group, in temporary directories under ``work``."""
    lib = work / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for group in dict.fromkeys(s.group for s in stories):
        if groups is not None and group not in groups:
            continue
        folder = work / group
        folder.mkdir(exist_ok=True)
        outcomes += run_group([s for s in stories if s.group == group], folder, lib, code)
    return outcomes
