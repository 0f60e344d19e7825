# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Validation against the truth: which cross-validation to believe?
#
# Notebooks 1-4 estimated the accuracy of their maps with cross-validation (CV), and
# the estimates disagreed: random folds said one thing, blocked folds another. Real data
# never tell which one is right. The simulated landscape does: it knows the true class of
# every pixel in every year. Here we put every CV estimate beside the truth, for **two
# sampling designs** of the same landscape:
#
# - the **systematic** sample of notebooks 1-4 (a grid of field-survey locations plus
#   random map points): a probability sample spread over the whole mapped area;
# - a **clustered, preferential** sample: field campaigns in clusters near towns, the way
#   many real reference data are collected (close to roads and settlements).
#
# The rule from the literature: choose the CV whose test points are as far from their
# training points as the map's pixels are from the training data. Section 5 shows, with
# the truth, how far that rule gets on each design, and what it leaves over.
#
# ## Learning objectives
#
# 1. separate the reasons why a CV estimate differs from the truth: noisy reference
#    labels, and folds and sample points that do not test what the map does;
# 2. compute nearest-neighbour distances from prediction locations and from CV test
#    points to their training data, as CAST's `geodist` does;
# 3. choose a cross-validation whose distances match the prediction distances;
# 4. explain when random CV is right (a probability sample covering the mapped area) and
#    when it is badly optimistic (clustered samples, extrapolation).
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 1](01_random_forest.ipynb) | necessary | overlay, random and blocked CV |
# | [Notebook 4](04_ensemble.ipynb), section 7 | helpful | CV estimates beside the truth |
#
# **Time to learn**: about 30 minutes. **Runs** in under a minute on one CPU.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/05_validation_against_truth"
n_jobs = 1
random_state = 0
min_class_samples = 10
n_trees = 50  # a smaller forest than notebook 1's: 2 designs x 5 CVs to run
pixels_per_map = 1000  # random pixels per tile and year, to measure the maps' true accuracy
cluster_radius = 270  # m: points linked by neighbours this close form one cluster (campaign)
n_bootstrap = 1000  # resamples of the clusters, for the standard errors of the CV estimates
n_halves = 5  # Exercise 1: random halves of the clustered sample's campaigns

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import wasserstein_distance
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_predict

from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset
from odse_tutorial.evaluation import accuracy_report, paired_difference, write_metrics
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.model_selection import block_cv, location_cv, random_cv
from odse_tutorial.overlay import overlay_samples
from odse_tutorial.raster_io import read_at_points

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Two samples of one landscape
#
# The simulated dataset ships a second sample beside `samples.gpkg`:
# `samples_clustered.gpkg`, 25 field campaigns near towns (see `data/README.md`). Real
# datasets have one sample only; this notebook then compares the CVs without the truth.
#
# The file does not say which campaign a point belongs to, and campaigns near the same
# town overlap. We take the campaigns as the data show them: **spatial clusters**, points
# linked by neighbours within `cluster_radius` metres (single linkage). The same clusters
# serve the standard errors of section 3 (resampling whole clusters, since neighbouring
# points are not independent) and Exercise 1.

# %%
ds = load_dataset(dataset)
cols = ds.columns
features = list(ds.feature_names)
designs = {"systematic" if ds.has_truth else "samples": ds.samples}
clustered_path = ds.samples_path.with_name("samples_clustered.gpkg")
if ds.has_truth and clustered_path.exists():
    designs["clustered"] = gpd.read_file(clustered_path)


def prepare(samples):
    """Overlay the samples on their years' layers and drop classes too rare to CV."""
    table, _ = overlay_samples(ds, samples)
    if table.crs.is_geographic:  # block sizes and distances are in metres: project
        table = table.to_crs(table.estimate_utm_crs())
    keep, _ = drop_rare_classes(table[cols.class_code], min_count=min_class_samples)
    return table[keep]


def truth_at(points):
    """The true class at each point, read from the truth map of its tile and year."""
    values = pd.Series(0, index=points.index, dtype="int64")
    for (tile, year), group in points.groupby([cols.tile, "year"]):
        found = read_at_points(ds.truth(tile, year), group.geometry.x, group.geometry.y)
        values[group.index] = found.filled(0)
    return values


