# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Ensemble machine learning, with per-pixel uncertainty
#
# Different models make different mistakes. **Stacking** trains a Random Forest,
# gradient-boosted trees and a neural network, and lets a simple meta-learner learn how far
# to trust each of them, class by class. The learners' disagreement is one more measure of
# uncertainty. This is the method behind the European land-cover maps of Witjes et al. (2022).
#
# ## Learning objectives
#
# 1. explain stacking: out-of-fold probabilities of base learners feed a meta-learner;
# 2. build a `StackingEnsemble` of a Random Forest, gradient boosting and a neural network;
# 3. score it with nested cross-validation, on the folds of notebooks 1-3;
# 4. map per-class uncertainty as the learners' disagreement, and check it against the errors;
# 5. compare the four approaches of this course on identical folds, and beside the truth.
#
# ## Prerequisites
#
# | concept | importance | notes |
# | --- | --- | --- |
# | Notebooks [1](01_random_forest.ipynb), [2](02_tuned_random_forest.ipynb), [3](03_probabilistic_random_forest.ipynb) | necessary | the headline CV, nested CV, probabilities |
# | Gradient boosting, neural networks | helpful | [scikit-learn user guide](https://scikit-learn.org/stable/supervised_learning.html) |
#
# **Time to learn**: about 40 minutes. **Runs** in about a minute on one CPU. After
# changing a parameter, re-run from the parameters cell (or use Run All).

# %% tags=["parameters"]
dataset = "simulated"  # "simulated" (bundled), "netherlands" (real Landsat), or a folder
output_dir = "../outputs/04_ensemble"  # notebooks 1-3 are read from its sibling folders
n_jobs = None  # cores for the maps; None: all this process may use (mybinder.org: 1)
random_state = 0
min_class_samples = 10
n_trees = 100  # the forest's trees: as many as notebook 1's forest

# %% [markdown]
# ## Imports

# %%
import logging
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# %%
from odse_tutorial import evaluation, plotting
from odse_tutorial.datasets import load_dataset
from odse_tutorial.ensemble import StackingEnsemble
from odse_tutorial.model_selection import cv_candidates, fold_ids, nn_distances
from odse_tutorial.overlay import training_data
from odse_tutorial.persistence import read_cv_results, save_cv_predictions, save_model
from odse_tutorial.prediction import predict_maps
from odse_tutorial.widgets import map_explorer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
plotting.use_style()
sklearn.set_config(enable_metadata_routing=True)  # sample weights through pipelines (section 2)
warnings.filterwarnings("ignore", message="Number of classes in training fold")  # section 4

# %% [markdown]
# ## 1. The data and the folds of notebooks 1-3
#
# The same samples and folds as notebook 1: the CV whose test-to-training distances are
# most like the map's (its headline CV).

# %%
ds = load_dataset(dataset)
data = training_data(ds, min_class_samples=min_class_samples)
X, y, weights, classes = data.X, data.y, data.weights, data.classes
print(f"{len(X)} samples, {len(classes)} classes, {X.shape[1]} features")

# %%
cvs = cv_candidates(ds, data.table, random_state=random_state)
headline = nn_distances(cvs, data.table, ds, X=X, y=y, random_state=random_state).attrs["closest"]
cv = cvs[headline]
inner_cv = cv_candidates(ds, data.table, n_splits=3, random_state=random_state + 1)[headline]
folds = fold_ids(cv, X, y)  # the test fold of each sample, as in notebooks 1-3
print(f"Folds of notebook 1 on these data: {headline}.")

# %% [markdown]
# ## 2. Three different learners
#
# - **Random Forest**: deep trees on bootstrap samples, averaged; the forest of notebook 1,
#   with as many trees (`n_trees`).
# - **Gradient boosting** (`HistGradientBoostingClassifier`): shallow trees added one after
#   another, each correcting the ones before. `l2_regularization` above 0 keeps a leaf of
#   a single class from diverging (scikit-learn issue #11452).
# - **Neural network** (`MLPClassifier`): one hidden layer of 32 units, on scaled features.
#
# Each sample counts by its weight, as in notebooks 1-3. A `Pipeline` passes
# `sample_weight` only to steps that request it, `set_fit_request(sample_weight=True)`,
# under **metadata routing** (switched on in the imports).

# %%
forest = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=2,
                                random_state=random_state).set_fit_request(sample_weight=True)
boosting = HistGradientBoostingClassifier(
    max_iter=25, learning_rate=0.3, max_leaf_nodes=15, l2_regularization=1.0,
    early_stopping=False, random_state=random_state).set_fit_request(sample_weight=True)
network = make_pipeline(
    StandardScaler().set_fit_request(sample_weight=True),
    MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, early_stopping=True,
                  random_state=random_state).set_fit_request(sample_weight=True))
learners = [("forest", forest), ("boosting", boosting), ("network", network)]

