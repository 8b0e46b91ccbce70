"""Context rules on real crashes in this process: live objects (pandas, scikit-learn, torch), recorded object
states, code of earlier executions, saved notebooks (issue 13, Build 1-3). No kernel: the crashes are real,
the history is built as the store would record it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from provkernel.crashes.context import NOT_RUN, OK, CrashContext, Epoch, Execution, ObjectState, Owner
from provkernel.crashes.live import inspect_crash
from provkernel.crashes.saved_notebook import SavedCell, SavedNotebooks, parse_cells, with_saved_cells
from tests.crashes.live_helpers import Notebook, live_only, run_cell


def evidence(d) -> str:
    return " | ".join(d.evidence)


def frame_fp(rows: int, *columns: str) -> tuple:
    return ("DataFrame", rows, tuple((c, "float64") for c in columns))


def estimator_fp(fitted: bool) -> tuple:
    return ("estimator", "RandomForestClassifier", (("classes_", (2,)),) if fitted else (), ())


@pytest.fixture
def nb() -> Notebook:
    book = Notebook()
    book.run("import numpy as np\nimport pandas as pd", "imports")
    return book


# --- Build 1: the objects at the crash decide ------------------------------------------------------------


def test_text_columns_are_named_with_the_column_holding_the_value(nb):
    nb.run(
        "from sklearn.linear_model import LinearRegression\n"
        "X_train = pd.DataFrame({'age': [20, 30, 40], 'city': ['a', 'b', 'c'], 'sex': ['male', 'female', 'male']})",
        "data",
    )
    d = nb.diagnose("LinearRegression().fit(X_train, [1, 2, 3])", "fit")
    assert (d.crash_type, d.root_cause, d.basis) == ("value error", "data confusion", "live")
    assert "of `X_train` holds text" in evidence(d) and "'city', 'sex'" in evidence(d)


def test_a_string_literal_where_data_belongs_is_api_misuse(nb):
    d = nb.diagnose("np.array(['price', 'size'], dtype=float)", "literal")
    assert (d.root_cause_detail, d.basis) == ("misunderstanding of APIs", "live")
    assert "`'price'` is a string literal on the failing line" in evidence(d)


def test_nan_columns_are_named(nb):
    nb.run(
        "from sklearn.linear_model import LogisticRegression\n"
        "X = pd.DataFrame({'Age': [22, np.nan, 30, 41], 'Fare': [7.2, 71.3, np.inf, 8.1], 'Pclass': [3, 1, 3, 2]})",
        "data",
    )
    d = nb.diagnose("LogisticRegression().fit(X, [0, 1, 0, 1])", "fit")
    assert (d.crash_type, d.root_cause, d.basis) == ("data value violation", "data confusion", "live")
    assert "`X` has missing values (NaN) in 'Age'" in evidence(d)


def test_missing_column_names_the_close_one(nb):
    nb.run("df = pd.DataFrame({'Age': [1, 2], 'Name': ['a', 'b']})", "data")
    d = nb.diagnose("df['age'].mean()", "use")
    assert (d.root_cause, d.library) == ("data confusion", "pandas")
    assert "`df` has no column 'age'; it has 'Age'" in evidence(d)


def test_column_removed_by_another_cell_is_named(nb):
    nb.run("df = pd.DataFrame({'Amount': [1.0, 2.0], 'Time': [0, 1]})", "load")
    nb.run("df.drop(columns=['Amount'], inplace=True)", "clean")
    d = nb.diagnose("df['Amount'].sum()", "total")
    assert d.root_cause_detail == "misunderstanding of data structure"
    assert "`df` lost 'Amount' in In [3] (`df.drop(columns=['Amount'], inplace=True)`)" in evidence(d)


def test_column_removed_by_a_cell_below_that_ran_first_is_execution_order(nb):
    nb.run("df = pd.DataFrame({'Amount': [1.0, 2.0], 'Time': [0, 1]})", "load", position=1)
    nb.run("df = df.drop(columns=['Amount'])", "clean", position=5)
    d = nb.diagnose("df['Amount'].sum()", "total", position=3)
    assert d.root_cause_detail == "nb specific - execution order"
    assert "below this one but ran before it" in evidence(d)


def test_rerun_of_a_reassigning_drop_is_execution_order(nb):
    nb.run("df = pd.DataFrame({'Amount': [1.0], 'Time': [0]})", "load")
    nb.run("df = df.drop(columns=['Amount'])", "clean")
    d = nb.diagnose("df = df.drop(columns=['Amount'])", "clean")
    assert (d.crash_type, d.root_cause_detail, d.library) == (
        "key error",
        "nb specific - execution order",
        None,
    )
    assert "`df` lost 'Amount' in In [3] (this cell, previous run" in evidence(d)


def test_drop_in_a_loop_is_an_implementation_error_not_a_rerun(nb):
    nb.run("df = pd.DataFrame({'Amount': [1.0], 'Time': [0]})", "load")
    d = nb.diagnose("for column in ['Amount', 'Time']:\n    df = df.drop(columns=['Amount'])", "loop")
    assert (d.root_cause, d.root_cause_detail) == ("implementation error", "wrong implementation")
    assert "the loop runs `df = df.drop(columns=['Amount'])` on every pass" in evidence(d)


def test_unfitted_estimator_re_created_after_its_fit(nb):
    nb.run(
        "from sklearn.tree import DecisionTreeClassifier\nX, y = [[0], [1], [2], [3]], [0, 1, 0, 1]", "data"
    )
    nb.run("model = DecisionTreeClassifier()", "make")
    nb.run("model.fit(X, y)", "fit")
    nb.run("model = DecisionTreeClassifier()", "make")
    d = nb.diagnose("model.predict(X)", "predict")
    assert (d.crash_type, d.root_cause_detail) == (
        "model initialization error",
        "nb specific - execution order",
    )
    assert "`model` is an unfitted DecisionTreeClassifier, created by In [5]" in evidence(d)
    assert "In [4] fitted `model`, but In [5] re-created it afterwards" in evidence(d)


def test_unfitted_estimator_nobody_fits_is_api_misuse(nb):
    nb.run("from sklearn.tree import DecisionTreeClassifier\nmodel = DecisionTreeClassifier()", "make")
    d = nb.diagnose("model.predict([[1]])", "predict")
    assert (d.root_cause, d.library) == ("API misuse", "sklearn")
    assert "no recorded execution fits `model`" in evidence(d)


def test_feature_count_names_the_fitted_features(nb):
    nb.run(
        "from sklearn.linear_model import LinearRegression\n"
        "train = pd.DataFrame({'a': [1., 2., 3.], 'b': [0., 1., 0.], 'c': [1., 1., 2.]})\n"
        "model = LinearRegression().fit(train.to_numpy(), [1, 2, 3])",
        "fit",
    )
    nb.run("test = train[['a', 'b']]", "test")
    d = nb.diagnose("model.predict(test.to_numpy())", "predict")
    assert d.root_cause == "data confusion" and d.basis == "live"
    assert "`model` was fitted on 3 features" in evidence(d)


def test_feature_names_lists_the_missing_columns(nb):
    nb.run(
        "from sklearn.linear_model import LinearRegression\n"
        "train = pd.DataFrame({'a': [1., 2., 3.], 'b': [0., 1., 0.]})\n"
        "model = LinearRegression().fit(train, [1, 2, 3])",
        "fit",
    )
    d = nb.diagnose("model.predict(train[['a']])", "predict")
    assert "`model` was fitted on 2 features ('a', 'b')" in evidence(d)
    assert "the data passed has missing 'b'" in evidence(d)


def test_none_from_an_inplace_method_is_api_misuse(nb):
    nb.run("raw = pd.DataFrame({'a': [1.0, None]})\nclean = raw.dropna(inplace=True)", "clean")
    d = nb.diagnose("clean.head()", "show")
    assert (d.crash_type, d.root_cause) == ("attribute error", "API misuse")
    assert "`clean` is None: In [2] assigned it the result of `raw.dropna(inplace=True)`" in evidence(d)


def test_layer_built_after_the_data_is_model_confusion(nb):
    torch = pytest.importorskip("torch")
    nb.namespace["torch"] = torch
    nb.run("x = torch.ones(8, 3)", "data")
    nb.run("net = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU())", "model")
    d = nb.diagnose("net(x)", "forward")
    assert (d.crash_type, d.root_cause, d.library) == ("tensor shape mismatch", "ML model confusion", "torch")
    assert "first layer (Linear `0`) takes 4 input features; `x` has shape [8, 3]" in evidence(d)


def test_data_changed_after_the_layer_is_data_confusion(nb):
    torch = pytest.importorskip("torch")
    nb.namespace["torch"] = torch
    nb.run("net = torch.nn.Linear(4, 2)", "model")
    nb.run("x = torch.ones(8, 4)[:, :3]", "data")
    d = nb.diagnose("net(x)", "forward")
    assert (d.crash_type, d.root_cause) == ("tensor shape mismatch", "data confusion")
    assert "the data no longer fits the model" in evidence(d)


def test_without_history_the_live_objects_still_decide():
    frame = pd.DataFrame({"Age": [1.0, np.nan]})
    d, live = live_only(
        "from sklearn.linear_model import LinearRegression\nLinearRegression().fit(frame, [1, 2])",
        {"frame": frame},
    )
    assert live.objects["frame"].facts["nan_columns"] == ["Age"]
    assert (d.root_cause, d.basis) == ("data confusion", "live")


# --- the recorded object states (filled by the store's fingerprints) ------------------------------------


def _state_context(crash_code: str, states: list[ObjectState], crash_cell: str, **kw) -> CrashContext:
    crash = Execution(9, crash_cell, kw.pop("position", None), 1, "error", None, crash_code)
    runs = [s.execution for s in states]
    return CrashContext(crash=crash, history=runs, current_epoch=1, states=states, **kw)


def _key_error(code: str, context: CrashContext):
    from provkernel.crashes import classify

    tb = [f"Cell In[9], line 1\n----> 1 {code}\n", "KeyError: 'Amount'"]
    return classify("KeyError", "'Amount'", tb, context)


def test_states_name_the_execution_that_lost_the_column():
    load = Execution(4, "load", 1, 1, OK, None, "df = pd.read_csv('cc.csv')")
    clean = Execution(7, "clean", 2, 1, OK, None, "df = clean(df)")
    states = [
        ObjectState("df", load, frame_fp(100, "Time", "V1", "Amount")),
        ObjectState("df", clean, frame_fp(100, "Time", "V1")),
    ]
    d = _key_error("df['Amount']", _state_context("df['Amount']", states, "use", position=3))
    assert d.root_cause == "data confusion"
    assert (
        "`df` had 3 columns after cell 2 (In [4]), 2 after cell 3 (In [7]): it lost 'Amount' there"
        in evidence(d)
    )


def test_states_show_the_failing_cell_lost_it_on_its_previous_run():
    load = Execution(4, "load", 1, 1, OK, None, "df = pd.read_csv('cc.csv')")
    first = Execution(7, "prep", 2, 1, OK, None, "df = prep(df)\ndf['Amount']")
    states = [
        ObjectState("df", load, frame_fp(100, "Time", "Amount")),
        ObjectState("df", first, frame_fp(100, "Time")),
    ]
    d = _key_error("df['Amount']", _state_context("df = prep(df)\ndf['Amount']", states, "prep"))
    assert d.root_cause_detail == "nb specific - execution order"
    assert "(this cell, previous run)" in evidence(d)


def test_states_show_the_estimator_reset_after_its_fit():
    from provkernel.crashes import classify

    make = Execution(4, "make", 1, 1, OK, None, "model = RandomForestClassifier()")
    fit = Execution(6, "fit", 2, 1, OK, None, "model.fit(X, y)")
    again = Execution(8, "make", 1, 1, OK, None, "model = RandomForestClassifier()")
    states = [
        ObjectState("model", make, estimator_fp(False)),
        ObjectState("model", fit, estimator_fp(True)),
        ObjectState("model", again, estimator_fp(False)),
    ]
    context = _state_context("model.predict(X)", states, "predict")
    tb = [
        "Cell In[9], line 1\n----> 1 model.predict(X)\n",
        "NotFittedError: This RandomForestClassifier instance is not fitted yet.",
    ]
    d = classify("NotFittedError", "This RandomForestClassifier instance is not fitted yet.", tb, context)
    assert d.root_cause_detail == "nb specific - execution order"
    assert "`model` was fitted after cell 3 (In [6]) and reset by cell 2 (In [8])" in evidence(d)


def test_states_give_the_width_history_of_the_data():
    from provkernel.crashes import classify
    from provkernel.crashes.context import LiveObject, LiveState

    split = Execution(5, "split", 1, 1, OK, None, "X_test = X[cols]")
    trim = Execution(8, "trim", 2, 1, OK, None, "X_test = X_test.iloc[:, 1:]")
    states = [
        ObjectState("X_test", split, frame_fp(10, "a", "b", "c", "d")),
        ObjectState("X_test", trim, frame_fp(10, "b", "c", "d")),
    ]
    live = LiveState(
        {
            "model": LiveObject("model", "sklearn.svm.SVC", estimator_fp(True), {"n_features_in": 4}),
            "X_test": LiveObject(
                "X_test", "pandas.DataFrame", frame_fp(10, "b", "c", "d"), {"columns": ["b", "c", "d"]}
            ),
        }
    )
    context = _state_context("model.predict(X_test)", states, "predict", live=live)
    message = "X has 3 features, but SVC is expecting 4 features as input."
    tb = ["Cell In[9], line 1\n----> 1 model.predict(X_test)\n", f"ValueError: {message}"]
    d = classify("ValueError", message, tb, context)
    assert d.crash_type == "tensor shape mismatch" and d.root_cause == "data confusion"
    assert "`X_test` had 4 columns after cell 2 (In [5]); 3 after cell 3 (In [8]) (lost 'a')" in evidence(d)


# --- Build 3: versions over time -------------------------------------------------------------------------


def test_keyword_removed_in_the_installed_version_is_an_api_change():
    from provkernel.crashes import classify
    from provkernel.crashes.context import LiveState

    code = "tinystats.mean(values, skipna=True)"
    before = Execution(3, "stats", 2, 1, OK, None, code)
    crash = Execution(2, "stats", 2, 2, "error", None, code)
    context = CrashContext(
        crash=crash,
        history=[before],
        aliases={"tinystats": "tinystats"},
        epochs={1: Epoch(1, None, {"tinystats": "1.0"}), 2: Epoch(2, None, {"tinystats": "2.0"})},
        current_epoch=2,
        live=LiveState(owners=(Owner("tinystats", "tinystats", "2.0", "called"),)),
    )
    message = "mean() got an unexpected keyword argument 'skipna'"
    d = classify(
        "TypeError", message, [f"Cell In[2], line 1\n----> 1 {code}\n", f"TypeError: {message}"], context
    )
    assert (d.crash_type, d.root_cause, d.root_cause_detail, d.library) == (
        "invalid argument",
        "library cause",
        "API change",
        "tinystats",
    )
    assert "with tinystats 1.0; this kernel has tinystats 2.0" in evidence(d)


def test_method_removed_from_an_imported_class_is_an_api_change():
    from provkernel.crashes import classify

    code = "Circle(2.0).area_cm()"
    context = CrashContext(
        crash=Execution(1, "area", 2, 2, "error", None, code),
        history=[Execution(3, "area", 2, 1, OK, None, code)],
        aliases={"Circle": "shapes:Circle"},
        epochs={1: Epoch(1, None, {"shapes": "1.0"}), 2: Epoch(2, None, {"shapes": "2.0"})},
        current_epoch=2,
    )
    message = "'Circle' object has no attribute 'area_cm'"
    d = classify(
        "AttributeError",
        message,
        [f"Cell In[1], line 1\n----> 1 {code}\n", f"AttributeError: {message}"],
        context,
    )
    assert (d.root_cause_detail, d.library) == ("API change", "shapes")
    assert "with shapes 1.0; this kernel has shapes 2.0" in evidence(d)


def test_any_installed_distribution_is_named_as_the_library():
    from provkernel.crashes import classify
    from provkernel.crashes.context import LiveState

    code = "teamtools.score(frame)"
    message = "score() missing 1 required positional argument: 'target'"
    context = CrashContext(
        crash=Execution(2, "c", code=code),
        live=LiveState(owners=(Owner("teamtools", "teamtools", "0.4", "called"),)),
        source="live",
    )
    d = classify(
        "TypeError", message, [f"Cell In[2], line 1\n----> 1 {code}\n", f"TypeError: {message}"], context
    )
    assert (d.root_cause, d.library) == ("API misuse", "teamtools")


# --- Build 2: the saved notebook ---------------------------------------------------------------------


def test_saved_cells_add_never_run_cells_and_positions():
    ran = Execution(1, "c1", None, 1, OK, None, "import pandas as pd")
    crash = Execution(2, "c3", None, 1, "error", None, "X_train.shape")
    cells = [
        SavedCell(0, "c1", "import pandas as pd", 1),
        SavedCell(
            2, "c2", "# split\nX_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)", None
        ),
        SavedCell(3, "c3", "X_train.shape", 2),
    ]
    context = with_saved_cells(CrashContext(crash=crash, history=[ran], current_epoch=1), cells, {"X_train"})
    assert context.crash.position == 3 and context.history[0].position == 0
    unrun = context.history[-1]
    assert (unrun.status, unrun.position) == (NOT_RUN, 2)
    assert [b.name for b in context.bindings if b.execution == unrun][:2] == ["X_train", "X_test"]
    from provkernel.crashes import classify

    tb = ["Cell In[2], line 1\n----> 1 X_train.shape\n", "NameError: name 'X_train' is not defined"]
    d = classify("NameError", "name 'X_train' is not defined", tb, context)
    assert d.root_cause_detail == "nb specific - execution order"
    assert (
        "`X_train` is assigned in cell 3 (`X_train, X_test, … = train_test_split(…)`), which has not run since "
        "the kernel started"
    ) in evidence(d)


def test_saved_notebook_reader_tolerates_bad_files_and_caches(tmp_path):
    reader = SavedNotebooks()
    assert reader.cells(str(tmp_path / "missing.ipynb")) is None
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json")
    assert reader.cells(str(bad)) is None
    assert reader.cells(str(tmp_path / "notes.txt")) is None
    good = tmp_path / "good.ipynb"
    good.write_text(
        '{"cells": [{"cell_type": "markdown", "source": "# t"}, {"cell_type": "code", "id": "x", '
        '"source": ["a = 1\\n", "b = 2"], "execution_count": 3, "outputs": []}]}'
    )
    first = reader.cells(str(good))
    assert first == [SavedCell(1, "x", "a = 1\nb = 2", 3)]
    assert reader.cells(str(good)) is first  # cached by modification time and size
    assert parse_cells('{"metadata": {}}') == []


# --- never calling user code -------------------------------------------------------------------------


class Hostile:
    """Every dunder a careless inspector would call records the call and fails."""

    calls: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.payload = [1, 2, 3]

    def __repr__(self) -> str:
        Hostile.calls.append("repr")
        raise RuntimeError("repr called")

    def __len__(self) -> int:
        Hostile.calls.append("len")
        raise RuntimeError("len called")

    def __eq__(self, other: object) -> bool:
        Hostile.calls.append("eq")
        raise RuntimeError("eq called")

    __hash__ = object.__hash__

    def __getattr__(self, name: str):
        Hostile.calls.append(f"getattr {name}")
        raise AttributeError(name)

    @property
    def shape(self):
        Hostile.calls.append("shape")
        return (1,)


def test_live_inspection_never_calls_user_code():
    Hostile.calls.clear()
    error = run_cell("thing = Hostile()\nthing.fit(thing) + missing_name", {"Hostile": Hostile}, 5)
    live = inspect_crash(error, wants={"nan", "value:x"})
    assert "thing" in live.objects and live.objects["thing"].type_name.endswith("Hostile")
    assert Hostile.calls == ["getattr fit"]  # the cell's own call, before the crash; none by the inspection


def test_live_inspection_of_an_exception_without_frames_is_empty():
    assert inspect_crash(ValueError("no traceback")).objects == {}