def spatial_clusters(table):
    """Cluster number of each point: points linked by neighbours within cluster_radius."""
    xy = np.c_[table.geometry.x, table.geometry.y]
    pairs = cKDTree(xy).query_pairs(cluster_radius, output_type="ndarray")
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy),) * 2)
    return connected_components(links, directed=False)[1]


tables = {name: prepare(samples) for name, samples in designs.items()}
for table in tables.values():
    table["cluster"] = spatial_clusters(table)
pd.DataFrame({name: {"samples": len(t), "classes": t[cols.class_code].nunique(),
                     "locations": t[cols.location].nunique() if cols.location else len(t),
                     f"clusters ({cluster_radius} m)": t["cluster"].nunique()}
              for name, t in tables.items()}).T

# %%
fig, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 4.2), squeeze=False)
for ax, (name, table) in zip(axes[0], tables.items(), strict=True):
    plotting.plot_samples(table, ds.classes, column=cols.class_code, ax=ax,
                          title=f"{name} sample: {len(table)} points, all years")
plt.show()

# %% [markdown]
# ## 2. The true accuracy of the maps
#
# The maps cover every pixel of both tiles in every year. To know their true accuracy
# without writing all the maps, we draw a **simple random sample of pixels** per tile and
# year, read their features (an overlay, as for the samples) and their true class, and
# compare the model's prediction with the truth: a design-based estimate, unbiased, whose
# standard error we print. The same pixels are the **prediction locations** of section 4.
#
# The numbers here need not equal notebook 1's for the same systematic sample: this
# notebook fits a smaller forest (`n_trees`, to afford 2 designs x 5 CVs), and estimates
# the true accuracy from random pixels (with a standard error) instead of counting it over
# the whole maps.

# %%
rng = np.random.default_rng(random_state)
frames = []
for tile in ds.tiles:
    with rasterio.open(next(iter(ds.layers(tile, ds.years[0]).values()))) as src:
        bounds, crs = src.bounds, src.crs
    for year in ds.years:
        x = rng.uniform(bounds.left, bounds.right, pixels_per_map)
        y_ = rng.uniform(bounds.bottom, bounds.top, pixels_per_map)
        frames.append(gpd.GeoDataFrame(
            {"year": np.full(pixels_per_map, year), cols.class_code: 0, cols.tile or "tile": tile},
            geometry=gpd.points_from_xy(x, y_), crs=crs))
pixels, _ = overlay_samples(ds, pd.concat(frames, ignore_index=True), date_column="year")
if ds.has_truth:
    pixels["truth"] = truth_at(pixels)
    pixels = pixels[pixels["truth"] > 0]  # nodata in the truth: outside the study area
print(f"{len(pixels)} random pixels (nodata and cloud gaps left out), "
      f"{len(ds.tiles)} tiles x {len(ds.years)} years")


def forest():
    """The notebook's model (unfitted)."""
    return RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=2, n_jobs=n_jobs,
                                  random_state=random_state)


def fit_forest(table):
    """The notebook's model, fitted on one design's samples."""
    return forest().fit(table[features], table[cols.class_code], sample_weight=weights_of(table))


def weights_of(table):
    """The samples' confidence as sample weights, if the dataset has them."""
    return table[cols.weight] if cols.weight else None


true_accuracy = {}
if ds.has_truth:
    for name, table in tables.items():
        correct = fit_forest(table).predict(pixels[features]) == pixels["truth"].to_numpy()
        true_accuracy[name] = correct.mean()
        print(f"{name:10s}: true map accuracy {correct.mean():.3f} "
              f"(standard error {correct.std() / np.sqrt(correct.size):.3f})")
else:
    print("No truth maps for this dataset: the maps' true accuracy is unknown.")

