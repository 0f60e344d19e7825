"""What notebook 3 says in Markdown, checked on its outputs (bundled, simulated data).

Each test names the sentence of ``notebooks/src/03_probabilistic_random_forest.py`` that it
guards. When a change of data or seed flips one, the test fails and the text must change,
not this test's threshold. Layout of ``metrics.json`` read here: ``calibration[model]``
(fold means against the labels), ``margin`` and ``margin_cv_accuracy`` (the temporal rule
tuned by CV), and under ``truth``: ``map_accuracy``, ``uncertainty``, ``calibration``
(:meth:`FoldComparison.to_dict` against the true class at the samples), ``change`` and
``remedy`` (independent yearly maps and the rule, against the truth maps).
"""

from __future__ import annotations

import pytest
from conftest import notebook_metrics

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAME = "03_probabilistic_random_forest"


@pytest.fixture(scope="module")
def metrics(executed):
    return notebook_metrics(executed[NAME])


def test_the_forest_is_not_calibrated_against_labels_or_truth(metrics):
    """Key points: "nothing makes it calibrated"; section 4 judges the recalibration
    against the labels and against the truth, with the same two models."""
    assert set(metrics["calibration"]) == {"Random Forest", "calibrated"}
    assert metrics["calibration"]["Random Forest"]["ece"] > 0.03
    against_truth = metrics["truth"]["calibration"]["table"]
    assert set(against_truth) == {"Random Forest", "calibrated"}
    assert against_truth["Random Forest"]["ece"] > 0.03


def test_labels_have_errors_of_their_own(metrics):
    """Key points: "judge it against the truth where it is known: labels have errors of
    their own" -- the same out-of-fold predictions score differently against the two."""
    labels = metrics["calibration"]["Random Forest"]["overall_accuracy"]
    truth = metrics["truth"]["calibration"]["table"]["Random Forest"]["overall_accuracy"]
    assert abs(truth - labels) > 0.01


def test_uncertainty_points_at_the_errors(metrics):
    """Section 6 and key points: uncertainty maps "show where the map can be trusted"."""
    uncertainty = metrics["truth"]["uncertainty"]
    assert uncertainty["roc_auc"] > 0.7
    assert uncertainty["error_rate_rises"] is True
    assert 0.5 < metrics["truth"]["map_accuracy"] <= 1


def test_independent_yearly_maps_show_more_change_than_happened(metrics):
    """Section 7: yearly maps made independently "disagree wherever either is wrong, and
    each disagreement looks like change"."""
    change = metrics["truth"]["change"]
    assert change["year_from"] < change["year_to"]
    assert change["all_pairs"]["mapped_share"] > change["all_pairs"]["true_share"]
    assert change["all_pairs"]["spurious_share"] > 0.3


def test_the_margin_is_chosen_on_cross_validation(metrics):
    """Section 7: "The margin is a hyperparameter, chosen by cross-validation"."""
    scores = metrics["margin_cv_accuracy"]
    assert str(metrics["margin"]) in scores
    assert scores[str(metrics["margin"])] == max(scores.values())
    assert metrics["margin"] > 0  # else the rule is the independent maps


def test_the_rule_trades_spurious_for_missed_change(metrics):
    """Section 7: "Compare the shares above: the rule trades spurious change for missed
    change" (all tiles and pairs of years, against the truth)."""
    before = metrics["truth"]["change"]["all_pairs"]
    after = metrics["truth"]["remedy"]["all_pairs"]
    assert after["spurious_share"] < before["spurious_share"]
    assert after["missed_share"] > before["missed_share"]
    assert after["mapped_share"] < before["mapped_share"]
    assert after["true_share"] == pytest.approx(before["true_share"])
