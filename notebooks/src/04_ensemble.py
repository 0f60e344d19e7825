# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Ensemble machine learning, with per-pixel uncertainty
#
# Different models make different mistakes. A Random Forest, gradient-boosted trees and a
# neural network see the same samples in different ways; **stacking** lets a simple
# meta-learner learn how far to trust each of them, class by class. The disagreement
# between the models is one more measure of uncertainty; on the simulated data we check
# whether it points at the map's errors, and how it compares with the uncertainty of the
# ensemble's own probabilities. This is the method behind the European land-cover time
# series of Witjes et al. (2022).
#
# The notebook ends with the four approaches of this tutorial side by side, scored on
# identical folds, and, on the simulated data, with the ensemble's estimate beside the
# true accuracy of its maps (notebook 5 takes that question further).
#
# ## Learning objectives
#
# 1. explain stacking: out-of-fold probabilities of base learners feed a meta-learner;
# 2. build an ensemble of a Random Forest, gradient boosting and a neural network;
# 3. tune a learner (gradient boosting) inside the cross-validation that scores it;
# 4. score the ensemble with nested, spatially blocked cross-validation, and weigh its gain
#    against the fold-to-fold noise;
# 5. read per-class precision-recall curves;
# 6. map per-class uncertainty as the disagreement between base learners, and check it
#    against the errors;
# 7. compare the four approaches honestly, and the ensemble's estimate with the truth.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | Notebooks [1](01_random_forest.ipynb), [2](02_tuned_random_forest.ipynb), [3](03_probabilistic_random_forest.ipynb) | necessary | blocked and nested CV, probabilities |
# | Gradient boosting, neural networks | helpful | [scikit-learn user guide](https://scikit-learn.org/stable/supervised_learning.html) |
#
# **Time to learn**: about 45 minutes. **Runs** in about a minute and a half on one CPU.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/04_ensemble"
n_jobs = 1
random_state = 0
min_class_samples = 10
results_dir = None  # where notebooks 1-3 wrote their results (default: beside output_dir)
hgb_iter = 3  # gradient-boosting settings tried in each outer training part

# %% [markdown]
# ## Imports

# %%
import json
import logging
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
import sklearn
from IPython.display import display
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    make_scorer,
    precision_recall_curve,
    roc_auc_score,
)
from sklearn.model_selection import RandomizedSearchCV, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from odse_tutorial import plotting
from odse_tutorial.classes import ClassTable
from odse_tutorial.datasets import load_dataset
from odse_tutorial.ensemble import StackingEnsemble
from odse_tutorial.evaluation import (
    accuracy_report,
    compare_models,
    map_accuracy,
    paired_difference,
    write_metrics,
)
from odse_tutorial.model_selection import block_cv
from odse_tutorial.overlay import training_data
from odse_tutorial.persistence import save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.raster_io import read_at_points
from odse_tutorial.uncertainty import normalized_entropy
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
# Metadata routing: every estimator says which fit parameters (sample_weight) it wants,
# and pipelines, stacking and cross-validation pass them on (see section 2).
sklearn.set_config(enable_metadata_routing=True)
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
results_dir = Path(results_dir) if results_dir else output_dir.parent

# %% [markdown]
# ## 1. The data, as in notebook 1

# %%
ds = load_dataset(dataset)
for note in ds.notes:
    print("Note:", note)
data = training_data(ds, min_class_samples=min_class_samples)
if data.table.crs.is_geographic:  # block sizes are in metres: project the samples
    data.table.to_crs(data.table.estimate_utm_crs(), inplace=True)
X, y, weights, classes = data.X, data.y, data.weights, data.classes
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features")
dropped = data.class_counts.code[~data.class_counts.kept].astype(str).tolist()
if dropped:
    print(f"Dropped as too rare (fewer than {min_class_samples} samples): {', '.join(dropped)}; "
          "never learned, so never mapped: their pixels go to the kept classes they resemble.")
block_size = ds.cv_block_size or 2000
cv = block_cv(data.table, block_size=block_size, n_splits=5, random_state=random_state,
              location_column=ds.columns.location)
inner_cv = block_cv(data.table, block_size=block_size, n_splits=3, random_state=random_state + 1,
                    location_column=ds.columns.location)
fit_params = {"sample_weight": weights} if weights is not None else {}