# %% [markdown]
# ## 3. Five cross-validations, scored against the labels and against the truth
#
# For each design, five CVs: random folds, leave-location-out folds (all years of a
# location in one fold), blocked folds with the blocks of notebooks 1-4, and blocked folds
# with two and three times larger blocks (section 4 says why the block size matters; a
# blocked CV whose blocks are too few for 5 folds is left out). Each out-of-fold
# prediction is scored twice:
#
# - against the **recorded labels**, as one must with real data;
# - against the **true class at the sample point** (read from the truth map), which only
#   simulated data allow. The difference between the two is the effect of **label
#   noise**; the difference between the second and the true map accuracy is the effect of
#   the **fold design and the sampling design** together: where the folds test, compared
#   with where the map predicts, and which points (places, classes) the sample holds,
#   compared with the map's pixels.
#
# Each estimate gets a standard error from a **cluster bootstrap**: the clusters of
# section 1 are resampled with replacement `n_bootstrap` times and the out-of-fold
# predictions rescored (the models are not refitted, so the variation of the fitted
# forests is left out: a lower bound on the uncertainty).

# %%
block_size = ds.cv_block_size or 2000
candidate_blocks = [block_size, 2 * block_size, 3 * block_size]


def splitters(table):
    """The CVs to compare: name -> scikit-learn splitter."""
    cvs = {"random": random_cv(5, random_state=random_state)}
    if cols.location:
        cvs["location"] = location_cv(table, location_column=cols.location,
                                      random_state=random_state)
    for size in candidate_blocks:
        cv = block_cv(table, size, n_splits=5, location_column=cols.location,
                      random_state=random_state)
        if cv.groups.nunique() >= 5:  # large blocks on a small area: too few for 5 folds
            cvs[f"blocks {size / 1000:g} km"] = cv
    return cvs


def nearest(train_xy, query_xy):
    """Distance from each query point to its nearest training point (metres)."""
    return cKDTree(train_xy).query(query_xy)[0]


rows, distances, oof = [], {}, {}
for name, table in tables.items():
    X, y, xy = table[features], table[cols.class_code], np.c_[table.geometry.x, table.geometry.y]
    truth = truth_at(table) if ds.has_truth else None
    distances[name] = {"prediction": nearest(xy, np.c_[pixels.geometry.x, pixels.geometry.y])}
    for cv_name, cv in splitters(table).items():
        predicted = cross_val_predict(forest(), X, y, cv=cv,
                                      params={"sample_weight": weights_of(table)})
        to_train = np.zeros(len(X))
        for train, test in cv.split(X, y):
            to_train[test] = nearest(xy[train], xy[test])
        distances[name][cv_name] = to_train
        oof[name, cv_name] = predicted
        rows.append({"design": name, "cv": cv_name,
                     "vs labels": np.mean(predicted == y),
                     "vs truth at points": np.mean(predicted == truth) if truth is not None
                     else np.nan,
                     "median distance (m)": np.median(to_train),
                     "W (m)": wasserstein_distance(to_train, distances[name]["prediction"])})
estimates = pd.DataFrame(rows).set_index(["design", "cv"])
estimates["true map accuracy"] = [true_accuracy.get(d, np.nan) for d, _ in estimates.index]


def cluster_bootstrap(table, correct):
    """Accuracies of n_bootstrap cluster resamples, one column per CV (name -> 0/1 array)."""
    codes = pd.factorize(table["cluster"])[0]
    sums = np.array([np.bincount(codes, weights=c) for c in correct.values()]).T
    counts = np.bincount(codes)
    draws = np.random.default_rng(random_state).multinomial(
        codes.max() + 1, np.full(codes.max() + 1, 1 / (codes.max() + 1)), size=n_bootstrap)
    return pd.DataFrame((draws @ sums) / (draws @ counts)[:, None], columns=list(correct))


boot = {name: cluster_bootstrap(table, {cv: oof[name, cv] == table[cols.class_code].to_numpy()
                                        for n, cv in oof if n == name})
        for name, table in tables.items()}
estimates["SE"] = [boot[d][cv].std() for d, cv in estimates.index]
estimates[["vs labels", "SE", "vs truth at points"]].unstack("design").round(3)

# %% [markdown]
# `W` is the Wasserstein distance between the distribution of a CV's test-to-training
# distances and that of the prediction-to-training distances (the statistic kNNDM
# minimises, Linnenbrink et al. 2024): 0 when the CV tests at the distances at which the
# map predicts.
#
# ## 4. Distances decide: prediction-to-training versus test-to-training
#
# A map predicts every pixel; each pixel has a nearest training sample at some distance.
# A CV fold tests each left-out point at the distance to its nearest *training* point.
# If the CV tests much closer than the map predicts, it measures interpolation while the
# map extrapolates: optimistic. If it tests much farther, it is pessimistic
# (Meyer & Pebesma 2022; Milà et al. 2022).

