"""Object fingerprints: they change when an object changes in a way a cell cares about, and cost little."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from provkernel.capture.fingerprint import (
    Fingerprinter,
    columns,
    describe,
    from_json,
    is_fitted,
    structure,
    to_json,
)


@pytest.fixture
def fp() -> Fingerprinter:
    return Fingerprinter()


def changed(fp: Fingerprinter, obj, mutate) -> bool:
    before = fp.of(obj)
    mutate(obj)
    return fp.of(obj) != before


def test_immutable_values_have_no_fingerprint(fp):
    for value in (1, 2.5, "s", b"b", None, (1, [2]), frozenset({1}), np.float64(1.5), len, np, int):
        assert fp.of(value) is None, value


def test_containers_change_with_their_items(fp):
    assert changed(fp, [1, 2], lambda x: x.append(3))
    assert changed(fp, [1, 2], lambda x: x.__setitem__(0, 5))
    assert changed(fp, {"a": 1}, lambda x: x.__setitem__("a", 2))
    assert changed(fp, {1}, lambda x: x.add(2))
    assert not changed(fp, [1, 2], lambda x: None)
    big = list(range(100_000))
    assert changed(fp, big, lambda x: x.append(1))


def test_pandas_frames_columns_dtypes_and_rows(fp):
    df = pd.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"]})
    assert changed(fp, df, lambda d: d.pop("b"))
    assert changed(fp, df, lambda d: d.__setitem__("a", d["a"].fillna(0).astype(int)))
    assert changed(fp, df, lambda d: d.__setitem__("c", 1))
    assert columns(fp.of(df)) == {"a": "int64", "c": "int64"}
    assert describe(fp.of(df)) == "DataFrame 3 rows × 2 columns"
    assert not changed(fp, df, lambda d: d.head())


def test_numpy_arrays_sample_values_cheaply(fp):
    a = np.zeros((1000, 50))
    assert changed(fp, a, lambda x: x.__iadd__(1))
    assert changed(fp, a, lambda x: x.resize((10, 5000), refcheck=False))
    assert describe(fp.of(np.zeros((2, 3), dtype=np.int32))) == "array 2×3 i4"


def test_estimators_fitted_state_and_pipelines(fp):
    X, y = np.random.default_rng(0).random((20, 3)), [0, 1] * 10
    model = LogisticRegression()
    assert is_fitted(fp.of(model)) is False
    assert changed(fp, model, lambda m: m.fit(X, y))
    assert is_fitted(fp.of(model)) is True and describe(fp.of(model)) == "fitted LogisticRegression"
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    assert changed(fp, pipe, lambda m: m.fit(X, y))
    assert is_fitted(fp.of(pipe)) is True


def test_user_objects_by_attribute_identity_without_calling_them(fp):
    class Hostile:
        def __init__(self):
            self.items = []

        def __len__(self):
            raise RuntimeError("never call me")

        def __eq__(self, other):
            raise RuntimeError("never compare me")

        __hash__ = None

    obj = Hostile()
    assert changed(fp, obj, lambda o: setattr(o, "items", [1]))
    assert not changed(fp, obj, lambda o: None)


def test_a_slow_type_falls_back_to_identity(fp):
    class Slow(list):
        pass

    fp.slow_s = 0.0  # every fingerprint counts as slow: the type is demoted after one
    obj = Slow([1])
    fp.of(obj)
    assert fp.slow_types and fp.of(obj) == (
        "object",
        "test_a_slow_type_falls_back_to_identity.<locals>.Slow",
        -1,
        0,
    )


def test_stored_structure_drops_per_process_hashes(fp):
    assert structure(fp.of([1, 2])) == ("list", 2)
    assert structure(fp.of(np.zeros((2, 3)))) == ("ndarray", "<f8", (2, 3))
    frame = fp.of(pd.DataFrame({"a": [1]}))
    assert structure(frame) == frame


def test_json_round_trip(fp):
    for obj in ([1], {"a": [1]}, pd.DataFrame({"a": [1]}), np.ones(3), LogisticRegression()):
        assert from_json(to_json(fp.of(obj))) == fp.of(obj)


def test_torch_tensors_in_place_and_devices(fp):
    torch = pytest.importorskip("torch")
    t = torch.ones(2, 3)
    assert changed(fp, t, lambda x: x.add_(1))
    assert describe(fp.of(t)) == "tensor [2, 3] float32 on cpu"
    layer = torch.nn.Linear(4, 5)
    assert describe(fp.of(layer)) == "Linear (25 parameters on cpu)"
    assert changed(fp, layer, lambda m: m.eval())
