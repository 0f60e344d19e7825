# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Tuning the Random Forest, without fooling yourself
#
# A Random Forest has settings that are not learned from the data: how many features each
# split may look at, how small a leaf may get, how many trees to grow. These are
# **hyperparameters**. Searching for good values can improve a model, and it can also fool
# you: the score of the best of many tries, on the folds used to pick it, is optimistic.
# The cure is **nested cross-validation**: tune inside each training part, score on the
# outer fold that tuning never saw.
#
# ## Learning objectives
#
# 1. name the hyperparameters of a Random Forest that matter most;
# 2. tune them with `RandomizedSearchCV` over spatially blocked folds;
# 3. explain why `best_score_` is not the accuracy of the tuned model;
# 4. measure the accuracy of the tuned model with nested cross-validation;
# 5. judge whether tuning was worth its cost, on identical folds.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | [Notebook 1](01_random_forest.ipynb) | necessary | data, overlay, blocked CV, accuracy report |
# | Hyperparameter search in scikit-learn | helpful | [Tuning the hyper-parameters](https://scikit-learn.org/stable/modules/grid_search.html) |
#
# **Time to learn**: about 30 minutes. **Runs** in about a minute on one CPU.

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "outputs/02_tuned_random_forest"
n_jobs = 1
random_state = 0
min_class_samples = 10
n_iter = 6  # hyperparameter combinations tried by the random search
curse_samples = 400  # the winner's-curse demonstration: a small sample ...
curse_iter = 40  # ... and many settings of a learner that overfits,
curse_repeats = 10  # ... searched again on this many fold assignments

# %% [markdown]
# ## Imports

