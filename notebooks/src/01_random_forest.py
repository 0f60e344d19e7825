# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Land-cover maps with a Random Forest
#
# We map land cover for several years at once from Landsat seasonal composites and
# terrain. Samples (points whose land cover is known) are overlaid on the rasters of
# **their own survey year**, a Random Forest learns how each class looks through the
# seasons, and the trained model paints a map for every year. Before trusting the maps,
# we estimate how accurate they are with **cross-validation**, in two ways (random and
# spatially blocked folds), and, because this landscape is simulated, we check both
# estimates against the true accuracy of the maps.
#
# This is the first of six notebooks. Notebooks 1-4 re-create the hands-on of the 2021
# Open Data Science Europe workshop *Spatiotemporal machine learning in Python*; notebooks
# 5 and 6 look closer at validation and at where a model can be trusted.
#
# ## Learning objectives
#
# After this notebook you can
#
# 1. describe a space-time dataset: samples with a survey date, static and per-year layers;
# 2. overlay samples on the layers of their own year and explain why that matters;
# 3. train a scikit-learn Random Forest on land-cover samples, with sample weights;
# 4. cross-validate with random and with spatially blocked folds, and compare both
#    estimates with the truth;
# 5. read an accuracy report in the field's words: overall, users' and producer's accuracy;
# 6. predict land-cover maps for every year and measure how much land cover they show
#    changing (against the truth, where it is known).
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | Python, pandas, NumPy | necessary | indexing, data frames |
# | scikit-learn `fit` / `predict` | necessary | [Getting started](https://scikit-learn.org/stable/getting_started.html) |
# | Raster and vector data, coordinate reference systems | helpful | [rasterio](https://rasterio.readthedocs.io), [GeoPandas](https://geopandas.org) |
# | Decision trees, Random Forests | helpful | [scikit-learn user guide](https://scikit-learn.org/stable/modules/ensemble.html#forest) |
#
# **Time to learn**: about 40 minutes. **Runs** in about a minute on one CPU.

# %% [markdown]
# ## Parameters
#
# Change these to use your own data (a folder laid out as described in
# `odse_tutorial/datasets.py`) or the real Netherlands Landsat dataset.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/01_random_forest"  # maps, metrics.json and the model go here
n_jobs = 1  # CPU cores for training and prediction (mybinder.org has 1)
random_state = 0  # fixes every random choice: same run, same numbers, same maps
min_class_samples = 10  # classes with fewer samples cannot be cross-validated
composite = None  # layers shown as red, green, blue (or one layer, greyscale) in the
# first figure; None: short-wave infrared, near infrared and red if they exist

# %% [markdown]
# ## Imports

# %%
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_predict

from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset, survey_year
from odse_tutorial.evaluation import (
    accuracy_report,
    change_matrix,
    compare_models,
    map_accuracy,
    write_metrics,
)
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import block_cv, fold_overlap, random_cv
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.persistence import save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data
#
# A dataset has three parts: **samples** (points with a land-cover class and a survey
# date), **raster layers** per tile (static layers such as elevation, valid in every year,
# and per-year layers such as the summer near-infrared composite of 2015), and a **class
# table** (codes, names, colours).

# %%
ds = load_dataset(dataset)
print(ds)
print(ds.description)
for note in ds.notes:
    print("Note:", note)
cols = ds.columns
samples = ds.samples
samples.head()

# %% [markdown]
# How many samples per tile and year, and per class? Land-cover samples are rarely
# balanced over years and classes, and that matters for validation.

# %%
counts = samples[cols.class_code].value_counts()
print(f"{len(samples)} samples in {len(ds.years)} year(s) and {len(ds.tiles)} tile(s); the most "
      f"common class ({counts.index[0]}) has {counts.iloc[0] / counts.iloc[-1]:.0f} times as "
      f"many samples as the rarest ({counts.index[-1]}).")
ds.summary()

# %% [markdown]
# The layer names (in the bundled data, bands and seasons such as `nir_summer`) are the
# feature names of the model. Here is a view of one year with the samples of that year on
# top: a false-colour composite (short-wave infrared, near infrared and red as red, green
# and blue: vegetation green, bare soil and built-up land pink or brown, water dark) where
# those layers exist, otherwise one layer in grey (the `composite` parameter chooses).

