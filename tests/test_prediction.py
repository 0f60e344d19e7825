"""Tests of odse_tutorial.prediction: windowed map products, nodata, atomicity, catalogue."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.enums import ColorInterp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from odse_tutorial.classes import CORINE_CLASSES, ClassTable
from odse_tutorial.prediction import (
    MapCatalogue,
    _resolve_n_jobs,
    _to_percent,
    predict_map,
    predict_maps,
)
from odse_tutorial.raster_io import read_at_points
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
    """A test double of the stacking ensemble: a forest whose trees are the base learners,
    with per-class uncertainty (the trees' standard deviation)."""

    def fit(self, X, y):
        self.forest_ = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=1)
        self.forest_.fit(X, y)
        self.classes_ = self.forest_.classes_
        self.feature_names_in_ = self.forest_.feature_names_in_
        self.n_features_in_ = self.forest_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.forest_.predict_proba(X)

    def std(self, X):
        X = np.asarray(X)
        return np.std([tree.predict_proba(X) for tree in self.forest_.estimators_], axis=0)

    def predict_proba_and_uncertainty(self, X):
        self.combined_calls_ = getattr(self, "combined_calls_", 0) + 1
        return self.predict_proba(X), self.std(X)


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
def products(stack, forest, tmp_path_factory) -> dict[str, Path]:
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
    pct = _to_percent(proba)
    assert pct.dtype == np.uint8
    assert (pct.sum(axis=1, dtype=int) == 100).all()
    assert (np.abs(pct - proba * 100) < 1).all()
    best = proba.argmax(axis=1)
    assert (pct[np.arange(len(pct)), best] == pct.max(axis=1)).all()


def test_to_percent_matches_largest_remainder_by_hand():
    rng = np.random.default_rng(1)
    whole = rng.multinomial(100, [0.5, 0.3, 0.2, 0.0], size=500) / 100  # a forest's: no rounding
    proba = np.vstack([whole, rng.dirichlet(np.full(4, 0.5), size=500)])
    expected = []
    for row in proba * 100:  # the integer parts, then +1 to the largest remainders (first on ties)
        floor = np.floor(row + 1e-9)
        order = sorted(range(4), key=lambda j: (floor[j] - row[j], j))
        expected.append(floor + np.isin(range(4), order[: int(100 - floor.sum())]))
    np.testing.assert_array_equal(_to_percent(proba), np.array(expected, dtype=np.uint8))


def test_default_n_jobs_is_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert _resolve_n_jobs(None) == 1  # mybinder.org: one CPU
    assert _resolve_n_jobs(2) == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert _resolve_n_jobs(None) == joblib.cpu_count()


@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux)")
def test_default_n_jobs_is_one_on_one_cpu():
    code = "from odse_tutorial.prediction import _resolve_n_jobs as r; print(r(None), r(-1))"
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.split() == ["1", "1"]


def test_to_percent_breaks_ties_to_the_first_class():
    assert _to_percent([[1 / 3, 1 / 3, 1 / 3]]).tolist() == [[34, 33, 33]]
    assert _to_percent([[0.29, 0.71]]).tolist() == [[29, 71]]


# -- the products -----------------------------------------------------------------------
def test_products_are_written_with_the_expected_names(products, forest):
    names = sorted(p.name for p in products["dominant_class"].parent.iterdir())
    assert names == [
        "dominant_class.tif",
        "dominant_probability.tif",
        "probability_211.tif",
        "probability_231.tif",
        "probability_311.tif",
        "uncertainty.tif",
    ]
    assert sorted(products) == sorted(p[: -len(".tif")] for p in names)
    assert [k for k in products if k.startswith("probability")] == [
        f"probability_{c}" for c in forest.classes_
    ]


def test_outputs_are_valid_cogs_on_the_input_grid(products, stack):
    with rasterio.open(stack["red_summer"]) as ref:
        crs, transform = ref.crs, ref.transform
    for path in products.values():
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
    for path in products.values():
        with rasterio.open(path) as src:
            data = src.read(1)
            assert ((data == src.nodata) == ~valid).all(), path
            assert (src.read_masks(1) > 0).sum() == valid.sum()


def test_probabilities_sum_to_exactly_100(products, stack):
    _, valid = read_stack(stack)
    total = sum(read(products[f"probability_{c}"]).astype(int) for c in (211, 231, 311)).ravel()
    assert (total[valid] == 100).all()
    assert (total[~valid] == 255 * 3).all()