# %% [markdown]
# ## 2. Three different learners
#
# - **Random Forest**: many deep trees on bootstrap samples, averaged (notebook 1). Here
#   only 40 trees, named `rf40`, to keep the ensemble within its time budget: it is a
#   smaller forest than notebook 1's 100 trees, and its scores are not notebook 1's.
# - **Gradient boosting** (`HistGradientBoostingClassifier`): shallow trees added one after
#   another, each correcting the errors of the ones before. Fast on binned features. Keep
#   `l2_regularization` above 0: without it, when a leaf holds only samples of one class
#   (easy for rare, distinct classes such as water), the boosting step for that leaf can
#   become huge and the model can *diverge*: its training accuracy first rises, then
#   collapses with more iterations (a known behaviour, scikit-learn issue #11452). Always
#   look at your base learners' scores on their own (section 4 does).
# - **Neural network** (`MLPClassifier`): one hidden layer of 32 units. It needs scaled
#   features, hence the pipeline with a `StandardScaler`.
#
# **Sample weights.** As in notebooks 1-3, each sample counts by its weight (its
# confidence), where the dataset has a weight column (otherwise all count alike). All three
# learners accept `sample_weight` (`MLPClassifier` since scikit-learn 1.7), but a
# `Pipeline` refuses fit parameters it cannot route. With **metadata routing** switched on
# (`sklearn.set_config(enable_metadata_routing=True)`, in the imports), each estimator
# declares what it wants with `set_fit_request(sample_weight=True)`; the pipeline, the
# stacking and `cross_val_predict` then pass the weights to every step that asked.
#
# ## 3. Stacking
#
# `StackingEnsemble` splits the training data into (blocked) folds. For each fold, every
# base learner is fitted on the other folds and predicts class probabilities for the fold
# it did not see. These **out-of-fold** probabilities (3 learners x K classes columns)
# are the features of a **meta-learner**, a logistic regression, that learns how to weigh
# the learners per class. Then the base learners are refitted on all the training data.
# Out-of-fold matters: probabilities on the learners' own training samples would be
# over-confident (a forest almost memorises its training data), and the meta-learner would
# learn to trust the most over-fitted learner.

# %%
hgb = HistGradientBoostingClassifier(max_iter=25, learning_rate=0.3, max_leaf_nodes=15,
                                     l2_regularization=1.0, early_stopping=False,
                                     random_state=random_state).set_fit_request(sample_weight=True)
base_learners = [
    ("rf40", RandomForestClassifier(n_estimators=40, min_samples_leaf=2, random_state=random_state)
     .set_fit_request(sample_weight=True)),
    ("hgb", hgb),
    ("mlp", make_pipeline(StandardScaler().set_fit_request(sample_weight=True),
                          MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, early_stopping=True,
                                        random_state=random_state)
                          .set_fit_request(sample_weight=True))),
]
meta_learner = LogisticRegression(max_iter=1000).set_fit_request(sample_weight=True)
ensemble = StackingEnsemble(base_learners, meta_learner, cv=inner_cv)
print("base learners:", ", ".join(f"{name} ({type(est).__name__})" for name, est in base_learners))
print("meta-learner :", type(meta_learner).__name__, "| inner folds:", inner_cv)

# %% [markdown]
# ## 4. Nested cross-validation
#
# The ensemble has its own inner folds; its score comes from the outer blocked folds, the
# same folds as in notebooks 1-3: `cross_val_predict` fits the whole ensemble (inner folds,
# meta-learner and all) on each outer training part. We score each base learner alone on
# the same outer folds, so that all models are compared on identical folds.
#
# Blocked folds can leave a rare class out of a training part (all its samples fall in
# the held-out blocks). scikit-learn then warns ("Number of classes in training fold ...
# does not match"), and that fit gives the missing class a probability of 0. We collect
# these warnings and print how many fits were concerned.

# %%
codes = np.unique(y)  # the columns of the probabilities
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", RuntimeWarning)
    start = time.perf_counter()
    oof = {"ensemble": cross_val_predict(ensemble, X, y, cv=cv, method="predict_proba",
                                        params=fit_params)}
    ensemble_cv_seconds = time.perf_counter() - start
    for name, learner in base_learners:
        oof[name] = cross_val_predict(learner, X, y, cv=cv, method="predict_proba",
                                      params=fit_params)
lacking = [w for w in caught if "Number of classes in training fold" in str(w.message)]
for w in caught:
    if w not in lacking:  # any other warning is shown as usual
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
if lacking:
    print(f"{len(lacking)} fits (outer or inner folds) had a training part without one of "
          "the classes: those fits give that class a probability of 0.")
fold_of = np.zeros(len(X), dtype=int)
for fold, (_, test) in enumerate(cv.split(X)):
    fold_of[test] = fold