# %% [markdown]
# ## 3. Stacking
#
# `StackingEnsemble` splits the training data into the inner folds `inner_cv` (3 folds of
# the headline kind, so a location's years stay together). On each, every base
# learner is fitted on the other folds and predicts class probabilities for the fold it did
# not see. These **out-of-fold** probabilities (3 learners x K classes) are the features of
# a **meta-learner**, a logistic regression, which learns how to weigh the learners per
# class. The base learners are then refitted on all data. Out-of-fold, because on its own
# training samples a forest is almost always right: the meta-learner would trust the most
# over-fitted learner.

# %%
meta_learner = LogisticRegression(max_iter=1000).set_fit_request(sample_weight=True)
ensemble = StackingEnsemble(learners, meta_learner, cv=inner_cv)
ensemble

# %% [markdown]
# ## 4. Nested cross-validation, on the same folds
#
# `cross_val_predict` fits the whole ensemble (inner folds, meta-learner and all) on each
# outer training part and predicts the outer test fold: the folds of notebooks 1-3. Each
# base learner alone is scored on the same folds. (A training part may lack a rare
# class; that fit gives it probability 0, and the imports silence scikit-learn's warning.)

# %%
models = {**dict(learners), "ensemble": ensemble}
oof = {name: cross_val_predict(model, X, y, cv=cv, method="predict_proba",
                               params={"sample_weight": weights})
       for name, model in models.items()}

# %% [markdown]
# Does the ensemble beat its forest? `compare_on_folds` scores each model on each fold and
# tests its paired differences with the forest by the corrected resampled t-test (Nadeau &
# Bengio 2003): the folds share most training data, so a plain t-test finds "beyond the
# noise" too often. Read the verdicts it prints.

# %%
members = evaluation.compare_on_folds(oof, y, folds, metrics=("overall_accuracy", "log_loss"))
members

# %% [markdown]
# The ensemble's confusion matrix and reliability diagram (notebooks 1 and 3):

# %%
codes = np.unique(y)  # the columns of the probabilities
report = evaluation.accuracy_report(y, codes[oof["ensemble"].argmax(axis=1)], oof["ensemble"],
                                    classes=classes, proba_classes=codes)
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})
plotting.plot_confusion_matrix(report, ax=axes[0], title=f"Ensemble, nested CV ({headline})")
plotting.plot_reliability_diagram(y, oof["ensemble"], codes, ax=axes[1])
plt.show()

# %% [markdown]
# **Precision-recall curves**: per class, the precision (users' accuracy) and recall
# (producer's accuracy) at every threshold on its probability; the area under the curve
# (average precision, AP) says how well the probability ranks the class.

# %%
plotting.plot_precision_recall(y, oof["ensemble"], classes, title="Ensemble, out-of-fold")
plt.show()

# %% [markdown]
# ## 5. Maps with uncertainty
#
# Fitted on all samples, the ensemble maps (`predict_maps`) probabilities, the dominant
# class and an **uncertainty** layer per class: the standard deviation of the three
# learners' probabilities (0 % = they agree); `uncertainty.tif` is that spread for each
# pixel's dominant class.

# %%
ensemble.fit(X, y, sample_weight=weights)
maps = predict_maps(ensemble, ds, Path(output_dir) / "maps", classes=classes, n_jobs=n_jobs)
plotting.plot_maps(maps, ["dominant_probability", "uncertainty"], years=ds.years[::2],
                   title="Ensemble: probability of the dominant class and the learners' spread")
plt.show()

# %% [markdown]
# Does the learners' spread point at the map's errors, and better than the entropy of the
# ensemble's own probabilities (notebook 3's uncertainty)? Where truth maps exist, the
# **ROC AUC** is the probability that a wrong pixel is more uncertain than a right one
# (0.5: chance).

# %%
spread_or_entropy = {"learners' spread": "uncertainty", "entropy": "entropy"}
uncertainty = evaluation.uncertainty_against_error(maps, ds, measures=spread_or_entropy)
plotting.plot_uncertainty_vs_error(uncertainty, title="Ensemble errors by the learners' spread")
plt.show()
uncertainty

# %% [markdown]
# Where do the ensemble and its forest alone (notebook 1's settings) map different
# classes, and, with truth maps, which one is right there?

# %%
tile, year = ds.tiles[0], ds.years[-1]
forest_maps = predict_maps(forest.fit(X, y, sample_weight=weights), ds, Path(output_dir) / "forest",
                           tiles=tile, years=year, classes=classes, progress=False)
plotting.plot_error_map(maps.path(tile, year, "dominant_class"),
                        ds.truth(tile, year) if ds.has_truth else None,
                        other=forest_maps.path(tile, year, "dominant_class"),
                        names=("ensemble", "forest"))
plt.show()

# %%
map_explorer(maps, classes, truth=ds)

# %% [markdown]
# ## 6. The four approaches, side by side and beside the truth
#
# `read_cv_results` reads the out-of-fold probabilities notebooks 1-3 saved, checks their
# samples and folds, and adds the true accuracy of their maps. Row 1 is the forest above
# (notebook 1's settings); notebooks 1 and 3 share it when they saved the same
# probabilities. Every forest compared has `n_trees` trees, the tuned ones of notebook 2
# too. A notebook that has not run is left out, with a sentence.