# %%
tile, year = ds.tiles[0], ds.years[-1]
layers = ds.layers(tile, year)
print(f"Layers of tile {tile}, {year}:", ", ".join(layers))
if composite is None:  # swir1/nir/red of the summer (or any) season, else one layer in grey
    suffixes = ["_summer", *sorted({"_" + n.rsplit("_", 1)[1] for n in layers if "_" in n}), ""]
    candidates = [[f"{band}{s}" for band in ("swir1", "nir", "red")] for s in suffixes]
    composite = next((c for c in candidates if all(n in layers for n in c)),
                     [next((n for n in layers if n.endswith("_summer")), next(iter(layers)))])
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
plotting.plot_composite(layers, bands=list(composite), season=None, ax=axes[0],
                        title=f"Tile {tile}, {year}: {' / '.join(composite)}")
in_view = samples[survey_year(samples, cols.date) == year]
if cols.tile:
    in_view = in_view[in_view[cols.tile] == tile]
plotting.plot_samples(in_view, ds.classes, column=cols.class_code, ax=axes[1],
                      title=f"Samples surveyed in {year}")
plt.show()

# %% [markdown]
# ## 2. Space-time overlay: each sample reads its own year
#
# Land cover changes: a forest clear-cut in 2010 is shrubland in 2012. A sample surveyed
# in 2012 must therefore be described by the **2012** composites, and static layers
# (elevation, slope) by the same values in every year. `overlay_samples` does exactly this
# and reports the samples it could not use (outside every tile, or on a cloud gap).

# %%
table, overlay_report = overlay_samples(ds)
if table.crs.is_geographic:  # block sizes (section 4) are in metres: project
    table = table.to_crs(table.estimate_utm_crs())
print(overlay_report)
features = list(ds.feature_names)
print(f"{len(features)} features:", ", ".join(features[:6]), "...")
table[[cols.class_code, "year", *features[:4], features[-1]]].head()

# %% [markdown]
# Classes with very few samples cannot be cross-validated (some folds would have none
# of them). We drop them, and say so: a dropped class cannot be mapped.

# %%
keep, class_counts = drop_rare_classes(table[cols.class_code], min_count=min_class_samples)
table = table[keep]
display(class_counts)
dropped = [f"{c} {ds.classes.name_of(c)}" if ds.classes.name_of(c) != str(c) else str(c)
           for c in class_counts.code[~class_counts.kept]]
if dropped:
    them = "this class" if len(dropped) == 1 else "these classes"
    print(f"Dropped as too rare (fewer than {min_class_samples} samples): {', '.join(dropped)}. "
          f"The model never learns {them}, so the maps cannot show {them}: "
          f"{'its' if len(dropped) == 1 else 'their'} pixels are mapped as whichever kept class "
          "they resemble most.")
else:
    print(f"Every class has at least {min_class_samples} samples: none is dropped.")
classes = ds.classes.subset(sorted(table[cols.class_code].unique()))

X = table[features]
y = table[cols.class_code]
weights = table[cols.weight] if cols.weight else None
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features; "
      + (f"weights from the column {cols.weight!r}." if cols.weight else
         "no weight column: every sample counts alike."))

# %% [markdown]
# ## 3. The model
#
# A Random Forest: many decision trees, each grown on a bootstrap sample of the training
# data and a random subset of features at each split; the forest votes. It needs little
# tuning and copes with correlated features, which is why it is the workhorse of
# land-cover mapping. Where the samples have a **weight** column, each sample counts by
# its weight, its confidence (in the bundled data, field-survey points count more than
# points read from a generalised map); without one, every sample counts alike.

# %%
model = RandomForestClassifier(
    n_estimators=100,
    min_samples_leaf=2,
    n_jobs=n_jobs,
    random_state=random_state,
)
model

# %% [markdown]
# ## 4. Validation: random versus spatially blocked folds
#
# Cross-validation trains on some folds and tests on the one left out. With **random
# folds**, a location surveyed in 2012 can be in the training folds while the same location
# surveyed in 2015 is in the test fold, and neighbouring points look alike (spatial
# autocorrelation): the test points are very close to training data.
#
# **Blocked folds** put whole square blocks of land in one fold, so that every test point
# is far from the training points, and all surveys of a location sit in the same fold.
# Which one tells the truth depends on how far from the training data the *map* predicts
# (notebook 5 measures it); here we simply compare both with the truth.

# %%
block_size = ds.cv_block_size or 2000
cv_blocked = block_cv(table, block_size=block_size, n_splits=5, random_state=random_state,
                      location_column=cols.location)
cv_random = random_cv(n_splits=5, random_state=random_state)

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
plotting.plot_cv_folds(table, cv_random, X, y=y, ax=axes[0], title="Random folds")
plotting.plot_cv_folds(table, cv_blocked, X, ax=axes[1],
                       title=f"Blocked folds ({block_size / 1000:g} km blocks)")
