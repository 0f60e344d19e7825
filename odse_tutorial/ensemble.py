"""Stacking ensemble with per-class uncertainty (Witjes et al. 2022).

The "Ensemble Machine Learning" of the 2021 ODSE workshop, as a scikit-learn classifier:

1. every base learner (e.g. random forest, gradient boosting, a neural network) predicts
   class probabilities for rows it was *not* trained on (out-of-fold, over ``cv``);
2. those probabilities, K columns per learner, are the features of a meta-learner
   (a logistic regression by default), fitted on all rows;
3. the base learners are refitted on all rows.

A new sample goes through the refitted base learners, then through the meta-learner.
The disagreement between the base learners, the standard deviation of their
probabilities for each class, is the per-class uncertainty of the map.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state, get_tags
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

__all__ = ["StackingEnsemble"]

logger = logging.getLogger(__name__)

_MAX_SEED = np.iinfo(np.int32).max
_META_NAME = "final_estimator"


class StackingEnsemble(ClassifierMixin, BaseEstimator):
    """Out-of-fold stacking of classifiers, with per-class uncertainty.

    Parameters
    ----------
    estimators : list of (str, estimator) pairs
        The base learners. Each is a classifier with ``predict_proba``, or a
        scikit-learn search object (``GridSearchCV``, ``RandomizedSearchCV``,
        ``HalvingGridSearchCV``, ...) around one. Names must be unique, may not
        contain ``"__"`` and may not be a parameter name of this class.
    final_estimator : classifier or search object, optional
        The meta-learner, fitted on the base learners' out-of-fold probabilities.
        Defaults to ``LogisticRegression(max_iter=1000)``.
    cv : int, cross-validation splitter or iterable of (train, test), default=5
        The folds of the out-of-fold probabilities; every sample must be in exactly
        one test fold. An int ``k`` means ``StratifiedKFold(k, shuffle=True,
        random_state=random_state)``, or ``StratifiedGroupKFold`` with the same
        arguments when ``groups`` are passed to :meth:`fit`. ``X`` is passed to
        ``cv.split`` unchanged, so splitters that look up a DataFrame's index work.
    n_jobs : int, optional
        Number of jobs for the out-of-fold fits and refits (``None``: one, ``-1``:
        all processors). Search objects use their own ``n_jobs``.
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds of an int ``cv``, and seeds every ``random_state``
        parameter of the (cloned) base learners and meta-learner that is ``None``;
        parameters you set are kept. With an int the fit is reproducible.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted, as given in ``y`` (e.g. CORINE codes).
    estimators_ : list of estimators
        The base learners refitted on all data (for search objects: the tuned
        ``best_estimator_``), in the order of ``estimators``.
    named_estimators_ : Bunch
        The same, by name.
    final_estimator_ : estimator
        The fitted meta-learner (for a search object: its ``best_estimator_``).
    searches_ : dict of str to search object
        The fitted search objects by learner name (``"final_estimator"`` for the
        meta-learner), with their ``cv_results_``.
    best_params_ : dict of str to dict
        The tuned hyper-parameters of each searched learner, by name; empty when no
        search object was given.
    oof_proba_ : ndarray of shape (n_samples, n_learners * n_classes)
        The out-of-fold probabilities the meta-learner was fitted on: the columns of
        learner ``i`` are ``i * n_classes`` to ``(i + 1) * n_classes - 1``, in the
        order of ``classes_``. A class missing from a training fold has probability 0.
    meta_feature_names_ : list of str
        Names of the ``oof_proba_`` columns, ``"{learner}_{class}"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit; only when ``X`` was a DataFrame with string
        column names.

    See Also
    --------
    sklearn.ensemble.StackingClassifier : stacking without uncertainty, tuning records or
        spatial splitters aligned by the DataFrame index.
    odse_tutorial.uncertainty.normalized_entropy : the uncertainty of a single model.

    Notes
    -----
    **Tuning and out-of-fold probabilities.** A search object is fitted once, on all
    training data, and tunes on its own inner ``cv``. Its ``best_estimator_`` (refitted
    on all data) becomes the base learner, and clones of it, with the tuned
    hyper-parameters, are fitted on each training fold of ``cv`` to produce the
    out-of-fold probabilities. The hyper-parameters have therefore seen every row, so
    the out-of-fold probabilities, and any score computed from them, are slightly
    optimistic. For an honest estimate of the accuracy of the whole procedure, wrap the
    ensemble in an outer cross-validation (``odse_tutorial.model_selection.
    nested_cross_validate``), which repeats tuning and stacking inside every outer fold.

    **Data passed on.** ``X`` goes to base learners, search objects and ``cv.split``
    as given: a DataFrame stays a DataFrame (with its index), so a spatial splitter
    inside a search object can align its groups with the rows. The meta-learner gets
    the out-of-fold probabilities as a DataFrame with the index of ``X`` (columns
    ``meta_feature_names_``) when ``X`` is a DataFrame, else as an array. ``groups``,
    when given, go to ``cv.split`` and to the ``fit`` of every search object.

    **Sample weights** go to every fit: search objects, out-of-fold fits, refits and
    the meta-learner (for a :class:`~sklearn.pipeline.Pipeline`, to its last step).
    A learner whose ``fit`` does not accept ``sample_weight`` is fitted without them,
    with a warning.

    **Uncertainty.** :meth:`predict_uncertainty` is the standard deviation (``ddof=0``)
    of the base learners' probabilities for each class: 0 where they agree, at most
    0.5 for two learners. With a single base learner it is always 0.

    References
    ----------
    Witjes, M., Parente, L., van Diemen, C. J., et al. (2022). A spatiotemporal ensemble
    machine learning framework for generating land use/land cover time-series maps for
    Europe (2000-2019) based on LUCAS, CORINE and GLAD Landsat. PeerJ 10:e13573.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(n_samples=150, n_informative=3, n_classes=3,
    ...                            random_state=0)
    >>> y = np.array([112, 231, 311])[y]  # CORINE codes
    >>> ensemble = StackingEnsemble(
    ...     [("tree", GridSearchCV(DecisionTreeClassifier(), {"max_depth": [2, 4]}, cv=3)),
    ...      ("logreg", LogisticRegression())],
    ...     cv=3, random_state=0,
    ... ).fit(X, y)
    >>> ensemble.classes_.tolist()
    [112, 231, 311]
    >>> ensemble.oof_proba_.shape  # 150 samples x (2 learners * 3 classes)
    (150, 6)
    >>> sorted(ensemble.best_params_["tree"])
    ['max_depth']
    >>> ensemble.predict_proba(X[:2]).shape, ensemble.predict_uncertainty(X[:2]).shape
    ((2, 3), (2, 3))
    >>> bool(np.isin(ensemble.predict(X[:5]), ensemble.classes_).all())
    True
    """

    def __init__(
        self,
        estimators: Sequence[tuple[str, Any]],
        final_estimator: Any = None,
        *,
        cv: int | Any = 5,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- parameters: base learners are addressable by name, as in StackingClassifier ----
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this ensemble; with ``deep``, also ``{name}`` and ``{name}__{param}``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the base learners by name and their parameters.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            for name, estimator in self._named_pairs():
                params[name] = estimator
                if hasattr(estimator, "get_params") and not isinstance(estimator, type):
                    for key, value in estimator.get_params(deep=True).items():
                        params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> StackingEnsemble:
        """Set parameters, including ``{name}`` (replace a learner) and ``{name}__{param}``.

        The estimators passed to the constructor are not modified: a learner whose
        parameters change is replaced by a changed clone.

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : StackingEnsemble
            This ensemble.
        """
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        own = set(super().get_params(deep=False))
        learners = dict(self._named_pairs())
        replace = {
            key: params.pop(key) for key in list(params) if key in learners and key not in own
        }
        nested: dict[str, dict[str, Any]] = {}
        for key in list(params):
            head, sep, tail = key.partition("__")
            if sep and head in learners and head not in own:
                nested.setdefault(head, {})[tail] = params.pop(key)
        for name, sub_params in nested.items():
            replace[name] = clone(replace.get(name, learners[name])).set_params(**sub_params)
        if replace:
            self.estimators = [(n, replace.get(n, e)) for n, e in self._named_pairs()]
        super().set_params(**params)
        return self

    def _named_pairs(self) -> list[tuple[Any, Any]]:
        try:
            return [(name, estimator) for name, estimator in self.estimators]
        except (TypeError, ValueError):
            return []

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            learners = [estimator for _, estimator in self._named_pairs()]
            tags.input_tags.allow_nan = bool(learners) and all(
                get_tags(estimator).input_tags.allow_nan for estimator in learners
            )
        except Exception:  # tags of exotic objects: keep the safe default (no NaN)
            tags.input_tags.allow_nan = False
        return tags

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        X: ArrayLike | pd.DataFrame,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> StackingEnsemble:
        """Fit the base learners out-of-fold, the meta-learner, then refit the base learners.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features. A DataFrame is passed on unchanged (with its index).
        y : array-like of shape (n_samples,)
            Class labels: integers (e.g. CORINE codes) or strings.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights (e.g. sample confidence), used in every fit.
        groups : array-like of shape (n_samples,), optional
            Group labels (tile or block ids) for ``cv.split`` and the search objects.

        Returns
        -------
        self : StackingEnsemble
            The fitted ensemble.
        """
        learners = self._validate_estimators()
        X_checked, y = validate_data(self, X, y, ensure_all_finite=self._finite_mode())
        self._pandas_in_ = isinstance(X, pd.DataFrame)
        X_in = X if self._pandas_in_ else X_checked
        del X_checked
        y = np.asarray(y)
        self.classes_ = _sorted_classes(y)
        check_classification_targets(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_.tolist()}); a classifier needs "
                "samples of at least two classes."
            )
        weights = _check_weights(sample_weight, len(y))
        if groups is not None and len(groups) != len(y):
            raise ValueError(
                f"groups has {len(groups)} values but X has {len(y)} rows; pass one group "
                "label (e.g. tile id) per sample."
            )
        splits = self._splits(X_in, y, groups)
        rng = None if self.random_state is None else check_random_state(self.random_state)
        learners = [(name, _seeded(estimator, rng)) for name, estimator in learners]
        meta = self.final_estimator
        meta = _seeded(LogisticRegression(max_iter=1000) if meta is None else meta, rng)
        for name, estimator in [*learners, (_META_NAME, meta)]:
            _warn_if_unweighted(name, estimator, weights)

        # 1. tune the search objects once, on all rows (each on its own inner cv)
        self.searches_, self.best_params_ = {}, {}
        templates, refitted = [], {}
        for name, estimator in learners:
            if _is_search(estimator):
                refitted[name] = self._fit_search(name, estimator, X_in, y, weights, groups)
                templates.append((name, clone(refitted[name])))
            else:
                templates.append((name, estimator))

        # 2. out-of-fold probabilities with the (tuned) learners, and refits on all rows
        oof, fitted = self._fit_out_of_fold(templates, refitted, X_in, y, weights, splits)
        self.estimators_ = [fitted[name] for name, _ in templates]
        self.named_estimators_ = Bunch(**fitted)
        self.oof_proba_ = oof
        self.meta_feature_names_ = [f"{n}_{c}" for n, _ in templates for c in self.classes_]

        # 3. the meta-learner, on the out-of-fold probabilities
        meta_X = self._meta_input(oof, X_in.index if self._pandas_in_ else None)
        if _is_search(meta):
            self.final_estimator_ = self._fit_search(_META_NAME, meta, meta_X, y, weights, groups)
        else:
            self.final_estimator_ = _fit_weighted(meta, meta_X, y, weights)
        return self

    def _fit_out_of_fold(
        self,
        templates: list[tuple[str, Any]],
        refitted: dict[str, Any],
        X: Any,
        y: NDArray,
        weights: NDArray | None,
        splits: list[tuple[NDArray, NDArray]],
    ) -> tuple[NDArray[np.float64], dict[str, Any]]:
        """Out-of-fold probabilities of every learner, and the learners refitted on all rows."""
        n_folds, n_classes = len(splits), len(self.classes_)
        logger.info("Out-of-fold probabilities: %d learners x %d folds", len(templates), n_folds)
        jobs = [
            delayed(_fit_fold)(est, X, y, weights, train, test, self.classes_, name, k, n_folds)
            for name, est in templates
            for k, (train, test) in enumerate(splits)
        ]
        to_refit = [(name, est) for name, est in templates if name not in refitted]
        jobs += [delayed(_fit_all)(est, X, y, weights, name) for name, est in to_refit]
        results = Parallel(n_jobs=self.n_jobs)(jobs)

        oof = np.zeros((len(y), len(templates) * n_classes))
        for i in range(len(templates)):
            fold_probas = results[i * n_folds : (i + 1) * n_folds]
            for (_, test), proba in zip(splits, fold_probas, strict=True):
                oof[test, i * n_classes : (i + 1) * n_classes] = proba
        new_fits = dict(
            zip([n for n, _ in to_refit], results[len(templates) * n_folds :], strict=True)
        )
        return oof, {n: refitted[n] if n in refitted else new_fits[n] for n, _ in templates}

    def _validate_estimators(self) -> list[tuple[str, Any]]:
        example = "e.g. [('rf', RandomForestClassifier()), ('mlp', MLPClassifier())]"
        if not isinstance(self.estimators, list | tuple) or not self.estimators:
            raise ValueError(
                f"estimators must be a non-empty list of (name, estimator) pairs, {example}; "
                f"got {self.estimators!r}."
            )
        if not all(isinstance(item, tuple | list) and len(item) == 2 for item in self.estimators):
            raise ValueError(f"estimators must be (name, estimator) pairs, {example}.")
        names = [name for name, _ in self.estimators]
        reserved = set(super().get_params(deep=False))
        for name in names:
            if not isinstance(name, str) or not name or "__" in name or name in reserved:
                raise ValueError(
                    f"Invalid learner name {name!r}: names must be non-empty strings without "
                    f"'__' and may not be one of {sorted(reserved)}; rename the learner."
                )
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"Learner names must be unique; repeated: {repeated}. Rename them.")
        for name, estimator in [*self.estimators, (_META_NAME, self.final_estimator)]:
            if _is_search(estimator) and getattr(estimator, "refit", True) is False:
                raise ValueError(
                    f"The search object of {name!r} has refit=False, so it keeps no tuned "
                    "estimator; create it with refit=True (or the name of the metric to refit on)."
                )
            if estimator is not None:
                _require_proba(name, estimator)
        return list(self.estimators)

    def _finite_mode(self) -> bool | str:
        return "allow-nan" if self.__sklearn_tags__().input_tags.allow_nan else True

    def _splits(self, X: Any, y: NDArray, groups: ArrayLike | None) -> list[tuple]:
        cv = self.cv if self.cv is not None else 5
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            if cv < 2:
                raise ValueError(f"cv must be at least 2 folds, got cv={cv}.")
            kind = StratifiedKFold if groups is None else StratifiedGroupKFold
            cv = kind(n_splits=int(cv), shuffle=True, random_state=self.random_state)
        else:
            cv = check_cv(cv, y, classifier=True)
            if groups is not None and _ignores_groups(cv):
                warnings.warn(
                    f"groups were passed to fit but {type(cv).__name__} ignores them, so "
                    "samples of one group can be in training and test folds. Use a "
                    "group-aware splitter (e.g. GroupKFold) or the package's spatial splitters.",
                    UserWarning,
                    stacklevel=3,
                )
                groups = None  # said once, here, rather than again by scikit-learn
        kwargs = {} if groups is None else {"groups": groups}
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, **kwargs)]
        counts = np.zeros(len(y), dtype=int)
        for _, test in splits:
            np.add.at(counts, test, 1)
        if not (counts == 1).all():
            raise ValueError(
                f"cv must put every sample in exactly one test fold (a partition, like "
                f"KFold), but {int((counts == 0).sum())} samples are in no test fold and "
                f"{int((counts > 1).sum())} in several. Use a k-fold-type splitter, not "
                "ShuffleSplit-type ones."
            )
        return splits

    def _fit_search(
        self,
        name: str,
        search: Any,
        X: Any,
        y: NDArray,
        weights: NDArray | None,
        groups: ArrayLike | None,
    ) -> Any:
        logger.info("Tuning %r with %s", name, type(search).__name__)
        kwargs = {} if groups is None else {"groups": groups}
        search = _fit_weighted(search, X, y, weights, **kwargs)
        self.searches_[name] = search
        self.best_params_[name] = dict(search.best_params_)
        logger.info("Best parameters of %r: %s", name, search.best_params_)
        return search.best_estimator_

    # -- prediction ---------------------------------------------------------------------
    def _base_input(self, X: Any) -> tuple[Any, pd.Index | None]:
        check_is_fitted(self)
        X_checked = validate_data(self, X, reset=False, ensure_all_finite=self._finite_mode())
        if self._pandas_in_ and isinstance(X, pd.DataFrame):
            return X, X.index
        if hasattr(self, "feature_names_in_"):  # fitted on a frame: give learners names
            return pd.DataFrame(X_checked, columns=self.feature_names_in_), None
        return X_checked, None

    def _meta_input(self, proba: NDArray, index: pd.Index | None) -> Any:
        if not self._pandas_in_:
            return proba
        return pd.DataFrame(proba, index=index, columns=self.meta_feature_names_)

    def _base_probas(self, X: Any) -> tuple[list[NDArray], pd.Index | None]:
        X_in, index = self._base_input(X)
        probas = [
            _aligned_proba(est, X_in, self.classes_, name)
            for name, est in self.named_estimators_.items()
        ]
        return probas, index

    def predict_base_proba(self, X: ArrayLike | pd.DataFrame) -> dict[str, NDArray[np.float64]]:
        """Class probabilities of each refitted base learner, by learner name.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        dict of str to ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        probas, _ = self._base_probas(X)
        return dict(zip(self.named_estimators_.keys(), probas, strict=True))

    def predict_proba(self, X: ArrayLike | pd.DataFrame) -> NDArray[np.float64]:
        """Class probabilities of the ensemble (the meta-learner's).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        return self._meta_proba(*self._base_probas(X))

    def _meta_proba(self, probas: list[NDArray], index: pd.Index | None) -> NDArray[np.float64]:
        """The meta-learner's probabilities from the base learners' probabilities."""
        meta_X = self._meta_input(np.hstack(probas), index)
        return _aligned_proba(self.final_estimator_, meta_X, self.classes_, _META_NAME)

    def predict(self, X: ArrayLike | pd.DataFrame) -> NDArray:
        """The most probable class of each sample, as an original label.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_uncertainty(self, X: ArrayLike | pd.DataFrame) -> NDArray[np.float64]:
        """Per-class uncertainty: standard deviation of the base learners' probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``np.std`` (``ddof=0``) over the base learners, columns in the order of
            ``classes_``; 0 where all base learners agree.
        """
        probas, _ = self._base_probas(X)
        return np.std(np.stack(probas), axis=0)

    def predict_proba_and_uncertainty(
        self, X: ArrayLike | pd.DataFrame
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`predict_proba` and :meth:`predict_uncertainty` from one pass of the learners.

        Map prediction needs both; computing the base learners' probabilities once
        halves its cost.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        proba, uncertainty : ndarrays of shape (n_samples, n_classes)
        """
        probas, index = self._base_probas(X)
        return self._meta_proba(probas, index), np.std(np.stack(probas), axis=0)


# -- helpers ----------------------------------------------------------------------------
def _sorted_classes(y: NDArray) -> NDArray:
    try:
        return np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.tolist()})
        raise ValueError(
            f"Class labels mix types ({', '.join(kinds)}) and cannot be sorted; convert them "
            "to one type first, e.g. y.astype(str)."
        ) from None


def _check_weights(sample_weight: ArrayLike | None, n_samples: int) -> NDArray | None:
    if sample_weight is None:
        return None
    weights = np.array(sample_weight, dtype=np.float64)  # a copy: the caller's stays intact
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, "
            f"got shape {weights.shape}."
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            "sample_weight must be finite and non-negative; fix or drop the offending weights."
        )
    if weights.sum() <= 0:
        raise ValueError("sample_weight is zero for every sample; give some samples weight.")
    return weights


def _is_search(estimator: Any) -> bool:
    return hasattr(estimator, "estimator") and (
        hasattr(estimator, "param_grid") or hasattr(estimator, "param_distributions")
    )


def _require_proba(name: str, estimator: Any) -> None:
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"Learner {name!r} ({type(estimator).__name__}) has no predict_proba; stacking "
            "needs class probabilities. Use a probabilistic classifier (e.g. "
            "SVC(probability=True)) or wrap it in CalibratedClassifierCV."
        )


def _weight_key(estimator: Any) -> str | None:
    """The ``fit`` keyword that carries sample weights to ``estimator``, or None."""
    if _is_search(estimator):  # search.fit forwards its fit parameters to its estimator
        return _weight_key(estimator.estimator)
    if isinstance(estimator, Pipeline):
        step_name, step = estimator.steps[-1]
        key = None if step in (None, "passthrough") else _weight_key(step)
        return None if key is None else f"{step_name}__{key}"
    try:
        return "sample_weight" if has_fit_parameter(estimator, "sample_weight") else None
    except (AttributeError, TypeError, ValueError):
        return None


def _warn_if_unweighted(name: str, estimator: Any, weights: NDArray | None) -> None:
    if weights is not None and _weight_key(estimator) is None:
        warnings.warn(
            f"Learner {name!r} ({type(estimator).__name__}) does not accept sample_weight "
            "in fit() and is fitted without weights. Use a learner that supports weights, "
            "or fit without sample_weight.",
            UserWarning,
            stacklevel=3,
        )


def _fit_weighted(estimator: Any, X: Any, y: NDArray, weights: NDArray | None, **kwargs) -> Any:
    key = _weight_key(estimator)
    if weights is not None and key is not None:
        kwargs[key] = weights
    return estimator.fit(X, y, **kwargs)


def _seeded(estimator: Any, rng: np.random.RandomState | None) -> Any:
    """A clone of ``estimator`` whose unset ``random_state`` parameters are seeded from rng."""
    estimator = clone(estimator)
    if rng is None:
        return estimator
    sub_rng = np.random.RandomState(rng.randint(_MAX_SEED))  # one draw per learner
    unset = sorted(
        key
        for key, value in estimator.get_params(deep=True).items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    )
    return estimator.set_params(**{key: int(sub_rng.randint(_MAX_SEED)) for key in unset})


def _ignores_groups(cv: Any) -> bool:
    """True for scikit-learn splitters that do not use groups (KFold, StratifiedKFold...)."""
    if not type(cv).__module__.startswith("sklearn.") or not hasattr(cv, "get_metadata_routing"):
        return False  # other splitters may use groups without declaring it: pass them on
    return not get_routing_for_object(cv).consumes("split", ["groups"])


def _rows(X: Any, index: NDArray) -> Any:
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def _aligned_proba(estimator: Any, X: Any, classes: NDArray, name: str) -> NDArray[np.float64]:
    """``predict_proba`` with one column per class of ``classes`` (0 for unseen classes)."""
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    known = np.asarray(estimator.classes_)
    columns = np.searchsorted(classes, known)
    if (columns >= len(classes)).any() or not np.array_equal(classes[columns], known):
        raise ValueError(
            f"Learner {name!r} predicts classes {known.tolist()} that are not among the "
            f"ensemble's classes {classes.tolist()}; do not relabel y inside a learner."
        )
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, columns] = proba
    return out


def _fit_fold(
    template: Any,
    X: Any,
    y: NDArray,
    weights: NDArray | None,
    train: NDArray,
    test: NDArray,
    classes: NDArray,
    name: str,
    fold: int,
    n_folds: int,
) -> NDArray[np.float64]:
    estimator = clone(template)
    try:
        _fit_weighted(
            estimator, _rows(X, train), y[train], None if weights is None else weights[train]
        )
        return _aligned_proba(estimator, _rows(X, test), classes, name)
    except Exception as exc:
        present: list[Hashable] = np.unique(y[train]).tolist()
        exc.add_note(
            f"While fitting learner {name!r} on fold {fold + 1} of {n_folds} "
            f"({len(train)} training rows, classes {present})."
        )
        raise


def _fit_all(template: Any, X: Any, y: NDArray, weights: NDArray | None, name: str) -> Any:
    logger.debug("Refitting %r on all %d rows", name, len(y))
    return _fit_weighted(clone(template), X, y, weights)