reports = {
    name: accuracy_report(y, codes[proba.argmax(axis=1)], proba, classes=classes,
                          proba_classes=codes)
    for name, proba in oof.items()
}
compare_models(reports)[["overall_accuracy", "f1_weighted", "log_loss", "brier_score"]].round(3)

# %% [markdown]
# Does the ensemble beat its best member, and by more than the noise? A difference
# between two models scored on the same 5 folds is noisy: we look at it fold by fold. The
# mean of the 5 paired differences has a standard error (SE); the difference counts as
# beyond the noise only if it exceeds the t critical value for 4 degrees of freedom
# (`scipy.stats.t.ppf(0.975, 4)`, 2.78) times that SE. Even then, read it as suggestive:
# the folds share most of their training data, which makes this SE too small (Nadeau &
# Bengio 2003). A gain in overall accuracy can hide a loss for a rare class, so the
# per-class changes are printed beside it.


# %%
def fold_scores(proba, metric="accuracy"):
    """A metric of out-of-fold probabilities, per outer fold (as in notebook 2)."""
    key = "overall_accuracy" if metric == "accuracy" else metric
    return pd.Series([
        accuracy_report(y[fold_of == k], codes[proba[fold_of == k].argmax(axis=1)],
                        proba[fold_of == k], classes=classes, proba_classes=codes).summary[key]
        for k in np.unique(fold_of)
    ])


def gain_sentence(name_a, proba_a, name_b, proba_b, metric="accuracy"):
    """How much A beats B in a metric, and whether that is beyond the folds' noise."""
    scores_a, scores_b = fold_scores(proba_a, metric), fold_scores(proba_b, metric)
    paired = paired_difference(scores_a, scores_b)
    n, mean, noise, threshold = paired["n"], paired["mean"], paired["se"], paired["half_width"]
    sign = -1 if metric == "log_loss" else 1  # lower log loss is better
    wins = int((sign * (scores_a - scores_b) > 0).sum())
    if round(mean, 3) == 0 or abs(mean) <= threshold:
        verdict = "within the fold-to-fold noise"
    else:
        verdict = (f"{name_a if sign * mean > 0 else name_b} is better, beyond the "
                   "fold-to-fold noise (suggestive: the folds overlap)")
    return (f"{metric}, {name_a} minus {name_b}: {mean:+.3f} on average over the {n} folds "
            f"({name_a} better in {wins} of {n}; paired SE {noise:.3f}, noise threshold "
            f"t x SE = {threshold:.3f}): {verdict}."), mean, noise


def class_changes(report_a, report_b):
    """Per class: the change (A minus B) in producer's and users' accuracy."""
    a, b = report_a.per_class.set_index("code"), report_b.per_class.set_index("code")
    table = pd.DataFrame({"name": a["name"], "samples": a["support"]})
    for column, label in [("producers_accuracy", "producer's"), ("users_accuracy", "users'")]:
        table[f"{label} change"] = a[column] - b[column]
    return table


best_member = max(["rf40", "hgb", "mlp"], key=lambda n: reports[n].summary["overall_accuracy"])
sentence, ensemble_gain, ensemble_gain_se = gain_sentence("ensemble", oof["ensemble"],
                                                          best_member, oof[best_member])
print(sentence)
print(gain_sentence("ensemble", oof["ensemble"], best_member, oof[best_member],
                    metric="log_loss")[0])
changes = class_changes(reports["ensemble"], reports[best_member])
worst_class = changes["producer's change"].idxmin()
loss = changes.loc[worst_class, "producer's change"]
before = reports[best_member].per_class.set_index("code").loc[worst_class]
label = " ".join(dict.fromkeys([str(worst_class), str(before["name"])]))  # code and name
print(f"Per class (producer's accuracy = recall), {best_member} -> ensemble: the largest "
      f"loss is {label}, {before['producers_accuracy']:.2f} -> "
      f"{before['producers_accuracy'] + loss:.2f} ({int(before['support'])} samples)."
      if loss < 0 else f"Per class, no producer's accuracy falls from {best_member} to the "
      "ensemble.")
changes.round(3)

# %% [markdown]
# ### Tuning the gradient boosting
#
# The 2021 ensemble tuned each learner. Here we tune one, gradient boosting (learning
# rate, tree size, regularisation): we tune it *inside* each outer training part, with a
# random search over blocked inner folds, and score the tuned learner on the same outer
# folds as the fixed settings above. Tuning it inside the stacking as well would repeat the
# search for every inner fold of every outer fold (about 4 times the fits of this cell for
# each of the 6 ensemble fits): beyond this notebook's budget, so the ensemble keeps the
# fixed settings, and this cell tells whether that costs anything.