plt.show()

if cols.location:
    print("Locations in both a training and a test fold:")
    print("  random folds :", fold_overlap(cv_random, X, table[cols.location], y=y))
    print("  blocked folds:", fold_overlap(cv_blocked, X, table[cols.location]))

# %% [markdown]
# Now the same model, validated both ways. scikit-learn's `cross_val_predict` fits a fresh
# copy of the model on each training part and predicts the left-out fold, so every sample
# gets an out-of-fold prediction; with `method="predict_proba"` it returns the class
# probabilities, one column per class code in sorted order.

# %%
codes = np.unique(y)  # the columns of the probabilities
probas = {}
for name, cv in [("random folds", cv_random), ("blocked folds", cv_blocked)]:
    probas[name] = cross_val_predict(model, X, y, cv=cv, method="predict_proba",
                                     params={"sample_weight": weights})
reports = {
    name: accuracy_report(y, codes[proba.argmax(axis=1)], proba, classes=classes,
                          proba_classes=codes)
    for name, proba in probas.items()
}
cv_table = compare_models(reports)[["overall_accuracy", "f1_weighted"]]
gap = cv_table.loc["random folds", "overall_accuracy"] - cv_table.loc["blocked folds", "overall_accuracy"]
print("Random folds estimate " + (f"an overall accuracy {abs(gap):.3f} "
      f"{'higher' if gap > 0 else 'lower'} than" if round(gap, 3) else "the same overall "
      "accuracy as") + " blocked folds." + (" Section 7 checks both against the true accuracy "
      "of the maps." if ds.has_truth else ""))
if round(gap, 3):
    print(f"Here the {'blocked' if gap > 0 else 'random'} estimate is the lower of the two.")
cv_table.round(3)

# %% [markdown]
# We keep the **blocked** estimate as the headline of notebooks 1-4, on the same folds in
# every notebook. It is not always the conservative one: notebook 5 compares both with the
# truth on two sample designs. The line above says which estimate is lower here, and
# section 7 checks both against the truth.
#
# ## 5. The accuracy report
#
# In the field's words:
#
# - **overall accuracy**: the share of samples classified correctly;
# - **users' accuracy** of a class (= precision): of the samples *mapped* as that class,
#   the share that really are; what a map user cares about;
# - **producer's accuracy** (= recall): of the samples that really *are* that class, the
#   share mapped as such; what the map producer cares about;
# - **F1**: the harmonic mean of users' and producer's accuracy.
#
# We do not use **kappa**: it compares the map with a random allocation that no map
# maker would consider, depends on the class proportions, and adds nothing that overall,
# users' and producer's accuracy do not tell more plainly (Pontius & Millones 2011;
# Olofsson et al. 2014 advise against it). The report below still lists it, for comparison
# with older studies; we do not read it.

# %%
report = reports["blocked folds"]
report

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
plotting.plot_confusion_matrix(report, ax=axes[0], title="Confusion matrix (blocked CV)")
plotting.plot_per_class_accuracy(report, ax=axes[1])
plt.show()

# %% [markdown]
# Which classes get confused? Look along a row: the samples of one reference class and
# where the model put them. The pairs confused most often:

# %%
confusion = report.confusion_table(totals=False)
pairs = confusion.where(~np.eye(len(confusion), dtype=bool)).stack().sort_values(ascending=False)
pairs = pairs[pairs > 0]
if pairs.empty:
    print("No class was confused with another in the blocked cross-validation.")
pairs.head(4).astype(int).rename("samples").rename_axis(["reference", "mapped as"]).to_frame()

# %% [markdown]
# ## 6. Maps for every year
#
# The model we map with is trained on **all** samples (cross-validation only measured how
# good such a model is). `predict_maps` reads the layers of each tile and year window by
# window, so memory stays small whatever the size of the rasters, and writes
# Cloud-Optimized GeoTIFFs: one probability layer per class, the dominant class and its
# probability. Nodata pixels (cloud gaps, outside the study area) stay nodata.

# %%
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, output_dir / "maps", classes=classes, n_jobs=n_jobs)
maps.path(ds.tiles[0], ds.years[-1], "dominant_class")  # maps.path(tile, year, product)

