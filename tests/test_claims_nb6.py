"""What notebook 6 says, checked on its outputs (bundled, simulated data).

The Markdown states no finding about the map's errors: the printed sentences carry the
numbers. Guarded here: the printed sentence is the one the metrics give, the local point
density bands are disjoint and count every set-aside point, and the notebook's defaults
still show the lesson it is built around (the map is worse outside the AOA, and the CV
error profile says so too).
"""

from __future__ import annotations

import itertools

import pytest
from conftest import notebook_metrics, notebook_text

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAME = "06_area_of_applicability"


@pytest.fixture(scope="module")
def metrics(executed):
    return notebook_metrics(executed[NAME])


@pytest.fixture(scope="module")
def printed(executed):
    return notebook_text(executed[NAME], NAME)


def test_trains_on_the_bundled_clustered_sample(metrics):
    """Section 1: the training sample is notebook 5's clustered sample; section 2: the folds
    chosen by the distances are spatial (blocked) folds."""
    import geopandas as gpd

    from odse_tutorial.datasets import load_dataset

    path = load_dataset("simulated").samples_path.with_name("samples_clustered.gpkg")
    n = len(gpd.read_file(path))
    assert metrics["n_training_sample"] == n
    assert 0.9 * n < metrics["n_samples"] <= n
    assert "SpatialKFold" in metrics["cv"]


def test_the_printed_truth_sentence_is_the_metrics(metrics, printed):
    inside, outside = metrics["true_error_inside"], metrics["true_error_outside"]
    assert f"True error rate: {inside:.1%} inside the AOA, {outside:.1%} outside" in printed
    assert (
        f"the CV profile estimated {metrics['cv_error_estimate_inside']:.1%} and "
        f"{metrics['cv_error_estimate_outside']:.1%}" in printed
    )


def test_the_defaults_show_the_lesson(metrics):
    """The lesson the notebook is built around, on its defaults: the map is worse outside
    the AOA (against the truth), and the CV error profile says so too."""
    assert 0.5 < metrics["aoa_share_inside"] < 1
    assert metrics["true_error_outside"] > 1.3 * metrics["true_error_inside"]
    assert metrics["cv_error_estimate_outside"] > metrics["cv_error_estimate_inside"]
    assert 0.5 < metrics["truth"]["map_accuracy"] <= 1


def test_lpd_bands_are_disjoint_and_count_every_set_aside_point(metrics):
    bands = metrics["lpd_bands"]
    assert bands[0]["LPD_to"] == 0 and len(bands) >= 3
    assert all(a["LPD_to"] < b["LPD_from"] for a, b in itertools.pairwise(bands))
    assert sum(b["samples"] for b in bands) == metrics["n_set_aside"]
    assert all(0 <= b["error_rate"] <= 1 for b in bands)