# %%
fig, axes = plt.subplots(1, len(distances), figsize=(6.5 * len(distances), 4.5), squeeze=False)
for ax, (name, by_cv) in zip(axes[0], distances.items(), strict=True):
    for cv_name, values in by_cv.items():
        ordered = np.sort(np.maximum(values, 1.0))  # 1 m floor: the x axis is logarithmic
        style = {"color": "black", "lw": 3} if cv_name == "prediction" else {"lw": 1.5}
        label = "prediction to training" if cv_name == "prediction" else f"CV test to training: {cv_name}"
        ax.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=label, **style)
    ax.set(xscale="log", xlabel="distance to the nearest training point (m)",
           ylabel="cumulative share of points", title=f"{name} sample")
    ax.legend(fontsize=8, loc="lower right")
fig.suptitle("Nearest-neighbour distances: does the CV test where the map predicts?")
plt.show()

matched = estimates["W (m)"].groupby(level="design").idxmin().map(lambda key: key[1])
for name in tables:
    print(f"{name} sample: the map predicts at a median {np.median(distances[name]['prediction']):.0f} m "
          f"from the training data; the CV that tests at the most similar distances is "
          f"'{matched[name]}' (W = {estimates.loc[(name, matched[name]), 'W (m)']:.0f} m).")

# %% [markdown]
# ## 5. Every estimate beside the truth

# %%
if ds.has_truth:
    table = estimates[["vs labels", "SE", "vs truth at points", "true map accuracy"]].copy()
    table["labels - truth"] = table["vs labels"] - table["true map accuracy"]
    table["at points - truth"] = table["vs truth at points"] - table["true map accuracy"]
    table["matched"] = [cv == matched[d] for d, cv in table.index]
    display(table.round(3))
    for name in tables:
        part = table.loc[name]
        best = part["labels - truth"].abs().idxmin()
        random_error, random_se = part.loc["random", "labels - truth"], part.loc["random", "SE"]
        noise = part["vs truth at points"] - part["vs labels"]
        side = "optimistic" if random_error > 0 else "pessimistic"
        print(f"{name} sample (true map accuracy {true_accuracy[name]:.3f}): random CV is {side} "
              f"by {abs(random_error):.3f} (its standard error {random_se:.3f}); the "
              f"distance-matched CV '{matched[name]}' is off by "
              f"{part.loc[matched[name], 'labels - truth']:+.3f} (standard error "
              f"{part.loc[matched[name], 'SE']:.3f}). Label noise lowers "
              + (f"every estimate, by {noise.min():.3f} to {noise.max():.3f}."
                 if (noise > 0).all() else f"the estimates by {noise.mean():.3f} on average."))
        if best != matched[name]:  # the rule did not pick the closest: beyond the noise?
            gap = (boot[name][matched[name]] - part.loc[matched[name], "true map accuracy"]).abs() \
                - (boot[name][best] - part.loc[best, "true map accuracy"]).abs()
            low, high = gap.quantile([0.025, 0.975])
            beyond = low > 0
            print(f"  The closest estimate is '{best}' ({part.loc[best, 'labels - truth']:+.3f}), "
                  f"closer than the distance-matched one by {gap.mean():.3f} (cluster-bootstrap "
                  f"95% interval {low:.3f} to {high:.3f}: "
                  f"{'beyond' if beyond else 'within'} the noise of the sample points). Matching the distances "
                  "addresses where the folds test, not the sampling design (which places and "
                  "classes the sample holds) nor the label noise; what is left is their share.")
        else:
            print(f"  The distance-matched CV is also the closest estimate of the {len(part)}.")
else:
    print("No truth maps for this dataset: the estimates cannot be put beside the truth; "
          "choose the CV whose test distances match the prediction distances (section 4).")
    display(estimates[["vs labels", "SE", "median distance (m)", "W (m)"]].round(3))

