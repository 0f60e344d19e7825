"""Per-pixel uncertainty from class probabilities.

Ensembles measure uncertainty as the disagreement between their base learners
(:meth:`odse_tutorial.ensemble.StackingEnsemble.predict_uncertainty`). A single
model only has its own probabilities; these functions turn them into a number
between 0 (certain) and 1 (as uncertain as it can be).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["normalized_entropy", "probability_margin"]


def _as_proba(proba: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"Expected class probabilities of shape (n_samples, n_classes >= 2), got {p.shape}."
        )
    return p


def normalized_entropy(proba: ArrayLike) -> NDArray[np.float64]:
    """Shannon entropy of each row of ``proba``, divided by its maximum ``log(K)``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities; each row sums to 1.

    Returns
    -------
    ndarray of shape (n_samples,)
        0 when one class has probability 1, 1 when all classes are equally likely.

    Examples
    --------
    >>> normalized_entropy([[1.0, 0.0], [0.5, 0.5]]).round(3).tolist()
    [0.0, 1.0]
    """
    p = _as_proba(proba)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return np.clip(terms.sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)


def probability_margin(proba: ArrayLike) -> NDArray[np.float64]:
    """One minus the margin between the two most probable classes.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities; each row sums to 1.

    Returns
    -------
    ndarray of shape (n_samples,)
        0 when the best class wins by a probability of 1, 1 when the two best tie.

    Examples
    --------
    >>> probability_margin([[0.9, 0.1, 0.0], [0.4, 0.4, 0.2]]).round(3).tolist()
    [0.2, 1.0]
    """
    p = np.sort(_as_proba(proba), axis=1)
    return 1.0 - (p[:, -1] - p[:, -2])
