"""Stacking ensemble with per-class uncertainty (Witjes et al. 2022).

The "Ensemble Machine Learning" of the 2021 ODSE workshop is scikit-learn's
:class:`~sklearn.ensemble.StackingClassifier`:

1. every base learner (e.g. random forest, gradient boosting, a neural network) predicts
   class probabilities for rows it was *not* trained on (out-of-fold, over ``cv``);
2. those probabilities, K columns per learner, are the features of a meta-learner
   (a logistic regression by default), fitted on all rows;
3. the base learners are refitted on all rows.

:class:`StackingEnsemble` adds one thing: the disagreement between the base learners,
the standard deviation of their probabilities for each class, which is the per-class
uncertainty of the map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import StackingClassifier
from sklearn.utils.validation import check_is_fitted

from odse_tutorial._checks import check_sample_weight, n_rows

__all__ = ["StackingEnsemble"]


class StackingEnsemble(StackingClassifier):
    """Stacking of classifiers' probabilities, with the per-class uncertainty of the learners.

    A :class:`~sklearn.ensemble.StackingClassifier` that stacks class probabilities
    (``stack_method="predict_proba"``) and also predicts how much its base learners
    disagree. Everything else (out-of-fold probabilities over ``cv``, refitting on all
    data, sample weights, parallel fits, ``estimators_``, ``named_estimators_``,
    ``final_estimator_``) is scikit-learn's.

    Parameters
    ----------
    estimators : list of (str, estimator) pairs
        The base learners: classifiers with ``predict_proba``, or search objects
        (``GridSearchCV``, ``RandomizedSearchCV``...) around one. A search object is
        cloned and tuned anew on each training part of ``cv``, and once more on all
        data, so that the out-of-fold probabilities are honest.
    final_estimator : classifier, optional
        The meta-learner, fitted on the out-of-fold probabilities. Defaults to
        ``LogisticRegression()``.
    cv : int, cross-validation splitter or iterable, optional
        The folds of the out-of-fold probabilities (default: 5-fold stratified). Use a
        spatial splitter (:func:`odse_tutorial.model_selection.block_cv`) for samples
        that are close in space.
    stack_method : {"predict_proba"}, default="predict_proba"
        Kept for scikit-learn compatibility; the uncertainty needs probabilities.
    n_jobs : int, optional
        Number of jobs for the fits of the base learners.
    passthrough : bool, default=False
        Also give the meta-learner the original features.
    verbose : int, default=0
        Verbosity level.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted, as given in ``y`` (e.g. CORINE codes).
    estimators_, named_estimators_, final_estimator_, stack_method_
        As in :class:`~sklearn.ensemble.StackingClassifier`. The fitted learners see the
        classes as 0..K-1 (scikit-learn encodes ``y``): position ``k`` is ``classes_[k]``.

    See Also
    --------
    odse_tutorial.uncertainty.normalized_entropy : the uncertainty of a single model.

    Notes
    -----
    **Sample weights** go to every base learner and to the meta-learner, as in
    scikit-learn; a learner that does not accept them (such as a ``Pipeline`` without
    metadata routing) makes :meth:`fit` fail with scikit-learn's error and a note.

    **Uncertainty** (:meth:`predict_uncertainty`) is the standard deviation (``ddof=0``)
    over the base learners of their probability of each class: 0 where they agree, at
    most 0.5. With a single base learner it is always 0.

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
    >>> tree = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [2, 4]}, cv=3)
    >>> ensemble = StackingEnsemble([("tree", tree), ("logreg", LogisticRegression())],
    ...                             cv=3).fit(X, y)
    >>> ensemble.classes_.tolist()
    [112, 231, 311]
    >>> ensemble.get_feature_names_out()[:3].tolist()  # the meta-learner's features
    ['tree_112', 'tree_231', 'tree_311']
    >>> proba, uncertainty = ensemble.predict_proba_and_uncertainty(X[:2])
    >>> proba.shape, uncertainty.shape
    ((2, 3), (2, 3))
    >>> bool(np.isin(ensemble.predict(X[:5]), ensemble.classes_).all())
    True
    """

    def __init__(
        self,
        estimators: list[tuple[str, Any]],
        final_estimator: Any = None,
        *,
        cv: Any = None,
        stack_method: str = "predict_proba",
        n_jobs: int | None = None,
        passthrough: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            estimators,
            final_estimator,
            cv=cv,
            stack_method=stack_method,
            n_jobs=n_jobs,
            passthrough=passthrough,
            verbose=verbose,
        )

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **fit_params
    ) -> StackingEnsemble:
        """Fit the base learners out-of-fold, the meta-learner, then refit the base learners.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features; a DataFrame is passed on to the learners and to ``cv``.
        y : array-like of shape (n_samples,)
            Class labels: integers (e.g. CORINE codes) or strings.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights (e.g. sample confidence), given to every fit.
        **fit_params : dict
            Other metadata, routed by scikit-learn when metadata routing is enabled.

        Returns
        -------
        self : StackingEnsemble
            The fitted ensemble.
        """
        if self.stack_method != "predict_proba":
            raise ValueError(
                f"StackingEnsemble stacks probabilities (its uncertainty is their spread), "
                f"got stack_method={self.stack_method!r}; use stack_method='predict_proba', "
                "or sklearn.ensemble.StackingClassifier for other methods."
            )
        sample_weight = check_sample_weight(sample_weight, n_rows(X))
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        try:
            return super().fit(X, y, **fit_params)
        except (TypeError, ValueError) as exc:
            if "sample_weight" in fit_params and "sample weight" in str(exc).replace("_", " "):
                exc.add_note(
                    "StackingEnsemble gives sample_weight to every base learner and to the "
                    "final estimator, as scikit-learn does. Use learners whose fit accepts "
                    "sample_weight, fit without sample_weight, or enable metadata routing "
                    "(sklearn.set_config(enable_metadata_routing=True)) and request the "
                    "weights of each learner with set_fit_request(sample_weight=True)."
                )
            raise

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities of the meta-learner, columns in the order of ``classes_``.

        Raises scikit-learn's ``NotFittedError`` before :meth:`fit` (also with the
        default final estimator).
        """
        check_is_fitted(self, "final_estimator_")
        return super().predict_proba(X)

    def predict(self, X: ArrayLike, **predict_params: Any) -> NDArray:
        """The most probable class of each row (``NotFittedError`` before :meth:`fit`)."""
        check_is_fitted(self, "final_estimator_")
        return super().predict(X, **predict_params)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> NDArray:
        """Names of the meta-learner's features: ``"{learner}_{class}"`` (e.g. ``"rf_231"``).

        Parameters
        ----------
        input_features : array-like of str, optional
            Input feature names, used with ``passthrough=True`` only.

        Returns
        -------
        ndarray of str
            One name per column of :meth:`transform`.
        """
        names = super().get_feature_names_out(input_features)
        codes = self.classes_ if len(self.classes_) > 2 else self.classes_[1:]
        ours = [
            f"{name}_{code}" for name, est in self.estimators if est != "drop" for code in codes
        ]
        return np.asarray(ours + list(names[len(ours) :]), dtype=object)

    def predict_uncertainty(self, X: ArrayLike) -> NDArray[np.float64]:
        """Per-class uncertainty: standard deviation of the base learners' probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``np.std`` (``ddof=0``) over the base learners, columns in the order of
            ``classes_``; between 0 (all learners agree) and 0.5.
        """
        return self.predict_proba_and_uncertainty(X)[1]

    def predict_proba_and_uncertainty(
        self, X: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`predict_proba` and :meth:`predict_uncertainty` from one pass of the learners.

        Map prediction needs both; running the base learners once halves its cost.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.

        Returns
        -------
        proba, uncertainty : ndarrays of shape (n_samples, n_classes)
        """
        stacked = self.transform(X)  # NotFittedError before fit
        n_classes = len(self.classes_)
        # For two classes scikit-learn stacks only P(second class); P(first) = 1 - P(second)
        # has the same spread over the learners.
        n_columns = n_classes if n_classes > 2 else 1
        base = np.asarray(stacked[:, : len(self.estimators_) * n_columns], dtype=np.float64)
        spread = base.reshape(len(base), -1, n_columns).std(axis=1)
        spread = np.repeat(spread, n_classes // n_columns, axis=1)  # two classes: both columns
        return self.final_estimator_.predict_proba(stacked), spread
