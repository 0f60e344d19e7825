# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Land-cover maps with a Random Forest
#
# Samples (points whose land cover is known) read the Landsat composites of **their own
# survey year**; a Random Forest learns how each class looks through the seasons and maps
# every year. Cross-validation estimates the maps' accuracy; this simulated landscape also
# knows the truth. Notebooks 1-4 re-create the hands-on of the 2021 OpenGeoHub workshop
# *Spatiotemporal machine learning in Python*; 5 and 6 look closer at validation.
#
# ## Learning objectives
#
# 1. overlay samples on the layers of their own survey year;
# 2. measure how often the labels agree with the true class (label noise);
# 3. train a Random Forest with sample weights;
# 4. choose a cross-validation by comparing where it tests with where the map predicts;
# 5. read an accuracy report: overall, users' and producer's accuracy;
# 6. predict maps for every year and put the estimates beside the truth.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | Python, pandas, scikit-learn `fit` / `predict` | necessary | [Getting started](https://scikit-learn.org/stable/getting_started.html) |
# | Raster and vector data, coordinate reference systems | helpful | [rasterio](https://rasterio.readthedocs.io), [GeoPandas](https://geopandas.org) |
# | Decision trees, Random Forests | helpful | [scikit-learn user guide](https://scikit-learn.org/stable/modules/ensemble.html#forest) |
#
# **Time to learn**: about 40 minutes. **Runs** in about a minute on one CPU.

# %% [markdown]
# ## Parameters
#
# `dataset`: `"simulated"` (bundled), `"netherlands"` (real Landsat) or your own folder
# (see `odse_tutorial/datasets.py`). After a change, run again from this cell (or Run All).

# %% tags=["parameters"]
dataset = "simulated"
output_dir = "../outputs/01_random_forest"  # maps, metrics.json and the model go here
n_jobs = None  # cores for the maps; None: all this process may use (mybinder.org: 1)
random_state = 0  # same seed, same numbers, same maps
min_class_samples = 10  # rarer classes cannot be cross-validated

# %% [markdown]
# ## Imports

# %%
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_predict, cross_val_score

# %%
from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset, survey_year
from odse_tutorial.evaluation import (
    accuracy_report,
    beside_truth,
    compare_models,
    label_agreement,
    true_map_accuracy,
    write_metrics,
)
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import block_cv, fold_ids, location_cv, nn_distances, random_cv
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.persistence import save_cv_predictions, save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(message)s")
plotting.use_style()

# %% [markdown]
# ## 1. The data
#
# **Samples** (points with a class and a survey date), **raster layers** per tile (static,
# such as elevation, or per year, such as the summer near-infrared of 2015) and a **class
# table** (codes, names, colours).

# %%
ds = load_dataset(dataset)
print(ds)
ds.summary()

# %% [markdown]
# One tile and year, and the samples surveyed that year (every tile):

# %%
tile, year = ds.tiles[0], ds.years[-1]
layers, cols = ds.layers(tile, year), ds.columns
in_year = ds.samples[survey_year(ds.samples, cols.date) == year]
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
plotting.plot_composite(layers, ax=axes[0])
plotting.plot_samples(in_year, ds.classes, column=cols.class_code, ax=axes[1],
                      title=f"Samples surveyed in {year}")
plt.show()

# %% [markdown]
# ## 2. Space-time overlay: each sample reads its own year
#
# A forest clear-cut in 2010 is shrubland in 2012: a sample surveyed in 2012 must read the
# **2012** composites (static layers: the same every year). The layer names become the
# feature names.

# %%
table, overlay_report = overlay_samples(ds)
print(overlay_report)
table.head()

# %% [markdown]
# Classes with too few samples cannot be cross-validated; a dropped class is never mapped.

