"""Per-pixel uncertainty from class probabilities.

Ensembles measure uncertainty as the disagreement between their base learners
(``predict_proba_and_uncertainty``). A single model only has its own probabilities;
:func:`normalized_entropy` turns them into a number between 0 (certain) and 1 (as
uncertain as it can be). Maps of both are written by :mod:`odse_tutorial.prediction`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["normalized_entropy"]


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
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"Expected class probabilities of shape (n_samples, n_classes >= 2), got {p.shape}."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return np.clip(terms.sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)
