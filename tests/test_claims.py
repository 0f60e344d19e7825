"""The lessons follow the numbers: every relation the notebooks' markdown states is checked here.

The notebooks print their comparisons from the computed values (f-strings, conditional
text). Where a *markdown* cell states a finding (a relation between numbers that a data or
seed change could flip), this module asserts it on the notebook's ``metrics.json`` after
the papermill run of the bundled, simulated data. When one fails, the text of the notebook
named in the test must change, not this test's threshold.

Key layout read here (simulated data; real data have no ``truth``):

- every notebook: ``truth.map_accuracy``, the overall accuracy of the dominant-class maps
  it wrote, against the truth maps (notebook 5 writes no maps: the accuracy of its
  systematic-design model at ``truth.map_accuracy_pixels`` random pixels);
- notebook 5: ``cv_estimates[design][cv] = {labels, truth, median_distance_m,
  w_distance_m}``, ``truth.design_map_accuracy[design]``, ``matched_cv[design]``.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def _metrics(executed, name):
    return json.loads((executed[name] / "metrics.json").read_text())


@pytest.mark.parametrize(
    "name",
    [
        "01_random_forest",
        "02_tuned_random_forest",
        "03_probabilistic_random_forest",
        "04_ensemble",
        "05_validation_against_truth",
        "06_area_of_applicability",
    ],
)
def test_every_notebook_puts_its_maps_beside_the_truth(executed, name):
    assert 0.5 < _metrics(executed, name)["truth"]["map_accuracy"] <= 1


# -- notebook 2 -------------------------------------------------------------------------
def test_nb2_the_winners_curse_demonstration_shows_a_curse(executed):
    """'Here is a harsher one': over repeated searches, best_score_ is above the winner's
    score on fresh folds by more than the t critical value times its standard error."""
    curse = _metrics(executed, "02_tuned_random_forest")["winners_curse"]
    assert curse["repeats"] >= 5
    assert curse["mean"] - curse["t_critical"] * curse["standard_error"] > 0


def test_nb2_compares_every_metric_with_its_paired_noise(executed):
    """Section 5 prints a verdict for every metric from the paired fold-by-fold differences."""
    paired = _metrics(executed, "02_tuned_random_forest")["tuned_vs_default"]
    assert set(paired) == {"overall_accuracy", "f1_weighted", "log_loss", "brier_score"}
    for row in paired.values():
        assert row["paired SE"] >= 0 and row["t x SE"] > row["paired SE"]


# -- notebook 5 and the closing sentences of notebook 1 ----------------------------------
# -- notebook 4 -------------------------------------------------------------------------
def test_nb4_the_learners_spread_is_checked_against_the_entropy(executed):
    """Section 5, section 6 and key points: the learners' spread is "one more, per-class
    uncertainty layer, not automatically the best one"; both it and the entropy of the
    ensemble's probabilities point at the ensemble's errors (AUC above chance), and the
    printed comparison of the two is the one the notebook shows."""
    auc = _metrics(executed, "04_ensemble")["truth"]["uncertainty_auc"]
    spread, entropy = auc["ensemble: learners' spread"], auc["ensemble: entropy"]
    assert 0.5 < spread <= 1 and 0.5 < entropy <= 1
    text = _outputs(executed, "04_ensemble")
    relation = (
        "about as good a predictor"
        if abs(spread - entropy) < 0.02
        else ("a better predictor" if spread > entropy else "a worse predictor")
    )
    assert f"the learners' spread (AUC {spread:.2f}) is {relation}" in text
    assert "where they disagree, the map is uncertain" not in text
    assert "gives a per-class uncertainty that points at" not in text


def test_nb4_gains_are_weighed_with_the_t_critical_value(executed):
    """Section 4: a gain counts as beyond the noise only above t(0.975, 4) x paired SE; the
    largest per-class loss in producer's accuracy is printed beside the headline."""
    from scipy import stats

    metrics = _metrics(executed, "04_ensemble")
    gain, best = metrics["ensemble_gain"], metrics["best_member"]
    threshold = stats.t.ppf(0.975, 4) * gain["standard_error"]
    lines = _outputs(executed, "04_ensemble").splitlines()
    line = next(line for line in lines if line.startswith(f"accuracy, ensemble minus {best}:"))
    assert f"noise threshold t x SE = {threshold:.3f})" in line
    within = abs(gain["accuracy"]) <= threshold or round(gain["accuracy"], 3) == 0
    assert line.endswith("within the fold-to-fold noise.") == within
    assert any(
        line.startswith(("Per class (producer's", "Per class, no producer")) for line in lines
    )


def _outputs(executed, name):
    """The printed text of an executed notebook (stream outputs)."""
    cells = json.loads((executed[name] / f"{name}.ipynb").read_text())["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    streams = [
        "".join(o["text"])
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o["output_type"] == "stream"
    ]
    return "\n".join(markdown + streams)


@pytest.fixture(scope="module")
def validation(executed):
    return _metrics(executed, "05_validation_against_truth")


def test_nb5_label_noise_lowers_every_estimate(validation):
    """'Scored against the true class ... every CV estimate is higher'."""
    for design in validation["cv_estimates"].values():
        for row in design.values():
            assert row["truth"] > row["labels"]


def test_nb5_systematic_sample_interpolates(validation):
    """Random and leave-location-out CV, against the truth at the points, are close to the
    true map accuracy; blocked CV tests farther than the map predicts and is pessimistic."""
    true = validation["truth"]["design_map_accuracy"]["systematic"]
    rows = validation["cv_estimates"]["systematic"]
    for cv in ("random", "location"):
        assert abs(rows[cv]["truth"] - true) < 0.03
    blocked = [row for cv, row in rows.items() if cv.startswith("blocks")]
    assert all(row["truth"] < true - 0.03 for row in blocked)
    # Notebook 1: 'every pixel is close to training data ... blocked folds test far'.
    prediction = validation["prediction_median_distance_m"]["systematic"]
    assert all(row["median_distance_m"] > 2 * prediction for row in blocked)
    assert all(
        row["median_distance_m"] > 2 * rows["location"]["median_distance_m"] for row in blocked
    )


def test_nb5_clustered_sample_random_cv_is_badly_optimistic_and_matching_helps(validation):
    """'random CV is badly optimistic ... the matched CV comes far closer to the truth'."""
    true = validation["truth"]["design_map_accuracy"]["clustered"]
    rows = validation["cv_estimates"]["clustered"]
    assert rows["random"]["labels"] - true > 0.1
    matched = rows[validation["matched_cv"]["clustered"]]
    assert abs(matched["labels"] - true) < 0.5 * abs(rows["random"]["labels"] - true)
    assert validation["matched_cv"]["clustered"].startswith("blocks")


def test_nb5_clustered_sample_predicts_farther_than_the_systematic_one(validation):
    """'Most pixels are kilometres from any campaign': larger blocks test farther."""
    assert validation["prediction_median_distance_m"]["clustered"] > 1000
    rows = validation["cv_estimates"]["clustered"]
    sizes = sorted(
        (cv for cv in rows if cv.startswith("blocks")), key=lambda cv: float(cv.split()[1])
    )
    assert rows[sizes[-1]]["median_distance_m"] > rows[sizes[0]]["median_distance_m"]
    assert (
        validation["truth"]["design_map_accuracy"]["clustered"]
        < validation["truth"]["design_map_accuracy"]["systematic"]
    )
