# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Class probabilities: scoring them, trusting them, mapping them
#
# A map that says "pasture" hides how sure the model was. A Random Forest also gives a
# **probability** for every class; a probability of 0.8 should be right 8 times out of 10.
# Is it? We score, calibrate and map the probabilities, and use them against flickering
# yearly maps.
#
# ## Learning objectives
#
# 1. explain what a forest's class probabilities are;
# 2. score them with the log loss and the Brier score;
# 3. read a reliability diagram, recalibrate with `CalibratedClassifierCV`, and judge it
#    on the same folds, against the labels and against the truth;
# 4. map probabilities and uncertainty, and check that uncertainty points at errors;
# 5. measure spurious change between yearly maps, and reduce it with a rule tuned by CV.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 1](01_random_forest.ipynb) | necessary | data, the headline CV, maps |
# | [Notebook 2](02_tuned_random_forest.ipynb) | helpful | models compared on the same folds |
# | Probability, logarithms | helpful | |
#
# **Time to learn**: about 35 minutes. **Runs** in about a minute on one CPU. After changing
# a parameter, run again from the parameters cell.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "../outputs/03_probabilistic_random_forest"
n_jobs = None  # cores for the maps; None: all this process may use (mybinder.org: 1)
random_state = 0
min_class_samples = 10

# %% [markdown]
# ## Imports

# %%
import logging

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_predict

logging.basicConfig(level=logging.WARNING, format="%(message)s")

# %%
from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset
from odse_tutorial.evaluation import (
    accuracy_report,
    change_against_truth,
    compare_on_folds,
    truth_at,
    uncertainty_against_error,
    write_metrics,
)
from odse_tutorial.model_selection import (
    cross_val_predict_years,
    cv_candidates,
    fold_ids,
    nn_distances,
)
from odse_tutorial.overlay import training_data
from odse_tutorial.persistence import save_cv_predictions, save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import map_explorer

plotting.use_style()

# %% [markdown]
# ## 1. The data, as in notebook 1

# %%
ds = load_dataset(dataset)
data = training_data(ds, min_class_samples=min_class_samples)
X, y, weights, classes = data.X, data.y, data.weights, data.classes
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features")

# %% [markdown]
# The folds of notebook 1: the splitter that tests most like the map predicts.

# %%
cvs = cv_candidates(ds, data.table, random_state=random_state)
headline = nn_distances(cvs, data.table, ds, X=X, y=y, random_state=random_state).attrs["closest"]
cv, folds = cvs[headline], fold_ids(cvs[headline], X, y)  # folds: the test fold of each sample
print(f"Folds of notebook 1 on these data: {headline}.")

# %% [markdown]
# ## 2. What a forest's probabilities are
#
# A tree's probability of a class is that class's (weighted) share of the training samples
# in the leaf where a sample lands; the forest averages its trees. So 0.7 for pasture means:
# 70 % of similar training samples were pasture. Whether such pixels are pasture 70 % of the
# time is what **calibration** checks. `cross_val_predict(..., method="predict_proba")` gives
# each sample the probabilities of the forest that did not see it.

# %%
model = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs,
                               random_state=random_state)
fit_params = {"sample_weight": weights}
proba = cross_val_predict(model, X, y, cv=cv, method="predict_proba", params=fit_params)
codes = np.unique(y)  # the columns of proba
pd.DataFrame(proba, columns=codes).head().round(2)

# %% [markdown]
# ## 3. Scoring probabilities
#
# - **Log loss**: the mean of −log(probability of the true class). A confident mistake
#   (0.01) costs 4.6, a hesitant one (0.4) 0.9, a confident hit (0.99) 0.01; 0 is perfect.
# - **Brier score**: the squared distance between the probabilities and the truth (1 for the
#   true class, 0 for the others), summed over classes: 0 (perfect) to 2.
#
# The yardstick: a model that knows only the class frequencies. `compare_on_folds` scores
# both on each fold, with the paired noise (notebook 2).

# %%
baseline = np.tile(y.value_counts(normalize=True).reindex(codes), (len(y), 1))
compare_on_folds({"class frequencies": baseline, "Random Forest": proba}, y, folds)

# %% [markdown]
# Per class, the log loss shows which classes the forest is confidently wrong about:

# %%
report = accuracy_report(y, codes[proba.argmax(axis=1)], proba, classes=classes,
                         proba_classes=codes)