# %%
hgb_search = RandomizedSearchCV(
    hgb, {"learning_rate": [0.05, 0.1, 0.3], "max_leaf_nodes": [7, 15, 31],
          "l2_regularization": [1.0, 5.0]},
    n_iter=hgb_iter, cv=block_cv(data.table, block_size=block_size, n_splits=2,
                                  random_state=random_state + 2,
                                  location_column=ds.columns.location),
    # Under metadata routing a scorer must say whether it wants the weights: here not.
    scoring=make_scorer(accuracy_score).set_score_request(sample_weight=False),
    random_state=random_state)
start = time.perf_counter()
oof["hgb tuned"] = cross_val_predict(hgb_search, X, y, cv=cv, method="predict_proba",
                                     params=fit_params)
hgb_tuning_seconds = time.perf_counter() - start
reports["hgb tuned"] = accuracy_report(y, codes[oof["hgb tuned"].argmax(axis=1)], oof["hgb tuned"],
                                       classes=classes, proba_classes=codes)
tuned_vs_fixed = compare_models({"hgb (fixed settings)": reports["hgb"],
                                 "hgb (tuned, nested)": reports["hgb tuned"]})
sentence, hgb_gain, hgb_gain_se = gain_sentence("tuned hgb", oof["hgb tuned"], "fixed hgb",
                                                oof["hgb"])
print(sentence)
print(gain_sentence("tuned hgb", oof["hgb tuned"], "fixed hgb", oof["hgb"], metric="log_loss")[0])
print(f"Tuning took {hgb_tuning_seconds:.0f} s.")
tuned_vs_fixed[["overall_accuracy", "f1_weighted", "log_loss", "brier_score"]].round(3)

# %%
report = reports["ensemble"]
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
plotting.plot_confusion_matrix(report, ax=axes[0], title="Ensemble, blocked nested CV")
plotting.plot_reliability_diagram(y, oof["ensemble"], codes, ax=axes[1], title="Ensemble")
plt.show()

# %% [markdown]
# ### Precision-recall curves
#
# The 2021 reports gave, per class, the precision-recall curve of its probability: for
# every threshold on that probability, the precision (users' accuracy) and recall
# (producer's accuracy) of calling a sample that class. The area under the curve (average
# precision) summarises how well the probability ranks the class, at any threshold. (They
# also listed a "break-even" threshold, where precision equals recall; the maps here take
# the most probable class and use no threshold, so we leave it out.)

# %%
per_class = reports["ensemble"].per_class.set_index("code")
fig, ax = plt.subplots(figsize=(7, 6))
for j, code in enumerate(codes):
    precision, recall, _ = precision_recall_curve((y == code).to_numpy(), oof["ensemble"][:, j])
    ax.step(recall, precision, where="post", color=classes.colour_of(code),
            label=f"{classes.name_of(code)} (AP {per_class.loc[code, 'average_precision']:.2f})")
ax.set(title="Ensemble: precision-recall per class (out-of-fold)", xlim=(0, 1.02), ylim=(0, 1.02),
       xlabel="recall (producer's accuracy)", ylabel="precision (users' accuracy)")
ax.legend(fontsize=7, loc="lower left")
plt.show()
per_class[["name", "support", "average_precision"]].round(2)

# %% [markdown]
# ## 5. Maps with uncertainty
#
# The final ensemble is fitted on all samples. Besides probabilities and the dominant
# class, `predict_maps` writes one **uncertainty** layer per class: the standard deviation
# of the three base learners' probabilities for that class (0 % = they agree), and
# `uncertainty.tif`: that spread for the dominant class of each pixel.