# %% [markdown]
# How to read the table on the bundled simulated data (each statement is checked on its
# numbers by the tutorial's tests, `tests/test_claims.py`; on other data, trust the
# printed sentences):
#
# - **Label noise.** Scored against the true class at the sample points, every CV
#   estimate is higher than scored against the recorded labels: part of every CV's
#   pessimism is the reference data's error, not the map's. With real data you cannot
#   remove it; you can measure it with a better reference sample (Olofsson et al. 2014).
# - **Systematic sample.** The samples cover the mapped area, so the map interpolates: its
#   pixels are about as close to training points as a left-out location is to the others.
#   Random and leave-location-out CV test at those distances, and against the truth at the
#   points they are close to the true map accuracy; blocked CV tests farther than the map
#   ever predicts and is pessimistic (Wadoux et al. 2021). Which of random and
#   leave-location-out comes closer, and whether that difference is beyond the noise, is
#   printed above: matching the distances fixes the fold design, not the rest of the gap.
# - **Clustered sample.** Most pixels are kilometres from any campaign, while a random
#   fold leaves a test point metres from its training neighbours: random CV is badly
#   optimistic (Ploton et al. 2020). Larger blocks test at distances closer to the
#   prediction distances, and the matched CV comes far closer to the truth.
#
# The rule: **compute the prediction-to-training distances and choose the CV whose
# test-to-training distances match them** (Meyer & Pebesma 2022; Milà et al. 2022), not
# "always blocked" nor "always random". Where no CV can match (the map extrapolates into
# conditions the sample never saw), say so, and map the area of applicability
# (notebook 6).

# %% [markdown]
# ## 6. Save the results

# %%
first, headline = next(iter(tables)), f"blocks {block_size / 1000:g} km"
report = accuracy_report(tables[first][cols.class_code], oof[first, headline])
cv_estimates = {
    name: {cv: {"labels": row["vs labels"], "truth": row["vs truth at points"],
                "median_distance_m": row["median distance (m)"], "w_distance_m": row["W (m)"]}
           for cv, row in estimates.loc[name].iterrows()}
    for name in tables
}
extra = {"cv_estimates": cv_estimates, "matched_cv": matched.to_dict(),
         "prediction_median_distance_m": {name: np.median(d["prediction"])
                                          for name, d in distances.items()}}
if ds.has_truth:
    extra["truth"] = {"map_accuracy": true_accuracy[first], "map_accuracy_pixels": len(pixels),
                      "design_map_accuracy": true_accuracy}
write_metrics(output_dir, notebook="05_validation_against_truth", dataset=ds.name,
              cv=f"headline: SpatialKFold, blocked {block_size:g} m; random, location and "
                 "larger blocks compared", report=report, **extra)