# %%
keep, class_counts = drop_rare_classes(table[cols.class_code], min_count=min_class_samples)
table = table[keep]
dropped = class_counts.code[~class_counts.kept].map(ds.classes.name_of).tolist()
print(f"Dropped as too rare (fewer than {min_class_samples} samples): {', '.join(dropped)}."
      if dropped else f"Every class has at least {min_class_samples} samples.")
classes = ds.classes.subset(sorted(table[cols.class_code].unique()))
X, y = table[list(ds.feature_names)], table[cols.class_code]
weights = table[cols.weight] if cols.weight else None  # sample confidence, if any

# %% [markdown]
# ### How good are the labels?
#
# Labels come from surveys and generalised maps, and some are wrong. Simulated data know
# the true class at every point, so we can count how often the label agrees with it:

# %%
labels_vs_truth = label_agreement(ds, table)
labels_vs_truth

# %% [markdown]
# Cross-validation scores against these labels: where a label is wrong, a right
# prediction counts as an error.
#
# ## 3. The model
#
# Many decision trees, each grown on a bootstrap sample with a random subset of features
# at each split, vote. A sample counts by its **weight** (its source's confidence), if any.

# %%
model = RandomForestClassifier(
    n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs, random_state=random_state
)
model

# %% [markdown]
# ## 4. Which cross-validation?
#
# Cross-validation trains on some folds and tests on the one left out. **Random folds**
# put any sample anywhere; **location folds** keep all years of a place together (when the
# data name locations); **blocked folds** keep square blocks of land together. Notebooks
# 2-6 build these same folds with one call, `cv_candidates(ds, table)`.

# %%
cvs = {"random folds": random_cv(5, random_state=random_state)}
if cols.location:
    cvs["location folds"] = location_cv(table, location_column=cols.location,
                                        random_state=random_state)
block_size = ds.cv_block_size or 2000  # metres
cvs["blocked folds"] = block_cv(table, block_size, location_column=cols.location,
                                random_state=random_state)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
for ax, name in zip(axes, ["random folds", "blocked folds"], strict=True):
    plotting.plot_cv_folds(table, cvs[name], X, y=y, ax=ax, title=name)
plt.show()

# %% [markdown]
# A fold tests each sample at some distance from its nearest training sample; the map
# predicts each pixel at some distance from its nearest sample. A CV that tests much
# closer than the map predicts is optimistic, much farther pessimistic (Meyer & Pebesma
# 2022). We keep the CV whose distances are most like the map's: the smallest Wasserstein
# distance `W` between the two distributions, on a log scale (testing at 10 m instead of
# 100 m counts as much as at 1 km instead of 10 km).

# %%
distances = nn_distances(cvs, table, ds, X=X, y=y, random_state=random_state)
plotting.plot_nn_distances(distances)
plt.show()
headline = distances.attrs["closest"]
print(distances.attrs["summary"])
pd.Series(distances.attrs["wasserstein_log"], name="W (log)").round(2)

# %% [markdown]
# The chosen CV is the headline of notebooks 1-4, on the same folds (notebook 5 tests
# the rule against the truth). `cross_val_predict` fits a fresh model on each training
# part and predicts the left-out fold: out-of-fold class probabilities for every sample.

# %%
probas = {name: cross_val_predict(model, X, y, cv=cv, method="predict_proba",
                                  params={"sample_weight": weights})
          for name, cv in cvs.items()}
codes = np.unique(y)  # the probability columns
reports = {name: accuracy_report(y, codes[proba.argmax(axis=1)], proba,
                                 classes=classes, proba_classes=codes)
           for name, proba in probas.items()}
compare_models(reports)[["overall_accuracy", "f1_weighted"]].round(3)

# %% [markdown]
# Same model, same samples: only the folds differ. Section 7 puts each estimate beside
# the truth.

# %% [markdown]
# ### Training polygons: the classic optimistic mistake
#
# Training data are often **polygons** drawn in a GIS. The overlay turns each into the
# pixels whose centres fall inside it: one location, each pixel weighing 1 / its pixels.
# Here: a 90 m square (3 x 3 pixels) around each sample of one year, as if digitised.