# %%
import json
import logging
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import randint
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import (
    RandomizedSearchCV,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.tree import DecisionTreeClassifier

from odse_tutorial import plotting
from odse_tutorial.datasets import load_dataset
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
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data, as in notebook 1
#
# `training_data` repeats the steps of notebook 1: overlay every sample on the layers of
# its survey year, then drop classes too rare to cross-validate.

# %%
ds = load_dataset(dataset)
for note in ds.notes:
    print("Note:", note)
data = training_data(ds, min_class_samples=min_class_samples)
if data.table.crs.is_geographic:  # block sizes are in metres: project the samples
    data.table.to_crs(data.table.estimate_utm_crs(), inplace=True)
print(data.overlay_report)
X, y, weights, classes = data.X, data.y, data.weights, data.classes
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features")
dropped = data.class_counts.code[~data.class_counts.kept].astype(str).tolist()
if dropped:
    print(f"Dropped as too rare (fewer than {min_class_samples} samples): {', '.join(dropped)}; "
          "never learned, so never mapped: their pixels go to the kept classes they resemble.")

block_size = ds.cv_block_size or 2000
outer_cv = block_cv(data.table, block_size=block_size, n_splits=5, random_state=random_state,
                    location_column=ds.columns.location)
outer_cv

# %% [markdown]
# ## 2. Which hyperparameters?
#
# - `max_features`: how many features each split may choose from. Fewer makes the trees
#   more different from each other (good for the vote), too few makes each tree weak.
# - `min_samples_leaf`: the smallest leaf. Larger leaves smooth the decision (and the
#   probabilities), smaller leaves fit the training data more closely.
# - `max_samples`: the share of samples drawn for each tree.
# - `n_estimators`: more trees never hurt accuracy, only time; it is not worth tuning. We
#   use 50 trees while searching, to keep it fast.
#
# A random search draws `n_iter` combinations from these distributions. With few
# combinations it usually finds settings as good as a full grid, at a fraction of the cost.

# %%
search_space = {
    "max_features": [0.1, 0.2, 0.35, 0.5],
    "min_samples_leaf": randint(1, 9),
    "max_samples": [0.5, 0.8, None],
}
inner_cv = block_cv(data.table, block_size=block_size, n_splits=3, random_state=random_state + 1,
                    location_column=ds.columns.location)
search = RandomizedSearchCV(
    RandomForestClassifier(n_estimators=50, n_jobs=n_jobs, random_state=random_state),
    search_space,
    n_iter=n_iter,
    cv=inner_cv,
    scoring="f1_weighted",
    random_state=random_state,
)
print(f"{n_iter} random settings x {inner_cv.get_n_splits()} blocked inner folds, "
      f"scored by {search.scoring}")

# %% [markdown]
# The inner folds are **blocked** too: tuning on random folds would favour settings that
# memorise places, the very thing blocked validation guards against.
#
# ## 3. The trap: `best_score_`
#
# Fit the search once on all samples, and look at the best score it reports.

# %%
start = time.perf_counter()
search.fit(X, y, sample_weight=weights)
search_seconds = time.perf_counter() - start
print(f"search took {search_seconds:.1f} s")
print("best parameters:", search.best_params_)
print(f"best_score_ (weighted F1 on the folds used for choosing): {search.best_score_:.3f}")
trials = pd.DataFrame(search.cv_results_["params"]).assign(
    mean_f1=search.cv_results_["mean_test_score"], std_f1=search.cv_results_["std_test_score"],
    rank=search.cv_results_["rank_test_score"])
trials.sort_values("rank").round(3)

# %% [markdown]
# `best_score_` is the **highest** of several noisy scores, measured on the same folds that
# chose it. Picking the maximum of noisy numbers favours lucky ones, so it tends to
# over-estimate how well the chosen settings will do: a **winner's curse**. The curse grows
# with the number of settings tried, with learners whose score swings with their settings,
# and with fewer samples; a search over a few settings of a forest on thousands of samples
# is a mild case. Here is a harsher one: `curse_iter` settings of a single decision tree
# (which overfits easily), tuned on `curse_samples` samples (or all, if there are fewer).
#
# One search is one draw: its folds may happen to be easy or hard. So we repeat the search
# on `curse_repeats` different fold assignments and, each time, score the winning settings
# again on 5 *fresh* fold assignments (other blocks in the test folds) that played no part
# in choosing them. The curse is the average of `best_score_` minus the fresh score over the
# repeats; its noise is the standard error over the repeats, with the t critical value.

# %%
small = data.table.sample(min(curse_samples, len(data.table)), random_state=random_state)
X_small, y_small = small[X.columns], small[ds.columns.class_code]


def small_cv(seed):
    """3 blocked folds of the small sample, drawn with ``seed``."""
    return block_cv(small, block_size, n_splits=3, random_state=seed,
                    location_column=ds.columns.location)


curse_rows = []
for repeat in range(curse_repeats):
    tree_search = RandomizedSearchCV(
        DecisionTreeClassifier(random_state=random_state),
        {"max_depth": randint(2, 20), "min_samples_leaf": randint(1, 30),
         "max_features": [0.2, 0.5, 1.0]},
        n_iter=curse_iter, cv=small_cv(random_state + 1 + repeat), scoring="accuracy",
        random_state=random_state + repeat,
    ).fit(X_small, y_small)
    fresh = [cross_val_score(tree_search.best_estimator_, X_small, y_small, scoring="accuracy",
                             cv=small_cv(1000 + 10 * repeat + k)).mean() for k in range(5)]
    curse_rows.append({"best_score_": tree_search.best_score_, "fresh folds": np.mean(fresh)})
curse_table = pd.DataFrame(curse_rows).rename_axis("repeat")
curse_table["curse"] = curse_table["best_score_"] - curse_table["fresh folds"]
curse_noise = paired_difference(curse_table["best_score_"], curse_table["fresh folds"])
curse, curse_se, curse_t = curse_noise["mean"], curse_noise["se"], curse_noise["t"]
print(f"Over {curse_repeats} repeated searches, best_score_ averaged "
      f"{curse_table['best_score_'].mean():.3f}; the winning settings on fresh folds "
      f"{curse_table['fresh folds'].mean():.3f}. best_score_ was the higher in "
      f"{(curse_table['curse'] > 0).sum()} of {curse_repeats} repeats.")
print(f"The winner's curse here: {curse:+.3f} (standard error {curse_se:.3f}, 95% interval "
      f"{curse - curse_t * curse_se:+.3f} to {curse + curse_t * curse_se:+.3f}): "
      + ("beyond the noise: best_score_ flatters the winner." if curse - curse_t * curse_se > 0
         else "within the noise: no clear curse this time."))
curse_table.round(3)

# %% [markdown]
# ## 4. Nested cross-validation: the honest score
#
# Give the *search* to scikit-learn's `cross_validate`: it runs the whole search inside
# each of the 5 outer training parts (the search itself splits that part into 3 inner
# folds) and scores the tuned model on the outer fold. The search never sees the outer
# test fold. We keep each outer fold's fitted search, to see what it chose and to collect
# its probabilities for the rows it never saw.

# %%
nested = cross_validate(search, X, y, cv=outer_cv, scoring="accuracy",
                        params={"sample_weight": weights},
                        return_estimator=True, return_indices=True)
codes = np.unique(y)  # the columns of the probabilities
tuned_proba = np.zeros((len(X), len(codes)))
fold = np.zeros(len(X), dtype=int)
for k, (tuned, test) in enumerate(zip(nested["estimator"], nested["indices"]["test"],
                                      strict=True)):
    columns = np.searchsorted(codes, tuned.classes_)  # a class may miss from a training part
    tuned_proba[np.ix_(test, columns)] = tuned.predict_proba(X.iloc[test])
    fold[test] = k
tuned_report = accuracy_report(y, codes[tuned_proba.argmax(axis=1)], tuned_proba,
                               classes=classes, proba_classes=codes)
winners = pd.DataFrame([tuned.best_params_ for tuned in nested["estimator"]])
n_winners = len(winners.drop_duplicates())
print(f"{n_winners} distinct setting{'s' if n_winners > 1 else ''} won in the "
      f"{len(winners)} outer folds" + (": the same choice every time." if n_winners == 1 else
                                        ": the choice depends on the training part."))
winners.assign(overall_accuracy=nested["test_score"], fit_seconds=nested["fit_time"]
               ).rename_axis("outer fold").round(3)

# %% [markdown]
# Did each outer fold pick the same settings? If the winner changes from fold to fold, the
# choice depends on which samples the search happened to see: the search cannot tell
# those settings apart, and the tuned model of section 6 is one of several equally
# defensible choices.
#
# ## 5. Was tuning worth it?
#
# Compare the tuned forest with an untuned one on the **identical** outer folds. The search
# grows 50 trees per forest, so the untuned forest here has notebook 1's settings with the
# same 50 trees: otherwise the comparison would mix the effect of tuning with that of the
# number of trees (fewer trees give noisier probabilities).
#
# How large must a change be to count? Both models are scored on the same 5 folds, so we
# take each metric's difference **fold by fold**: the folds' shared difficulty cancels.
# The noise of the mean difference is its standard error (standard deviation of the 5
# differences over the square root of 5); a change counts as a finding when it is larger
# than the t critical value for 4 degrees of freedom (2.78) times that standard error.
# Otherwise it is "within the noise". (The training parts of the folds overlap, so even
# this standard error is somewhat too small: Nadeau & Bengio 2003.)

# %%
default_model = RandomForestClassifier(n_estimators=search.estimator.n_estimators,
                                       min_samples_leaf=2, n_jobs=n_jobs,
                                       random_state=random_state)
start = time.perf_counter()
default_proba = cross_val_predict(default_model, X, y, cv=outer_cv, method="predict_proba",
                                  params={"sample_weight": weights})
default_seconds = time.perf_counter() - start
default_report = accuracy_report(y, codes[default_proba.argmax(axis=1)], default_proba,
                                 classes=classes, proba_classes=codes)
tuned_seconds = nested["fit_time"].sum()
n_trees = search.estimator.n_estimators
names = {"default": f"Random Forest (default, {n_trees} trees)",
         "tuned": f"Random Forest (tuned, {n_trees} trees)"}
comparison = compare_models(
    {names["default"]: default_report, names["tuned"]: tuned_report},
    extra={names["default"]: {"cv_seconds": default_seconds},
           names["tuned"]: {"cv_seconds": tuned_seconds}},
)
comparison["best_score_ (inner folds)"] = [None, search.best_score_]


def fold_metrics(proba):
    """Every summary metric of out-of-fold probabilities, per outer fold."""
    return pd.DataFrame([
        accuracy_report(y.iloc[fold == k], codes[proba[fold == k].argmax(axis=1)],
                        proba[fold == k], classes=classes, proba_classes=codes).summary
        for k in range(outer_cv.get_n_splits())
    ])


metrics = {"overall_accuracy": "higher", "f1_weighted": "higher", "log_loss": "lower",
           "brier_score": "lower"}
tuned_folds, default_folds = fold_metrics(tuned_proba), fold_metrics(default_proba)
paired = {m: paired_difference(tuned_folds[m], default_folds[m]) for m in metrics}
n_folds, t_crit = paired["overall_accuracy"]["n"], paired["overall_accuracy"]["t"]
for metric, better in metrics.items():
    change, margin = paired[metric]["mean"], paired[metric]["half_width"]
    improved = change > 0 if better == "higher" else change < 0
    verdict = (f"{'better' if improved else 'worse'}, beyond the noise" if abs(change) > margin
               else "within the noise")
    print(f"{metric:16s}: tuning changed it by {change:+.3f} +- {margin:.3f} on average over "
          f"the {n_folds} folds ({verdict}; {better} is better)")
print(f"(+- is {t_crit:.2f} paired standard errors, the t critical value for {n_folds - 1} "
      f"degrees of freedom.) Tuning cost {tuned_seconds / default_seconds:.0f}x the time.")
comparison[["overall_accuracy", "f1_weighted", "log_loss", "brier_score", "cv_seconds",
            "best_score_ (inner folds)"]].round(3)

# %%
plotting.plot_model_comparison(comparison, metrics=("overall_accuracy", "f1_weighted"))
plt.show()

# %% [markdown]
# Read the table from left to right: the tuned forest's nested score against the default
# forest's, the cost of each, and the `best_score_` the search claimed. The verdicts above
# come from the fold-by-fold differences, not from the table's pooled numbers. The search
# chose its settings for weighted F1, not for the probabilities: the log loss and Brier
# lines say whether that cost anything here. Tune for what the map will be used for
# (exercise 1). Notebook 4 tunes another learner, gradient boosting, the same way.
#
# ## 6. Maps with the tuned model
#
# The search already refitted the best settings on all samples (`best_estimator_`). For
# the maps we grow the full 100 trees with those settings.

# %%
model = RandomForestClassifier(n_estimators=100, n_jobs=n_jobs, random_state=random_state,
                               **search.best_params_)
model.fit(X, y, sample_weight=weights)
maps = predict_maps(model, ds, output_dir / "maps", classes=classes, n_jobs=n_jobs)
dominant = {(t, y_): maps.path(t, y_, "dominant_class") for t in ds.tiles for y_ in ds.years}
tile, year = ds.tiles[0], ds.years[-1]
if ds.has_truth:  # the map beside where it differs from the truth
    fig, axes = plt.subplots(1, 2, figsize=(16, 5.5))
    plotting.plot_class_map(dominant[(tile, year)], classes, ax=axes[0],
                            title=f"Tuned Random Forest: dominant class, tile {tile}, {year}")
    plotting.plot_error_map(dominant[(tile, year)], ds.truth(tile, year), ax=axes[1])
else:
    plotting.plot_class_map(dominant[(tile, year)], classes,
                            title=f"Tuned Random Forest: dominant class, tile {tile}, {year}")
if ds.has_truth:
    true_report = map_accuracy(list(dominant.values()), [ds.truth(*key) for key in dominant])
    true_oa = true_report.summary["overall_accuracy"]
    print(f"True accuracy of the tuned forest's maps: {true_oa:.3f} (nested blocked CV, with "
          f"{n_trees} trees, estimated {tuned_report.summary['overall_accuracy']:.3f}).")
    notebook1 = output_dir.parent / "01_random_forest" / "metrics.json"
    nb1 = json.loads(notebook1.read_text()) if notebook1.exists() else {}
    if nb1.get("dataset") == ds.name and nb1.get("truth"):
        default_true = nb1["truth"]["map_accuracy"]
        print(f"Notebook 1's untuned forest (100 trees) mapped the same tiles and years with a "
              f"true accuracy of {default_true:.3f}: tuning changed the true map accuracy by "
              f"{true_oa - default_true:+.3f} (one fitted forest each, so this includes the "
              "luck of each forest's random draws).")
    else:
        print("Run notebook 1 first (same dataset, sibling output folder) to see the untuned "
              "forest's true map accuracy beside this one.")
plt.show()

# %%
map_explorer(maps, classes, truth=ds if ds.has_truth else None)

# %% [markdown]
# ## 7. Save the results

# %%
save_model(output_dir / "model.joblib", model, classes=classes, feature_names=list(X.columns),
           metadata={"best_params": search.best_params_})
cv_predictions = {"fold": fold, "y_true": y, "y_pred": codes[tuned_proba.argmax(axis=1)]}
cv_predictions.update({f"proba_{code}": tuned_proba[:, j] for j, code in enumerate(codes)})
pd.DataFrame(cv_predictions, index=X.index).to_csv(output_dir / "cv_predictions.csv")
write_metrics(
    output_dir,
    notebook="02_tuned_random_forest",
    dataset=ds.name,
    cv=f"nested: outer {outer_cv!r}, inner 3 blocked folds; {n_iter} random settings",
    report=tuned_report,
    maps=maps,
    best_params=search.best_params_,
    best_score_inner=search.best_score_,
    default_overall_accuracy=default_report.summary["overall_accuracy"],
    search_seconds=search_seconds,
    winners_curse={"mean": curse, "standard_error": curse_se, "t_critical": curse_t,
                   "repeats": curse_repeats, "n_iter": curse_iter, "n_samples": len(small)},
    tuned_vs_default={m: {"mean change": p["mean"], "paired SE": p["se"], "t x SE": p["half_width"]}
                      for m, p in paired.items()},
    default_metrics={k: default_report.summary[k]
                     for k in ("overall_accuracy", "f1_weighted", "log_loss", "brier_score")},
    tuned_brier_score=tuned_report.summary["brier_score"],
    **({"truth": {"map_accuracy": true_report.summary["overall_accuracy"]}}
       if ds.has_truth else {}),
)
print(f"Saved the model, {len(maps.paths())} map files and metrics.json in {output_dir}")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Tune for a different goal: the quality of the probabilities (log loss,
# notebook 3) instead of weighted F1. Predict first: will the best `min_samples_leaf` be
# larger or smaller than for F1? Careful: with blocked folds, a rare class can be
# missing from an inner test fold, and scikit-learn's `"neg_log_loss"` scorer then fails
# (every score becomes NaN). Build the scorer with the full list of classes.
# (Solutions run silently on "Run All"; `solution_1.show()` shows the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
from sklearn.metrics import log_loss, make_scorer  # noqa: E402

log_loss_scorer = make_scorer(log_loss, greater_is_better=False,
                              response_method="predict_proba", labels=sorted(y.unique()))
search_ll = RandomizedSearchCV(search.estimator, search_space, n_iter=4, cv=inner_cv,
                               scoring=log_loss_scorer, random_state=random_state)
search_ll.fit(X, y, sample_weight=weights)
print("best for log loss:", search_ll.best_params_, f"(log loss {-search_ll.best_score_:.3f})")
print("best for F1      :", search.best_params_)
leaf_ll, leaf_f1 = search_ll.best_params_["min_samples_leaf"], search.best_params_["min_samples_leaf"]
print(f"min_samples_leaf: {leaf_ll} for log loss, {leaf_f1} for F1: "
      + ("the same." if leaf_ll == leaf_f1 else "larger for log loss (smoother probabilities)."
         if leaf_ll > leaf_f1 else "smaller for log loss."))
# Probabilities and hard classes can prefer different settings: tune for the use of the map.
# Each winner is the best of a few noisy scores (section 3): one search is one draw.

# %% [markdown]
# **Exercise 2.** `HalvingRandomSearchCV` tries many settings on few samples and keeps the
# best third for the next round with more samples. Guess first: with `n_candidates=9`,
# will it be faster than the random search of 6 settings? Then try it
# (`solution_2.show()`).

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
from sklearn.experimental import enable_halving_search_cv  # noqa: F401, E402
from sklearn.model_selection import HalvingRandomSearchCV  # noqa: E402

halving = HalvingRandomSearchCV(search.estimator, search_space, n_candidates=9, factor=3,
                                cv=inner_cv, scoring="f1_weighted", random_state=random_state)
start = time.perf_counter()
halving.fit(X, y, sample_weight=weights)
print(f"halving: {time.perf_counter() - start:.1f} s, best {halving.best_score_:.3f}",
      halving.best_params_)
print(f"random : {search_seconds:.1f} s, best {search.best_score_:.3f}", search.best_params_)
# The halving search's best score comes from its last round only (the most samples but
# fewer candidates): the two best scores are not measured on the same footing.

# %% [markdown]
# ## Key points
#
# - Hyperparameters are chosen, not learned; a search tries several and keeps the best.
# - `best_score_` is the maximum of noisy scores on the folds that chose it: optimistic,
#   the more so with more settings, sensitive learners and few samples.
# - Report every metric tuning changed (accuracy, F1, log loss), each beside its noise: the
#   paired standard error of the fold-by-fold difference, times the t critical value.
# - **Nested** cross-validation tunes inside each outer training part and scores on the outer
#   fold: the score of the *tuning procedure*, which is what you will use.
# - Tune on blocked inner folds, for the same reason you validate on blocked folds.
# - Compare costs and gains on identical folds, and change one thing at a time (the same
#   number of trees for the tuned and the untuned forest).
#
# ## What's next
#
# [Notebook 3](03_probabilistic_random_forest.ipynb) looks at the forest's class
# **probabilities**: how to score them, whether they can be trusted, and how to map them.
#
# ## References
#
# - Bergstra, J. & Bengio, Y. (2012). Random search for hyper-parameter optimization.
#   *Journal of Machine Learning Research*, 13, 281-305.
# - Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. *Machine
#   Learning*, 52, 239-281.
# - Cawley, G. C. & Talbot, N. L. C. (2010). On over-fitting in model selection and
#   subsequent selection bias in performance evaluation. *JMLR*, 11, 2079-2107.
# - Probst, P., Wright, M. N. & Boulesteix, A.-L. (2019). Hyperparameters and tuning
#   strategies for random forest. *WIREs Data Mining and Knowledge Discovery*, 9, e1301.
