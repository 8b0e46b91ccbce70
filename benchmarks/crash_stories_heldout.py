"""Held-out crash stories: written after the rules were frozen and run once, never used to change a rule.

Two per root cause, expectations set from the paper's labelling conventions before any was run. The
result is reported in BENCHMARKS.md as is (misses included); they are not part of the test suite.

    python benchmarks/crash_stories.py --stories crash_stories_heldout --failures
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.kernel.crash_stories import (
    API,
    DATA,
    ENV,
    IMPL,
    LIB,
    MODEL,
    NB,
    NP,
    PD,
    PLT,
    RSC,
    TORCH,
    Package,
    Restart,
    story,
)

STORIES = (
    story(
        "held-fit-cell-failed",
        "tabular",
        [
            (
                "from sklearn.ensemble import RandomForestClassifier\nforest = RandomForestClassifier(n_estimators='100')\n"
                "forest.fit([[0.0], [1.0]], [0, 1])"
            ),
            "forest.predict([[0.5]])",
        ],
        [0, 1],
        (NB, "model initialization error", None),
        "failed",
        detail="nb specific - previous cell error",
    ),
    story(
        "held-rerun-del-column",
        "tabular",
        [f"{PD}\nframe_del = pd.DataFrame({{'a': [1], 'tmp': [2]}})", "del frame_del['tmp']"],
        [0, 1, 1],
        (NB, "key error", None),
        "previous run",
        detail="nb specific - execution order",
    ),
    story(
        "held-off-by-one",
        "tabular",
        [
            "values_list = [3, 1, 4]\ntotal = 0",
            "for i in range(len(values_list) + 1):\n    total += values_list[i]",
        ],
        [0, 1],
        (IMPL, "index error", None),
        "index",
        detail="wrong implementation",
    ),
    story(
        "held-function-typo",
        "tabular",
        ["def normalize(xs):\n    top = max(xs)\n    return [x / top for x in xs]", "normalise([1, 2, 4])"],
        [0, 1],
        (IMPL, "name error", None),
        "`normalize`",
        detail="typo",
    ),
    story(
        "held-metric-missing-argument",
        "tabular",
        ["from sklearn.metrics import accuracy_score\ny_true_h = [0, 1, 1]", "accuracy_score(y_true_h)"],
        [0, 1],
        (API, "invalid argument", "sklearn"),
        "signature",
    ),
    story(
        "held-sort-without-by",
        "tabular",
        [f"{PD}\nscores_h = pd.DataFrame({{'name': ['a', 'b'], 'score': [2, 1]}})", "scores_h.sort_values()"],
        [0, 1],
        (API, "invalid argument", "pandas"),
        "signature",
    ),
    story(
        "held-number-with-comma",
        "tabular",
        [
            f"{PD}\nlistings = pd.DataFrame({{'price': ['1,200', '950'], 'rooms': [3, 2]}})",
            "pd.to_numeric(listings['price'])",
        ],
        [0, 1],
        (DATA, "value error", "pandas"),
        "'price'",
    ),
    story(
        "held-infinite-values",
        "tabular",
        [
            (
                f"{PD}\n{NP}\nfrom sklearn.preprocessing import StandardScaler\n"
                "readings_df = pd.DataFrame({'v': [1.0, np.inf, 3.0], 'w': [0.5, 0.1, 0.2]})"
            ),
            "StandardScaler().fit_transform(readings_df)",
        ],
        [0, 1],
        (DATA, "data value violation", "sklearn"),
        "`readings_df` has infinite values in 'v'",
    ),
    story(
        "held-missing-config",
        "tabular",
        ["import json\nsettings = json.load(open('config/settings.json'))"],
        [0],
        (ENV, "io error", None),
        "config/settings.json",
        detail="file/path not found or exist",
    ),
    story(
        "held-missing-module",
        "tabular",
        ["import torch_geometric_not_here"],
        [0],
        (ENV, "module not found", None),
        "not installed",
        detail="module not installed",
    ),
    story(
        "held-method-renamed",
        "sessions",
        ["from shapes import Circle\nCircle(2.0).area_cm()"],
        [
            Package(
                "shapes",
                "1.0",
                "class Circle:\n    def __init__(self, r):\n        self.r = r\n"
                "    def area_cm(self):\n        return 3.14 * self.r ** 2\n",
            ),
            0,
            Package(
                "shapes",
                "2.0",
                "class Circle:\n    def __init__(self, r):\n        self.r = r\n"
                "    def area(self):\n        return 3.14 * self.r ** 2\n",
            ),
            Restart(),
            0,
        ],
        (LIB, "attribute error", "shapes"),
        "shapes 1.0",
        "shapes 2.0",
        detail="API change",
    ),
    story(
        "held-subplot-axisbg",
        "tabular",
        [PLT, "panel = plt.subplot(111, axisbg='w')"],
        [0, 1],
        (LIB, "attribute error", "matplotlib"),
        "axisbg",
        detail="API change",
    ),
    story(
        "held-torch-zeros",
        "torch",
        [TORCH, "attention = torch.zeros(10**6, 10**6)"],
        [0, 1],
        (RSC, "OOM", "torch"),
        "the failed allocation asked for",
    ),
    story(
        "held-numpy-rand",
        "tabular",
        [NP, "noise = np.random.rand(10**6, 10**6)"],
        [0, 1],
        (RSC, "OOM", "numpy"),
        "the failed allocation asked for",
    ),
    story(
        "held-lstm-input-size",
        "torch",
        [
            f"{TORCH}\nsequence = torch.ones(5, 1, 8)",
            "lstm = torch.nn.LSTM(input_size=10, hidden_size=4)",
            "lstm(sequence)",
        ],
        [0, 1, 2],
        (MODEL, "tensor shape mismatch", "torch"),
        "`lstm`",
    ),
    story(
        "held-checkpoint-architecture",
        "torch",
        [
            (
                f"{TORCH}\nold_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))\n"
                "torch.save(old_net.state_dict(), 'checkpoint.pt')"
            ),
            (
                "new_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))\n"
                "new_net.load_state_dict(torch.load('checkpoint.pt'))"
            ),
        ],
        [0, 1],
        (MODEL, "invalid argument", "torch"),
        "the saved weights do not fit the model",
    ),
)