print("wrote", output_dir / "metrics.json")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Before you run it: if the clustered sample had twice as many campaigns
# (more clusters, spread wider), would random CV's optimism grow or shrink? Write down
# your guess, then test it the other way round, on half of the campaigns: keep a random
# half of the spatial clusters of section 1 (`tables["clustered"]["cluster"]`), fit, and
# compare random CV with the truth again. One half is one draw: repeat with `n_halves`
# different halves to see how much the answer varies. (The solution runs silently on
# "Run All"; `solution_1.show()` shows its output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
clustered_ids = np.unique(tables["clustered"]["cluster"]) if "clustered" in tables else []
if len(clustered_ids) >= 4 and ds.has_truth:
    full = tables["clustered"]
    optimism_all = estimates.loc[("clustered", "random"), "vs labels"] - true_accuracy["clustered"]
    draw = np.random.default_rng(random_state)
    optimism_half = []
    for _ in range(n_halves):
        chosen = draw.choice(clustered_ids, size=len(clustered_ids) // 2, replace=False)
        half = full[full["cluster"].isin(chosen)]
        half = half[drop_rare_classes(half[cols.class_code], min_count=min_class_samples)[0]]
        model = fit_forest(half)
        true_half = np.mean(model.predict(pixels[features]) == pixels["truth"].to_numpy())
        random_half = np.mean(cross_val_predict(
            model, half[features], half[cols.class_code], cv=random_cv(5, random_state=random_state),
            params={"sample_weight": weights_of(half)}) == half[cols.class_code])
        optimism_half.append(random_half - true_half)
        print(f"{len(chosen)} of {len(clustered_ids)} clusters ({len(half)} samples): random CV "
              f"{random_half:.3f}, true map accuracy {true_half:.3f}, optimism "
              f"{random_half - true_half:+.3f}")
    change = paired_difference(optimism_half, np.full(n_halves, optimism_all))
    mean_change, half_width = change["mean"], change["half_width"]
    verdict = ("within the noise: these halves do not tell whether fewer campaigns change it"
               if abs(mean_change) <= half_width else
               f"with half the campaigns the optimism {'grows' if mean_change > 0 else 'shrinks'}"
               f", so with more campaigns it would {'shrink' if mean_change > 0 else 'grow'}")
    print(f"All {len(clustered_ids)} clusters: optimism {optimism_all:+.3f}. Half of them, mean "
          f"of {n_halves} draws: {np.mean(optimism_half):+.3f}; change {mean_change:+.3f} "
          f"+- {half_width:.3f} (95% t interval over the draws): {verdict}.")
else:
    print("Needs the clustered sample with at least 4 clusters and the truth maps: skipped.")
# What to expect: fewer clusters leave more of the landscape far from any sample, so the
# map extrapolates more while random CV still tests next door; but each half also holds
# different towns and classes. The printed interval says whether the change is larger
# than what the choice of the half alone does.

# %% [markdown]
# **Exercise 2.** Predict first: for the systematic sample, which of the CVs would
# you report in a paper, and why? Then look at the distance figure again and at the
# `W (m)` column. Would your answer change for a map of the whole country made from
# these two tiles' samples?

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
print(f"For the mapped area: '{matched[first]}' (its distances match the prediction distances).")
# For a map of the whole country, the prediction-to-training distances would be far larger
# (most pixels hundreds of km from these samples): no CV with these samples tests at such
# distances; the honest answer is to collect a probability sample over the country, or to
# restrict the map to its area of applicability (notebook 6).

# %% [markdown]
# ## Key points
#
# - A CV estimate differs from the truth for two reasons: **label noise** (scored against
#   noisy labels, every estimate is lower than when scored against the true class) and the
#   **fold design + sampling design** (where the folds test, compared with where the map
#   predicts; which points the sample holds, compared with the map's pixels).
# - With a probability sample that covers the mapped area, the map interpolates: random or
#   leave-location-out CV tests at the right distances; blocked CV is pessimistic.
# - With clustered, preferential samples the map extrapolates: random CV is badly
#   optimistic; folds that test at the prediction distances come close to the truth.
# - Choose the CV by comparing **nearest-neighbour distance distributions**
#   (prediction-to-training vs test-to-training), as CAST's `geodist` and kNNDM do.
# - Best of all, for the accuracy of a map: an independent probability sample and a
#   design-based estimate with its confidence interval (Olofsson et al. 2014; notebook 3).
#
# ## What's next
#
# Notebook 6 maps where a model can be trusted at all: the **area of applicability**.
#
# ## References
#
# - Wadoux, A. M. J.-C., Heuvelink, G. B. M., de Bruin, S. & Brus, D. J. (2021). Spatial
#   cross-validation is not the right way to evaluate map accuracy. *Ecological
#   Modelling*, 457, 109692.
# - Ploton, P. et al. (2020). Spatial validation reveals poor predictive performance of
#   large-scale ecological mapping models. *Nature Communications*, 11, 4540.
# - Meyer, H. & Pebesma, E. (2022). Machine learning-based global maps of ecological
#   variables and the challenge of assessing them. *Nature Communications*, 13, 2208.
# - Milà, C., Mateu, J., Pebesma, E. & Meyer, H. (2022). Nearest neighbour distance
#   matching Leave-One-Out Cross-Validation for map validation. *Methods in Ecology and
#   Evolution*, 13, 1304-1316.
# - Linnenbrink, J., Milà, C., Ludwig, M. & Meyer, H. (2024). kNNDM CV: k-fold nearest-
#   neighbour distance matching cross-validation for map accuracy estimation.
#   *Geoscientific Model Development*, 17, 5897-5912.
# - Olofsson, P. et al. (2014). Good practices for estimating area and assessing accuracy
#   of land change. *Remote Sensing of Environment*, 148, 42-57.