# %%
rf, eml = "1. Random Forest (scored here)", "4. ensemble (RF + HGB + MLP)"
notebooks = {"01_random_forest": rf, "02_tuned_random_forest": "2. tuned Random Forest",
             "03_probabilistic_random_forest": "3. probabilistic RF"}
earlier = {label: read_cv_results(Path(output_dir).parent / stem, dataset=ds.name,
                                  index=X.index, folds=folds)
           for stem, label in notebooks.items()}
found = {label: results for label, results in earlier.items()  # the forest of notebooks 1
         if results is not None and not np.allclose(results.proba, oof["forest"])}  # and 3
approaches = {rf: oof["forest"], **{k: r.proba for k, r in found.items()}, eml: oof["ensemble"]}
truths = {eml: evaluation.true_map_accuracy(maps, ds),
          **{label: results.map_accuracy for label, results in earlier.items() if results}}

# %%
four = evaluation.compare_on_folds(approaches, y, folds, metrics=("overall_accuracy", "log_loss"))
four

# %% [markdown]
# Cross-validation scores against the sample labels, which are not the truth, and its folds
# test only roughly as far from the training data as the map predicts. Each approach's
# estimate beside the true accuracy of its maps (error = estimate - truth; notebook 5
# separates the two effects):

# %%
truth_table = evaluation.beside_truth(four.table["overall_accuracy"].to_dict(), truths)
print(truth_table.attrs["sentence"] if truth_table is not None else "")
truth_table

# %% [markdown]
# Read the error column: when all approaches are off by about the same amount, the CV
# ranks them correctly even though it misjudges their level (wrong labels pull every
# estimate down alike). Weigh any gain against its cost: the ensemble trains three
# learners and a meta-learner.
#
# ## 7. Save the results

# %%
save_model(Path(output_dir) / "model.joblib", ensemble, classes=classes,
           feature_names=list(X.columns))
save_cv_predictions(output_dir, oof["ensemble"], y, folds)
truth = None if uncertainty is None else {"map_accuracy": truths[eml],
                                          "uncertainty_auc": uncertainty.table.roc_auc.to_dict()}
metrics_file = evaluation.write_metrics(
    output_dir, notebook="04_ensemble", dataset=ds.name, report=report, maps=maps,
    cv=f"nested: outer {headline} {cv!r}; inner: 3 {headline}", members=members.to_dict(),
    approaches=four.to_dict(), comparison=four.table.to_dict(orient="index"), truth=truth)

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Is stacking better than simply averaging the three learners'
# probabilities ("soft voting")? Guess first, for accuracy and for log loss; then score the
# average on the same folds with `oof` and `compare_on_folds`. (Solutions run silently on
# Run All; `solution_1.show()` shows the output.)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_1
average = (oof["forest"] + oof["boosting"] + oof["network"]) / 3
print(evaluation.compare_on_folds({"average": average, "stacking": oof["ensemble"]}, y, folds))
# The meta-learner weighs each learner per class; the average needs no extra fitting.

# %% [markdown]
# **Exercise 2.** The meta-learner's coefficients say how much each learner's probability
# of each class counts. Guess first: which learner's probabilities get the largest
# coefficients for the most common class? (`solution_2.show()`)

# %% tags=["solution"] jupyter={"source_hidden": true}
# %%capture solution_2
coef = pd.DataFrame(ensemble.final_estimator_.coef_, index=ensemble.classes_,
                    columns=ensemble.get_feature_names_out())
print(coef.loc[y.value_counts().index[0]].sort_values(ascending=False).head(3).round(2))
# Careful: the learners' probabilities are strongly correlated (they agree on most samples,
# and each learner's sum to 1), so a coefficient alone is no measure of trust; dropping one
# learner and scoring on the same folds (as in exercise 1) is the honest test.

# %% [markdown]
# ## Key points
#
# - Stacking feeds **out-of-fold** probabilities of different learners to a meta-learner,
#   then refits the learners on all data.
# - The learners' disagreement is one more, per-class uncertainty layer; check it against
#   the errors where you can (section 5).
# - Compare approaches on **identical** folds, with a test corrected for overlapping
#   training sets, and weigh gains against their cost.
# - A cross-validation estimate is not the map's true accuracy (section 6, notebook 5).
#
# ## What's next
#
# - [Notebook 5](05_validation_against_truth.ipynb): which cross-validation to believe,
#   against the truth, under two sampling designs.
# - Run the notebooks on real imagery: set `dataset = "netherlands"`.
# - Read Witjes et al. (2022) for the continental-scale version of this workflow.
#
# ## References
#
# - Witjes, M. et al. (2022). A spatiotemporal ensemble machine learning framework for
#   generating land use/land cover time-series maps for Europe (2000-2019) based on LUCAS,
#   CORINE and GLAD Landsat. *PeerJ*, 10, e13573.
# - Wolpert, D. H. (1992). Stacked generalization. *Neural Networks*, 5, 241-259.
# - Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error. *Machine
#   Learning*, 52, 239-281.
# - Ploton, P. et al. (2020). Spatial validation reveals poor predictive performance of
#   large-scale ecological mapping models. *Nature Communications*, 11, 4540.