# %%
dominant = {(t, y_): maps.path(t, y_, "dominant_class") for t in ds.tiles for y_ in ds.years}
tile, year = ds.tiles[0], ds.years[-1]
if ds.has_truth:  # the map beside where it differs from the truth
    fig, axes = plt.subplots(1, 2, figsize=(16, 5.5))
    plotting.plot_class_map(dominant[(tile, year)], classes, ax=axes[0])
    plotting.plot_error_map(dominant[(tile, year)], ds.truth(tile, year), ax=axes[1])
else:
    plotting.plot_class_map(dominant[(tile, year)], classes)
plt.show()

# %%
if len(ds.years) < 2:
    print(f"Only one year ({ds.years[0]}) in this dataset: there is no land-cover change to look at.")
else:
    first, last = ds.years[0], ds.years[-1]

    def changed_share(before, after):
        """The share of pixels whose class differs between two class maps."""
        table_ = change_matrix(before, after, unit="pixels")
        return 1 - np.trace(table_.to_numpy()) / table_.to_numpy().sum()

    mapped = changed_share(dominant[(tile, first)], dominant[(tile, last)])
    print(f"Tile {tile}: the maps show {mapped:.1%} of the pixels in another class in {last} "
          f"than in {first}" + (f"; the truth maps, {changed_share(ds.truth(tile, first), ds.truth(tile, last)):.1%}."
                                if ds.has_truth else " (no truth maps to compare with)."))

# %% [markdown]
# Every year is mapped with the same model, so maps of two years can be compared. But
# each map's errors also look like change: where the truth is known, compare the two shares
# above; notebook 3 measures how much of the mapped change is real.
#
# ### Explore the maps
#
# Move the slider through the years and pick a tile and a product.

# %%
map_explorer(maps, classes, truth=ds if ds.has_truth else None)

# %% [markdown]
# ## 7. Save the results
#
# The model is saved with its class table and feature names, so that it can predict maps
# again later; `metrics.json` keeps the headline numbers; the out-of-fold predictions are
# kept for the comparison in notebook 4.

# %%
save_model(output_dir / "model.joblib", model, classes=classes, feature_names=features)
proba = probas["blocked folds"]
fold = np.zeros(len(X), dtype=int)
for k, (_, test) in enumerate(cv_blocked.split(X)):
    fold[test] = k
cv_predictions = {"fold": fold, "y_true": y, "y_pred": codes[proba.argmax(axis=1)]}
cv_predictions.update({f"proba_{code}": proba[:, j] for j, code in enumerate(codes)})
pd.DataFrame(cv_predictions, index=X.index).to_csv(output_dir / "cv_predictions.csv")
extra = {"overall_accuracy_random_cv": reports["random folds"].summary["overall_accuracy"]}
if ds.has_truth:
    truth_report = map_accuracy(
        [dominant[(t, y_)] for t in ds.tiles for y_ in ds.years],
        [ds.truth(t, y_) for t in ds.tiles for y_ in ds.years],
        classes=ds.classes,
    )
    extra["truth"] = {"map_accuracy": truth_report.summary["overall_accuracy"]}
write_metrics(
    output_dir,
    notebook="01_random_forest",
    dataset=ds.name,
    cv=f"{cv_blocked!r}: 5 folds of {block_size:g} m blocks, locations kept together",
    report=report,
    maps=maps,
    **extra,
)
print(f"Saved the model, {len(maps.paths())} map files and metrics.json in {output_dir}")

# %% [markdown]
# ### The estimates beside the truth
#
# Real data stop here. Simulated data know the true class of every pixel: where truth
# maps exist, the maps we just wrote are compared with them, pixel by pixel, over every
# tile and year.

# %%
if ds.has_truth:
    true_oa = extra["truth"]["map_accuracy"]
    beside = pd.DataFrame({"CV estimate": cv_table["overall_accuracy"]})
    beside["true map accuracy"] = true_oa
    beside["estimate - truth"] = beside["CV estimate"] - true_oa
    display(beside.round(3))
    errors = beside["estimate - truth"]
    closest = errors.abs().idxmin()
    print(f"Every estimate is {'pessimistic' if (errors < 0).all() else 'optimistic' if (errors > 0).all() else 'off, in both directions'}; "
          f"{closest} come closest ({errors[closest]:+.3f}).")
else:
    print("No truth maps for this dataset: the true accuracy of its maps is unknown.")