# %%
start = time.perf_counter()
ensemble.fit(X, y, **fit_params)
fit_seconds = time.perf_counter() - start
print("meta-learner features:", ", ".join(ensemble.get_feature_names_out()[:4]), "...")
maps = predict_maps(ensemble, ds, output_dir / "maps", classes=classes, n_jobs=n_jobs)
tile, year = ds.tiles[0], ds.years[-1]
shown_years = list(dict.fromkeys([ds.years[0], ds.years[len(ds.years) // 2], year]))


def read_percent(path):
    """A percent map as an array (masked where nodata)."""
    with rasterio.open(path) as src:
        return src.read(1, masked=True)


# One colour scale for the uncertainty of all years shown, fitted to their values.
values = np.concatenate([read_percent(maps.path(tile, y_, "uncertainty")).compressed()
                         for y_ in shown_years])
top = min(100, max(5, 5 * int(np.ceil(np.percentile(values, 99) / 5))))
fig, axes = plt.subplots(2, len(shown_years), figsize=(5.5 * len(shown_years), 9.5),
                         squeeze=False)
for column, y_ in enumerate(shown_years):
    plotting.plot_probability_map(maps.path(tile, y_, "dominant_probability"),
                                  ax=axes[0, column])
    plotting.plot_uncertainty_map(maps.path(tile, y_, "uncertainty"), ax=axes[1, column],
                                  vmax=top)
fig.suptitle(f"Ensemble, tile {tile}: probability of the dominant class (top) and the base "
             "learners' spread for it (bottom)", fontweight="bold")
plt.show()
print(f"The learners' spread for the dominant class in tile {tile}: median "
      f"{np.median(values):.0f} %, 99th percentile {np.percentile(values, 99):.0f} % (the "
      f"colour scale stops at {top} %).")

# %% [markdown]
# Where do the learners disagree most? Look at patch boundaries and at classes that look
# alike. On simulated data we can check which uncertainty points at the errors better. For
# the ensemble's maps: its learners' spread and the normalized entropy of its
# probabilities, two measures of the same errors. For notebook 3's forest maps (if that
# notebook ran): the forest's entropy, against the forest's own errors, a different set of
# errors, so its AUC is shown for reference, not ranked against the ensemble's. The **ROC
# AUC** is the probability that a wrong pixel is more uncertain than a right one (0.5:
# chance).

# %%
def read_classes(path):
    """A class map as positions in ds.classes (-1 where nodata)."""
    with rasterio.open(path) as src:
        values_ = src.read(1, masked=True)
        legend = ClassTable.from_tags(src.tags(), path)
    found, inverse = legend.decode(values_.compressed(), path)  # the codes of the values
    positions = np.full(values_.shape, -1)
    where = np.array([ds.classes.index_of(c) for c in found], dtype=int)
    positions[~np.ma.getmaskarray(values_)] = where[inverse]
    return positions


forest_dir = results_dir / "03_probabilistic_random_forest"
forest_ran = (forest_dir / "metrics.json").exists() and json.loads(
    (forest_dir / "metrics.json").read_text())["dataset"] == ds.name
auc = {}
if ds.has_truth:
    pairs = [(t, y_) for t in ds.tiles for y_ in ds.years]
    truth_paths = [ds.truth(*p) for p in pairs]
    ensemble_paths = [maps.path(*p, "dominant_class") for p in pairs]
    measures = {"ensemble: learners' spread": [], "ensemble: entropy": []}
    errors = {"ensemble": [], "forest": []}
    if forest_ran:
        measures["forest (notebook 3): entropy"] = []
    for (t, y_), truth_path in zip(pairs, truth_paths, strict=True):
        true = read_classes(truth_path)
        mapped = read_classes(maps.path(t, y_, "dominant_class"))
        valid = (true >= 0) & (mapped >= 0)
        errors["ensemble"].append((mapped != true)[valid])
        measures["ensemble: learners' spread"].append(
            read_percent(maps.path(t, y_, "uncertainty")).filled(0)[valid])
        stack = np.stack([read_percent(maps.path(t, y_, "probability", c)).filled(0)[valid]
                          for c in classes.codes], axis=1) / 100
        measures["ensemble: entropy"].append(normalized_entropy(stack))
        if forest_ran:
            forest_map = read_classes(forest_dir / "maps" / t / str(y_) / "dominant_class.tif")
            errors["forest"].append((forest_map != true)[valid])
            measures["forest (notebook 3): entropy"].append(read_percent(
                forest_dir / "maps" / t / str(y_) / "uncertainty.tif").filled(0)[valid])
    for name, parts in measures.items():
        of = "forest" if name.startswith("forest") else "ensemble"
        auc[name] = roc_auc_score(np.concatenate(errors[of]), np.concatenate(parts))
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
    plotting.plot_uncertainty_vs_error([maps.path(*p, "uncertainty") for p in pairs],
                                       ensemble_paths, truth_paths, ax=axes[0],
                                       title="Ensemble errors by the learners' spread")
    if forest_ran:
        plotting.plot_uncertainty_vs_error(
            [forest_dir / "maps" / t / str(y_) / "uncertainty.tif" for t, y_ in pairs],
            [forest_dir / "maps" / t / str(y_) / "dominant_class.tif" for t, y_ in pairs],
            truth_paths, ax=axes[1], title="Forest errors by the forest's entropy (notebook 3)")
        axes[1].set_xlabel("Normalized entropy of the forest's probabilities (%)")
    else:
        axes[1].set_axis_off()
    axes[0].set_xlabel("Learners' spread (SD) of the dominant class's probability (%)")
    plt.show()
    auc_table = pd.Series(auc, name="ROC AUC of uncertainty vs error").round(3)
    display(auc_table.to_frame())
    spread, entropy = auc["ensemble: learners' spread"], auc["ensemble: entropy"]
    if abs(spread - entropy) < 0.02:
        relation = "about as good a predictor of the ensemble's errors as"
    else:
        relation = f"{'a better' if spread > entropy else 'a worse'} predictor of the ensemble's errors than"
    print(f"On the same errors, the learners' spread (AUC {spread:.2f}) is {relation} the "
          f"entropy of the ensemble's probabilities (AUC {entropy:.2f}).")
    if forest_ran:
        print(f"The forest's entropy predicts the forest's own errors with AUC "
              f"{auc['forest (notebook 3): entropy']:.2f} (other errors: not ranked against "
              "these).")
else:
    print("This dataset has no truth maps: which uncertainty points at errors cannot be "
          "checked.")

# %% [markdown]
# A **difference map** between two approaches shows where they disagree, and, with the
# truth, which one was right there.

# %%
if ds.has_truth and forest_ran:
    true = read_classes(ds.truth(tile, year))
    ens = read_classes(maps.path(tile, year, "dominant_class"))
    rf = read_classes(forest_dir / "maps" / tile / str(year) / "dominant_class.tif")
    valid = (true >= 0) & (ens >= 0) & (rf >= 0)
    kind = np.select([(ens == rf) & (ens == true), ens == rf, ens == true, rf == true],
                     [1, 2, 3, 4], 5)
    kinds = ClassTable([1, 2, 3, 4, 5], ["agree, right", "agree, both wrong",
                                         "differ, ensemble right", "differ, forest right",
                                         "differ, both wrong"],
                       ["#e6e6e6", "#7f7f7f", "#009e73", "#e69f00", "#d55e00"])
    with rasterio.open(maps.path(tile, year, "dominant_class")) as src:
        transform, crs = src.transform, src.crs
    ax = plotting.plot_class_map((np.ma.MaskedArray(kind, mask=~valid), transform, crs), kinds,
                                 title=f"Ensemble vs forest (notebook 3), tile {tile}, {year}")
    ax.get_legend().set_title("Pixels")
    plt.show()
    share = pd.Series(np.bincount(kind[valid], minlength=6)[1:] / valid.sum(),
                      index=kinds.names)
    differ = share.iloc[2:].sum()
    if differ > 0:
        print(f"The two maps differ on {differ:.1%} of the pixels. Of those pixels, the "
              f"ensemble is right on {share.iloc[2] / differ:.0%}, the forest on "
              f"{share.iloc[3] / differ:.0%}, neither on {share.iloc[4] / differ:.0%}.")
    else:
        print("The two maps agree on every pixel.")
else:
    print("The difference map with notebook 3's forest needs truth maps and notebook 3's maps "
          "of this dataset; skipped: " + (
              "no truth maps." if not ds.has_truth else "notebook 3 has not run on these data."))

# %%
map_explorer(maps, classes, truth=ds if ds.has_truth else None)

# %% [markdown]
# ## 6. The four approaches side by side
#
# Notebooks 1-3 saved their out-of-fold predictions. They used the same outer folds (same
# blocks, same seed), which we check, so their scores can be compared with the ensemble's.
# Each model appears once: notebook 3 scores the probabilities of notebook 1's forest, so
# when both saved the same predictions they share one row. A notebook that has not been
# run is left out, except notebook 1, whose forest is quick to score here.

# %%
def earlier_results(name):
    """Out-of-fold predictions of an earlier notebook, if it ran on these samples."""
    folder = results_dir / name
    if not (folder / "cv_predictions.csv").exists():
        return None
    frame = pd.read_csv(folder / "cv_predictions.csv", index_col=0)
    metrics = json.loads((folder / "metrics.json").read_text())
    if metrics["dataset"] != ds.name or not frame.index.equals(X.index):
        return None
    if not (frame["fold"].to_numpy() == fold_of).all():
        raise ValueError(f"{name} used other folds; re-run it with the same parameters.")
    return frame[[f"proba_{code}" for code in codes]].to_numpy()


found = {label: earlier_results(name) for name, label in [
    ("01_random_forest", "1. Random Forest"),
    ("02_tuned_random_forest", "2. tuned Random Forest"),
    ("03_probabilistic_random_forest", "3. probabilistic Random Forest")]}
if found["1. Random Forest"] is None:
    del found["1. Random Forest"]  # notebook 1 has not run on these data: score its forest here
    forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs,
                                    random_state=random_state).set_fit_request(sample_weight=True)
    found["1. Random Forest (scored here)"] = cross_val_predict(
        forest, X, y, cv=cv, method="predict_proba", params=fit_params)
first = next(label for label in found if label.startswith("1."))
nb3 = found.get("3. probabilistic Random Forest")
if nb3 is not None and np.allclose(nb3, found[first]):  # the same forest: one row
    found[f"{first} (= 3, same forest)"] = found.pop(first)
    del found["3. probabilistic Random Forest"]
found["4. ensemble (RF + HGB + MLP)"] = oof["ensemble"]
missing = [label for label, proba in found.items() if proba is None]
if missing:
    print("Not run on these data (or not yet), left out:", ", ".join(missing))
rows = {label: accuracy_report(y, codes[proba.argmax(axis=1)], proba, classes=classes,
                               proba_classes=codes)
        for label, proba in found.items() if proba is not None}
comparison = compare_models(rows)[["overall_accuracy", "f1_weighted", "log_loss"]]
comparison.round(3)

# %%
plotting.plot_model_comparison(comparison, metrics=("overall_accuracy", "f1_weighted", "log_loss"))
plt.show()
best = comparison["f1_weighted"].idxmax()
runner_up = comparison["f1_weighted"].drop(best).idxmax()
lead = comparison.loc[best, "f1_weighted"] - comparison.loc[runner_up, "f1_weighted"]
print(f"Highest weighted F1: {best}, by {lead:.3f} over {runner_up}." if round(lead, 3) else
      f"Highest weighted F1: a tie (to 3 decimals) between {best} and {runner_up}.")
print(gain_sentence(best, found[best], runner_up, found[runner_up], metric="f1_weighted")[0])
print(f"The ensemble took {ensemble_cv_seconds:.0f} s to cross-validate.")

# %% [markdown]
# Read the differences against the fold-to-fold noise printed above, and against the
# cost: the ensemble trains three learners and a meta-learner, and predicts with all
# three. It also gives the learners' spread as an uncertainty layer; section 5 printed,
# where the truth is known, whether that layer points at the errors better or worse than
# the entropy of the ensemble's probabilities.
#
# ## 7. The ensemble's estimate beside the truth
#
# Real data never tell how accurate a map is; simulated data do. The maps of section 5
# against the truth maps, over every pixel of every tile and year:

# %%
if ds.has_truth:
    pairs = [(t, y_) for t in ds.tiles for y_ in ds.years]
    true_oa = map_accuracy([maps.path(*p, "dominant_class") for p in pairs],
                           [ds.truth(*p) for p in pairs]).summary["overall_accuracy"]
    estimate = report.summary["overall_accuracy"]
    print(f"Ensemble: blocked nested CV estimated {estimate:.3f}; its maps' true accuracy is "
          f"{true_oa:.3f} ({'pessimistic' if estimate < true_oa else 'optimistic'} by "
          f"{abs(estimate - true_oa):.3f}).")
    # How often do the sample labels agree with the truth at the sample's pixel?
    agree = []
    for (tile_id, year_), group in data.table.groupby([ds.columns.tile, "year"]):
        values = read_at_points(ds.truth(tile_id, year_), group.geometry.x, group.geometry.y)
        agree.append(pd.DataFrame({"source": group["source"],
                                   "label agrees with truth": values == group[ds.columns.class_code]}))
    display(pd.concat(agree).groupby("source")["label agrees with truth"].mean().round(3).to_frame())
else:
    true_oa = None
    print("No truth maps for this dataset: the true accuracy of its maps is unknown.")

# %% [markdown]
# Where truth maps exist, two things separate a CV estimate from the truth: the CV scores
# the model against the sample labels, which are not the truth (the table shows how often
# each source's label agrees with the true class at its pixel), and blocked folds test
# farther from the training data than the map predicts when the samples cover the mapped
# area (the simulated ones do). Notebook 5 separates the two effects and shows when the
# picture turns around.
#
# ## 8. Save the results

# %%
save_model(output_dir / "model.joblib", ensemble, classes=classes, feature_names=list(X.columns))
pd.DataFrame({"fold": fold_of, "y_true": y.to_numpy(),
              "y_pred": codes[oof["ensemble"].argmax(axis=1)]}, index=X.index).join(
    pd.DataFrame(oof["ensemble"], columns=[f"proba_{c}" for c in codes], index=X.index)
).to_csv(output_dir / "cv_predictions.csv")
extra = {"comparison": comparison.round(4).to_dict(orient="index"),
         "ensemble_cv_seconds": ensemble_cv_seconds, "fit_seconds": fit_seconds,
         "best_member": best_member,
         "ensemble_gain": {"accuracy": ensemble_gain, "standard_error": ensemble_gain_se},
         "hgb_tuning": {"fixed": reports["hgb"].summary["overall_accuracy"],
                        "tuned": reports["hgb tuned"].summary["overall_accuracy"],
                        "gain": hgb_gain, "standard_error": hgb_gain_se,
                        "seconds": hgb_tuning_seconds}}
if true_oa is not None:
    extra["truth"] = {"map_accuracy": true_oa, "uncertainty_auc": auc}
write_metrics(
    output_dir,
    notebook="04_ensemble",
    dataset=ds.name,
    cv=f"nested: outer {cv!r}; the ensemble's own 3 blocked inner folds",
    report=report,
    maps=maps,
    **extra,
)
print(f"Saved the model, {len(maps.paths())} map files and metrics.json in {output_dir}")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Is stacking better than simply averaging the three learners'
# probabilities ("soft voting")? Guess first, for accuracy and for log loss. Then use the
# out-of-fold probabilities already computed in section 4 (`oof`), so both are scored on
# the identical folds. (Solutions run silently on "Run All"; `solution_1.show()` shows
# the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
average = (oof["rf40"] + oof["hgb"] + oof["mlp"]) / 3
voting = accuracy_report(y, codes[average.argmax(axis=1)], average, classes=classes,
                         proba_classes=codes)
versus = compare_models({"average of the learners": voting, "stacking": report})[
    ["overall_accuracy", "f1_weighted", "log_loss"]]
display(versus.round(3))
for metric in versus.columns:  # each difference, fold by fold, against the noise
    print(gain_sentence("stacking", oof["ensemble"], "average", average, metric=metric)[0])
# The meta-learner can weigh each learner per class; a plain average cannot, but it needs
# no extra fitting at all. The lines above say whether that extra fitting paid off here.

# %% [markdown]
# **Exercise 2.** The meta-learner's coefficients show how much each learner's probability
# of each class counts. Guess first: which learner does it trust most for the most common
# class? (`solution_2.show()`)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
meta = ensemble.final_estimator_
# scikit-learn's meta-learner knows the classes as 0..K-1: position k is ensemble.classes_[k].
coef = pd.DataFrame(meta.coef_, index=ensemble.classes_, columns=ensemble.get_feature_names_out())
common = y.value_counts().index[0]
row = coef.loc[common]
print(f"class {common}: the largest weights on", row.sort_values(ascending=False).head(3).round(2).to_dict())

# %% [markdown]
# ## Key points
#
# - Stacking feeds **out-of-fold** probabilities of different learners to a meta-learner,
#   then refits the learners on all data.
# - The disagreement between base learners is one more, per-class uncertainty layer, not
#   automatically the best one: check it against the errors where you can, beside the
#   entropy of the ensemble's probabilities (section 5 prints both ROC AUCs).
# - Compare approaches on **identical** folds, and weigh gains against fold-to-fold noise
#   and cost; tune learners inside the CV that scores them.
# - Metadata routing passes sample weights through pipelines and stacking.
# - Per-class precision-recall curves show how well each class's probability ranks the
#   samples of that class.
# - Cross-validation estimates a map's accuracy; label noise and where the map is used
#   decide how good that estimate is (notebook 5).
#
# ## What's next
#
# - [Notebook 5](05_validation_against_truth.ipynb): which cross-validation to believe,
#   against the truth, under two sampling designs.
# - Run the notebooks on real imagery: set `dataset = "netherlands"`.
# - Bring your own data: lay it out as described in `odse_tutorial/datasets.py`.
# - Read Witjes et al. (2022) for the continental-scale version of this workflow.
#
# ## References
#
# - Witjes, M. et al. (2022). A spatiotemporal ensemble machine learning framework for
#   generating land use/land cover time-series maps for Europe (2000-2019) based on LUCAS,
#   CORINE and GLAD Landsat. *PeerJ*, 10, e13573.
# - Wolpert, D. H. (1992). Stacked generalization. *Neural Networks*, 5, 241-259.
# - Ploton, P. et al. (2020). Spatial validation reveals poor predictive performance of
#   large-scale ecological mapping models. *Nature Communications*, 11, 4540.
# - Wadoux, A. M. J.-C. et al. (2021). Spatial cross-validation is not the right way to
#   evaluate map accuracy. *Ecological Modelling*, 457, 109692.
# - Olofsson, P. et al. (2014). Good practices for estimating area and assessing accuracy
#   of land change. *Remote Sensing of Environment*, 148, 42-57.
