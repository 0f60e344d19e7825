"""Execute every tutorial notebook with papermill and check what it wrote.

The notebooks run in order, each with its default parameters and only ``output_dir``
redirected, into sibling folders (as ``make tutorial`` does), so that notebook 4 can
reuse the results of notebooks 1-3. A failing cell fails the test with the cell's error.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from conftest import notebook_metrics

from odse_tutorial.datasets import load_dataset
from odse_tutorial.tutorial import find_notebooks, run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOKS = find_notebooks()
EXPECTED = ["01_random_forest", "02_tuned_random_forest", "03_probabilistic_random_forest",
            "04_ensemble", "05_validation_against_truth", "06_area_of_applicability"]  # fmt: skip
#: The workshop's four: all samples, all classes, maps of every tile and year; the later
#: lessons study validation (05, maps of the last year per sampling design) and a
#: clustered sample (06).
CORE = EXPECTED[:4]


def test_the_notebooks_exist_in_order():
    assert [nb.stem for nb in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("name", CORE)
def test_notebook_metrics_are_sane(executed, name):
    ds = load_dataset("simulated")
    metrics = notebook_metrics(executed[name])
    assert metrics["notebook"] == name
    assert metrics["dataset"] == "simulated"
    assert "blocked" in metrics["cv"] or "SpatialKFold" in metrics["cv"]
    # All samples that survive the overlay, and every class (none is rarer than 10).
    assert 0.9 * len(ds.samples) < metrics["n_samples"] <= len(ds.samples)
    assert metrics["n_classes"] == len(ds.classes)
    # Far better than the majority class, and not suspiciously perfect.
    majority = ds.samples[ds.columns.class_code].value_counts(normalize=True).iloc[0]
    assert majority + 0.3 < metrics["overall_accuracy"] < 0.97
    assert 0.5 < metrics["f1_weighted"] < 0.97
    assert metrics["log_loss"] is None or 0.1 < metrics["log_loss"] < 2.0


@pytest.mark.parametrize("name", CORE)
def test_notebook_maps_are_valid_rasters(executed, name):
    ds = load_dataset("simulated")
    metrics = notebook_metrics(executed[name])
    maps = [executed[name] / p for p in metrics["maps"]]
    assert maps and all(p.exists() for p in maps)
    dominant = [p for p in maps if p.name == "dominant_class.tif"]
    assert len(dominant) == len(ds.tiles) * len(ds.years)
    for path in dominant:
        tile, year = path.parent.parent.name, int(path.parent.name)
        with rasterio.open(path) as src, rasterio.open(ds.layers(tile, year)["red_summer"]) as ref:
            assert src.crs == ref.crs and src.transform == ref.transform
            assert src.nodata == 0
            values = src.read(1)
            nodata_in = ref.read(1) == ref.nodata
            assert (values[nodata_in] == 0).all()  # nodata stays nodata
            assert set(np.unique(values[values > 0])) <= set(ds.classes.codes)
            assert src.colormap(1)[231][:3] == (230, 230, 77)
    probability = [
        p for p in maps if p.parent == dominant[0].parent and p.name.startswith("probability_")
    ]
    assert len(probability) == len(ds.classes)
    stack = np.stack([rasterio.open(p).read(1).astype(int) for p in probability])
    valid = stack[0] != 255
    assert (stack[:, valid].sum(axis=0) == 100).all()


def test_ensemble_writes_uncertainty_and_compares_on_identical_folds(executed):
    metrics = notebook_metrics(executed["04_ensemble"])
    assert any("uncertainty_" in p for p in metrics["maps"])
    rows = metrics["comparison"]
    assert {"2. tuned Random Forest", "4. ensemble (RF + HGB + MLP)"} <= set(rows)
    assert any(name.startswith("1. Random Forest") for name in rows)
    # Each model once: no two rows with the same scores (notebooks 1 and 3 share a forest).
    scores = [tuple(row.values()) for row in rows.values()]
    assert len(set(scores)) == len(scores)
    assert 0.5 < metrics["truth"]["map_accuracy"] <= 1


def test_area_of_applicability_lesson(executed):
    ds = load_dataset("simulated")
    metrics = notebook_metrics(executed["06_area_of_applicability"])
    clustered = gpd.read_file(ds.samples_path.parent / "samples_clustered.gpkg")
    assert 0.9 * len(clustered) < metrics["n_samples"] <= len(clustered)  # the bundled one
    assert "SpatialKFold" in metrics["cv"] and 0.5 < metrics["overall_accuracy"] < 0.97
    for product in ("dissimilarity.tif", "aoa.tif", "dominant_class.tif"):
        assert sum(p.endswith(product) for p in metrics["maps"]) == len(ds.tiles) * len(ds.years)
    assert 0.5 < metrics["aoa_share_inside"] < 1 and metrics["aoa_threshold"] > 0
    # The lesson's point, on the truth: the map is worse outside the AOA, and the CV error
    # profile says so too.
    assert metrics["true_error_outside"] > 1.3 * metrics["true_error_inside"]
    assert metrics["cv_error_estimate_outside"] > metrics["cv_error_estimate_inside"]
    with rasterio.open(executed["06_area_of_applicability"] / metrics["maps"][-1]) as src:
        assert src.tags()["product"] == "aoa" and src.nodata == 255
    # LPD bands of the set-aside samples: 0 = outside the AOA, then disjoint rising ranges
    bands = metrics["lpd_bands"]
    assert bands[0]["band"] == 0 and bands[0]["LPD_to"] == 0 and len(bands) >= 3
    assert all(a["LPD_to"] < b["LPD_from"] for a, b in itertools.pairwise(bands))
    assert sum(b["samples"] for b in bands) == metrics["n_set_aside"]


def test_executed_notebooks_are_saved(executed):
    for name, folder in executed.items():
        assert (folder / f"{name}.ipynb").exists()


# -- the real Netherlands data, through the local mirror ------------------------------------
MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nl-landsat"


@pytest.fixture(scope="module")
def executed_netherlands(tmp_path_factory):
    if not MIRROR.is_dir():
        pytest.skip(f"the Netherlands mirror {MIRROR} is absent (../shared is not checked out)")
    root = tmp_path_factory.mktemp("tutorial-nl")
    patch = pytest.MonkeyPatch()
    patch.setenv("ODSE_NETHERLANDS_SOURCE", str(MIRROR))
    patch.setenv("ODSE_DATA_CACHE", str(root / "cache"))
    try:
        return {nb.stem: run_notebook(nb, root, {"dataset": "netherlands"}) for nb in NOTEBOOKS}
    finally:
        patch.undo()


@pytest.mark.parametrize("name", CORE)
def test_notebooks_run_on_the_netherlands_data(executed_netherlands, name):
    metrics = notebook_metrics(executed_netherlands[name])
    assert metrics["dataset"] == "netherlands"
    # 256 points, a few on nodata or in classes too rare for 5 blocked folds.
    assert 150 < metrics["n_samples"] <= 256
    assert 4 <= metrics["n_classes"] <= 10
    assert 0.5 < metrics["overall_accuracy"] < 0.98
    assert not metrics.get("truth")  # real data: the truth is unknown
    if name not in CORE:
        return
    dominant = [
        executed_netherlands[name] / p for p in metrics["maps"] if p.endswith("dominant_class.tif")
    ]
    assert len(dominant) == 6  # one tile, 2015-2020
    sample_codes = set(gpd.read_file(MIRROR / "samples" / "samples.gpkg")["code"])
    with rasterio.open(dominant[0]) as src:
        legend = json.loads(src.tags()["classes"])
        # The original, string class codes of the samples travel with the map.
        assert {entry["code"] for entry in legend} <= sample_codes
        values = set(np.unique(src.read(1))) - {src.nodata}
        assert values <= {entry["value"] for entry in legend}


def test_metrics_files_are_strict_json(executed_netherlands):
    for folder in executed_netherlands.values():
        json.loads((folder / "metrics.json").read_text(), parse_constant=pytest.fail)
