"""What notebook 1's Markdown states, checked on its outputs (bundled, simulated data).

Each test names the sentence it guards. When a change of data or seed flips one, the
notebook's text must change, not this test.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import notebook_metrics

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NB = "01_random_forest"


@pytest.fixture(scope="module")
def metrics(executed):
    return notebook_metrics(executed[NB])


def test_the_headline_cv_is_the_one_that_tests_most_like_the_map(metrics):
    """Section 4: 'We keep the CV whose distances are most like the map's: the smallest
    Wasserstein distance W ... on a log scale'; the report and metrics.json are that CV's."""
    wasserstein = metrics["nn_distances"]["wasserstein_log"]
    assert (
        set(wasserstein)
        == set(metrics["cv_estimates"])
        == {
            "random folds",
            "location folds",
            "blocked folds",
        }
    )
    headline = metrics["headline_cv"]
    assert headline == min(wasserstein, key=wasserstein.get)
    # Not a near-tie: the runner-up tests clearly less like the map (review-nb1.md).
    runner_up = sorted(wasserstein.values())[1]
    assert runner_up > 1.5 * wasserstein[headline]
    # The bundled data have locations: folds that split a location's years never headline.
    assert headline != "random folds"
    assert metrics["cv"].startswith(f"{headline}: ")
    assert metrics["overall_accuracy"] == pytest.approx(metrics["cv_estimates"][headline])


def test_the_folds_are_kept_for_the_later_notebooks(executed, metrics):
    """'The chosen CV is the headline of notebooks 1-4, on the same folds': notebook 2
    chooses the same CV and saves the same folds."""
    nb2 = notebook_metrics(executed["02_tuned_random_forest"])
    assert nb2["headline_cv"] == metrics["headline_cv"]
    folds = [
        pd.read_csv(executed[name] / "cv_predictions.csv", index_col=0)["fold"]
        for name in (NB, "02_tuned_random_forest")
    ]
    assert folds[0].equals(folds[1])
    assert folds[0].nunique() == 5 and (folds[0] >= 0).all()


def test_the_labels_have_errors(metrics):
    """Section 2 and key points: 'some are wrong'; 'Labels have errors'."""
    assert 0.5 < metrics["truth"]["label_agreement"] < 1


def test_the_three_cvs_give_different_estimates(metrics):
    """Key points: 'random, location and blocked folds can give quite different estimates'."""
    estimates = metrics["cv_estimates"].values()
    assert max(estimates) - min(estimates) > 0.03


def test_the_truth_beside_the_estimates_is_the_maps(metrics):
    """Section 7: each CV estimate beside the maps' true accuracy, over every tile and year."""
    truth = metrics["truth"]
    assert truth["cv_estimates"] == metrics["cv_estimates"]
    assert 0.5 < truth["map_accuracy"] <= 1


def test_random_pixel_folds_flatter_polygon_data(executed, metrics):
    """Section 4, 'Training polygons: the classic optimistic mistake': the same forest on the
    pixels of drawn squares scores higher on random pixel folds than on folds that keep each
    square together; the printed sentence carries these numbers."""
    scores = metrics["polygon_cv"]
    assert set(scores) == {"random pixel folds", "polygon folds"}
    gap = scores["random pixel folds"] - scores["polygon folds"]
    assert gap > 0.03
    cells = json.loads((executed[NB] / f"{NB}.ipynb").read_text())["cells"]
    printed = "".join(
        "".join(out.get("text", "")) for cell in cells for out in cell.get("outputs", [])
    )
    assert (
        f"Accuracy on random pixel folds {scores['random pixel folds']:.3f}, on polygon "
        f"folds {scores['polygon folds']:.3f} (random minus polygon folds: {gap:+.3f})."
    ) in printed
