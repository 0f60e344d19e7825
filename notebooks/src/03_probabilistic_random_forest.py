# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Class probabilities: scoring them, trusting them, mapping them
#
# A land-cover map that says "pasture" hides how sure the model was. A Random Forest also
# gives a **probability** for every class, and these probabilities are worth mapping: they
# show where the map is reliable, and they add up to better area estimates than hard
# classes. But are they good probabilities? A probability of 0.8 should be right 8 times
# out of 10. This notebook scores probabilities (log loss, Brier score), checks them with
# a reliability diagram, calibrates them, and maps them.
#
# ## Learning objectives
#
# 1. explain what a Random Forest's class probabilities are;
# 2. score probabilities with log loss and the Brier score, and per class with average
#    precision;
# 3. read a reliability (calibration) diagram, and calibrate a classifier;
# 4. map per-class probabilities, the dominant class's probability and an uncertainty;
# 5. check, with the simulated truth, that uncertain pixels are where the errors are.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 1](01_random_forest.ipynb) | necessary | data, blocked CV, maps |
# | [Notebook 2](02_tuned_random_forest.ipynb) | helpful | nested cross-validation |
# | Probability, logarithms | helpful | |
#
# **Time to learn**: about 40 minutes. **Runs** in about a minute on one CPU.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/03_probabilistic_random_forest"
n_jobs = 1
random_state = 0
min_class_samples = 10

# %% [markdown]
# ## Imports

# %%
import logging
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_predict

from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset
from odse_tutorial.evaluation import accuracy_report, compare_models, write_metrics
from odse_tutorial.model_selection import block_cv
from odse_tutorial.overlay import training_data
from odse_tutorial.persistence import save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data, as in notebook 1

# %%
ds = load_dataset(dataset)
for note in ds.notes:
    print("Note:", note)
data = training_data(ds, min_class_samples=min_class_samples)
X, y, weights, classes = data.X, data.y, data.weights, data.classes
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features")
block_size = ds.cv_block_size or 2000
cv = block_cv(data.table, block_size=block_size, n_splits=5, random_state=random_state,
              location_column=ds.columns.location)

# %% [markdown]
# ## 2. What a forest's probabilities are
#
# Each tree of the forest ends in leaves that hold training samples; a tree's
# "probability" of a class is that class's (weighted) share in the leaf where a sample
# lands, and the forest averages its trees. So a probability of 0.7 for pasture means: on
# average, 70 % of similar training samples were pasture. Nothing guarantees that such
# pixels are pasture 70 % of the time: that is what **calibration** checks.

# %%
model = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs,
                               random_state=random_state)
start = time.perf_counter()
forest_proba = cross_val_predict(model, X, y, cv=cv, method="predict_proba",
                                 params={"sample_weight": weights})
forest_seconds = time.perf_counter() - start
codes = np.unique(y)  # the columns of the probabilities
proba = pd.DataFrame(forest_proba, columns=codes, index=X.index)
print("out-of-fold probabilities of the first samples (rows sum to 1):")
proba.head().round(2)

# %% [markdown]
# ## 3. Scoring probabilities
#
# - **Log loss**: the average of −log(probability given to the true class). A confident
#   mistake (probability 0.01 for the truth) costs 4.6, a hesitant one (0.4) costs 0.9, a
#   confident hit (0.99) costs 0.01. Lower is better; 0 is perfect.
# - **Brier score**: the squared distance between the probability vector and the truth
#   (1 for the true class, 0 for the others), summed over classes, averaged over samples.
#   Between 0 (perfect) and 2.
# - **Average precision** per class: the area under the precision-recall curve when the
#   class's probability is used to rank samples; high when the class's samples get the
#   highest probabilities.
#
# A useful yardstick: a model that knows nothing but the class frequencies.

# %%
report = accuracy_report(y, codes[forest_proba.argmax(axis=1)], forest_proba, classes=classes,
                         proba_classes=codes)
frequencies = y.value_counts(normalize=True).reindex(codes).to_numpy()
baseline_proba = np.tile(frequencies, (len(y), 1))
baseline = accuracy_report(y, np.full(len(y), y.mode()[0]), baseline_proba, classes=classes,
                           proba_classes=codes)
compare_models({"class frequencies only": baseline, "Random Forest": report})[
    ["overall_accuracy", "log_loss", "brier_score", "mean_average_precision"]
].round(3)

# %%
report.per_class[["code", "name", "support", "users_accuracy", "producers_accuracy",
                  "average_precision", "log_loss"]].round(3)

# %% [markdown]
# The per-class log loss shows which classes the forest is confidently wrong about: rare
# classes and classes that look like others.
#
# ## 4. Can the probabilities be trusted? The reliability diagram
#
# Group the samples by the probability the model gave to its predicted class (0.3-0.4,
# 0.4-0.5, ...) and compare with how often the prediction was right in each group. A
# calibrated model lies on the diagonal. The expected calibration error (ECE) is the
# average gap, weighted by the number of samples in each bin.

# %%
plotting.plot_reliability_diagram(y, forest_proba, codes, title="Random Forest, out-of-fold")
plt.show()

