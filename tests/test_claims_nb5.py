"""What notebook 5's Markdown says, checked on its outputs (bundled, simulated data).

Each test names the sentence it guards. When a change of data or seed flips one, the test
fails and the notebook's text must change, not this test's threshold. Layout read here:
``cv_estimates[design][cv] = {labels, truth, median_distance_m, w_distance_m, w_log}``,
``matched_cv[design]``, ``prediction_median_distance_m[design]``,
``truth.design_map_accuracy[design]`` and ``truth.area_estimates`` (one tile and year:
``coverage``, ``coverage_remedy``, ``mc_margin``, ``mean_absolute_error``, and per class
``estimate``, ``ci_low``, ``ci_high``, ``true_area``, ``pixel_count_area``,
``mean_estimate_of_draws``, ``coverage``, ``coverage_remedy``, ``zero_width``,
``se_over_sd``).
"""

from __future__ import annotations

import pytest
from conftest import notebook_metrics

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAME = "05_validation_against_truth"


@pytest.fixture(scope="module")
def validation(executed):
    return notebook_metrics(executed[NAME])


@pytest.fixture(scope="module")
def areas(validation):
    return validation["truth"]["area_estimates"]


def test_label_noise_lowers_every_estimate(validation):
    """'scored against the true class at the points, every CV estimate is higher than
    against the recorded labels'."""
    for design in validation["cv_estimates"].values():
        for row in design.values():
            assert row["truth"] > row["labels"]


def test_systematic_sample_interpolates(validation):
    """'random and leave-location-out CV test at its distances and, against the truth at
    the points, come within 0.03 of the true map accuracy; blocked CV tests farther than
    the map predicts and is pessimistic'."""
    true = validation["truth"]["design_map_accuracy"]["systematic"]
    rows = validation["cv_estimates"]["systematic"]
    prediction = validation["prediction_median_distance_m"]["systematic"]
    for cv in ("random folds", "location folds"):
        assert abs(rows[cv]["truth"] - true) < 0.03
        assert rows[cv]["median_distance_m"] < 2 * prediction
    blocked = [row for cv, row in rows.items() if cv.startswith("blocked folds")]
    assert blocked
    assert all(row["truth"] < true - 0.03 for row in blocked)
    assert all(row["median_distance_m"] > 2 * prediction for row in blocked)
    assert validation["matched_cv"]["systematic"] in ("random folds", "location folds")


def test_clustered_sample_random_cv_is_optimistic_and_matching_helps(validation):
    """'most pixels are kilometres from any campaign ...: random CV is optimistic by more
    than 0.1; the distance-matched blocked CV halves that error or better'."""
    true = validation["truth"]["design_map_accuracy"]["clustered"]
    rows = validation["cv_estimates"]["clustered"]
    assert validation["prediction_median_distance_m"]["clustered"] > 1000
    assert rows["random folds"]["median_distance_m"] < 100
    random_error = rows["random folds"]["labels"] - true
    assert random_error > 0.1
    matched = validation["matched_cv"]["clustered"]
    assert matched.startswith("blocked folds")
    assert abs(rows[matched]["labels"] - true) <= 0.5 * random_error


def test_matched_cv_has_the_smallest_wasserstein_distance(validation):
    """Section 4: the matched CV is the one whose distances are closest (smallest W, on
    log distances)."""
    for design, rows in validation["cv_estimates"].items():
        closest = min(rows, key=lambda cv: rows[cv]["w_log"])
        assert validation["matched_cv"][design] == closest


def test_area_estimates_layout_and_units(areas):
    assert {"tile", "year", "coverage", "coverage_remedy", "mc_margin", "classes"} <= set(areas)
    for row in areas["classes"].values():
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
        assert 0 <= row["coverage"] <= 1 and 0 <= row["zero_width"] <= 1
    # hectares: one 256 x 256 tile of 30 m pixels holds 5,898 ha (less the nodata)
    total = sum(row["true_area"] for row in areas["classes"].values())
    assert 4000 < total <= 5898.3
    assert total == pytest.approx(sum(r["pixel_count_area"] for r in areas["classes"].values()))


def test_counting_pixels_is_biased_and_the_sample_estimate_is_centred(areas):
    """Section 6: 'Counting a map's pixels per class is biased'; the Olofsson estimate is
    unbiased: the mean of the draws sits on the true area."""
    rows = areas["classes"].values()
    for row in rows:
        assert abs(row["mean_estimate_of_draws"] - row["true_area"]) <= max(
            3.0, 0.02 * row["true_area"]
        )
    worst_counting = max(abs(r["pixel_count_area"] - r["true_area"]) for r in rows)
    worst_estimator = max(abs(r["mean_estimate_of_draws"] - r["true_area"]) for r in rows)
    assert worst_counting > 10 * worst_estimator


def test_zero_width_intervals_are_there_and_the_remedy_removes_them(areas):
    """Section 6: zero-width intervals occur where every point agrees about a class; 'One
    remedy' (jeffreys): no zero width, and coverage not below nominal beyond the margin."""
    rows = areas["classes"].values()
    assert any(r["zero_width"] > 0 for r in rows)
    assert areas["coverage"] < 0.95 - areas["mc_margin"]  # the standard interval falls short
    assert areas["coverage_remedy"] >= 0.95 - areas["mc_margin"]
    assert all(r["coverage_remedy"] >= r["coverage"] - areas["mc_margin"] for r in rows)