# %% [markdown]
# Two things can separate CV estimates from the truth (notebook 5 takes them apart):
#
# - **Label noise.** CV scores the model against the recorded labels; where labels are
#   generalised or noisy (the simulated CORINE-like labels are), a map that is right where
#   a label is wrong is counted as an error. The truth has no such errors.
# - **Where the map predicts.** When the samples cover the whole mapped area (the
#   simulated samples are a systematic grid plus random points), every pixel is close to
#   training data: the map *interpolates*. Blocked folds test far from the training data,
#   an extrapolation the map never makes. With samples clustered in a few places, the
#   picture turns around (notebook 5).

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Predict first: with blocks half and twice as large, will the
# blocked-CV estimate go up or down, and will it get closer to the true map accuracy?
# Write your guess down, then try it. (Solutions run silently on "Run All";
# `solution_1.show()` shows the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
block_estimates = {}
for size in (block_size / 2, block_size, block_size * 2):
    if size == block_size:  # the estimate of section 4
        block_estimates[f"{size / 1000:g} km (section 4)"] = report.summary["overall_accuracy"]
        continue
    cv = block_cv(table, block_size=size, n_splits=5, random_state=random_state,
                  location_column=cols.location)
    y_pred = cross_val_predict(model, X, y, cv=cv, params={"sample_weight": weights})
    block_estimates[f"{size / 1000:g} km"] = accuracy_score(y, y_pred)
beside = pd.Series(block_estimates, name="blocked-CV estimate")
if ds.has_truth:
    beside = beside.to_frame().assign(**{"estimate - truth": beside - true_oa})
    print(f"True map accuracy: {true_oa:.3f}")
print(beside.round(3))
small_oa, base_oa, large_oa = block_estimates.values()
print("With larger blocks the estimate " + ("went down" if small_oa > base_oa > large_oa else
      "went up" if small_oa < base_oa < large_oa else "did not move in one direction")
      + f" (from {small_oa:.3f} to {large_oa:.3f}; single estimates, each with fold-to-fold "
      "noise)." + (f" Closest to the truth: {(beside['estimate - truth'].abs()).idxmin()}."
                   if ds.has_truth else ""))
# Larger blocks put test points farther from training points: the model must extrapolate
# more, and the estimate usually drops. Whether that brings it closer to the truth depends
# on how far the map predicts from the training data (notebook 5).

# %% [markdown]
# **Exercise 2.** Guess first: which layers (bands, seasons, terrain) will the forest rely
# on most to tell the classes apart? Then plot the 10 most important features
# (`model.feature_importances_`; `solution_2.show()`).

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
plotting.plot_feature_importance(model.feature_importances_, features, top=10)
plt.show()
# Impurity-based importances favour features with many distinct values and share
# importance among correlated features; `sklearn.inspection.permutation_importance`
# on held-out data is a more reliable (and slower) alternative.

# %% [markdown]
# ## Key points
#
# - A space-time sample reads the layers of **its own survey year**; static layers are the
#   same every year.
# - Random and blocked cross-validation can give quite different estimates; which is
#   closer to the truth depends on label noise and on how far the map predicts from its
#   training data, not on a rule. Blocked folds keep whole blocks and locations together.
# - Users' accuracy = precision (the map user's view), producer's accuracy = recall (the
#   producer's view).
# - The mapping model is trained on all samples; cross-validation only estimates how
#   accurate it is.
# - Maps are predicted window by window into Cloud-Optimized GeoTIFFs; nodata stays nodata.
#
# ## What's next
#
# [Notebook 2](02_tuned_random_forest.ipynb) tunes the Random Forest's hyperparameters, and
# shows how to do that without fooling yourself: tuning **inside** the cross-validation.
#
# ## References
#
# - Breiman, L. (2001). Random forests. *Machine Learning*, 45, 5-32.
# - Pontius, R. G. & Millones, M. (2011). Death to Kappa: birth of quantity disagreement
#   and allocation disagreement for accuracy assessment. *International Journal of Remote
#   Sensing*, 32, 4407-4429.
# - Roberts, D. R. et al. (2017). Cross-validation strategies for data with temporal,
#   spatial, hierarchical, or phylogenetic structure. *Ecography*, 40, 913-929.
# - Ploton, P. et al. (2020). Spatial validation reveals poor predictive performance of
#   large-scale ecological mapping models. *Nature Communications*, 11, 4540.
# - Olofsson, P. et al. (2014). Good practices for estimating area and assessing accuracy
#   of land change. *Remote Sensing of Environment*, 148, 42-57.
# - Witjes, M. et al. (2022). A spatiotemporal ensemble machine learning framework for
#   generating land use/land cover time-series maps for Europe (2000-2019) based on LUCAS,
#   CORINE and GLAD Landsat. *PeerJ*, 10, e13573.
