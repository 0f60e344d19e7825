"""Tests of odse_tutorial.ensemble.StackingEnsemble: scikit-learn's stacking plus uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from odse_tutorial.applicability import AreaOfApplicability
from odse_tutorial.ensemble import StackingEnsemble

CODES = np.array([112, 231, 311])


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    """120 samples, 5 features, 3 CORINE classes, label noise, a non-default index."""
    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
        flip_y=0.1, random_state=0,
    )  # fmt: skip
    index = pd.Index(np.random.RandomState(1).permutation(120) + 1000, name="sample_id")
    frame = pd.DataFrame(X, columns=[f"band_{i}" for i in range(5)], index=index)
    return frame, CODES[y]


def learners():
    return [
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("knn", KNeighborsClassifier(n_neighbors=7)),
    ]


def test_is_a_stacking_classifier_that_predicts_original_codes(data):
    X, y = data
    ensemble = StackingEnsemble(learners(), cv=KFold(3)).fit(X, y)
    assert isinstance(ensemble, StackingClassifier)
    assert ensemble.classes_.tolist() == CODES.tolist()
    assert set(ensemble.predict(X)) <= set(CODES)
    assert list(ensemble.named_estimators_) == ["tree", "knn"]
    reference = StackingClassifier(learners(), cv=KFold(3), stack_method="predict_proba")
    np.testing.assert_allclose(ensemble.predict_proba(X), reference.fit(X, y).predict_proba(X))


def test_meta_features_are_the_out_of_fold_probabilities_of_each_learner(data):
    X, y = data
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    seen = {}

    class Spy(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            seen["X"] = np.asarray(X).copy()
            return super().fit(X, y, sample_weight=sample_weight)

    StackingEnsemble(learners(), Spy(), cv=cv).fit(X, y)
    encoded = LabelEncoder().fit_transform(y)  # scikit-learn fits the learners on 0..K-1
    expected = np.hstack(
        [cross_val_predict(est, X, encoded, cv=cv, method="predict_proba") for _, est in learners()]
    )
    np.testing.assert_allclose(seen["X"], expected)


def test_a_search_as_base_learner_is_tuned_in_every_stacking_fold(data):
    X, y = data
    fits = []

    class Tree(DecisionTreeClassifier):
        def fit(self, X, y, sample_weight=None, check_input=True):
            fits.append(len(X))
            return super().fit(X, y, sample_weight=sample_weight)

    search = GridSearchCV(Tree(random_state=0), {"max_depth": [1, 3]}, cv=2)
    ensemble = StackingEnsemble([("tree", search), ("nb", GaussianNB())], cv=KFold(3)).fit(X, y)
    # 3 stacking folds + the refit on all rows; each runs 2 settings x 2 inner folds + a refit.
    assert len(fits) == 4 * (2 * 2 + 1)
    assert sorted(set(fits)) == [40, 60, 80, 120]  # inner, inner on all rows, fold refit, all
    assert ensemble.named_estimators_["tree"].best_params_["max_depth"] in (1, 3)


def test_uncertainty_is_the_spread_of_the_base_learners_probabilities(data):
    X, y = data
    ensemble = StackingEnsemble(learners(), cv=3).fit(X, y)
    base = np.stack([est.predict_proba(X) for est in ensemble.estimators_])
    uncertainty = ensemble.predict_uncertainty(X)
    assert uncertainty.shape == (len(X), 3)
    np.testing.assert_allclose(uncertainty, base.std(axis=0))
    assert uncertainty.min() >= 0 and uncertainty.max() <= 0.5


def test_uncertainty_is_zero_when_the_learners_agree(data):
    X, y = data
    twins = [("a", GaussianNB()), ("b", GaussianNB())]
    uncertainty = StackingEnsemble(twins, cv=3).fit(X, y).predict_uncertainty(X)
    np.testing.assert_allclose(uncertainty, 0, atol=1e-12)


def test_binary_uncertainty_has_one_equal_column_per_class(data):
    X, y = data
    y2 = np.where(y == 112, "water", "land")
    ensemble = StackingEnsemble(learners(), cv=3).fit(X, y2)
    uncertainty = ensemble.predict_uncertainty(X)
    base = np.stack([est.predict_proba(X) for est in ensemble.estimators_])
    assert uncertainty.shape == (len(X), 2)
    np.testing.assert_allclose(uncertainty, base.std(axis=0))
    assert ensemble.get_feature_names_out().tolist() == ["tree_water", "knn_water"]


def test_proba_and_uncertainty_in_one_pass_equal_the_separate_methods(data):
    X, y = data
    ensemble = StackingEnsemble(learners(), cv=3).fit(X, y)
    calls = []
    original = ensemble.transform
    ensemble.transform = lambda X: calls.append(1) or original(X)
    proba, uncertainty = ensemble.predict_proba_and_uncertainty(X)
    assert len(calls) == 1  # the base learners ran once
    np.testing.assert_array_equal(proba, ensemble.predict_proba(X))
    np.testing.assert_array_equal(uncertainty, ensemble.predict_uncertainty(X))


def test_feature_names_name_the_learner_and_the_class_code(data):
    X, y = data
    ensemble = StackingEnsemble(learners(), cv=3).fit(X, y)
    names = ensemble.get_feature_names_out()
    assert names.tolist() == [f"{n}_{c}" for n in ("tree", "knn") for c in CODES]
    assert ensemble.final_estimator_.coef_.shape == (3, len(names))
    with_x = StackingEnsemble(learners(), cv=3, passthrough=True).fit(X, y)
    assert with_x.get_feature_names_out().tolist() == names.tolist() + list(X.columns)
    assert with_x.predict_uncertainty(X).shape == (len(X), 3)


# -- sample weights ------------------------------------------------------------------------
class WeightRecorder(ClassifierMixin, BaseEstimator):
    """A Gaussian naive Bayes that records the weights of every fit."""

    log: list = []

    def fit(self, X, y, sample_weight=None):
        self.log.append(None if sample_weight is None else np.asarray(sample_weight).copy())
        self.model_ = GaussianNB().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def test_sample_weight_reaches_every_fit(data):
    X, y = data
    weights = np.linspace(0.5, 1.5, len(y))
    WeightRecorder.log = []
    StackingEnsemble([("w", WeightRecorder())], cv=KFold(3)).fit(X, y, sample_weight=weights)
    sizes = sorted(len(w) for w in WeightRecorder.log)
    assert sizes == [80, 80, 80, 120]  # three folds and the refit, all weighted
    assert any(np.array_equal(w, weights) for w in WeightRecorder.log)


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(120), "sample_weight has 120 negative"),
        (np.ones(7), r"one weight per sample \(120\)"),
        (np.full(120, np.nan), "NaN"),
        (np.zeros(120), "zero for all 120 samples"),
    ],
)
def test_bad_weights_are_refused_before_any_learner_runs(data, weights, match):
    X, y = data
    WeightRecorder.log = []
    with pytest.raises(ValueError, match=match):
        StackingEnsemble([("w", WeightRecorder())], cv=3).fit(X, y, sample_weight=weights)
    assert WeightRecorder.log == []


def test_a_learner_that_cannot_take_weights_fails_with_a_note(data):
    X, y = data
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    ensemble = StackingEnsemble([("nb", GaussianNB()), ("logit", pipeline)], cv=3)
    with pytest.raises(ValueError, match="sample_weight") as info:
        ensemble.fit(X, y, sample_weight=np.ones(len(y)))
    assert "fit without sample_weight" in "".join(info.value.__notes__)
    ensemble.fit(X, y)  # without weights it fits


def test_other_stack_methods_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="stack_method='predict_proba'"):
        StackingEnsemble(learners(), stack_method="auto").fit(X, y)


def test_learners_keep_their_own_random_state(data):
    X, y = data
    forest = [("rf", RandomForestClassifier(n_estimators=5, random_state=3))]
    a = StackingEnsemble(forest, cv=3).fit(X, y).predict_proba(X)
    b = StackingEnsemble(forest, cv=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


# -- scikit-learn conventions --------------------------------------------------------------
# No expected failures. The tree carries its own random_state (the ensemble has none, as in
# scikit-learn), so that refitting is deterministic (check_fit_idempotent).
@parametrize_with_checks(
    [
        StackingEnsemble(
            [("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("nb", GaussianNB())],
            cv=3,
        ),
        AreaOfApplicability(),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("method", ["predict_proba", "predict", "predict_proba_and_uncertainty"])
def test_predicting_before_fit_is_a_not_fitted_error(data, method):
    """With the default final estimator too (issue 18: it raised an AttributeError)."""
    from sklearn.exceptions import NotFittedError

    ensemble = StackingEnsemble([("tree", DecisionTreeClassifier())])
    with pytest.raises(NotFittedError):
        getattr(ensemble, method)(data[0])