report.per_class[["code", "name", "support", "users_accuracy", "log_loss"]].round(3)

# %% [markdown]
# ## 4. Can the probabilities be trusted? The reliability diagram
#
# Group the samples by the probability of their predicted class (0.3-0.4, 0.4-0.5, ...) and
# compare with how often that prediction was right. A calibrated model lies on the diagonal;
# above it the model is **under-confident**, below it **over-confident**. The **expected
# calibration error** (ECE) is the average gap.
#
# `CalibratedClassifierCV` learns a correction (isotonic regression: a monotone mapping of
# each class's probability) on inner folds the forest did not see. It is a different model:
# one forest per inner fold, calibrated and averaged. We score it on the same outer folds.

# %%
inner_cv = cv_candidates(ds, data.table, n_splits=3, random_state=random_state + 1)[headline]
calibrated = CalibratedClassifierCV(model, method="isotonic", cv=inner_cv)
calibrated_proba = cross_val_predict(calibrated, X, y, cv=cv, method="predict_proba",
                                     params=fit_params)
probas = {"Random Forest": proba, "calibrated": calibrated_proba}

# %% [markdown]
# Labels are not the truth: interpreters err, GPS points fall on the next patch. On
# simulated data we also read the true class at each sample, and draw both lines.

# %%
truth = truth_at(ds, data.table)  # None (and why) without truth maps
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
for ax, (name, p) in zip(axes, probas.items(), strict=True):
    plotting.plot_reliability_diagram(y, p, codes, truth=truth, ax=ax)
    ax.set_title(f"{name}\n{ax.get_title()}")
plt.show()

# %% [markdown]
# Judge the recalibration by every metric, not only the calibration error: isotonic
# regression can map some probabilities to 0, and one confident miss then costs a large
# log loss. Read the verdicts below.

# %%
metrics = ("overall_accuracy", "log_loss", "brier_score", "ece")
calibration = compare_on_folds(probas, y, folds, classes=codes, metrics=metrics)
calibration

# %% [markdown]
# The same, against the truth at the samples:

# %%
against_truth = compare_on_folds(probas, truth, folds, classes=codes, metrics=metrics)
against_truth

# %% [markdown]
# ## 5. Mapping probabilities, year after year
#
# We map with the forest itself. `predict_maps` writes one probability layer per class
# (percent, summing to 100), the dominant class and an
# **uncertainty** layer: the normalized entropy of the probabilities, 0 % when one class has
# all the probability, 100 % when all classes are equally likely.

# %%
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, f"{output_dir}/maps", classes=classes, n_jobs=n_jobs)
common = y.value_counts().index[0]  # the most common class
plotting.plot_maps(maps, ["probability", "uncertainty", "errors"], code=common, truth=ds,
                   years=sorted({ds.years[0], ds.years[-1]}),
                   title=f"Probability of {common} {classes.name_of(common)}, uncertainty, errors")
plt.show()

# %% [markdown]
# ## 6. Is the model unsure where it is wrong?
#
# With truth maps we can check every pixel: a useful uncertainty has an error rate that
# climbs with it. The **ROC AUC** of uncertainty as a predictor of error is the probability
# that a wrong pixel is more uncertain than a right one (0.5: chance).

# %%
uncertainty = uncertainty_against_error(maps, ds)  # None (and why) without truth maps
plotting.plot_uncertainty_vs_error(uncertainty, title="Map errors by uncertainty, all maps")
plt.show()
uncertainty

# %% [markdown]
# ## 7. Yearly maps that flicker
#
# Yearly maps made independently disagree wherever either is wrong, and each disagreement
# looks like change. Against the true change: **spurious** is the share of mapped change that
# did not happen, **missed** the share of true change the maps do not show.

# %%
change = change_against_truth(maps, ds)  # None (and why) without truth maps or with one year
change

# %% [markdown]
# A simple remedy: a pixel keeps last year's class unless another class's probability beats
# it by more than a **margin** (percentage points):

# %%
def keep_unless_beaten(proba_by_year, margin):
    """Class positions per year from probabilities (year, class, ...) in percent."""
    current = proba_by_year[0].argmax(axis=0)
    out = [current]
    for p in proba_by_year[1:]:
        best = p.argmax(axis=0)
        lead = np.take_along_axis(p, best[None], 0) - np.take_along_axis(p, current[None], 0)
        current = np.where(lead[0] > margin, best, current)
        out.append(current)
    return np.stack(out)


