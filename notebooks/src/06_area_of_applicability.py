# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Where may I trust this map? The area of applicability
#
# A model only learns what its training samples show it. Where a pixel's features are
# unlike those of every training sample, the model **extrapolates**, and the
# cross-validation of the samples says little about how well it does there.
#
# Meyer & Pebesma (2021) turned this into a number. The **dissimilarity index** (DI) of a
# pixel is its distance, in the feature space weighted by variable importance, to the
# nearest training sample, relative to the mean distance between training samples. The
# **area of applicability** (AOA) is where the DI stays within what the training samples
# reach in cross-validation. The AOA measures how **similar the features are to the
# training data, not accuracy**: whether the map is worse outside it is an empirical
# question, which the simulated landscape's truth answers here.
#
# ## Learning objectives
#
# 1. choose the folds with notebook 5's distance statistic and fit `AreaOfApplicability`
#    with permutation-importance weights;
# 2. map the DI and the AOA with `predict_maps(..., applicability=...)`;
# 3. estimate the error as a function of the DI from cross-validation (an error profile,
#    as CAST's `errorProfiles`) and compare it, and the local point density, with the truth;
# 4. (optional) produce the same maps on a Dask cluster.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 5](05_validation_against_truth.ipynb): distances, clustered sample | necessary | |
# | Permutation importance | helpful | [scikit-learn: permutation importance](https://scikit-learn.org/stable/modules/permutation_importance.html) |
#
# **Time to learn**: about 40 minutes. **Runs** in about a minute on one CPU.
# Change a parameter, then re-run from this cell (or use Run All).

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "../outputs/06_area_of_applicability"  # maps and metrics.json go here
n_jobs = None  # cores for the maps; None: all this process may use (mybinder.org: 1)
random_state = 0
n_trees = 50  # trees per forest (5 fold forests and the map model)
min_class_samples = 10  # rarer classes in the training sample are dropped
use_dask = False  # section 6: the same maps on a local Dask cluster (one worker)

# %% [markdown]
# ## Imports

# %%
import logging
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from IPython.display import display
from matplotlib.ticker import LogLocator
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import cross_validate

from odse_tutorial import evaluation, plotting
from odse_tutorial.applicability import AreaOfApplicability
from odse_tutorial.datasets import load_dataset
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import cv_candidates, nn_distances
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.prediction import predict_maps

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()

# %% [markdown]
# ## 1. The clustered sample of notebook 5
#
# The training sample: notebook 5's 25 field campaigns near towns
# (`samples_clustered.gpkg`). The systematic sample is set aside, as independent points for
# section 5. A dataset without a clustered sample trains on its own samples.

# %%
ds = load_dataset(dataset)
cols, features = ds.columns, list(ds.feature_names)
clustered = ds.samples_path.with_name("samples_clustered.gpkg")
training = gpd.read_file(clustered) if clustered.exists() else ds.samples
table, _ = overlay_samples(ds, training, progress=False)
keep, _ = drop_rare_classes(table[cols.class_code], min_count=min_class_samples)
table = table[keep]
X, y = table[features], table[cols.class_code]
weights = table[cols.weight] if cols.weight else None
print(f"Training sample: {len(table)} points from {training.shape[0]}, {y.nunique()} classes.")

# %% [markdown]
# ## 2. The folds that test where the map predicts
#
# As in notebook 5: the candidate CVs, and the one whose test-to-training distances are
# closest to the prediction-to-training distances (smallest Wasserstein distance). Its
# folds give the out-of-fold errors and, in section 3, the DI threshold.

# %%
cvs = cv_candidates(ds, table, block_scales=(1, 2), random_state=random_state)
distances = nn_distances(cvs, table, ds, X=X, y=y, random_state=random_state)
cv = cvs[distances.attrs["closest"]]
plotting.plot_nn_distances(distances)
plt.show()
print(distances.attrs["summary"])

# %% [markdown]
# One forest per fold, fitted with the sample weights like the map's model: its
# out-of-fold predictions and, on the part it did not see, its permutation importance.

# %%
model = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=2, n_jobs=n_jobs,
                               random_state=random_state)
folds = cross_validate(model, X, y, cv=cv, params={"sample_weight": weights},
                       return_estimator=True, return_indices=True)