# %%
metric = in_year.to_crs(in_year.estimate_utm_crs())  # metres, whatever the samples' CRS
areas = metric.assign(geometry=metric.buffer(45, cap_style="square"))
pixels, _ = overlay_samples(ds, areas)
pixels = pixels[pixels[cols.class_code].isin(codes)]  # the classes kept above
X_px, y_px = pixels[list(ds.feature_names)], pixels[cols.class_code]
w_px = pixels[cols.weight or "weight"]  # the overlay's pixel weights
print(f"{pixels.sample_index.nunique()} training areas, {len(pixels)} pixels")

# %% [markdown]
# The same forest, scored on random pixel folds and on folds that keep each square
# together (`location_cv` on the square's `sample_index`):

# %%
pixel_cvs = {"random pixel folds": random_cv(5, random_state=random_state),
             "polygon folds": location_cv(pixels, location_column="sample_index",
                                          random_state=random_state)}
polygon_cv = {name: cross_val_score(model, X_px, y_px, cv=cv,
                                    params={"sample_weight": w_px}).mean()
              for name, cv in pixel_cvs.items()}
gap = polygon_cv["random pixel folds"] - polygon_cv["polygon folds"]
print(f"Accuracy on random pixel folds {polygon_cv['random pixel folds']:.3f}, on polygon "
      f"folds {polygon_cv['polygon folds']:.3f} (random minus polygon folds: {gap:+.3f}).")

# %% [markdown]
# A square's pixels are near-copies of each other. Random folds test pixels whose
# neighbours from the same square were in training: they measure how well the forest
# recognises its training areas, not new places. With polygons, keep each polygon in one
# fold (`location_cv`, `block_cv` and `tile_cv` all do, since each polygon is one location).

# %% [markdown]
# ## 5. The accuracy report
#
# - **overall accuracy**: the share of samples classified correctly;
# - **users' accuracy** (= precision) of a class: of the samples *mapped* as that class,
#   the share that are; the map user's view;
# - **producer's accuracy** (= recall): of the samples that *are* that class, the share
#   mapped as such; the producer's view;
# - **F1**: the harmonic mean of the two.
#
# The report also lists **kappa**, for comparison with older studies; we do not use it
# (Pontius & Millones 2011).

# %%
report = reports[headline]
report

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
plotting.plot_confusion_matrix(report, ax=axes[0], title=f"Confusion matrix ({headline})")
plotting.plot_per_class_accuracy(report, ax=axes[1])
plt.show()

# %% [markdown]
# ## 6. Maps for every year
#
# The map's model is trained on **all** samples; CV only estimated how good it is.
# `predict_maps` works window by window (small memory) and writes Cloud-Optimized GeoTIFFs:
# a probability per class, the dominant class and its probability; nodata stays nodata.

# %%
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, Path(output_dir) / "maps", classes=classes, n_jobs=n_jobs)
plotting.plot_maps(maps, truth=ds, classes=classes)
plt.show()

# %% [markdown]
# Move the slider through the years, pick a tile and a product:

# %%
map_explorer(maps, classes, truth=ds)

# %% [markdown]
# ## 7. The estimates beside the truth
#
# Simulated data know the true class of every pixel: each CV estimate beside the maps'
# true accuracy over every tile and year.

# %%
true_accuracy = true_map_accuracy(maps, ds)
estimates = {name: r.summary["overall_accuracy"] for name, r in reports.items()}
truth_table = beside_truth(estimates, true_accuracy)  # None without truth maps
print(truth_table.attrs["sentence"] if truth_table is not None else "")
truth_table

