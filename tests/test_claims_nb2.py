"""What notebook 2's Markdown states, checked on its outputs (bundled, simulated data).

Each test names the sentence it guards. Verdicts that another seed could flip (tuned vs
default, the winner's curse on the real search) are printed by the notebook from its
numbers; here only their layout and consistency are checked.
"""

from __future__ import annotations

import pytest
from conftest import notebook_metrics

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NB = "02_tuned_random_forest"
METRICS = ("overall_accuracy", "f1_weighted", "log_loss", "brier_score")


@pytest.fixture(scope="module")
def metrics(executed):
    return notebook_metrics(executed[NB])


def test_tuning_and_comparison_use_notebook_1s_folds(executed, metrics):
    """Section 1: 'The same choice, made the same way, gives the same folds here'."""
    nb1 = notebook_metrics(executed["01_random_forest"])
    assert metrics["headline_cv"] == nb1["headline_cv"]
    assert metrics["cv"].startswith(f"nested: outer {nb1['headline_cv']} ")
    # The bundled data have locations: folds that split a location's years never headline.
    assert metrics["headline_cv"] != "random folds"


def test_the_search_forests_have_notebook_1s_tree_count(executed, metrics):
    """Section 2: 'We use 100, as notebook 1'; section 5: 'also 100 trees'."""
    nb1 = notebook_metrics(executed["01_random_forest"])
    assert metrics["cv_n_trees"] == nb1["cv_n_trees"] == 100


def test_every_metric_is_compared_with_its_corrected_noise(metrics):
    """Section 5: each metric's fold-by-fold difference with a corrected t interval, and a
    verdict printed from it."""
    paired = metrics["tuned_vs_default"]
    assert set(paired) == set(METRICS)
    for row in paired.values():
        assert row["paired SE"] >= 0 and row["t x SE"] > row["paired SE"]
    comparison = metrics["comparison"]
    assert set(comparison["table"]) == {"default", "tuned"}
    assert comparison["sentence"].count("tuned vs default") == len(METRICS)
    assert comparison["test_train_ratio"] == pytest.approx(0.25, abs=0.05)  # 5 folds


def test_the_estimates_beside_the_truth_are_those_of_the_real_search(metrics):
    """Section 6: best_score_ of the search that chose the map's settings and the nested
    estimate, beside the true accuracy of the maps that model wrote, in one metric."""
    curse = metrics["winners_curse"]
    assert curse["search: best_score_"] == pytest.approx(metrics["best_score_inner"])
    assert curse["nested CV"] == pytest.approx(metrics["overall_accuracy"])
    assert curse["truth"] == pytest.approx(metrics["truth"]["map_accuracy"])
    for value in curse.values():
        assert 0.5 < value <= 1
