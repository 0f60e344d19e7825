"""Input checks shared by the package: one place for each kind of bad input."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_sample_weight(
    sample_weight: ArrayLike | None, n_samples: int, *, name: str = "sample_weight"
) -> NDArray[np.float64] | None:
    """Sample weights as a float array of one finite, non-negative weight per sample.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        The weights; ``None`` means every sample counts alike and is returned as is.
    n_samples : int
        Number of samples the weights belong to.
    name : str, default "sample_weight"
        Name of the argument, used in the error messages.

    Returns
    -------
    ndarray of float64, shape (n_samples,), or None
        A copy of the weights (the caller's array is never changed).

    Raises
    ------
    ValueError
        If the weights are not numbers, have the wrong length, hold NaN or infinite or
        negative values, or are all zero. The message names the argument and the fix.

    Examples
    --------
    >>> check_sample_weight([1, 0.5, 2], 3)
    array([1. , 0.5, 2. ])
    >>> check_sample_weight(None, 3) is None
    True
    >>> check_sample_weight([1, -1, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight has 1 negative weight(s) (smallest -1); weights must be >= 0. Fix or drop those samples.
    """
    if sample_weight is None:
        return None
    try:
        weights = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold numbers, one weight per sample ({err}).") from None
    if weights.shape != (n_samples,):
        raise ValueError(
            f"{name} must hold one weight per sample ({n_samples}), got shape {weights.shape}; "
            f"pass the weights of the same rows as X, or {name}=None."
        )
    bad = ~np.isfinite(weights)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite weight(s) of {n_samples}; "
            "fill or drop those samples first."
        )
    negative = weights < 0
    if negative.any():
        raise ValueError(
            f"{name} has {int(negative.sum())} negative weight(s) (smallest "
            f"{weights.min():g}); weights must be >= 0. Fix or drop those samples."
        )
    if not weights.sum() > 0:
        raise ValueError(
            f"{name} is zero for all {n_samples} samples; give some samples weight, "
            f"or pass {name}=None to weigh them alike."
        )
    return weights