cv_pred, importances = y.to_numpy(copy=True), []  # each sample: its fold's prediction
for forest, test in zip(folds["estimator"], folds["indices"]["test"], strict=True):
    cv_pred[test] = forest.predict(X.iloc[test])
    importances.append(permutation_importance(forest, X.iloc[test], y.iloc[test], n_repeats=3,
                                              random_state=random_state).importances_mean)
report = evaluation.accuracy_report(y, cv_pred)
print(f"CV overall accuracy: {report.summary['overall_accuracy']:.3f} on {len(y)} samples.")

# %% [markdown]
# ## 3. Dissimilarity index and area of applicability
#
# `AreaOfApplicability` follows CAST's `trainDI` and `aoa`: features standardised and
# weighted by permutation importance; DI = distance to the nearest training sample / mean
# distance between training samples; each training sample's DI is taken against the
# training part of **its** fold; the threshold is the upper whisker of those DIs, 75th
# percentile + 1.5 IQR (capped at their maximum; CAST uses the largest DI below it).

# %%
aoa = AreaOfApplicability(weights=np.mean(importances, axis=0), cv=cv).fit(X, y)
fig, ax = plt.subplots(figsize=(7, 4))
ax.hist(aoa.training_di_, bins=30, color="0.5")
ax.axvline(aoa.threshold_, color="C3", label=f"threshold {aoa.threshold_:.2f}")
ax.set(title="DI of the training samples, against their fold's training part",
       xlabel="dissimilarity index (unitless)", ylabel="samples")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. Maps of the DI and the AOA
#
# The final model is trained on the whole sample. `predict_maps(..., applicability=aoa)`
# writes `dissimilarity.tif` and `aoa.tif` beside the land-cover products, window by
# window.

# %%
model.fit(X, y, sample_weight=weights)
classes = ds.classes.subset(sorted(y.unique()))
maps = predict_maps(model, ds, Path(output_dir) / "maps", classes=classes, n_jobs=n_jobs,
                    applicability=aoa, progress=False)
tile, year = ds.tiles[0], ds.years[-1]
plotting.plot_maps(maps, ["dominant_class", "dissimilarity", "aoa"], tile=tile, years=year,
                   classes=classes)
plt.show()

# %%
pairs = [(t, y_) for t in ds.tiles for y_ in ds.years]
di = []
for t, y_ in pairs:
    with rasterio.open(maps.path(t, y_, "dissimilarity")) as src:
        di.append(src.read(1, masked=True).compressed())
di = np.concatenate(di)
share_inside = float((di <= aoa.threshold_).mean())
print(f"{share_inside:.1%} of the mapped pixels (all tiles and years) are inside the AOA.")

# %% [markdown]
# ## 5. How wrong is the map where the DI is large?
#
# **From cross-validation.** Each training sample has a DI (`aoa.training_di_`) and an
# out-of-fold error. As CAST's `errorProfiles`, an increasing (isotonic) regression of the
# error on the DI, applied to every pixel, gives an expected error. Beyond the largest
# training DI the profile stays flat: cross-validation cannot see further; near it the
# profile rests on few samples (the ticks at the bottom of the figure).

# %%
cv_wrong = (cv_pred != y.to_numpy()).astype(float)
profile = IsotonicRegression(out_of_bounds="clip").fit(aoa.training_di_, cv_wrong)
expected = profile.predict(di)
cv_inside = float(expected[di <= aoa.threshold_].mean())
cv_outside = float(expected[di > aoa.threshold_].mean()) if share_inside < 1 else np.nan
print(f"CV error profile: {cv_inside:.1%} expected error inside the AOA, {cv_outside:.1%} "
      f"outside (fitted on DI up to {aoa.training_di_.max():.2f}).")

# %% [markdown]
# **Against the truth.** The true error rate of the maps per DI bin: inside and outside the
# AOA, and in ten bins for the figure. The profile counts errors against the labels (which
# have errors of their own, notebook 1); the truth counts them against the true class.

