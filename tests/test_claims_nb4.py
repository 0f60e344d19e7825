"""Notebook 4's text follows its numbers (the ``executed`` run of the bundled, simulated data).

Where notebook 4's Markdown states something another seed or dataset could turn false, it is
asserted here on the outputs (metrics.json, cv_predictions.csv, model.joblib). When a test
fails, the notebook's text must change, not this test. Verdicts that may flip (which model is
better, and by how much) are printed by the notebook from the numbers; here we check only that
what it printed is what the numbers say.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest
from conftest import notebook_metrics

from odse_tutorial.persistence import load_model

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NB4 = "04_ensemble"


def _metrics(executed, name=NB4):
    return notebook_metrics(executed[name])


def _shown(executed, name=NB4):
    """Everything the executed notebook printed or displayed as text or HTML (unescaped)."""
    cells = json.loads((executed[name] / f"{name}.ipynb").read_text())["cells"]
    texts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            data = output.get("data", {})
            texts.append("".join(data.get("text/plain", "")))
            texts.append(html.unescape("".join(data.get("text/html", ""))))
    return "\n".join(texts)


def _cv_predictions(executed, name):
    return pd.read_csv(executed[name] / "cv_predictions.csv", index_col=0)


def test_nb4_the_forest_has_notebook_1s_settings_and_tree_count(executed):
    """Section 2: "the forest of notebook 1, with as many trees (`n_trees`)" (issue 17: the
    comparison table with equal tree counts)."""
    forest = load_model(executed[NB4] / "model.joblib").model.named_estimators_["forest"]
    first = load_model(executed["01_random_forest"] / "model.joblib").model
    for param in ("n_estimators", "min_samples_leaf", "max_features", "random_state"):
        assert forest.get_params()[param] == first.get_params()[param], param
    # Rows 1 and 2 (notebooks 1 and 2's out-of-fold forests) have as many trees as this one.
    for name in ("01_random_forest", "02_tuned_random_forest"):
        assert _metrics(executed, name)["cv_n_trees"] == forest.n_estimators, name


def test_nb4_scores_on_the_folds_of_notebooks_1_to_3(executed):
    """Sections 1 and 4: the outer folds are those of notebooks 1-3 (same samples, same
    test fold for every sample)."""
    mine = _cv_predictions(executed, NB4)
    for name in ("01_random_forest", "02_tuned_random_forest", "03_probabilistic_random_forest"):
        theirs = _cv_predictions(executed, name)
        assert theirs.index.equals(mine.index), name
        assert (theirs["fold"] == mine["fold"]).all(), name


def test_nb4_each_approach_has_one_row(executed):
    """Section 6: "where notebook 3 scored the same probabilities, it shares row 1"; every
    other notebook that ran has its own row, and no two rows have the same scores."""
    rows = _metrics(executed)["comparison"]
    assert set(rows) >= {"1. Random Forest (scored here)", "2. tuned Random Forest"}
    assert "4. ensemble (RF + HGB + MLP)" in rows
    columns = [c for c in _cv_predictions(executed, NB4) if c.startswith("proba_")]
    first = _cv_predictions(executed, "01_random_forest")[columns].to_numpy()
    third = _cv_predictions(executed, "03_probabilistic_random_forest")[columns].to_numpy()
    assert ("3. probabilistic RF" in rows) == (not np.allclose(first, third))
    scores = [tuple(row.values()) for row in rows.values()]
    assert len(set(scores)) == len(scores)


@pytest.mark.parametrize("key", ["members", "approaches"])
def test_nb4_prints_the_verdicts_of_its_fold_comparisons(executed, key):
    """Sections 4 and 6: "Read the verdicts it prints": every verdict in metrics.json is shown,
    and each says "beyond the noise" exactly when its interval excludes 0."""
    comparison = _metrics(executed)[key]
    shown = _shown(executed)
    lines = comparison["sentence"].splitlines()
    assert comparison["differences"]
    for row in comparison["differences"]:
        start = f"{row['model']} vs {row['baseline']}: {row['metric'].replace('_', ' ')} "
        line = next(line for line in lines if line.startswith(start))
        assert line in shown
        excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
        assert line.endswith("beyond the noise of the folds.") == excludes_zero, line


def test_nb4_both_uncertainties_point_at_the_errors(executed):
    """Section 5 and key points: the learners' spread is "one more uncertainty layer": both it
    and the entropy of the ensemble's probabilities rank wrong pixels above right ones (ROC
    AUC above chance); which is better is printed from the numbers, and shown here."""
    auc = _metrics(executed)["truth"]["uncertainty_auc"]
    assert len(auc) == 2 and all(0.5 < value <= 1 for value in auc.values())
    shown = _shown(executed)
    assert all(f"{value:.2f}" in shown for value in auc.values())


def test_nb4_puts_each_map_beside_its_truth(executed):
    """Section 6: the true accuracy of the ensemble's maps, as written to metrics.json."""
    assert 0.5 < _metrics(executed)["truth"]["map_accuracy"] <= 1


def test_nb4_headline_is_not_random_folds(executed):
    """Section 1: the folds of notebooks 1-3; the bundled data have locations, so folds that
    split a location's years never headline (review-nb4.md)."""
    assert not _metrics(executed)["cv"].startswith("nested: outer random folds")


def test_nb4_tuned_vs_forest_is_notebook_2s_comparison(executed):
    """Same folds, same tree counts: notebook 4's row 2 against row 1 gives the very
    difference notebook 2 printed for tuned vs default (review-nb4.md, finding 1)."""
    rows = _metrics(executed)["comparison"]
    gap = rows["2. tuned Random Forest"]["overall_accuracy"]
    gap -= rows["1. Random Forest (scored here)"]["overall_accuracy"]
    paired = _metrics(executed, "02_tuned_random_forest")["tuned_vs_default"]
    assert gap == pytest.approx(paired["overall_accuracy"]["mean change"], abs=1e-9)