# %% [markdown]
# `error` = estimate - truth (negative: pessimistic). What separates a CV estimate from
# the truth: wrong labels (section 2), folds that test nearer or farther than the map
# predicts (section 4), and samples whose classes and places are not spread like the
# map's pixels. Notebook 5 takes these apart.
#
# ## 8. Save the results
#
# The model, the headline CV's out-of-fold predictions (for notebook 4) and `metrics.json`.

# %%
save_model(Path(output_dir) / "model.joblib", model, classes=classes,
           feature_names=list(X.columns))
save_cv_predictions(output_dir, probas[headline], y, fold_ids(cvs[headline], X, y),
                    classes=codes)
metrics_file = write_metrics(
    output_dir, notebook="01_random_forest", dataset=ds.name, report=report, maps=maps,
    cv=f"{headline}: {cvs[headline]!r}", headline_cv=headline, cv_estimates=estimates,
    polygon_cv=polygon_cv, cv_n_trees=model.n_estimators,
    nn_distances={k: distances.attrs[k] for k in ("median_m", "wasserstein_m", "wasserstein_log")},
    **({"truth": {"map_accuracy": true_accuracy, "cv_estimates": estimates,
                  "label_agreement": labels_vs_truth.loc["all", "agree"]}}
       if true_accuracy is not None else {}),
)

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Predict first: with blocks twice as large, will the blocked-CV estimate
# go up or down? Will its test distances move closer to the map's or farther? Then try it.
# (Solutions run silently on "Run All"; `solution_1.show()` shows the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
large = {"blocked folds, 2x blocks": block_cv(table, 2 * block_size, random_state=random_state,
                                              location_column=cols.location)}
print(nn_distances(large, table, ds, X=X, y=y, random_state=random_state).attrs["summary"])
y_pred = cross_val_predict(model, X, y, cv=large["blocked folds, 2x blocks"],
                           params={"sample_weight": weights})
estimates["blocked folds, 2x blocks"] = (y_pred == y).mean()
beside_truth(estimates, true_accuracy)
# Larger blocks test farther from the training data: usually a lower estimate, and
# farther from the map's distances when the samples cover the mapped area.

# %% [markdown]
# **Exercise 2.** Guess first: which layers (bands, seasons, terrain) will the forest rely
# on most? Then plot the 10 most important features (`model.feature_importances_`;
# `solution_2.show()`).

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
plotting.plot_feature_importance(model.feature_importances_, list(X.columns), top=10)
plt.show()
# Impurity importances favour features with many distinct values and split importance
# among correlated features; sklearn.inspection.permutation_importance is more reliable.

# %% [markdown]
# ## Key points
#
# - A space-time sample reads the layers of **its own survey year**; static layers are the
#   same every year.
# - Labels have errors; cross-validation scores against them, the truth does not.
# - Choose the cross-validation whose test-to-training distances resemble the map's
#   prediction-to-training distances; random, location and blocked folds can give quite
#   different estimates.
# - Users' accuracy = precision, producer's accuracy = recall.
# - The map's model is trained on all samples; CV only estimates its accuracy.
#
# ## What's next
#
# [Notebook 2](02_tuned_random_forest.ipynb) tunes the forest's hyperparameters on the
# same folds, without fooling itself: tuning **inside** the cross-validation.
#
# ## References
#
# - Breiman, L. (2001). Random forests. *Machine Learning*, 45, 5-32.
# - Meyer, H. & Pebesma, E. (2022). Machine learning-based global maps of ecological
#   variables and the challenge of assessing them. *Nature Communications*, 13, 2208.
# - Pontius, R. G. & Millones, M. (2011). Death to Kappa. *International Journal of Remote
#   Sensing*, 32, 4407-4429.
# - Roberts, D. R. et al. (2017). Cross-validation strategies for data with temporal,
#   spatial, hierarchical, or phylogenetic structure. *Ecography*, 40, 913-929.
# - Witjes, M. et al. (2022). A spatiotemporal ensemble machine learning framework for
#   generating land use/land cover time-series maps for Europe. *PeerJ*, 10, e13573.