# %%
truth_maps = [ds.truth(*p) for p in pairs] if ds.has_truth else None
by_aoa = by_decile = None
if truth_maps:
    di_maps, class_maps = ([maps.path(*p, what) for p in pairs]
                           for what in ("dissimilarity", "dominant_class"))
    by_aoa, by_decile = (evaluation.error_rate_by_uncertainty(
        di_maps, class_maps, truth_maps, bins=bins) for bins in (
        [0, aoa.threshold_, np.inf], np.unique(np.quantile(di, np.linspace(0, 1, 11)))))
    true_inside, true_outside = by_aoa.error_rate
    print(f"True error rate: {true_inside:.1%} inside the AOA, {true_outside:.1%} outside; "
          f"the CV profile estimated {cv_inside:.1%} and {cv_outside:.1%}.")
else:
    print(f"The {ds.name!r} dataset has no truth maps: the true error inside and outside "
          "the AOA cannot be measured here.")

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
low = np.quantile(di[di > 0], 0.01)  # the log axis: from the 1st percentile of DI > 0
grid = np.geomspace(low, di.max(), 50)
ax.plot(grid, profile.predict(grid), "--", color="C0", label="CV error profile (isotonic)")
if by_decile is not None:  # the true error rate of each tenth of the pixels, by DI
    centres = np.sqrt(by_decile.lower.clip(low) * by_decile.upper)
    ax.plot(centres, by_decile.error_rate, "o-", color="k", label="true error rate (pixels)")
ax.axvline(aoa.threshold_, color="C3", label="AOA threshold")
seen = aoa.training_di_[aoa.training_di_ > 0]  # the training samples' DI, as a rug
ax.plot(seen, np.full(len(seen), 0.01), "|", color="C0", alpha=0.3, label="training DI")
ax.set(xscale="log", ylim=(0, 1), xlabel="dissimilarity index (log scale)",
       ylabel="error rate", title="Error rate as a function of the dissimilarity index")
ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # ticks at 0.1, 0.2, 0.5, 1, ...
ax.xaxis.set_major_formatter("{x:g}")  # decimals, not powers of ten
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
plt.show()

# %% [markdown]
# ### Local point density, scored against the truth
#
# The DI looks at the nearest training sample only. The **local point density** (LPD,
# CAST's `aoa(LPD = TRUE)`) counts the training samples within the threshold: 0 outside the
# AOA; a larger LPD means more training samples support the point (repeated surveys of one
# place count each time). Whether more support means fewer errors is what the table tests:
# the set-aside systematic sample gives independent points, scored against the true class.

# %%
aside = overlay_samples(ds, progress=False)[0] if clustered.exists() else table.iloc[:0]
true_class = evaluation.truth_at(ds, aside)  # None without truth maps
lpd_bands = []
if true_class is not None and len(aside):
    lpd = aoa.local_point_density(aside[features])
    bands = pd.cut(lpd, [-1, 0, *np.unique(np.quantile(lpd[lpd > 0], [1 / 3, 2 / 3])), np.inf])
    wrong = model.predict(aside[features]) != true_class.to_numpy()
    by_lpd = pd.DataFrame({"LPD": lpd, "wrong": wrong}).groupby(bands, observed=True).agg(
        LPD_from=("LPD", "min"), LPD_to=("LPD", "max"), samples=("wrong", "size"),
        error_rate=("wrong", "mean")).reset_index(drop=True).rename_axis("band")
    display(by_lpd.round(3))
    lpd_bands = by_lpd.reset_index().to_dict("records")
else:
    print("No set-aside sample with truth: the LPD bands cannot be scored against the truth.")

# %% [markdown]
# ## 6. (Optional) The same maps on a Dask cluster
#
# Map production is parallel over tiles and years: `predict_maps(..., client=client)` sends
# each tile-year to a worker of a `dask.distributed` cluster and writes the same maps, byte
# for byte. Here a `LocalCluster` with one worker (what mybinder.org offers). To try it,
# add `use_dask = True` to the parameters cell and run that cell, then run the three cells
# below one at a time: open the printed dashboard link, watch the work, close the cluster.

# %%
if use_dask:
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)  # its start-up chatter
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0")
    client = Client(cluster)
    print("Open the dashboard (task stream, workers' memory):", client.dashboard_link)
else:
    print("use_dask is False: the Dask cells are skipped.")

