"""Tests of odse_tutorial.prediction: windowed map products, nodata, atomicity, years."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from rasterio.enums import ColorInterp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from odse_tutorial.classes import CORINE_CLASSES, ClassTable
from odse_tutorial.prediction import (
    MapProducts,
    _single_threaded,
    predict_map,
    predict_maps,
    read_map_at_points,
    to_percent,
)
from odse_tutorial.raster_io import read_legend
from odse_tutorial.uncertainty import normalized_entropy

HEIGHT, WIDTH = 40, 56  # with window_size=32: 4 windows, two of them partial
WINDOW = 32
TRANSFORM = Affine(30.0, 0.0, 4_000_000.0, 0.0, -30.0, 3_000_000.0)
FEATURES = ["red_summer", "nir_summer", "ndvi_summer", "elevation"]
NODATA = {"red_summer": 0, "nir_summer": -9999, "ndvi_summer": np.nan, "elevation": -32768}


def _feature_values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    return {
        "red_summer": (20 + (rows * 3 + cols) % 200 + rng.integers(0, 30, rows.shape)).astype(
            "uint8"
        ),
        "nir_summer": (1000 + 40 * cols + rng.integers(-200, 200, rows.shape)).astype("int16"),
        "ndvi_summer": (np.sin(rows / 7.0) * np.cos(cols / 9.0)).astype("float32"),
        "elevation": (100 + 10 * rows + rng.integers(0, 50, rows.shape)).astype("int16"),
    }


def _write_layer(path: Path, values: np.ndarray, nodata, transform=TRANSFORM) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=values.dtype.name,
        nodata=nodata,
        crs="EPSG:3035",
        transform=transform,
        tiled=True,
        blockxsize=16,
        blockysize=16,
    ) as dst:
        dst.write(values, 1)
    return path


NODATA_PIXELS = {  # (row, col) of a nodata pixel, per layer
    "red_summer": (0, 0),
    "nir_summer": (5, 40),
    "ndvi_summer": (33, 2),
    "elevation": (39, 55),
}


def make_layers(folder: Path, seed: int = 0, with_nodata: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    layers = {}
    for name, values in _feature_values(seed).items():
        if with_nodata:
            values[NODATA_PIXELS[name]] = NODATA[name]
        layers[name] = _write_layer(folder / f"{name}.tif", values, NODATA[name])
    return layers


def read_stack(layers: dict[str, Path]) -> tuple[pd.DataFrame, np.ndarray]:
    """All pixels as a frame (in FEATURES order) and a validity mask (row-major)."""
    columns, valid = {}, np.ones(HEIGHT * WIDTH, dtype=bool)
    for name in FEATURES:
        with rasterio.open(layers[name]) as src:
            values = src.read(1).ravel()
            valid &= src.read_masks(1).ravel() > 0
        columns[name] = values.astype("float32")
    return pd.DataFrame(columns), valid


def labels_for(frame: pd.DataFrame, codes) -> np.ndarray:
    score = frame["ndvi_summer"].to_numpy() * 3 + frame["elevation"].to_numpy() / 200
    bins = np.digitize(score, np.quantile(score, np.linspace(0, 1, len(codes) + 1)[1:-1]))
    return np.asarray(codes, dtype=object if isinstance(codes[0], str) else None)[bins]


def fit_forest(layers, codes=(211, 231, 311), **kwargs) -> RandomForestClassifier:
    frame, valid = read_stack(layers)
    frame = frame[valid].iloc[::7]
    forest = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0, **kwargs)
    return forest.fit(frame, labels_for(frame, list(codes)))


class TinyEnsemble(ClassifierMixin, BaseEstimator):
    """A stand-in for the stacking ensemble: a forest whose trees are the base learners."""

    def fit(self, X, y):
        self.forest_ = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=1)
        self.forest_.fit(X, y)
        self.classes_ = self.forest_.classes_
        self.feature_names_in_ = self.forest_.feature_names_in_
        self.n_features_in_ = self.forest_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.forest_.predict_proba(X)

    def predict_uncertainty(self, X):
        X = np.asarray(X)
        return np.std([tree.predict_proba(X) for tree in self.forest_.estimators_], axis=0)


class FailingModel(ClassifierMixin, BaseEstimator):
    """Wraps a fitted model; predict_proba raises on its second call (second window)."""

    def __init__(self, model=None):
        self.model = model

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return self.model.classes_

    @property
    def feature_names_in_(self):
        return self.model.feature_names_in_

    def predict_proba(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        if self.calls_ == 2:
            raise RuntimeError("simulated crash in the second window")
        return self.model.predict_proba(X)


def _training(layers, codes=(211, 231, 311)):
    frame, valid = read_stack(layers)
    return frame[valid], labels_for(frame[valid], list(codes))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    return make_layers(tmp_path_factory.mktemp("layers"))


@pytest.fixture(scope="module")
def forest(stack):
    return fit_forest(stack)


@pytest.fixture(scope="module")
def products(stack, forest, tmp_path_factory) -> MapProducts:
    out = tmp_path_factory.mktemp("maps")
    return predict_map(
        forest, stack, out, classes=CORINE_CLASSES, window_size=WINDOW, progress=False
    )


def read(path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _pixel_xy(rows, cols):
    xs, ys = rasterio.transform.xy(TRANSFORM, rows, cols)
    return np.asarray(xs), np.asarray(ys)


# -- to_percent -------------------------------------------------------------------------
@pytest.mark.parametrize("k", [2, 3, 7, 43])
def test_to_percent_sums_to_exactly_100_and_keeps_the_order(k):
    proba = np.random.default_rng(k).dirichlet(np.full(k, 0.3), size=2000)
    pct = to_percent(proba)
    assert pct.dtype == np.uint8
    assert (pct.sum(axis=1, dtype=int) == 100).all()
    assert (np.abs(pct - proba * 100) < 1).all()
    best = proba.argmax(axis=1)
    assert (pct[np.arange(len(pct)), best] == pct.max(axis=1)).all()


def test_to_percent_breaks_ties_to_the_first_class_and_rejects_bad_rows():
    assert to_percent([[1 / 3, 1 / 3, 1 / 3]]).tolist() == [[34, 33, 33]]
    assert to_percent([[0.29, 0.71]]).tolist() == [[29, 71]]
    with pytest.raises(ValueError, match="finite, non-negative"):
        to_percent([[0.5, np.nan]])


# -- the products -----------------------------------------------------------------------
def test_products_are_written_with_the_expected_names(products, forest):
    names = sorted(p.name for p in products.directory.iterdir())
    assert names == [
        "dominant_class.tif",
        "dominant_probability.tif",
        "probability_211.tif",
        "probability_231.tif",
        "probability_311.tif",
        "uncertainty.tif",
    ]
    assert list(products.probability) == [211, 231, 311] == list(forest.classes_)
    frame = products.to_frame()
    assert frame["class_code"].tolist() == [211, 231, 311, None, None, None]
    assert all(type(c) is int for c in frame["class_code"][:3])
    assert frame["product"].value_counts().to_dict() == {
        "probability": 3,
        "dominant_class": 1,
        "dominant_probability": 1,
        "uncertainty": 1,
    }


def test_outputs_are_valid_cogs_on_the_input_grid(products, stack):
    with rasterio.open(stack["red_summer"]) as ref:
        crs, transform = ref.crs, ref.transform
    for path in products.paths():
        with rasterio.open(path) as src:
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG", path
            assert src.profile["tiled"] and src.profile["compress"] == "deflate"
            assert (src.height, src.width) == (HEIGHT, WIDTH)
            assert src.crs == crs and src.transform == transform
            assert src.overviews(1) == []  # smaller than one 512 x 512 tile


def test_nodata_in_any_layer_is_nodata_in_every_product(products, stack):
    _, valid = read_stack(stack)
    valid = valid.reshape(HEIGHT, WIDTH)
    for row, col in NODATA_PIXELS.values():
        assert not valid[row, col]
    assert valid.sum() == HEIGHT * WIDTH - len(NODATA_PIXELS)
    for path in products.paths():
        with rasterio.open(path) as src:
            data = src.read(1)
            assert ((data == src.nodata) == ~valid).all(), path
            assert (src.read_masks(1) > 0).sum() == valid.sum()


def test_probabilities_sum_to_exactly_100(products, stack):
    _, valid = read_stack(stack)
    total = sum(read(p).astype(int) for p in products.probability.values()).ravel()
    assert (total[valid] == 100).all()
    assert (total[~valid] == 255 * 3).all()


def test_dominant_class_codes_colours_and_tags(products, stack):
    _, valid = read_stack(stack)
    dominant = read(products.dominant_class).ravel()
    assert set(np.unique(dominant[valid])) <= {211, 231, 311}
    assert (dominant[~valid] == 0).all()
    with rasterio.open(products.dominant_class) as src:
        assert src.dtypes[0] == "uint16" and src.nodata == 0
        assert src.colorinterp[0] == ColorInterp.palette
        colormap = src.colormap(1)
        assert colormap[231] == CORINE_CLASSES.rgba(231)
        assert colormap[0][3] == 0  # nodata is transparent
        legend = json.loads(src.tags()["classes"])
        assert src.tags()["encoding"] == "code"
    assert [r["code"] for r in legend] == [211, 231, 311]
    assert [r["value"] for r in legend] == [211, 231, 311]
    assert legend[1]["name"] == "Pastures" and legend[1]["colour"] == "#e6e64d"
    with rasterio.open(products.probability[231]) as src:
        assert src.tags(1) == {"class_code": "231", "class_name": "Pastures"}
        assert src.units == ("percent",)
        assert "231" in src.descriptions[0]
    # the dominant probability is the probability of the dominant class
    dominant_pct = read(products.dominant_probability).ravel()
    stacked = np.stack([read(p).ravel() for p in products.probability.values()], axis=1)
    best = stacked[valid].max(axis=1)
    assert (dominant_pct[valid] == best).all()


def test_maps_read_at_points_match_the_model(products, stack, forest):
    frame, valid = read_stack(stack)
    idx = np.flatnonzero(valid)[::37]
    rows, cols = np.divmod(idx, WIDTH)
    xs, ys = _pixel_xy(rows, cols)
    proba = forest.predict_proba(frame.iloc[idx])
    expected = forest.predict(frame.iloc[idx])
    assert (read_map_at_points(products.dominant_class, xs, ys) == expected).all()
    for i, code in enumerate(forest.classes_):
        pct = read_map_at_points(products.probability[code], xs, ys)
        assert not pct.mask.any()
        assert (np.abs(pct - proba[:, i] * 100) < 1).all()
    entropy = read_map_at_points(products.uncertainty, xs, ys)
    np.testing.assert_array_equal(entropy, np.rint(normalized_entropy(proba) * 100))
    # a nodata pixel and a point outside the map are masked
    x0, y0 = _pixel_xy([0], [0])
    outside = read_map_at_points(products.dominant_class, [x0[0], -1.0], [y0[0], -1.0])
    assert outside.mask.all()


def test_predicting_does_not_change_the_model_or_warn(stack, tmp_path):
    forest = fit_forest(stack, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        predict_map(forest, stack, tmp_path, window_size=WINDOW, n_jobs=-1, progress=False)
    assert forest.n_jobs == 2


def test_the_model_runs_single_threaded_on_a_copy(stack):
    pipeline = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=2, n_jobs=2))
    pipeline.fit(*_training(stack))
    single = _single_threaded(pipeline)
    assert single[-1].n_jobs == 1 and single[-1].estimators_ is pipeline[-1].estimators_
    assert pipeline[-1].n_jobs == 2
    plain = RandomForestClassifier(n_jobs=None)
    assert _single_threaded(plain) is plain


def test_windows_without_valid_pixels_are_nodata_everywhere(tmp_path, forest):
    layers = make_layers(tmp_path / "layers")
    values = _feature_values()["elevation"]
    values[:WINDOW, :WINDOW] = NODATA["elevation"]  # the whole first window
    layers["elevation"] = _write_layer(tmp_path / "gap.tif", values, NODATA["elevation"])
    model = TinyEnsemble().fit(*_training(layers))
    for m in (forest, model):
        maps = predict_map(m, layers, tmp_path / type(m).__name__, window_size=WINDOW)
        for path in maps.paths():
            with rasterio.open(path) as src:
                data = src.read(1)
                assert (data[:WINDOW, :WINDOW] == src.nodata).all()
                assert (data[WINDOW:, WINDOW:] != src.nodata).any()


class PartlyBrokenModel(FailingModel):
    """Returns NaN probabilities for pixels whose elevation is above 400."""

    def predict_proba(self, X):
        proba = self.model.predict_proba(X)
        proba[X["elevation"].to_numpy() > 400] = np.nan
        return proba


def test_pixels_without_finite_probabilities_are_nodata(stack, forest, tmp_path, caplog):
    maps = predict_map(PartlyBrokenModel(forest), stack, tmp_path, window_size=WINDOW)
    assert "non-finite or all-zero probabilities" in caplog.text
    frame, valid = read_stack(stack)
    broken = (frame["elevation"].to_numpy() > 400) & valid
    assert broken.any() and (valid & ~broken).any()
    for path in maps.paths():
        with rasterio.open(path) as src:
            data = src.read(1).ravel()
            assert (data[broken | ~valid] == src.nodata).all()
            assert (data[valid & ~broken] != src.nodata).all()


# -- class codes --------------------------------------------------------------------------
def test_string_class_codes_are_stored_as_positions_with_a_legend(stack, tmp_path):
    forest = fit_forest(stack, codes=("cropland", "forest", "water body"))
    classes = ClassTable(["water body", "forest", "cropland", "urban"])
    maps = predict_map(forest, stack, tmp_path, classes=classes, window_size=WINDOW, progress=False)
    assert sorted(p.name for p in tmp_path.glob("probability_*")) == [
        "probability_cropland.tif",
        "probability_forest.tif",
        "probability_water_body.tif",
    ]
    assert maps.dominant_values == {1: "cropland", 2: "forest", 3: "water body"}
    legend = read_legend(maps.dominant_class)
    assert legend["code"].tolist() == ["cropland", "forest", "water body"]
    assert legend["value"].tolist() == [1, 2, 3]
    frame, valid = read_stack(stack)
    values = read(maps.dominant_class).ravel()[valid]
    decoded = legend.set_index("value")["code"].reindex(values).to_numpy()
    np.testing.assert_array_equal(decoded, forest.predict(frame[valid]))
    with rasterio.open(maps.dominant_class) as src:
        assert src.tags()["encoding"] == "position"
        assert src.colormap(1)[3] == classes.rgba("water body")


def test_class_code_zero_is_not_confused_with_nodata(stack, tmp_path):
    forest = fit_forest(stack, codes=(0, 1, 2))
    maps = predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    assert maps.dominant_values == {1: 0, 2: 1, 3: 2}
    _, valid = read_stack(stack)
    assert (read(maps.dominant_class).ravel()[valid] > 0).all()


def test_class_table_must_cover_the_model_classes(stack, forest, tmp_path):
    with pytest.raises(KeyError, match=r"lacks the model's class code\(s\) \[231\]"):
        predict_map(forest, stack, tmp_path, classes=ClassTable([211, 311]), progress=False)


# -- layers -------------------------------------------------------------------------------
def test_missing_layer_is_named(stack, forest, tmp_path):
    layers = {k: v for k, v in stack.items() if k != "ndvi_summer"}
    with pytest.raises(KeyError, match=r"No layer for feature\(s\) \['ndvi_summer'\]") as info:
        predict_map(forest, layers, tmp_path, progress=False)
    assert "red_summer" in str(info.value)  # lists what was given
    assert not any(tmp_path.iterdir())


def test_extra_layers_raise_unless_ignored(stack, forest, tmp_path):
    layers = {**stack, "ndvi_winter": stack["ndvi_summer"]}
    with pytest.raises(ValueError, match=r"Layer\(s\) \['ndvi_winter'\] are not features"):
        predict_map(forest, layers, tmp_path, progress=False)
    maps = predict_map(forest, layers, tmp_path, extra_layers="ignore", progress=False)
    assert maps.dominant_class.exists()
    with pytest.raises(ValueError, match="extra_layers must be"):
        predict_map(forest, layers, tmp_path, extra_layers="skip", progress=False)


def test_layers_off_the_grid_are_named(stack, forest, tmp_path):
    shifted = TRANSFORM @ Affine.translation(1, 0)
    values = _feature_values()["elevation"]
    layers = {**stack, "elevation": _write_layer(tmp_path / "elev.tif", values, -1, shifted)}
    with pytest.raises(ValueError, match="Layer 'elevation' .* is not on the grid"):
        predict_map(forest, layers, tmp_path / "maps", progress=False)


def test_models_fitted_on_arrays_need_feature_names(stack, tmp_path):
    frame, valid = read_stack(stack)
    frame = frame[valid]
    # the array's columns in a different order than the catalogue's
    order = ["elevation", "ndvi_summer", "nir_summer", "red_summer"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(frame[order].to_numpy(), labels_for(frame, [1, 2]))
    with pytest.raises(ValueError, match="pass feature_names"):
        predict_map(model, stack, tmp_path, progress=False)
    with pytest.raises(ValueError, match="fitted on 4 features but 2"):
        predict_map(model, stack, tmp_path, feature_names=order[:2], progress=False)
    maps = predict_map(model, stack, tmp_path, feature_names=order, progress=False)
    expected = model.predict(frame[order].to_numpy())
    np.testing.assert_array_equal(read(maps.dominant_class).ravel()[valid], expected)


# -- ensembles ----------------------------------------------------------------------------
def test_ensembles_get_one_uncertainty_map_per_class(stack, tmp_path):
    frame, valid = read_stack(stack)
    model = TinyEnsemble().fit(frame[valid], labels_for(frame[valid], [211, 231, 311]))
    maps = predict_map(model, stack, tmp_path, window_size=WINDOW, progress=False)
    assert maps.uncertainty is None
    assert sorted(p.name for p in tmp_path.glob("uncertainty*")) == [
        "uncertainty_211.tif",
        "uncertainty_231.tif",
        "uncertainty_311.tif",
    ]
    std = model.predict_uncertainty(frame[valid])
    for i, path in enumerate(maps.class_uncertainty.values()):
        values = read(path).ravel()
        np.testing.assert_array_equal(values[valid], np.rint(std[:, i] * 100))
        assert (values[~valid] == 255).all()
    none = predict_map(model, stack, tmp_path / "no", uncertainty=False, progress=False)
    assert none.class_uncertainty == {} and none.uncertainty is None
    assert not list((tmp_path / "no").glob("uncertainty*"))


def test_products_left_by_an_earlier_model_are_reported(stack, forest, tmp_path, caplog):
    (tmp_path / "uncertainty_231.tif").write_bytes(b"from an ensemble")
    predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    assert "['uncertainty_231.tif']" in caplog.text


class CombinedEnsemble(TinyEnsemble):
    """An ensemble that returns probabilities and uncertainty from one pass."""

    def predict_proba_and_uncertainty(self, X):
        self.combined_calls_ = getattr(self, "combined_calls_", 0) + 1
        return self.predict_proba(X), TinyEnsemble.predict_uncertainty(self, X)

    def predict_uncertainty(self, X):
        raise AssertionError("predict_uncertainty called although a combined call exists")


def test_ensembles_with_a_combined_method_run_their_learners_once(stack, tmp_path):
    separate = TinyEnsemble().fit(*_training(stack))
    combined = CombinedEnsemble().fit(*_training(stack))
    a = predict_map(separate, stack, tmp_path / "a", window_size=WINDOW, progress=False)
    b = predict_map(combined, stack, tmp_path / "b", window_size=WINDOW, progress=False)
    assert combined.combined_calls_ == 4  # one per window
    for first, second in zip(a.paths(), b.paths(), strict=True):
        np.testing.assert_array_equal(read(first), read(second))


def test_nested_estimators_run_single_threaded_and_give_the_same_maps(stack, tmp_path):
    from sklearn.ensemble import StackingClassifier

    X, y = _training(stack)
    model = StackingClassifier(
        [("rf", RandomForestClassifier(n_estimators=4, random_state=0, n_jobs=2))],
        final_estimator=LogisticRegression(max_iter=200),
        cv=2,
    ).fit(X, y)
    single = _single_threaded(model)
    assert single.estimators_[0].n_jobs == 1 and single.named_estimators_["rf"].n_jobs == 1
    assert model.estimators_[0].n_jobs == 2  # the caller's model is unchanged
    np.testing.assert_array_equal(single.predict_proba(X), model.predict_proba(X))
    maps = predict_map(model, stack, tmp_path, window_size=WINDOW, n_jobs=2, progress=False)
    _, valid = read_stack(stack)
    np.testing.assert_array_equal(read(maps.dominant_class).ravel()[valid], model.predict(X))


# -- atomic writes and determinism ----------------------------------------------------------
def test_a_failure_mid_run_leaves_no_product_and_old_files_untouched(stack, forest, tmp_path):
    (tmp_path / "dominant_class.tif").write_bytes(b"map of an earlier run")
    with pytest.raises(RuntimeError, match="second window"):
        predict_map(FailingModel(forest), stack, tmp_path, window_size=WINDOW, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dominant_class.tif"]
    assert (tmp_path / "dominant_class.tif").read_bytes() == b"map of an earlier run"


def test_a_failure_while_finishing_the_cogs_moves_no_product(stack, forest, tmp_path, monkeypatch):
    from odse_tutorial.raster_io import CogWriter

    (tmp_path / "probability_211.tif").write_bytes(b"older")
    convert, calls = CogWriter._convert, []

    def flaky_convert(self):
        calls.append(self.path)
        if len(calls) == 3:
            raise OSError("disk full")
        convert(self)

    monkeypatch.setattr(CogWriter, "_convert", flaky_convert)
    with pytest.raises(OSError, match="disk full"):
        predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probability_211.tif"]
    assert (tmp_path / "probability_211.tif").read_bytes() == b"older"


def test_a_failure_in_a_worker_thread_also_leaves_nothing(stack, forest, tmp_path):
    with pytest.raises(RuntimeError, match="second window"):
        predict_map(FailingModel(forest), stack, tmp_path, window_size=16, n_jobs=2, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_output_does_not_depend_on_n_jobs(stack, forest, products, tmp_path):
    parallel = predict_map(
        forest, stack, tmp_path / "j2", classes=CORINE_CLASSES, window_size=WINDOW, n_jobs=2
    )
    for serial_path, parallel_path in zip(products.paths(), parallel.paths(), strict=True):
        assert serial_path.name == parallel_path.name
        assert serial_path.read_bytes() == parallel_path.read_bytes()
    # nor on the window size
    small = predict_map(
        forest,
        stack,
        tmp_path / "w16",
        classes=CORINE_CLASSES,
        window_size=16,
        n_jobs=2,
        progress=False,
    )
    for first, second in zip(products.paths(), small.paths(), strict=True):
        np.testing.assert_array_equal(read(first), read(second))


def test_window_size_must_be_sensible(stack, forest, tmp_path):
    with pytest.raises(ValueError, match="window_size"):
        predict_map(forest, stack, tmp_path, window_size=4, progress=False)


# -- many tiles and years ---------------------------------------------------------------------
@dataclass
class FakeDataset:
    root: Path
    tiles: tuple = ("A", "B")
    years: tuple = (2000, 2010, 2020)
    classes: ClassTable = CORINE_CLASSES

    def layers(self, tile, year):
        # A year's layers are brighter the later the year; the static elevation is shared.
        folder = self.root / tile / str(year)
        if not folder.exists():
            folder.mkdir(parents=True)
            level = {2000: 0.0, 2010: 0.5, 2020: 0.9}[year]
            for name in ("red_summer", "nir_summer", "ndvi_summer"):
                values = np.full((HEIGHT, WIDTH), level, dtype="float32")
                _write_layer(folder / f"{name}.tif", values, np.nan)
            _write_layer(folder / "elevation.tif", np.full((HEIGHT, WIDTH), 5, "int16"), -1)
        return {name: folder / f"{name}.tif" for name in FEATURES}


def test_predict_maps_writes_each_year_under_its_own_name(tmp_path):
    dataset = FakeDataset(tmp_path / "data")
    frame = pd.DataFrame(
        {
            "red_summer": [0.0, 0.5, 0.9],
            "nir_summer": [0.0, 0.5, 0.9],
            "ndvi_summer": [0.0, 0.5, 0.9],
            "elevation": [5, 5, 5],
        }
    )
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, [211, 231, 311])
    table = predict_maps(model, dataset, tmp_path / "maps", years=[2020, 2000], progress=False)
    assert list(table.columns) == ["tile", "year", "product", "class_code", "path"]
    assert len(table) == 2 * 2 * 6
    assert set(table["class_code"].dropna()) == {211, 231, 311}
    assert table["class_code"].isna().sum() == 2 * 2 * 3
    expected = {2000: 211, 2020: 311}
    for row in table[table["product"] == "dominant_class"].itertuples():
        assert Path(row.path) == tmp_path / "maps" / row.tile / str(row.year) / "dominant_class.tif"
        assert (read(row.path) == expected[row.year]).all()
        with rasterio.open(row.path) as src:
            assert src.tags()["year"] == str(row.year)
            assert src.tags()["tile"] == row.tile
    assert not (tmp_path / "maps" / "A" / "2010").exists()


def test_predict_maps_rejects_unknown_tiles_years_and_options(tmp_path):
    dataset = FakeDataset(tmp_path)
    with pytest.raises(KeyError, match=r"Unknown year\(s\) \[1999\]"):
        predict_maps(None, dataset, tmp_path, years=[1999])
    with pytest.raises(KeyError, match=r"Unknown tile\(s\) \['C'\]"):
        predict_maps(None, dataset, tmp_path, tiles="C")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['windowsize'\]"):
        predict_maps(None, dataset, tmp_path, windowsize=64)
