# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Where may I trust this map? The area of applicability
#
# A model can only learn what its training samples show it. Samples are rarely spread
# evenly: they cluster along roads, near settlements, in a few field campaigns. Where a
# pixel's features are unlike those of every training sample, the model
# **extrapolates**, and the cross-validation of the training samples says little about
# how well it does there.
#
# Meyer & Pebesma (2021) turned this into a number. The **dissimilarity index** (DI) of a
# pixel is its distance, in the feature space weighted by variable importance, to the
# nearest training sample, relative to the typical distance between training samples. The
# **area of applicability** (AOA) is where the DI is no larger than the DI that the
# training samples themselves reach in cross-validation. Here we compute both for a model
# trained on a clustered sample, and, because this landscape is simulated, we check
# against the **true** land cover whether the map really is worse outside the AOA.
#
# ## Learning objectives
#
# After this notebook you can
#
# 1. explain why a clustered, preferential sample leaves parts of a map without support;
# 2. compute the dissimilarity index and the area of applicability of a scikit-learn model
#    with `AreaOfApplicability`, with weights from permutation importance on spatial folds;
# 3. map the DI and the AOA next to the land-cover maps (`predict_maps(...,
#    applicability=...)`);
# 4. estimate the error as a function of the DI from cross-validation (an "error
#    profile", as CAST's `errorProfiles`) and compare it with the true error;
# 5. count the training samples near a point (the local point density, LPD);
# 6. (optional) run the same map production on a Dask cluster.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 1](01_random_forest.ipynb): overlay, Random Forest, blocked CV | necessary | |
# | Nearest neighbours, standardising features | helpful | [scikit-learn: nearest neighbours](https://scikit-learn.org/stable/modules/neighbors.html) |
# | Permutation importance | helpful | [scikit-learn: permutation importance](https://scikit-learn.org/stable/modules/permutation_importance.html) |
#
# **Time to learn**: about 30 minutes. **Runs** in about a minute on one CPU.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/06_area_of_applicability"  # maps and metrics.json go here
n_jobs = 1  # CPU cores for training and prediction (mybinder.org has 1)
random_state = 0  # fixes every random choice: same run, same numbers, same maps
n_clusters = 5  # the clustered sample: the samples nearest to n_clusters random centres,
sample_share = 0.18  # this share of all samples (at least min_training_samples)
min_training_samples = 120
min_class_samples = 10  # classes with fewer samples in the clustered sample are dropped
use_dask = False  # section 7: the same maps on a local Dask cluster (one worker)

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
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from scipy.spatial import cKDTree
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import cross_validate

from odse_tutorial import plotting
from odse_tutorial.applicability import AreaOfApplicability
from odse_tutorial.datasets import load_dataset
from odse_tutorial.evaluation import accuracy_report, paired_difference, write_metrics
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import SpatialKFold
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.prediction import predict_maps

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. A clustered, preferential sample
#
# We overlay all samples as in notebook 1, then draw `n_clusters` centres at random among
# the sample locations and keep only the samples nearest to them (`sample_share` of all
# samples): a few field campaigns around a few villages, the typical sample of a real
# project. The other samples are set aside (on simulated data the truth maps will tell
# us how good the map is everywhere).

# %%
ds = load_dataset(dataset)
cols = ds.columns
table, _ = overlay_samples(ds)
if table.crs.is_geographic:  # distances and radii are in metres: project
    table = table.to_crs(table.estimate_utm_crs())