# %%
if use_dask:
    dask_maps = predict_maps(model, ds, Path(output_dir) / "maps_dask", classes=classes,
                             applicability=aoa, client=client, progress=False)
    same = all(a.read_bytes() == b.read_bytes()
               for a, b in zip(maps.paths(), dask_maps.paths(), strict=True))
    print(f"{len(dask_maps.paths())} files; identical to the serial maps: {same}")

# %%
if use_dask:
    client.close()
    cluster.close()
    print("Cluster closed.")

# %% [markdown]
# ## 7. Save the results

# %%
truth = {} if by_aoa is None else {
    "true_error_inside": true_inside, "true_error_outside": true_outside,
    "truth": {"map_accuracy": evaluation.true_map_accuracy(maps, ds)}}
evaluation.write_metrics(output_dir, notebook="06_area_of_applicability", dataset=ds.name,
              cv=f"{cv!r}: the candidate closest to the prediction distances", report=report,
              maps=maps, n_training_sample=len(training), aoa_threshold=aoa.threshold_,
              aoa_share_inside=share_inside, cv_error_estimate_inside=cv_inside,
              cv_error_estimate_outside=cv_outside, cv_error_rate=float(cv_wrong.mean()),
              n_set_aside=len(aside), lpd_bands=lpd_bands, **truth)
print(f"Saved {Path(output_dir) / 'metrics.json'} and {len(maps.paths())} map files.")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Compute the AOA with **random** folds (`cvs["random folds"]`) instead,
# with the same weights (`weights=aoa.weights_`; if section 2 chose random folds, use
# one of the blocked folds: `list(cvs)` names them). Predict first: what happens to the
# threshold and to the share of the map inside the AOA? Why? (The solution runs silently on
# "Run All"; `solution_1.show()` shows its output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
random_aoa = AreaOfApplicability(weights=aoa.weights_, cv=cvs["random folds"]).fit(X, y)
random_share = float((di <= random_aoa.threshold_).mean())
print(f"threshold: {aoa.threshold_:.3f} with the chosen folds, {random_aoa.threshold_:.3f} "
      f"with random folds; share inside: {share_inside:.1%} -> {random_share:.1%}.")
# With random folds each test sample has campaign mates in the training part, so its DI
# tends to be small, and so does the fence: the printed numbers show by how much here.

# %% [markdown]
# **Exercise 2.** Do the weights matter? Fit the AOA with equal weights
# (`AreaOfApplicability(cv=cv)`) and compare the share of the set-aside points inside each
# AOA (`aoa.predict(aside[features])`). Predict first: does the AOA grow or shrink?

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
equal = AreaOfApplicability(cv=cv).fit(X, y)
print(f"threshold: importance weights {aoa.threshold_:.3f}, equal weights "
      f"{equal.threshold_:.3f} (each in its own units: compare the shares, not the DIs).")
print(f"share of the set-aside points inside: {aoa.predict(aside[features]).mean():.1%} "
      f"(importance) vs {equal.predict(aside[features]).mean():.1%} (equal)"
      if len(aside) else "No set-aside sample.")

# %% [markdown]
# ## Key points
#
# - The **dissimilarity index** measures how far a pixel's features are from the training
#   data, in the space of the features that matter; the **AOA** is where it stays within
#   what cross-validation has seen. Both measure similarity, not accuracy.
# - The threshold depends on the folds: choose them by comparing distances (notebook 5).
# - An **error profile** from cross-validation turns the DI into an expected error; beyond
#   the training DI it cannot see, and the truth shows how far off it is.
# - The **local point density** counts how many training samples support a point.
#
# ## What's next
#
# Use the AOA of your own model: fit `AreaOfApplicability` on the training table with the
# folds of your cross-validation and pass it to `predict_maps(..., applicability=...)`.
# Report the map's accuracy for the area inside the AOA, and mask or flag the rest.
#
# ## References
#
# - Meyer, H. & Pebesma, E. (2021). Predicting into unknown space? Estimating the area of
#   applicability of spatial prediction models. *Methods in Ecology and Evolution*, 12,
#   1620-1633.
# - Meyer, H. & Pebesma, E. (2022). Machine learning-based global maps of ecological
#   variables and the challenge of assessing them. *Nature Communications*, 13, 2208.
# - Meyer, H. et al. CAST: 'caret' Applications for Spatial-Temporal Models (R package),
#   functions `trainDI`, `aoa` and `errorProfiles`.
