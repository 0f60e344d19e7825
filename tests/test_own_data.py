"""The notebooks on a learner's own data, in the minimal documented shape (issue 12).

The folder is made here: one tile, one year, plain band names (``blue.tif`` ...
``swir2.tif``), string class names, points in EPSG:4326 with their own column names, no
weight, location or tile column, a ``dataset.json`` naming only the two columns that
differ, and a class too rare to keep. Every notebook must finish, write its metrics and
maps, and say in one printed sentence why it skips what these data cannot support.
"""

from __future__ import annotations

import json

import pytest
import rasterio
from conftest import make_real_style_folder, notebook_metrics, notebook_text

from odse_tutorial.datasets import check_dataset
from odse_tutorial.tutorial import find_notebooks, run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOKS = {nb.stem: nb for nb in find_notebooks()}
NO_TRUTH = "No truth maps for this dataset: the true accuracy of its maps is unknown."
DROPPED = "Dropped as too rare (fewer than 10 samples): wetland"  # notebook 1's own print
DROPPED_BY_HELPER = "cannot be tested by the CV and are dropped: wetland"  # training_data's
# What each notebook must print on these data: the sections it skips, and why.
SAID = {
    "01_random_forest": [
        DROPPED,
        NO_TRUTH,
    ],
    "02_tuned_random_forest": [DROPPED_BY_HELPER],
    "03_probabilistic_random_forest": [
        DROPPED_BY_HELPER,
        "This dataset has no truth maps: the uncertainty cannot be checked pixel by pixel.",
        "No truth maps for this dataset: the true class at the points is unknown.",
        "Change against the truth needs truth maps and at least two years, and this dataset "
        "has no truth maps and one year (2021)",
    ],
    "04_ensemble": [
        DROPPED_BY_HELPER,
        "This dataset has no truth maps: the uncertainty cannot be checked pixel by pixel.",
        NO_TRUTH,
    ],
    "05_validation_against_truth": [
        NO_TRUTH,
        "No truth map: no sample can be labelled from it, so none is drawn.",
    ],
    "06_area_of_applicability": [
        "Dropping 1 rare class(es) with 4 sample(s) in all: wetland (4).",
        "The 'mine' dataset has no truth maps: the true error inside and outside the AOA "
        "cannot be measured here",
    ],
}


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory):
    """12 km x 12 km of noisy classes (so that the folds and the forest have work to do)."""
    folder = tmp_path_factory.mktemp("own") / "mine"
    return make_real_style_folder(folder, n=200, size=400, rare=4, noise=250)


@pytest.fixture(scope="module")
def executed_own(own_folder, tmp_path_factory):
    root = tmp_path_factory.mktemp("own-tutorial")
    return {
        name: run_notebook(NOTEBOOKS[name], root, {"dataset": str(own_folder)}) for name in SAID
    }


def test_check_reports_no_problem_and_what_the_notebooks_skip(own_folder):
    report = check_dataset(own_folder)
    assert report.ok, str(report)
    skipped = " | ".join(report.skipped)
    for what in ("no truth maps", "one year (2021)", "one tile", "no weight column"):
        assert what in skipped
    assert "no truth maps" in str(report)


def test_the_minimal_folder_needs_only_the_differing_column_names(own_folder):
    meta = json.loads((own_folder / "dataset.json").read_text())
    assert meta == {"columns": {"class_code": "landcover", "date": "observed"}}


@pytest.mark.parametrize("name", list(SAID))
def test_notebooks_run_on_a_minimal_own_folder(executed_own, name):
    folder = executed_own[name]
    metrics = notebook_metrics(folder)
    assert metrics["dataset"] == "mine"
    assert "truth" not in metrics  # no truth maps: nothing measured against them
    if "n_classes" in metrics:  # the rare class is dropped; the three others are kept
        assert metrics["n_classes"] == 3
    maps = [folder / p for p in metrics.get("maps", []) if p.endswith("dominant_class.tif")]
    if name in ("05_validation_against_truth",):
        return  # its maps (one per sampling design) are not the map products listed
    assert len(maps) == 1, metrics.get("maps")
    with rasterio.open(maps[0]) as src:
        legend = {entry["code"] for entry in json.loads(src.tags()["classes"])}
    assert legend == {"crop", "forest", "water"}


@pytest.mark.parametrize("name", list(SAID))
def test_skipped_sections_say_why(executed_own, name):
    printed = notebook_text(executed_own[name], name)
    for sentence in SAID[name]:
        assert sentence in printed, sentence
    assert "2021-2021" not in printed and "change 2021" not in printed.lower()


def test_no_model_is_shown_under_another_name(executed_own):
    """Notebook 4 runs after 1-3 on the same data: their rows are theirs."""
    comparison = notebook_metrics(executed_own["04_ensemble"])
    rows = set(comparison["comparison"])
    assert "4. ensemble (RF + HGB + MLP)" in rows
    assert any(row.startswith("2. tuned") for row in rows)


def test_notebook_4_alone_shows_no_model_under_another_name(own_folder, tmp_path):
    """Notebooks 1-3 have not run here: notebook 4 scores the plain forest itself, and says
    so in the row's name; no row claims to be notebook 2's or 3's model."""
    folder = run_notebook(NOTEBOOKS["04_ensemble"], tmp_path, {"dataset": str(own_folder)})
    rows = set(notebook_metrics(folder)["comparison"])
    assert rows == {"1. Random Forest (scored here)", "4. ensemble (RF + HGB + MLP)"}
    printed = notebook_text(folder, "04_ensemble")
    for name in ("02_tuned_random_forest", "03_probabilistic_random_forest"):
        assert f"{name} has not run here" in printed