features = list(ds.feature_names)
xy = np.column_stack([table.geometry.x, table.geometry.y])
rng = np.random.default_rng(random_state)
centres = xy[rng.choice(len(xy), size=n_clusters, replace=False)]
to_centre = np.hypot(*(xy[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
table["cluster"] = to_centre.argmin(axis=1)
n_keep = min(len(table), max(int(sample_share * len(table)), min_training_samples))
radius = np.sort(to_centre.min(axis=1))[n_keep - 1]
clustered = table[to_centre.min(axis=1) <= radius]
keep, class_counts = drop_rare_classes(clustered[cols.class_code], min_count=min_class_samples)
clustered = clustered[keep]
print(f"Kept {len(clustered)} of {len(table)} samples ({len(clustered) / len(table):.0%}) in "
      f"{clustered['cluster'].nunique()} clusters of {radius / 1000:.1f} km radius; "
      f"{clustered[cols.class_code].nunique()} of {table[cols.class_code].nunique()} classes.")
dropped = class_counts.code[~class_counts.kept].astype(str).tolist()
if dropped:
    print(f"Too rare in the clustered sample (fewer than {min_class_samples}), so never mapped "
          f"(their pixels go to the kept classes they resemble): {', '.join(dropped)}.")

# %%
fig, ax = plt.subplots(figsize=(9, 5))
ax.scatter(xy[:, 0] / 1000, xy[:, 1] / 1000, s=4, c="0.75", label="all samples (set aside)")
ax.scatter(clustered.geometry.x / 1000, clustered.geometry.y / 1000, s=6, c="C3",
           label="clustered training sample")
crs_name = table.crs.to_string() if table.crs else "map units"
ax.set(title="The clustered training sample", xlabel=f"x (km, {crs_name})",
       ylabel=f"y (km, {crs_name})", aspect="equal")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
plt.show()

# %% [markdown]
# ## 2. The model and its cross-validation
#
# A Random Forest as in notebook 1. The folds leave **one cluster out** at a time, so that
# the test points lie far from the training points, as the unsampled parts of the map do
# (Meyer & Pebesma 2022). Whether they are about as far as the map's pixels is measured
# below, as in notebook 5: the distance from each test point to the nearest training
# point of its fold, beside the distance from each pixel to the nearest training sample.
# These same folds define the DI threshold of section 3.

# %%
X, y = clustered[features], clustered[cols.class_code]
weights = clustered[cols.weight] if cols.weight else None
classes = ds.classes.subset(sorted(y.unique()))
model = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs,
                               random_state=random_state)
cv = SpatialKFold(clustered["cluster"], n_splits=None, random_state=random_state)
codes = np.unique(y)
# One forest per fold (fitted as the map's model, with the sample weights): its
# out-of-fold probabilities here, its permutation importance in section 3.
folds = cross_validate(model, X, y, cv=cv, params={"sample_weight": weights},
                       return_estimator=True, return_indices=True)
proba = np.zeros((len(y), len(codes)))  # a class missing from a training part: probability 0
for forest, test in zip(folds["estimator"], folds["indices"]["test"], strict=True):
    proba[np.ix_(test, np.searchsorted(codes, forest.classes_))] = forest.predict_proba(X.iloc[test])
cv_pred = codes[proba.argmax(axis=1)]
report = accuracy_report(y, cv_pred, proba, classes=classes, proba_classes=codes)
print(f"Leave-cluster-out CV: overall accuracy {report.summary['overall_accuracy']:.3f} "
      f"on {len(y)} samples.")

train_xy = np.column_stack([clustered.geometry.x, clustered.geometry.y])
test_to_train = np.zeros(len(train_xy))
for train, test in cv.split(X, y):
    test_to_train[test] = cKDTree(train_xy[train]).query(train_xy[test])[0]
pixel_xy = []
for t in ds.tiles:  # the centres of every 4th pixel (every 4th row and column) of each tile
    with rasterio.open(next(iter(ds.layers(t, ds.years[0]).values()))) as src:
        rows_, cols_ = np.mgrid[0:src.height:4, 0:src.width:4]
        pixel_xy.append(np.column_stack(rasterio.transform.xy(src.transform, rows_.ravel(),
                                                              cols_.ravel())))
        pixel_crs = src.crs
pixel_xy = np.vstack(pixel_xy)
if pixel_crs != clustered.crs:  # the samples were projected above: bring the pixels along
    pixel_xy = np.column_stack(gpd.GeoSeries(gpd.points_from_xy(*pixel_xy.T), crs=pixel_crs)
                               .to_crs(clustered.crs).get_coordinates().to_numpy().T)
pixel_to_train = cKDTree(train_xy).query(pixel_xy)[0]
q_test, q_pixel = (np.percentile(d, [25, 50, 75]) for d in (test_to_train, pixel_to_train))
ratio = q_test[1] / max(q_pixel[1], 1.0)
how = ("about as far as" if 0.5 <= ratio <= 2 else
       "farther than" if ratio > 2 else "closer than")
print(f"Nearest-neighbour distances to the training points (median, quartiles): the folds "
      f"test at {q_test[1]:.0f} m ({q_test[0]:.0f}-{q_test[2]:.0f} m), the map predicts at "
      f"{q_pixel[1]:.0f} m ({q_pixel[0]:.0f}-{q_pixel[2]:.0f} m; {len(pixel_xy)} pixels): the "
      f"folds test {how} the map predicts (medians within a factor 2 count as 'about').")

# %% [markdown]
# ## 3. Dissimilarity index and area of applicability
#
# `AreaOfApplicability` follows CAST's `trainDI` and `aoa`:
#
# 1. features are standardised and weighted by the model's **permutation importance**,
#    measured on the held-out cluster of each fold (an unimportant feature should not make
#    a pixel "unlike" the training data);
# 2. the DI of a pixel = distance to the nearest training sample / mean distance between
#    training samples;
# 3. each training sample gets a DI against the training part of **its** fold (a sample
#    is compared with the other clusters, not with its own cluster mates);
# 4. the threshold is the upper whisker of those values (75th percentile + 1.5 IQR).

# %%
importance = np.mean([  # each fold's forest, on the cluster it did not see
    permutation_importance(forest, X.iloc[test], y.iloc[test], n_repeats=3,
                           random_state=random_state).importances_mean
    for forest, test in zip(folds["estimator"], folds["indices"]["test"], strict=True)
], axis=0)
aoa = AreaOfApplicability(weights=importance, cv=cv).fit(X, y)
print(f"Threshold: DI <= {aoa.threshold_:.3f}. Mean distance between training samples: "
      f"{aoa.mean_distance_:.2f} (weighted, standardised units).")

fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
plotting.plot_feature_importance(aoa.weights_, features, top=10, ax=axes[0])
axes[0].set_title("Feature weights: permutation importance on the folds")
axes[1].hist(aoa.training_di_, bins=30, color="0.5")
axes[1].axvline(aoa.threshold_, color="C3", label=f"threshold {aoa.threshold_:.2f}")
axes[1].set(title="DI of the training samples (against their fold's training part)",
            xlabel="dissimilarity index (unitless)", ylabel="samples")
axes[1].legend()
plt.show()

# %% [markdown]
# ## 4. Maps of the DI and the AOA
#
# The final model is trained on the whole clustered sample. `predict_maps(...,
# applicability=aoa)` writes, next to the land-cover products, `dissimilarity.tif`
# (the DI, float32, nodata NaN) and `aoa.tif` (1 inside, 0 outside, nodata 255), window
# by window like every other product.

# %%
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, output_dir / "maps", classes=classes, n_jobs=n_jobs,
                    applicability=aoa)
tile, year = ds.tiles[0], ds.years[-1]


def read(path):
    with rasterio.open(path) as src:
        return src.read(1, masked=True)


di_map = read(maps.path(tile, year, "dissimilarity"))
fig, axes = plt.subplots(1, 3, figsize=(17, 5))
plotting.plot_class_map(maps.path(tile, year, "dominant_class"), classes, ax=axes[0],
                        title=f"Dominant class, tile {tile}, {year}")
di_top = float(np.percentile(di_map.compressed(), 99))
image = axes[1].imshow(di_map, cmap="magma_r", vmin=0, vmax=di_top)
fig.colorbar(image, ax=axes[1], extend="max", shrink=0.8,
             label="dissimilarity index (unitless; the scale stops at the 99th percentile)")
axes[1].set_title(f"Dissimilarity index (darkest: DI >= {di_top:.2f}, the top 1%)")
inside_map = read(maps.path(tile, year, "aoa"))
axes[2].imshow(inside_map, cmap=ListedColormap(["#d7301f", "#d9d9d9"]),
               vmin=0, vmax=1, interpolation="nearest")
axes[2].legend(handles=[Patch(color="#d9d9d9", label="inside AOA"),
                        Patch(color="#d7301f", label="outside AOA")],
               loc="upper left", bbox_to_anchor=(1.01, 1))
axes[2].set_title(f"Area of applicability (DI <= {aoa.threshold_:.2f})")
for ax in axes[1:]:
    ax.set_axis_off()
plt.show()

pixels = pd.concat([
    pd.DataFrame({"di": np.asarray(read(maps.path(t, y_, "dissimilarity"))).ravel(),
                  "inside": np.asarray(read(maps.path(t, y_, "aoa"))).ravel()})
    for t in ds.tiles for y_ in ds.years
])
pixels = pixels[np.isfinite(pixels.di)]
share_inside = float((pixels.inside == 1).mean())
print(f"{share_inside:.0%} of the mapped area (all tiles and years) is inside the AOA.")

# %% [markdown]
# ## 5. Error profile from cross-validation
#
# How wrong is the map where the DI is large? Cross-validation gives one answer per
# training sample: its DI against its fold's training part (`aoa.training_di_`) and
# whether its out-of-fold prediction was wrong. As CAST's `errorProfiles`, we fit the
# error rate as a function of DI, here with an increasing (isotonic) regression, and
# apply it to the DI of every pixel: an **expected error map**. Beyond the largest
# training DI the profile stays flat: cross-validation cannot see further.

# %%
cv_wrong = (cv_pred != y.to_numpy()).astype(float)
profile = IsotonicRegression(increasing=True, out_of_bounds="clip")
profile.fit(aoa.training_di_, cv_wrong)
pixels["expected_error"] = profile.predict(pixels.di)
cv_inside = float(pixels.expected_error[pixels.inside == 1].mean())
cv_outside = float(pixels.expected_error[pixels.inside == 0].mean())
print(f"CV error profile: expected error rate {cv_inside:.1%} inside the AOA and "
      f"{cv_outside:.1%} outside (the profile is fitted on DI up to "
      f"{np.nanmax(aoa.training_di_):.2f}; {(pixels.di > np.nanmax(aoa.training_di_)).mean():.0%}"
      " of the pixels lie beyond).")

# %% [markdown]
# ### Local point density
#
# The DI looks at the nearest training sample only. The **local point density** (LPD,
# CAST's `aoa(LPD = TRUE)`) counts the training samples within the threshold of a point:
# 0 outside the AOA; inside it, a point with LPD 2 rests on two samples, one with LPD 40
# on many. Counting is cheap for a table of points, so here it is computed for the samples
# set aside in section 1, with the model's errors on them (against their own labels).

# %%
aside = table[to_centre.min(axis=1) > radius]
lpd = aoa.local_point_density(aside[features])
wrong = (model.predict(aside[features]) if len(aside) else []) != aside[cols.class_code].to_numpy()
# bands: 0 (outside the AOA), then the lower, middle and upper third of the LPD inside it
cuts = np.unique(np.quantile(lpd[lpd > 0], [1 / 3, 2 / 3])) if (lpd > 0).any() else []
band = np.where(lpd == 0, 0, 1 + np.searchsorted(cuts, lpd))
by_lpd = pd.DataFrame({"band": band, "LPD": lpd, "wrong": wrong}).groupby("band").agg(
    LPD_from=("LPD", "min"), LPD_to=("LPD", "max"), samples=("wrong", "size"),
    error_rate=("wrong", "mean"))
display(by_lpd.round(3))
inner = by_lpd.drop(index=0, errors="ignore")
if len(inner) >= 2:  # the sparsest and the densest band inside the AOA
    sparse, dense = inner.iloc[0], inner.iloc[-1]
    gap = dense.error_rate - sparse.error_rate
    noise = 2 * np.sqrt(sum(b.error_rate * (1 - b.error_rate) / b.samples for b in (sparse, dense)))
    verdict = "about as many" if abs(gap) <= noise else ("fewer" if gap < 0 else "more")
    print(f"Inside the AOA, the set-aside samples with the most training samples near (LPD "
          f"{dense.LPD_from:.0f}-{dense.LPD_to:.0f}) are misclassified {dense.error_rate:.1%} of "
          f"the time ({dense.samples:.0f} samples), those with the fewest (LPD "
          f"{sparse.LPD_from:.0f}-{sparse.LPD_to:.0f}) {sparse.error_rate:.1%} "
          f"({sparse.samples:.0f} samples): {verdict} errors where the training data are dense "
          f"(difference {abs(gap) * 100:.1f} points; twice its standard error {noise * 100:.1f}).")
else:
    print(f"Too few set-aside samples inside the AOA ({(lpd > 0).sum()} of {len(aside)}) to "
          "compare LPD bands.")

# %% [markdown]
# ## 6. Checked against the truth
#
# The simulated landscape comes with its true land cover, so we can measure the true
# error rate inside and outside the AOA, and as a function of the DI, and put the CV
# estimate beside it.

# %%
truth_numbers = {}
if ds.has_truth:
    rows = []
    for t in ds.tiles:
        for y_ in ds.years:
            pred, true = read(maps.path(t, y_, "dominant_class")), read(ds.truth(t, y_))
            di = read(maps.path(t, y_, "dissimilarity"))
            ok = ~(np.ma.getmaskarray(pred) | np.ma.getmaskarray(true) | np.ma.getmaskarray(di))
            rows.append(pd.DataFrame({"di": np.asarray(di)[ok],
                                      "wrong": (np.asarray(pred) != np.asarray(true))[ok]}))
    truth = pd.concat(rows, ignore_index=True)
    truth["inside"] = truth.di <= aoa.threshold_
    truth["expected_error"] = profile.predict(truth.di)
    true_inside = float(truth.wrong[truth.inside].mean())
    true_outside = float(truth.wrong[~truth.inside].mean()) if (~truth.inside).any() else np.nan
    comparison = pd.DataFrame(
        {"true error rate": [true_inside, true_outside, truth.wrong.mean()],
         "CV estimate (error profile)": [truth.expected_error[truth.inside].mean(),
                                         truth.expected_error[~truth.inside].mean(),
                                         truth.expected_error.mean()],
         "share of pixels": [truth.inside.mean(), 1 - truth.inside.mean(), 1.0]},
        index=["inside AOA", "outside AOA", "whole map"])
    display(comparison.round(3))
    ratio = true_outside / true_inside if true_inside > 0 else np.inf
    print(f"The true error rate is {true_outside:.1%} outside the AOA and {true_inside:.1%} "
          f"inside: {'higher' if true_outside > true_inside else 'not higher'} outside "
          f"({ratio:.1f} times). The CV error profile estimates {cv_inside:.1%} inside "
          f"({'over' if cv_inside > true_inside else 'under'}estimating the truth by "
          f"{abs(cv_inside - true_inside) * 100:.1f} points) and {cv_outside:.1%} outside "
          f"({'over' if cv_outside > true_outside else 'under'}estimating it by "
          f"{abs(cv_outside - true_outside) * 100:.1f} points).")
    truth_numbers = {"true_error_inside": true_inside, "true_error_outside": true_outside,
                     "true_error_map": float(truth.wrong.mean()),
                     "truth": {"map_accuracy": 1 - float(truth.wrong.mean())}}

    edges = np.unique(np.quantile(truth.di, np.linspace(0, 1, 11)))
    truth["bin"] = pd.cut(truth.di, edges, include_lowest=True)
    by_bin = truth.groupby("bin", observed=True).agg(
        di=("di", "median"), true=("wrong", "mean"), estimate=("expected_error", "mean"))
    samples_bin = pd.DataFrame({"di": aoa.training_di_, "wrong": cv_wrong}).dropna()
    samples_bin["bin"] = pd.qcut(samples_bin.di, 8, duplicates="drop")
    samples_bin = samples_bin.groupby("bin", observed=True).agg(di=("di", "median"),
                                                                wrong=("wrong", "mean"))
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(by_bin.di, by_bin.true, "o-", color="k", label="true error rate of the map (pixels)")
    ax.plot(by_bin.di, by_bin.estimate, "s--", color="C0", label="CV error profile (isotonic)")
    ax.plot(samples_bin.di, samples_bin.wrong, "^", color="C0", alpha=0.6,
            label="CV error rate of the samples (binned)")
    ax.axvline(aoa.threshold_, color="C3", label="AOA threshold")
    ax.set(xscale="log", ylim=(0, 1), xlabel="dissimilarity index (unitless, log scale)",
           ylabel="error rate (share of pixels / samples)",
           title="Error rate as a function of the dissimilarity index")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    plt.show()
else:
    print(f"The {ds.name!r} dataset has no truth maps: the true error inside and outside the "
          "AOA cannot be measured here; the CV estimates above are all we have.")

# %% [markdown]
# ## 7. (Optional) The same maps on a Dask cluster
#
# Map production is embarrassingly parallel over tiles and years. `predict_maps(...,
# client=client)` sends each tile-year to a worker of a `dask.distributed` cluster (the
# model is sent once), and the maps are the same, byte for byte; `overlay_samples(ds,
# client=client)` reads the samples of each tile and survey year as one task in the same
# way. Here a `LocalCluster` with one worker (what mybinder.org can offer; there, open the
# dashboard through `/proxy/<port>/status` of the Jupyter server); on a real cluster only
# the line that makes the client changes (see `docs/architecture.md`). Set
# `use_dask = True` to run it.

# %%
if use_dask:
    from importlib.util import find_spec

    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        if find_spec("bokeh"):
            print("Dashboard (task stream, workers' memory):", client.dashboard_link)
        else:
            print("The dashboard needs bokeh (pip install bokeh); the cluster works without.")
        dask_maps = predict_maps(model, ds, output_dir / "maps_dask", classes=classes,
                                 applicability=aoa, client=client)
        dask_table, _ = overlay_samples(ds, client=client)
    same = all(a.read_bytes() == b.read_bytes()
               for a, b in zip(maps.paths(), dask_maps.paths(), strict=True))
    print(f"{len(dask_maps.paths())} files; identical to the serial maps: {same}")
    same_table = dask_table[features].equals(table[features])
    print(f"Overlay on the cluster: {len(dask_table)} samples, the same features as the "
          f"serial overlay: {same_table}")

# %% [markdown]
# ## 8. Save the results

# %%
write_metrics(
    output_dir,
    notebook="06_area_of_applicability",
    dataset=ds.name,
    cv=f"{cv!r}: leave one cluster out, on the clustered sample",
    report=report,
    maps=maps,
    n_samples_all=len(table),
    aoa_threshold=aoa.threshold_,
    aoa_share_inside=share_inside,
    cv_error_estimate_inside=cv_inside,
    cv_error_estimate_outside=cv_outside,
    cv_error_rate=float(cv_wrong.mean()),
    n_set_aside=len(aside),
    lpd_bands=by_lpd.reset_index().to_dict("records"),
    **truth_numbers,
)
print(f"Saved {output_dir / 'metrics.json'} and {len(maps.paths())} map files.")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Compute the AOA with **random** folds (`random_cv` of
# `odse_tutorial.model_selection`) instead of leave-cluster-out, with the same weights
# (`weights=aoa.weights_`). Predict first: what happens to the threshold and to the share
# of the map inside the AOA? Why? (The solution runs silently on "Run All";
# `solution_1.show()` shows its output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
from odse_tutorial.model_selection import random_cv

random_aoa = AreaOfApplicability(weights=aoa.weights_, cv=random_cv(5, random_state)).fit(X, y)
print(f"threshold: leave-cluster-out {aoa.threshold_:.3f}, random folds "
      f"{random_aoa.threshold_:.3f}")
random_share = float((pixels.di <= random_aoa.threshold_).mean())
change = (random_share - share_inside) * 100
print(f"share of the map inside: {share_inside:.1%} (leave-cluster-out) -> {random_share:.1%} "
      f"(random folds): the AOA " + (f"shrinks by {-change:.1f} points." if change < 0 else
                                     "does not shrink."))
# With random folds each test sample has cluster mates in the training part, so its DI
# is small, and so is the upper whisker of those DIs: the threshold only knows how far
# apart samples of one cluster are, not how far the model can carry to a new cluster.

# %% [markdown]
# **Exercise 2.** Do the weights matter? Fit the AOA with equal weights (`weights=None`,
# `estimator=None`) and compare, tile-year by tile-year, the share of the map inside the
# AOA and, on simulated data, the true error rate inside and outside it. Predict first:
# which weighting separates the map's errors better (a larger gap between the error rate
# outside and inside the AOA)? (`solution_2.show()` shows the solution's output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
equal = AreaOfApplicability(cv=cv).fit(X, y)
rows = []
for t in ds.tiles:
    for y_ in ds.years:
        bands = {name: read(path) for name, path in ds.layers(t, y_).items() if name in features}
        valid = ~np.any([np.ma.getmaskarray(band) for band in bands.values()], axis=0)
        frame = pd.DataFrame({name: np.asarray(bands[name])[valid].astype(float)
                              for name in features})
        di = np.asarray(read(maps.path(t, y_, "dissimilarity")))[valid]  # importance weights
        flags = {"importance": di <= aoa.threshold_, "equal": equal.predict(frame)}
        row = {"tile": t, "year": y_}
        if ds.has_truth:
            pred, true = read(maps.path(t, y_, "dominant_class")), read(ds.truth(t, y_))
            wrong = (np.asarray(pred) != np.asarray(true))[valid]
        for name, flag in flags.items():
            row[f"{name}: inside"] = flag.mean()
            if ds.has_truth:
                row[f"{name}: error inside"] = wrong[flag].mean() if flag.any() else np.nan
                row[f"{name}: error outside"] = wrong[~flag].mean() if (~flag).any() else np.nan
        rows.append(row)
by_tile_year = pd.DataFrame(rows).set_index(["tile", "year"])
display(by_tile_year.round(3))


def verdict(mean, half, larger, smaller):
    return f"{larger if mean > 0 else smaller}" if abs(mean) > half else "within the noise"


shares = paired_difference(by_tile_year["importance: inside"], by_tile_year["equal: inside"])
mean, half, n = shares["mean"], shares["half_width"], shares["n"]  # paired over tile-years
if n < 2:
    print("One tile-year only: no noise estimate across tile-years, so no verdict; compare the "
          "table's numbers, knowing that another tile or year could turn them around.")
else:
    print(f"Share inside the AOA, importance minus equal weights, paired over {n} tile-years: "
          f"{mean * 100:+.1f} +- {half * 100:.1f} points (95% t interval): "
          f"{verdict(mean, half, 'importance weights keep more', 'equal weights keep more')}.")
if ds.has_truth and n >= 2:
    gaps = {name: by_tile_year[f"{name}: error outside"] - by_tile_year[f"{name}: error inside"]
            for name in flags}
    separation = paired_difference(gaps["importance"], gaps["equal"])
    mean, half, n = separation["mean"], separation["half_width"], separation["n"]
    print(f"Error rate outside minus inside the AOA: {gaps['importance'].mean():.1%} with "
          f"importance weights, {gaps['equal'].mean():.1%} with equal weights (means over the "
          f"tile-years); difference {mean * 100:+.1f} +- {half * 100:.1f} points over {n} "
          "tile-years: "
          + verdict(mean, half, "importance weights separate the errors better",
                    "equal weights separate the errors better") + ".")
    print("(The tile-years share their tiles, so they are not independent: the interval is "
          "if anything too narrow.)")
elif not ds.has_truth:
    print("No truth maps: the error rates inside and outside cannot be compared here.")
# Importance weights are meant to focus the DI on the features the model uses, so that
# "outside" means "the model's inputs are new to it"; equal weights let every feature
# count. Which one flags the errors better is an empirical question, answered above for
# these data only.

# %% [markdown]
# ## Key points
#
# - A clustered sample covers only part of the feature space; the **dissimilarity index**
#   measures how far each pixel is from it, in the space of the features that matter.
# - The **area of applicability** is where the DI stays within what cross-validation
#   has seen; its threshold depends on the folds: use spatial folds that mimic the map.
# - An **error profile** from cross-validation turns the DI into an expected error;
#   beyond the training DI it cannot see, and the truth shows how far off it can be.
# - The **local point density** says how many training samples support a point inside
#   the AOA, not just whether one is near; compare its bands with their errors.
# - The DI and AOA are map products like the others: written window by window, with
#   nodata where any input is nodata, and on a Dask cluster with the same code.
#
# ## What's next
#
# Use the AOA of your own model: fit `AreaOfApplicability` on the training table with the
# folds of your cross-validation, and pass it to `predict_maps(..., applicability=...)`.
# Report your map's accuracy for the area inside the AOA, and mask or flag the rest.
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
# - Breiman, L. (2001). Random forests. *Machine Learning*, 45, 5-32.