# %% [markdown]
# Random Forests tend to be **under-confident** at high probabilities: averaging many trees
# pulls probabilities towards the middle. `CalibratedClassifierCV` learns a correction
# (here isotonic regression, a monotone mapping) from folds the forest was not fitted on.
# We calibrate on blocked inner folds and score on the same outer folds as before.

# %%
inner_cv = block_cv(data.table, block_size=block_size, n_splits=3, random_state=random_state + 1,
                    location_column=ds.columns.location)
calibrated = CalibratedClassifierCV(model, method="isotonic", cv=inner_cv)
start = time.perf_counter()
calibrated_proba = cross_val_predict(calibrated, X, y, cv=cv, method="predict_proba",
                                     params={"sample_weight": weights})
calibrated_seconds = time.perf_counter() - start
calibrated_report = accuracy_report(y, codes[calibrated_proba.argmax(axis=1)], calibrated_proba,
                                    classes=classes, proba_classes=codes)

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
plotting.plot_reliability_diagram(y, forest_proba, codes, ax=axes[0], title="Random Forest")
plotting.plot_reliability_diagram(y, calibrated_proba, codes, ax=axes[1],
                                  title="Random Forest, calibrated (isotonic)")
plt.show()
comparison = compare_models({"Random Forest": report, "calibrated": calibrated_report},
                            extra={"Random Forest": {"cv_seconds": forest_seconds},
                                   "calibrated": {"cv_seconds": calibrated_seconds}})
comparison[["overall_accuracy", "log_loss", "brier_score", "cv_seconds"]].round(3)

# %% [markdown]
# Whether calibration helps depends on the data: check the log loss and the diagram on the
# identical outer folds, and keep the simpler model if the gain is small. We map with the
# forest itself below.
#
# ## 5. Mapping probabilities
#
# `predict_maps` writes one probability layer per class (integer percent, summing to
# exactly 100 in every pixel), the dominant class, its probability, and an uncertainty
# layer: the normalized entropy of the probabilities, 0 % when one class has all the
# probability, 100 % when all classes are equally likely.

# %%
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, output_dir / "maps", classes=classes, n_jobs=n_jobs)
tile, year = ds.tiles[0], ds.years[-1]
common = y.value_counts().index[0]  # the most common class

fig, axes = plt.subplots(2, 2, figsize=(12, 10))
plotting.plot_class_map(maps.path(tile, year, "dominant_class"), classes, ax=axes[0, 0],
                        title=f"Dominant class, {year}")
plotting.plot_probability_map(maps.path(tile, year, "dominant_probability"), ax=axes[0, 1],
                              title="Probability of the dominant class")
plotting.plot_probability_map(maps.path(tile, year, "probability", common), ax=axes[1, 0],
                              title=f"Probability of {classes.name_of(common)}")
plotting.plot_uncertainty_map(maps.path(tile, year, "uncertainty"), ax=axes[1, 1],
                              title="Uncertainty (normalized entropy)")
plt.show()

# %% [markdown]
# Boundaries between patches, mixed pixels, and classes that look alike get low
# probabilities and high uncertainty. The dominant class of every year, and what changed
# between the first and the last year:

# %%
dominant = {(t, y_): maps.path(t, y_, "dominant_class") for t in ds.tiles for y_ in ds.years}
plotting.plot_class_maps({y_: dominant[(tile, y_)] for y_ in ds.years}, classes,
                         suptitle=f"Dominant class, tile {tile}")
plt.show()
plotting.plot_change(dominant[(tile, ds.years[0])], dominant[(tile, year)], classes,
                     title=f"Land-cover change {ds.years[0]}-{year}, tile {tile}")
plt.show()
#
# ## 6. Is the model unsure where it is wrong?
#
# Only simulated data can answer this for every pixel: we know the true land cover. If the
# uncertainty is useful, the error rate should climb with it.

# %%
if ds.has_truth:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    plotting.plot_uncertainty_vs_error(maps.path(tile, year, "uncertainty"),
                                       maps.path(tile, year, "dominant_class"),
                                       ds.truth(tile, year), ax=axes[0])
    plotting.plot_error_map(maps.path(tile, year, "dominant_class"), ds.truth(tile, year),
                            ax=axes[1])
    plt.show()
else:
    print("This dataset has no truth maps: the uncertainty cannot be checked pixel by pixel.")

# %% [markdown]
# ## 7. Areas from probabilities
#
# How much land is pasture? Counting pixels of the dominant class gives the **hard** area;
# summing the probabilities gives a **soft** area, in which a pixel that is 60 % pasture
# adds 0.6 of a pixel. Classes that are often second choice are under-counted by the hard
# map. With the truth we can see which estimate is closer.

