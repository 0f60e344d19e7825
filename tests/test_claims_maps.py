"""What the notebooks say about areas, change, calibration and uncertainty, checked on
their outputs.

Each test names the sentence (or the printed finding) of a notebook that it guards. When
a change of data or seed flips one, the test fails and the text must change. Numbers come
from ``metrics.json`` of the notebooks run on the bundled, simulated data (the shared
``executed`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

AREA = "03_probabilistic_random_forest"


@pytest.fixture(scope="module")
def truth(executed):
    return json.loads((executed[AREA] / "metrics.json").read_text())["truth"]


@pytest.fixture(scope="module")
def metrics(executed):
    return json.loads((executed[AREA] / "metrics.json").read_text())


def test_area_estimates_have_the_promised_layout(truth):
    areas = truth["area_estimates"]
    assert {"tile", "year", "coverage", "classes"} <= set(areas)
    assert 0 <= areas["coverage"] <= 1
    for row in areas["classes"].values():
        assert {"estimate", "ci_low", "ci_high", "true_area", "pixel_count_area"} <= set(row)
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    # hectares: two 256 x 256 tiles of 30 m pixels hold 5,898 ha each (less the nodata)
    total = sum(row["true_area"] for row in areas["classes"].values())
    assert 4000 < total <= 5898.3
    assert total == pytest.approx(sum(r["pixel_count_area"] for r in areas["classes"].values()))


def test_the_sample_estimator_is_centred_on_the_truth_and_pixel_counting_is_not(truth):
    """Section 7: "the estimates are centred on the true areas"; "counting pixels is biased"
    (key points); the sample estimate beats pixel counting in mean absolute error."""
    rows = truth["area_estimates"]["classes"].values()
    for row in rows:
        assert abs(row["mean_estimate_of_draws"] - row["true_area"]) <= max(
            3.0, 0.02 * row["true_area"]
        )
    worst_counting = max(abs(r["pixel_count_area"] - r["true_area"]) for r in rows)
    worst_estimator = max(abs(r["mean_estimate_of_draws"] - r["true_area"]) for r in rows)
    assert worst_counting > 10 * worst_estimator
    errors = truth["area_estimates"]["mean_absolute_error"]
    assert errors["sample estimate"] < errors["pixel counting"]


def test_coverage_falls_short_for_some_classes(truth):
    """Key points: "check their coverage where you can, and expect it to fall short for
    classes hidden by omission in other strata". A class is flagged only below 90 % less
    the Monte Carlo margin of the draws, and the omission explanation is printed only for
    flagged classes whose standard error is well below the spread of the estimates."""
    areas = truth["area_estimates"]
    assert 0.5 < areas["coverage"] < 0.95
    rows = areas["classes"]
    flagged = {c.split()[0] for c in areas["low_coverage"]}
    assert flagged == {c for c, r in rows.items() if r["coverage"] < areas["coverage_flag_below"]}
    assert 0.85 < areas["coverage_flag_below"] < 0.9
    narrow = {c.split()[0] for c in areas["low_coverage_narrow_se"]}
    assert narrow and narrow <= flagged
    assert all(rows[c]["se_over_sd"] < 0.8 for c in narrow)


def test_independent_yearly_maps_overstate_change(truth):
    """Section 8 and key points: "Yearly maps made independently overstate change; much of
    the mapped change is spurious"."""
    change = truth["change"]
    assert {"tile", "year_from", "year_to", "mapped_share", "true_share", "spurious_share"} <= set(
        change
    )
    assert change["year_from"] < change["year_to"]
    independent = change["all_pairs"]["independent"]
    assert independent["mapped_share"] > independent["true_share"]
    assert independent["spurious_share"] > 0.3
    assert change["mapped_share"] > change["true_share"]


def test_the_remedy_trades_spurious_for_missed_change(truth):
    """Section 8: "The rule trades spurious change for missed change"; the margin is chosen
    on cross-validation (so it is one of the margins tried)."""
    change = truth["change"]
    remedy = change["remedy"]
    assert remedy["margin"] > 0
    assert str(remedy["margin"]) in change["cv_accuracy"]
    assert change["cv_accuracy"][str(remedy["margin"])] == max(change["cv_accuracy"].values())
    before, after = change["all_pairs"]["independent"], change["all_pairs"]["remedy"]
    assert after["spurious_share"] < before["spurious_share"]
    assert after["missed_share"] > before["missed_share"]
    assert after["mapped_share"] < before["mapped_share"]
    assert remedy["spurious_share"] < change["spurious_share"]
    assert remedy["true_share"] == change["true_share"]


def test_the_forest_is_not_calibrated_out_of_the_box(metrics):
    """Key points: a forest's probability "is not automatically calibrated"."""
    calibration = metrics["calibration"]
    assert calibration["Random Forest"]["ece"] > 0.03
    assert set(calibration) == {"Random Forest", "calibrated"}


def test_uncertainty_points_at_the_errors(truth):
    """Section 6: "If the uncertainty is useful, the error rate climbs with it"."""
    assert truth["uncertainty"]["roc_auc"] > 0.7
    assert truth["uncertainty"]["error_rate_rises"] is True
    assert 0.5 < truth["map_accuracy"] < 1