def test_dominant_class_codes_colours_and_tags(products, stack):
    _, valid = read_stack(stack)
    dominant = read(products["dominant_class"]).ravel()
    assert set(np.unique(dominant[valid])) <= {211, 231, 311}
    assert (dominant[~valid] == 0).all()
    with rasterio.open(products["dominant_class"]) as src:
        assert src.dtypes[0] == "uint16" and src.nodata == 0
        assert src.colorinterp[0] == ColorInterp.palette
        colormap = src.colormap(1)
        assert colormap[231] == CORINE_CLASSES.rgba(231)
        assert colormap[0][3] == 0  # nodata is transparent
        legend = json.loads(src.tags()["classes"])
        # the legend round trip: written and read by the ClassTable
        assert ClassTable.from_tags(src.tags(), src.name) == CORINE_CLASSES.subset([211, 231, 311])
    assert [r["value"] for r in legend] == [211, 231, 311]
    assert legend[1]["name"] == "Pastures" and legend[1]["colour"] == "#e6e64d"
    with rasterio.open(products["probability_231"]) as src:
        assert src.tags()["class_code"] == "231" and src.tags()["class_name"] == "Pastures"
        assert src.units == ("percent",)
        assert "231" in src.descriptions[0]
    # the dominant probability is the probability of the dominant class
    dominant_pct = read(products["dominant_probability"]).ravel()
    stacked = np.stack([read(products[f"probability_{c}"]).ravel() for c in (211, 231, 311)], 1)
    best = stacked[valid].max(axis=1)
    assert (dominant_pct[valid] == best).all()


def test_maps_read_at_points_match_the_model(products, stack, forest):
    frame, valid = read_stack(stack)
    idx = np.flatnonzero(valid)[::37]
    rows, cols = np.divmod(idx, WIDTH)
    xs, ys = _pixel_xy(rows, cols)
    proba = forest.predict_proba(frame.iloc[idx])
    expected = forest.predict(frame.iloc[idx])
    assert (read_at_points(products["dominant_class"], xs, ys) == expected).all()
    for i, code in enumerate(forest.classes_):
        pct = read_at_points(products[f"probability_{code}"], xs, ys)
        assert not pct.mask.any()
        assert (np.abs(pct - proba[:, i] * 100) < 1).all()
    entropy = read_at_points(products["uncertainty"], xs, ys)
    np.testing.assert_array_equal(entropy, np.rint(normalized_entropy(proba) * 100))
    # a nodata pixel and a point outside the map are masked
    x0, y0 = _pixel_xy([0], [0])
    outside = read_at_points(products["dominant_class"], [x0[0], -1.0], [y0[0], -1.0])
    assert outside.mask.all()