# %%
def class_areas(tile, year):
    """Hard, soft (and true) area of every class in one tile and year, in hectares."""
    with rasterio.open(maps.path(tile, year, "dominant_class")) as src:
        dominant = src.read(1, masked=True)
        pixel_ha = abs(src.transform.a * src.transform.e) / 1e4
    valid = ~np.ma.getmaskarray(dominant)
    truth = None
    if ds.has_truth:
        with rasterio.open(ds.truth(tile, year)) as src:
            truth = src.read(1, masked=True)
    rows = []
    for code in classes.codes:
        with rasterio.open(maps.path(tile, year, "probability", code)) as src:
            probability = src.read(1, masked=True)
        row = {"code": code, "name": classes.name_of(code),
               "hard (ha)": (dominant == code).sum() * pixel_ha,
               "soft (ha)": probability.sum() / 100 * pixel_ha}
        if truth is not None:
            row["true (ha)"] = ((truth == code) & valid).sum() * pixel_ha
        rows.append(row)
    return pd.DataFrame(rows).set_index("code")


areas = class_areas(tile, year)
if ds.has_truth:
    areas["hard error (ha)"] = areas["hard (ha)"] - areas["true (ha)"]
    areas["soft error (ha)"] = areas["soft (ha)"] - areas["true (ha)"]
    print("mean absolute error (ha): hard", areas["hard error (ha)"].abs().mean().round(1),
          "soft", areas["soft error (ha)"].abs().mean().round(1))
areas.round(1)

# %% [markdown]
# Neither estimate is unbiased: both inherit the model's errors. The unbiased way to
# estimate areas from a map uses a probability sample of reference points and the error
# matrix (Olofsson et al. 2014; `odse_tutorial.evaluation.area_adjusted_accuracy`).

# %%
map_explorer(maps, classes, truth=ds if ds.has_truth else None)

# %% [markdown]
# ## 8. Save the results

# %%
save_model(output_dir / "model.joblib", model, classes=classes, feature_names=list(X.columns))
fold = np.zeros(len(X), dtype=int)
for k, (_, test) in enumerate(cv.split(X)):
    fold[test] = k
cv_predictions = {"fold": fold, "y_true": y, "y_pred": codes[forest_proba.argmax(axis=1)]}
cv_predictions.update({f"proba_{code}": forest_proba[:, j] for j, code in enumerate(codes)})
pd.DataFrame(cv_predictions, index=X.index).to_csv(output_dir / "cv_predictions.csv")
write_metrics(
    output_dir,
    notebook="03_probabilistic_random_forest",
    dataset=ds.name,
    cv=f"{cv!r}: 5 folds of {block_size:g} m blocks, locations kept together",
    report=report,
    maps=maps,
    brier_score=report.summary["brier_score"],
    calibrated_log_loss=calibrated_report.summary["log_loss"],
)
print((output_dir / "metrics.json").read_text())

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Larger leaves give smoother probabilities. Score a forest with
# `min_samples_leaf=10` on the same folds: what happens to the log loss and to the overall
# accuracy?

# %% tags=["solution"] jupyter={"source_hidden": true}
# Solution
smooth = RandomForestClassifier(n_estimators=100, min_samples_leaf=10, n_jobs=n_jobs,
                                random_state=random_state)
smooth_proba = cross_val_predict(smooth, X, y, cv=cv, method="predict_proba",
                                 params={"sample_weight": weights})
smooth_report = accuracy_report(y, codes[smooth_proba.argmax(axis=1)], smooth_proba,
                                classes=classes, proba_classes=codes)
compare_models({"min_samples_leaf=2": report, "min_samples_leaf=10": smooth_report})[
    ["overall_accuracy", "log_loss", "brier_score"]
].round(3)
# Accuracy and log loss need not move together: pick the model for the use of the map.

# %% [markdown]
# **Exercise 2.** Which class has the worst per-class log loss, and which class does the
# model confuse it with? (Hint: `report.per_class` and the confusion matrix.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Solution
worst = report.per_class.sort_values("log_loss").iloc[-1]
row = report.confusion.loc[[label for label in report.confusion.index
                            if label.startswith(f"{worst['code']} ")][0]]
print(f"worst: {worst['code']} {worst['name']} (log loss {worst['log_loss']:.2f})")
print("most often mapped as:", row.drop(row.index[row.index.str.startswith(f"{worst['code']} ")])
      .idxmax())

# %% [markdown]
# ## Key points
#
# - A forest's probability is the share of similar training samples in each class; it is
#   not automatically calibrated.
# - Log loss punishes confident mistakes; the Brier score is a bounded alternative; both
#   need a baseline (class frequencies) to be read.
# - A reliability diagram shows whether "70 %" means right 70 % of the time;
#   `CalibratedClassifierCV` corrects it with folds the model was not fitted on.
# - Probability and uncertainty maps show where the map can be trusted; on simulated data
#   we can check that errors concentrate where uncertainty is high.
#
# ## What's next
#
# [Notebook 4](04_ensemble.ipynb) combines several different models into an ensemble, and
# measures uncertainty as their disagreement.
#
# ## References
#
# - Brier, G. W. (1950). Verification of forecasts expressed in terms of probability.
#   *Monthly Weather Review*, 78, 1-3.
# - Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities with supervised
#   learning. *ICML 2005*, 625-632.
# - Olofsson, P. et al. (2014). Good practices for estimating area and assessing accuracy of
#   land change. *Remote Sensing of Environment*, 148, 42-57.
# - Witjes, M. et al. (2022). *PeerJ*, 10, e13573.