# %% [markdown]
# The margin is a hyperparameter, chosen by cross-validation, not on the truth:
# `cross_val_predict_years` predicts every sampled location in every year with the forest
# of the fold that did not see it; we keep the margin that best matches the labels.

# %%
every_year = cross_val_predict_years(model, ds, data.table, cv, params=fit_params)
surveyed = every_year.labels >= 0
cv_scores = pd.Series({m: np.mean(keep_unless_beaten(100 * every_year.proba, m)[surveyed]
                                  == every_year.labels[surveyed]) for m in range(0, 55, 5)})
margin = int(cv_scores.idxmax())
cv_scores.plot(marker="o", xlabel="Margin (percentage points)", ylabel="CV accuracy (labels)",
               title=f"Choosing the margin: {margin} points")
plt.show()

# %% [markdown]
# The best of eleven noisy CV scores flatters its margin (notebook 2's winner's curse);
# the truth is the fair check:

# %%
remedy = change_against_truth(maps, ds, rule=lambda p: keep_unless_beaten(p, margin))
remedy

# %% [markdown]
# Compare the shares above: the rule trades spurious change for missed change. Better
# remedies model the years together (e.g. hidden-Markov smoothing), and change estimates
# need a reference sample of their own (notebook 5).
#
# ## 8. Explore the maps
#
# With truth maps, the explorer also shows the truth and the errors.

# %%
map_explorer(maps, classes, truth=ds)

# %% [markdown]
# ## 9. Save the results

# %%
save_model(f"{output_dir}/model.joblib", model, classes=classes, feature_names=list(X.columns))
save_cv_predictions(output_dir, proba, y, folds, classes=codes)  # notebook 4 reads them
truth_metrics = None if uncertainty is None else {  # no truth maps: no "truth" entry
    "map_accuracy": uncertainty.map_accuracy, "uncertainty": uncertainty.to_dict(),
    "calibration": against_truth.to_dict(),
    "change": change and change.to_dict(), "remedy": remedy and remedy.to_dict()}
write_metrics(output_dir, notebook="03_probabilistic_random_forest", dataset=ds.name,
              cv=f"{headline}: {cv!r}", report=report,
              maps=maps, brier_score=report.summary["brier_score"],
              calibration=calibration.table.to_dict("index"), margin=margin,
              margin_cv_accuracy=cv_scores.to_dict(), truth=truth_metrics)

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Larger leaves give smoother probabilities. Predict first: with
# `min_samples_leaf=10`, will the log loss go up or down, and the accuracy? Then score it on
# the same folds. (Solutions run silently; `solution_1.show()` shows the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
smooth = RandomForestClassifier(n_estimators=100, min_samples_leaf=10, n_jobs=n_jobs,
                                random_state=random_state)
smooth_proba = cross_val_predict(smooth, X, y, cv=cv, method="predict_proba", params=fit_params)
print(compare_on_folds({"leaf 2": proba, "leaf 10": smooth_proba}, y, folds).sentence)
# Accuracy and log loss need not move together: pick the model for the use of the map.

# %% [markdown]
# **Exercise 2.** Predict first: with a margin of 50 points, what happens to the spurious
# and the missed change, and to the true accuracy of the maps? Check with
# `change_against_truth` (simulated data). (`solution_2.show()`)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
change_against_truth(maps, ds, rule=lambda p: keep_unless_beaten(p, 50))

# %% [markdown]
# ## Key points
#
# - A forest's probability is the share of similar training samples in each class; nothing
#   makes it calibrated.
# - Judge a recalibration by every metric on the same folds, and against the truth where it
#   is known: labels have errors of their own.
# - Uncertainty maps show where the map can be trusted; the ROC AUC against errors says how
#   well.
# - Independent yearly maps show change wherever either map errs; a temporal rule tuned by
#   CV trades spurious for missed change.
#
# ## What's next
#
# [Notebook 4](04_ensemble.ipynb) combines different models into an ensemble and measures
# uncertainty as their disagreement. [Notebook 5](05_validation_against_truth.ipynb)
# estimates class areas with confidence intervals.
#
# ## References
#
# - Brier, G. W. (1950). Verification of forecasts expressed in terms of probability.
#   *Monthly Weather Review*, 78, 1-3.
# - Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
#   learning. *ICML 2005*, 625-632.
# - Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. *Machine
#   Learning*, 52, 239-281.
# - Witjes, M. et al. (2022). *PeerJ*, 10, e13573.