def test_predicting_does_not_change_the_model_or_warn(stack, tmp_path):
    forest = fit_forest(stack, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        predict_map(forest, stack, tmp_path, window_size=WINDOW, n_jobs=-1, progress=False)
    assert forest.n_jobs == 2


def test_windows_without_valid_pixels_are_nodata_everywhere(tmp_path, forest):
    layers = make_layers(tmp_path / "layers")
    values = _feature_values()["elevation"]
    values[:WINDOW, :WINDOW] = NODATA["elevation"]  # the whole first window
    layers["elevation"] = _write_layer(tmp_path / "gap.tif", values, NODATA["elevation"])
    model = TinyEnsemble().fit(*_training(layers))
    for m in (forest, model):
        maps = predict_map(m, layers, tmp_path / type(m).__name__, window_size=WINDOW)
        for path in maps.values():
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
    for path in maps.values():
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
    with rasterio.open(maps["dominant_class"]) as src:
        legend = ClassTable.from_tags(src.tags(), src.name)
        assert src.colormap(1)[3] == classes.rgba("water body")
    assert legend.codes == ("cropland", "forest", "water body")
    assert legend.raster_values == (1, 2, 3)
    assert legend.name_of("water body") == "water body"
    frame, valid = read_stack(stack)
    values = read(maps["dominant_class"]).ravel()[valid]
    decoded = np.asarray(legend.codes, dtype=object)[values.astype(int) - 1]
    np.testing.assert_array_equal(decoded, forest.predict(frame[valid]))


def test_class_code_zero_is_not_confused_with_nodata(stack, tmp_path):
    forest = fit_forest(stack, codes=(0, 1, 2))
    maps = predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    with rasterio.open(maps["dominant_class"]) as src:
        assert ClassTable.from_tags(src.tags()).raster_values == (1, 2, 3)
    _, valid = read_stack(stack)
    assert (read(maps["dominant_class"]).ravel()[valid] > 0).all()


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
    assert maps["dominant_class"].exists()
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
    with pytest.raises(ValueError, match="fitted on 4 features but 2 names"):
        predict_map(model, stack, tmp_path, feature_names=order[:2], progress=False)
    maps = predict_map(model, stack, tmp_path, feature_names=order, progress=False)
    expected = model.predict(frame[order].to_numpy())
    np.testing.assert_array_equal(read(maps["dominant_class"]).ravel()[valid], expected)


# -- uncertainty: one layout for single models and ensembles ------------------------------
def test_ensembles_get_uncertainty_of_the_dominant_class_and_per_class(stack, tmp_path):
    frame, valid = read_stack(stack)
    model = TinyEnsemble().fit(frame[valid], labels_for(frame[valid], [211, 231, 311]))
    maps = predict_map(model, stack, tmp_path, window_size=WINDOW, progress=False)
    assert model.combined_calls_ == 4  # one pass over the base learners per window
    assert sorted(p.name for p in tmp_path.glob("uncertainty*")) == [
        "uncertainty.tif",
        "uncertainty_211.tif",
        "uncertainty_231.tif",
        "uncertainty_311.tif",
    ]
    proba, std = model.predict_proba(frame[valid]), model.std(frame[valid])
    for i, code in enumerate(model.classes_):
        values = read(maps[f"uncertainty_{code}"]).ravel()
        np.testing.assert_array_equal(values[valid], np.rint(std[:, i] * 100))
        assert (values[~valid] == 255).all()
    dominant_std = std[np.arange(len(std)), proba.argmax(axis=1)]
    values = read(maps["uncertainty"]).ravel()
    np.testing.assert_array_equal(values[valid], np.rint(dominant_std * 100))
    assert (values[~valid] == 255).all()


def test_products_left_by_an_earlier_model_are_reported(stack, forest, tmp_path, caplog):
    (tmp_path / "uncertainty_231.tif").write_bytes(b"from an ensemble")
    predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    assert "['uncertainty_231.tif']" in caplog.text


def test_nested_estimators_give_the_same_maps_for_any_n_jobs(stack, tmp_path):
    from sklearn.ensemble import StackingClassifier

    X, y = _training(stack)
    model = StackingClassifier(
        [("rf", RandomForestClassifier(n_estimators=4, random_state=0, n_jobs=2))],
        final_estimator=LogisticRegression(max_iter=200),
        cv=2,
    ).fit(X, y)
    maps = predict_map(model, stack, tmp_path, window_size=WINDOW, n_jobs=2, progress=False)
    assert model.estimators_[0].n_jobs == 2  # the caller's model is unchanged
    _, valid = read_stack(stack)
    np.testing.assert_array_equal(read(maps["dominant_class"]).ravel()[valid], model.predict(X))


# -- atomic writes and determinism ----------------------------------------------------------
def test_a_failure_mid_run_leaves_no_product_and_old_files_untouched(stack, forest, tmp_path):
    (tmp_path / "dominant_class.tif").write_bytes(b"map of an earlier run")
    with pytest.raises(RuntimeError, match="second window"):
        predict_map(FailingModel(forest), stack, tmp_path, window_size=WINDOW, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dominant_class.tif"]
    assert (tmp_path / "dominant_class.tif").read_bytes() == b"map of an earlier run"


def test_a_failure_while_finishing_the_cogs_moves_no_product(stack, forest, tmp_path, monkeypatch):
    from odse_tutorial import prediction

    (tmp_path / "probability_211.tif").write_bytes(b"older")
    convert, calls = prediction._write_cog, []

    def flaky_convert(*args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        convert(*args)

    monkeypatch.setattr(prediction, "_write_cog", flaky_convert)
    with pytest.raises(OSError, match="disk full"):
        predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probability_211.tif"]
    assert (tmp_path / "probability_211.tif").read_bytes() == b"older"


def test_a_failure_in_a_worker_thread_also_leaves_nothing(stack, forest, tmp_path):
    with pytest.raises(RuntimeError, match="second window"):
        predict_map(FailingModel(forest), stack, tmp_path, window_size=16, n_jobs=2, progress=False)
    assert list(tmp_path.iterdir()) == []


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_products_of_a_tile_year_are_replaced_as_one_set_or_not_at_all(stack, forest, tmp_path):
    predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    (tmp_path / "uncertainty.tif").unlink()
    (tmp_path / "uncertainty.tif").mkdir()  # a product's final name is occupied
    old = _snapshot(tmp_path)
    other = fit_forest(stack, max_features=1)
    with pytest.raises(
        IsADirectoryError, match=r"uncertainty.tif is a folder.*nothing was replaced"
    ):
        predict_map(other, stack, tmp_path, window_size=WINDOW, progress=False)
    assert _snapshot(tmp_path) == old  # every old product unchanged
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*old, "uncertainty.tif"])


def test_a_failing_rename_puts_every_old_product_back(stack, forest, tmp_path, monkeypatch):
    from odse_tutorial import _atomic

    predict_map(forest, stack, tmp_path, window_size=WINDOW, progress=False)
    old = _snapshot(tmp_path)
    replace, calls = _atomic.os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 7:  # old files of the first products are already replaced
            raise PermissionError("read-only file")
        replace(src, dst)

    monkeypatch.setattr(_atomic.os, "replace", flaky_replace)
    other = fit_forest(stack, max_features=1)
    with pytest.raises(PermissionError, match="read-only"):
        predict_map(other, stack, tmp_path, window_size=WINDOW, progress=False)
    monkeypatch.undo()
    assert _snapshot(tmp_path) == old  # all old products, and no temporary file


def test_an_old_file_that_cannot_be_deleted_leaves_the_new_files(tmp_path, monkeypatch):
    from odse_tutorial._atomic import _atomic_outputs

    finals = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for final in finals:
        final.write_text("old")
    unlink = Path.unlink

    def stubborn(self, missing_ok=False):
        if self.name.endswith(".old"):
            raise PermissionError("in use")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", stubborn)
    with _atomic_outputs(finals) as tmps:
        for tmp in tmps:
            tmp.write_text("new")
    assert [final.read_text() for final in finals] == ["new", "new"]


def test_an_unfitted_model_is_said_to_be_not_fitted(stack, tmp_path):
    with pytest.raises(ValueError, match="This RandomForestClassifier is not fitted; fit it"):
        predict_map(RandomForestClassifier(), stack, tmp_path, progress=False)


def test_corrupt_raster_pixels_name_the_full_path(stack, forest, tmp_path):
    layers = make_layers(tmp_path / "layers")
    path = layers["nir_summer"] = tmp_path / "nir_summer.tif"
    rasterio.shutil.copy(stack["nir_summer"], path, driver="GTiff", compress="deflate", tiled=True,
                         blockxsize=16, blockysize=16)  # fmt: skip
    data = bytearray(layers["nir_summer"].read_bytes())
    data[len(data) // 2 :] = b"A" * (len(data) - len(data) // 2)  # the header survives
    layers["nir_summer"].write_bytes(bytes(data))
    with pytest.raises(OSError, match=rf"Could not read raster {layers['nir_summer']}: "):
        predict_map(forest, layers, tmp_path / "maps", window_size=WINDOW, progress=False)
    assert not (tmp_path / "maps").exists() or not list((tmp_path / "maps").iterdir())


def test_output_does_not_depend_on_n_jobs(stack, forest, products, tmp_path):
    # `products` ran with the default n_jobs (all the cores this process may use)
    for n_jobs in (1, 2):
        again = predict_map(forest, stack, tmp_path / f"j{n_jobs}", classes=CORINE_CLASSES,
                            window_size=WINDOW, n_jobs=n_jobs, progress=False)  # fmt: skip
        for default_path, path in zip(products.values(), again.values(), strict=True):
            assert default_path.name == path.name
            assert default_path.read_bytes() == path.read_bytes(), (n_jobs, path.name)
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
    for first, second in zip(products.values(), small.values(), strict=True):
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


def _fake_model():
    frame = pd.DataFrame({n: [0.0, 0.5, 0.9] for n in FEATURES[:3]} | {"elevation": [5, 5, 5]})
    return RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, [211, 231, 311])


def test_predict_maps_writes_each_year_under_its_own_name(tmp_path):
    dataset = FakeDataset(tmp_path / "data")
    maps = predict_maps(
        _fake_model(), dataset, tmp_path / "maps", years=[2020, 2000], progress=False
    )
    assert isinstance(maps, MapCatalogue)
    assert maps.tiles == ("A", "B") and maps.years == (2020, 2000)
    assert maps.classes.codes == (211, 231, 311) and maps.classes.name_of(231) == "Pastures"
    # the catalogue lists exactly the files on disk
    on_disk = sorted(p for p in (tmp_path / "maps").rglob("*") if p.is_file())
    assert sorted(maps.paths()) == on_disk and len(on_disk) == 2 * 2 * 6
    table = maps.to_frame()
    assert list(table.columns) == ["tile", "year", "product", "class_code", "path"]
    assert set(table["class_code"].dropna()) == {211, 231, 311}
    assert table["class_code"].isna().sum() == 2 * 2 * 3
    expected = {2000: 211, 2020: 311}
    for tile in maps.tiles:
        for year in maps.years:
            path = maps.path(tile, year, "dominant_class")
            assert path == tmp_path / "maps" / tile / str(year) / "dominant_class.tif"
            assert (read(path) == expected[year]).all()
            with rasterio.open(path) as src:
                assert src.tags()["year"] == str(year) and src.tags()["tile"] == tile
    assert maps.path("A", 2000, "probability", 231).name == "probability_231.tif"
    assert not (tmp_path / "maps" / "A" / "2010").exists()


def test_catalogue_lookups_name_what_exists(tmp_path):
    maps = predict_maps(_fake_model(), FakeDataset(tmp_path / "data"), tmp_path / "maps",
                        tiles="A", years=2000, progress=False)  # fmt: skip
    with pytest.raises(KeyError, match=r"per class \(code= one of \[211, 231, 311\]\)"):
        maps.path("A", 2000, "probability")
    with pytest.raises(KeyError, match="Products for the whole map"):
        maps.path("A", 2000, "uncertainty", 231)  # a forest has no per-class uncertainty
    with pytest.raises(KeyError, match=r"tiles \['A'\] and years \[2000\]"):
        maps.path("B", 2000, "dominant_class")
    with pytest.raises(KeyError, match="known codes"):
        maps.path("A", 2000, "probability", 999)
    ensemble = TinyEnsemble().fit(
        pd.DataFrame(np.eye(4, 4), columns=FEATURES), [211, 231, 311, 311]
    )
    ens_maps = predict_maps(ensemble, FakeDataset(tmp_path / "data"), tmp_path / "ens",
                            tiles="A", years=2000, progress=False)  # fmt: skip
    assert ens_maps.per_class == ("probability", "uncertainty")
    assert ens_maps.path("A", 2000, "uncertainty", 231).exists()
    assert sorted(ens_maps.paths()) == sorted(p for p in (tmp_path / "ens").rglob("*.tif"))


def test_predict_maps_rejects_unknown_tiles_years_and_options(tmp_path):
    dataset = FakeDataset(tmp_path)
    with pytest.raises(KeyError, match=r"Unknown year\(s\) \[1999\]"):
        predict_maps(None, dataset, tmp_path, years=[1999])
    with pytest.raises(KeyError, match=r"Unknown tile\(s\) \['C'\]"):
        predict_maps(None, dataset, tmp_path, tiles="C")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['windowsize'\]"):
        predict_maps(None, dataset, tmp_path, windowsize=64)


def test_outputs_get_the_usual_permissions_not_those_of_a_temporary_file(tmp_path):
    # mkstemp makes 0600 files: others on a shared cluster folder could not read the maps
    from odse_tutorial._atomic import atomic_output

    umask = os.umask(0o022)
    os.umask(umask)
    with atomic_output(tmp_path / "metrics.json") as tmp:
        tmp.write_text("{}")
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_catalogue_table_keeps_class_codes_as_given():
    """Integer codes stay integers next to the map-wide rows (issue 18: 231.0 and NaN)."""
    from odse_tutorial.prediction import _PRODUCTS

    maps = MapCatalogue(Path("maps"), ("9529",), (2018,), ClassTable([211, 231]), _PRODUCTS)
    codes = maps.to_frame()["class_code"].tolist()
    assert codes == [211, 231, None, None, None]
    assert [f"probability_{c}" for c in codes[:2]] == ["probability_211", "probability_231"]
