"""Input checks shared by the package: one place for each kind of bad input."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def n_rows(data: Any) -> int:
    """Number of rows (samples) of an array, frame or list, without converting it."""
    if hasattr(data, "shape"):
        return data.shape[0]
    # array-likes without __len__ (scikit-learn's _NotAnArray) are read as arrays
    return len(data) if hasattr(data, "__len__") else np.asarray(data).shape[0]


def missing_column(
    column: str, found: Iterable, *, what: str = "", where: str = "the samples", fix: str = ""
) -> str:
    """A message naming a missing column, the closest match and the columns found; ''
    when ``column`` is there. ``fix`` is appended, with ``{close}`` the closest match.

    Examples
    --------
    >>> missing_column("lc_cod", ["lc_code", "year"], what="class code ")
    "No class code column 'lc_cod' in the samples (did you mean 'lc_code'?). Columns found: ['lc_code', 'year']."
    """
    names = [str(c) for c in found]
    if str(column) in names:
        return ""
    close = difflib.get_close_matches(str(column), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"No {what}column {column!r} in {where}{hint}. Columns found: {names}." + fix.format(
        close=close[0] if close else "<column>"
    )


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
