"""Tests of odse_tutorial.ensemble.StackingEnsemble."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    RandomizedSearchCV,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_predict,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

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


def _block(ensemble: StackingEnsemble, name: str) -> np.ndarray:
    """The out-of-fold columns of learner ``name``."""
    names = list(ensemble.named_estimators_)
    k = len(ensemble.classes_)
    i = names.index(name)
    return ensemble.oof_proba_[:, i * k : (i + 1) * k]


class IndexBlockSplitter:
    """Leave-one-block-out; block ids carried by the splitter, aligned by ``X.index``."""

    def __init__(self, blocks: pd.Series) -> None:
        self.blocks = blocks

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.blocks.nunique()

    def split(self, X, y=None, groups=None):
        if not isinstance(X, pd.DataFrame):
            raise TypeError("IndexBlockSplitter needs X as a DataFrame, to look up X.index")
        blocks = self.blocks.loc[X.index].to_numpy()
        for block in np.unique(blocks):
            yield np.flatnonzero(blocks != block), np.flatnonzero(blocks == block)


class RecordingSplitter(GroupKFold):
    """GroupKFold that remembers the groups it was given."""

    def split(self, X, y=None, groups=None):
        self.seen_groups = None if groups is None else np.asarray(groups).copy()
        return super().split(X, y, groups)


# -- out-of-fold stacking ---------------------------------------------------------------
def test_oof_probabilities_are_out_of_fold(data):
    X, y = data
    cv = KFold(4, shuffle=True, random_state=0)
    knn = KNeighborsClassifier(n_neighbors=1)  # memorises its training rows
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    ensemble = StackingEnsemble([("knn", knn), ("tree", tree)], cv=cv).fit(X, y)

    in_sample = ensemble.named_estimators_["knn"].predict_proba(X)
    assert (ensemble.classes_[in_sample.argmax(1)] == y).all()  # perfect in-sample...
    oof = _block(ensemble, "knn")
    assert (ensemble.classes_[oof.argmax(1)] != y).sum() > 5  # ...but not out-of-fold
    for name, learner in [("knn", knn), ("tree", tree)]:
        expected = cross_val_predict(learner, X, y, cv=cv, method="predict_proba")
        np.testing.assert_allclose(_block(ensemble, name), expected)


def test_base_learners_refit_on_all_data_and_meta_on_oof(data):
    X, y = data
    ensemble = StackingEnsemble(
        [("knn", KNeighborsClassifier(5)), ("tree", DecisionTreeClassifier(random_state=0))],
        cv=3,
        random_state=0,
    ).fit(X.to_numpy(), y)
    assert ensemble.named_estimators_["knn"].n_samples_fit_ == len(y)
    assert ensemble.named_estimators_["tree"].tree_.n_node_samples[0] == len(y)
    assert ensemble.estimators_[1] is ensemble.named_estimators_["tree"]
    assert ensemble.oof_proba_.shape == (120, 2 * 3)
    np.testing.assert_allclose(ensemble.oof_proba_.reshape(120, 2, 3).sum(axis=2), 1.0)
    assert ensemble.meta_feature_names_[:3] == ["knn_112", "knn_231", "knn_311"]
    meta = ensemble.final_estimator_
    assert isinstance(meta, LogisticRegression) and meta.n_features_in_ == 6
    refit_on_oof = clone(meta).fit(ensemble.oof_proba_, y)
    np.testing.assert_allclose(meta.coef_, refit_on_oof.coef_)


def test_predictions_use_original_labels(data):
    X, y = data
    ensemble = StackingEnsemble([("nb", GaussianNB())], cv=3, random_state=0).fit(X, y)
    assert ensemble.classes_.tolist() == [112, 231, 311]
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(ensemble.predict(X), CODES[proba.argmax(axis=1)])
    assert ensemble.score(X, y) > 0.6
    assert ensemble.feature_names_in_.tolist() == list(X.columns)
    with pytest.warns(UserWarning, match="feature names"):
        from_array = ensemble.predict_proba(X.to_numpy())
    np.testing.assert_allclose(from_array, proba)


@pytest.mark.parametrize("labels", [["forest", "urban", "water"], ["112", "231", "311"]])
def test_string_labels(data, labels):
    X, y = data
    y_str = pd.Series(np.array(labels)[np.searchsorted(CODES, y)], index=X.index)
    ensemble = StackingEnsemble(
        [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=3,
        random_state=0,
    ).fit(X, y_str)
    assert ensemble.classes_.tolist() == sorted(labels)
    assert set(ensemble.predict(X)) <= set(labels)
    assert ensemble.score(X, y_str) > 0.6


def test_class_missing_from_a_training_fold(data):
    X, y = data
    y = y.copy()
    rare = [0, 1, 2]
    y[rare] = 999  # a class that only fold 0 tests, so fold 0 never trains on it
    others = np.setdiff1d(np.arange(len(y)), rare)
    tests = [np.r_[rare, others[:30]], others[30:70], others[70:]]
    cv = [(np.setdiff1d(np.arange(len(y)), test), test) for test in tests]
    ensemble = StackingEnsemble(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(random_state=0))], cv=cv
    ).fit(X, y)
    assert ensemble.classes_.tolist() == [112, 231, 311, 999]
    rare_column = ensemble.classes_.tolist().index(999)
    for name in ("lr", "tree"):
        block = _block(ensemble, name)
        np.testing.assert_array_equal(block[tests[0], rare_column], 0.0)
        np.testing.assert_allclose(block.sum(axis=1), 1.0)
    assert ensemble.predict_proba(X).shape == (120, 4)


# -- sample weights ---------------------------------------------------------------------
def test_sample_weight_reaches_every_fit(data):
    X, y = data
    weights = np.where(y == 112, 5.0, 1.0)
    weights_before = weights.copy()
    cv = KFold(3, shuffle=True, random_state=0)
    prior = DummyClassifier(strategy="prior")  # predicts the weighted class shares
    ensemble = StackingEnsemble(
        [
            ("prior", prior),
            ("pipe", make_pipeline(StandardScaler(), DummyClassifier(strategy="prior"))),
            ("search", GridSearchCV(DummyClassifier(), {"strategy": ["prior"]}, cv=3)),
        ],
        cv=cv,
    ).fit(X, y, sample_weight=weights)

    def weighted_shares(rows):
        return np.array([weights[rows][y[rows] == c].sum() for c in CODES]) / weights[rows].sum()

    for train, test in cv.split(X):
        for name in ("prior", "pipe", "search"):  # out-of-fold fits
            block = _block(ensemble, name)[test]
            np.testing.assert_allclose(block, np.tile(weighted_shares(train), (len(test), 1)))
    all_rows = np.arange(len(y))
    for name in ("prior", "search"):  # refits
        np.testing.assert_allclose(
            ensemble.named_estimators_[name].class_prior_, weighted_shares(all_rows)
        )
    meta = ensemble.final_estimator_  # meta-learner
    weighted_meta = clone(meta).fit(ensemble.oof_proba_, y, sample_weight=weights)
    np.testing.assert_allclose(meta.coef_, weighted_meta.coef_, rtol=1e-6)
    np.testing.assert_array_equal(weights, weights_before)


def test_sample_weight_changes_the_fit(data):
    X, y = data
    ensemble = StackingEnsemble(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=3,
        random_state=0,
    )
    plain = clone(ensemble).fit(X, y).predict_proba(X)
    ones = clone(ensemble).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X)
    heavy = np.where(y == 311, 10.0, 1.0)
    weighted = clone(ensemble).fit(X, y, sample_weight=heavy).predict_proba(X)
    np.testing.assert_allclose(ones, plain)
    assert weighted[:, 2].mean() > plain[:, 2].mean() + 0.05


def test_learner_without_sample_weight_warns(data):
    X, y = data
    ensemble = StackingEnsemble([("knn", KNeighborsClassifier())], cv=3, random_state=0)
    with pytest.warns(UserWarning, match="'knn'.*does not accept sample_weight"):
        ensemble.fit(X, y, sample_weight=np.ones(len(y)))


# -- tuning -------------------------------------------------------------------------------
def test_search_objects_as_base_and_meta_learners(data):
    X, y = data
    cv = KFold(3, shuffle=True, random_state=0)
    tree_search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 4]})
    lr_search = RandomizedSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0, 100.0]}, n_iter=2, cv=3, random_state=0
    )
    meta_search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": [0.1, 10.0]}, cv=3)
    ensemble = StackingEnsemble(
        [("tree", tree_search), ("lr", lr_search)], meta_search, cv=cv, random_state=0
    ).fit(X, y)

    assert set(ensemble.best_params_) == {"tree", "lr", "final_estimator"}
    assert ensemble.best_params_["tree"]["max_depth"] in (1, 4)
    assert ensemble.best_params_["final_estimator"]["C"] in (0.1, 10.0)
    tuned = ensemble.searches_["tree"].best_estimator_
    assert ensemble.named_estimators_["tree"] is tuned
    assert (
        ensemble.named_estimators_["tree"].max_depth == ensemble.best_params_["tree"]["max_depth"]
    )
    assert ensemble.final_estimator_ is ensemble.searches_["final_estimator"].best_estimator_
    # out-of-fold probabilities come from clones of the tuned learner over the outer folds
    expected = cross_val_predict(clone(tuned), X, y, cv=cv, method="predict_proba")
    np.testing.assert_allclose(_block(ensemble, "tree"), expected)
    assert not hasattr(tree_search, "best_params_")  # the caller's search is untouched


def test_search_without_refit_is_an_error(data):
    X, y = data
    search = GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, refit=False)
    with pytest.raises(ValueError, match="refit=True"):
        StackingEnsemble([("tree", search)], cv=3).fit(X, y)


# -- cross-validation -------------------------------------------------------------------
def test_groups_are_passed_to_the_splitter(data):
    X, y = data
    groups = np.repeat(np.arange(6), 20)
    splitter = RecordingSplitter(n_splits=3)
    learner = DecisionTreeClassifier(max_depth=2, random_state=0)
    ensemble = StackingEnsemble([("tree", learner)], cv=splitter).fit(X, y, groups=groups)
    np.testing.assert_array_equal(splitter.seen_groups, groups)
    expected = cross_val_predict(
        learner, X, y, groups=groups, cv=GroupKFold(3), method="predict_proba"
    )
    np.testing.assert_allclose(ensemble.oof_proba_, expected)


@pytest.mark.parametrize("with_groups", [False, True])
def test_int_cv_is_shuffled_stratified_kfold(data, with_groups):
    X, y = data
    groups = np.repeat(np.arange(8), 15) if with_groups else None
    knn = KNeighborsClassifier(n_neighbors=1)
    ensemble = StackingEnsemble([("knn", knn)], cv=4, random_state=3).fit(X, y, groups=groups)
    kind = StratifiedGroupKFold if with_groups else StratifiedKFold
    folds = kind(4, shuffle=True, random_state=3)
    expected = cross_val_predict(knn, X, y, groups=groups, cv=folds, method="predict_proba")
    np.testing.assert_allclose(ensemble.oof_proba_, expected)


def test_groups_with_group_blind_splitter_warn(data):
    X, y = data
    ensemble = StackingEnsemble([("nb", GaussianNB())], cv=KFold(3))
    with pytest.warns(UserWarning, match="KFold ignores them"):
        ensemble.fit(X, y, groups=np.repeat(np.arange(6), 20))


def test_splitter_aligned_by_dataframe_index(data):
    X, y = data
    blocks = pd.Series(X.index.to_numpy() % 4, index=X.index).sample(frac=1, random_state=0)
    splitter = IndexBlockSplitter(blocks)  # block ids in another row order than X
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    ensemble = StackingEnsemble(
        [
            ("tree", tree),
            ("search", GridSearchCV(GaussianNB(), {"var_smoothing": [1e-9, 1e-3]}, cv=splitter)),
        ],
        GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=splitter),
        cv=splitter,
        random_state=0,
    ).fit(X, y)
    splits = list(splitter.split(X))
    for _, test in splits:  # every test fold is one block
        assert len(np.unique(X.index[test] % 4)) == 1
    expected = cross_val_predict(tree, X, y, cv=splits, method="predict_proba")
    np.testing.assert_allclose(_block(ensemble, "tree"), expected)
    assert ensemble.predict(X.iloc[::-1]).tolist() == ensemble.predict(X).tolist()[::-1]
    with pytest.raises(TypeError, match="needs X as a DataFrame"):
        StackingEnsemble([("tree", tree)], cv=splitter).fit(X.to_numpy(), y)


def test_cv_that_is_not_a_partition_is_an_error(data):
    X, y = data
    ensemble = StackingEnsemble([("nb", GaussianNB())], cv=ShuffleSplit(3, random_state=0))
    with pytest.raises(ValueError, match="exactly one test fold"):
        ensemble.fit(X, y)


# -- uncertainty --------------------------------------------------------------------------
def test_uncertainty_is_std_of_base_probabilities():
    X = np.zeros((100, 2))
    y = np.repeat([1, 2, 3], [60, 30, 10])
    ensemble = StackingEnsemble(
        [
            ("prior", DummyClassifier(strategy="prior")),
            ("flat", DummyClassifier(strategy="uniform")),
        ],
        cv=5,
        random_state=0,
    ).fit(X, y)
    base = ensemble.predict_base_proba(X[:4])
    np.testing.assert_allclose(base["prior"], [[0.6, 0.3, 0.1]] * 4)
    np.testing.assert_allclose(base["flat"], np.full((4, 3), 1 / 3))
    # two learners: std (ddof=0) = |p1 - p2| / 2
    expected = np.abs(np.array([0.6, 0.3, 0.1]) - 1 / 3) / 2
    np.testing.assert_allclose(ensemble.predict_uncertainty(X[:4]), [expected] * 4)


def test_uncertainty_is_zero_when_learners_agree(data):
    X, y = data
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    ensemble = StackingEnsemble([("a", tree), ("b", clone(tree))], cv=3, random_state=0)
    uncertainty = ensemble.fit(X, y).predict_uncertainty(X)
    assert uncertainty.shape == (120, 3)
    np.testing.assert_array_equal(uncertainty, 0.0)
    other = StackingEnsemble([("a", tree), ("nb", GaussianNB())], cv=3, random_state=0).fit(X, y)
    assert other.predict_uncertainty(X).max() > 0.1


# -- reproducibility and parameters -------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_random_state_gives_identical_probabilities(data):
    X, y = data
    learners = [
        ("rf", RandomForestClassifier(n_estimators=10)),
        ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=300)),
    ]
    first = StackingEnsemble(learners, cv=3, random_state=7).fit(X, y)
    second = StackingEnsemble(learners, cv=3, random_state=7).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(first.oof_proba_, second.oof_proba_)
    assert isinstance(first.named_estimators_["rf"].random_state, int)
    assert learners[0][1].random_state is None  # the caller's estimators are not changed
    assert not hasattr(learners[0][1], "estimators_")
    other = StackingEnsemble(learners, cv=3, random_state=8).fit(X, y)
    assert not np.array_equal(first.oof_proba_, other.oof_proba_)


def test_caller_data_are_not_modified(data):
    X, y = data
    X_before, y_before = X.copy(), y.copy()
    StackingEnsemble([("nb", GaussianNB())], cv=3).fit(X, y)
    pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_nested_parameters_by_learner_name(data):
    X, y = data
    tree = DecisionTreeClassifier(max_depth=5)
    ensemble = StackingEnsemble([("tree", tree), ("nb", GaussianNB())], cv=3)
    assert ensemble.get_params()["tree__max_depth"] == 5
    ensemble.set_params(tree__max_depth=2, final_estimator=LogisticRegression(C=0.5))
    assert ensemble.get_params()["tree__max_depth"] == 2
    assert ensemble.get_params()["final_estimator__C"] == 0.5
    assert tree.max_depth == 5  # a changed clone replaced the caller's tree
    search = GridSearchCV(ensemble, {"tree__max_depth": [1, 3]}, cv=2).fit(X, y)
    assert search.best_estimator_.named_estimators_["tree"].max_depth in (1, 3)


@pytest.mark.parametrize(
    ("estimators", "error", "match"),
    [
        ([], ValueError, "non-empty list"),
        ([("a", GaussianNB()), ("a", GaussianNB())], ValueError, "unique"),
        ([("a__b", GaussianNB())], ValueError, "Invalid learner name"),
        ([("cv", GaussianNB())], ValueError, "Invalid learner name"),
        ([("svc", SVC())], TypeError, "no predict_proba"),
    ],
)
def test_invalid_estimators(data, estimators, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        StackingEnsemble(estimators, cv=3).fit(X, y)


def test_mixed_label_types_are_an_error(data):
    X, y = data
    mixed = np.array([231, "231"] * 60, dtype=object)
    with pytest.raises(ValueError, match="mix"):
        StackingEnsemble([("nb", GaussianNB())], cv=3).fit(X, mixed)
    with pytest.raises(ValueError, match="only one class"):
        StackingEnsemble([("nb", GaussianNB())], cv=3).fit(X, np.full(len(y), 231))


# -- scikit-learn conventions --------------------------------------------------------------
@parametrize_with_checks(
    [StackingEnsemble([("tree", DecisionTreeClassifier(max_depth=3)), ("nb", GaussianNB())], cv=3)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_proba_and_uncertainty_in_one_pass_equal_the_separate_methods():
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    ensemble = StackingEnsemble(
        [
            ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
            ("logit", LogisticRegression(max_iter=500)),
        ],
        cv=3,
        random_state=0,
    ).fit(X, y)
    proba, uncertainty = ensemble.predict_proba_and_uncertainty(X)
    np.testing.assert_array_equal(proba, ensemble.predict_proba(X))
    np.testing.assert_array_equal(uncertainty, ensemble.predict_uncertainty(X))
