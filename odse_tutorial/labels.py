"""Class labels: dropping rare classes, with a report.

Models in this package are fitted on the original class codes (CORINE codes such as
``231``, or strings). Classes with only a handful of samples can be neither learned nor
validated, and leave cross-validation folds without that class; :func:`drop_rare_classes`
removes them and says which ones it removed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from odse_tutorial.classes import _normalise_code

__all__ = ["drop_rare_classes"]

logger = logging.getLogger(__name__)


def _as_codes(y: ArrayLike, argument: str = "y") -> pd.Series:
    """Class codes as a Series with a fresh 0..n-1 index; missing codes are an error."""
    if np.ndim(y) != 1:
        raise ValueError(f"{argument} must be one-dimensional, got shape {np.shape(y)}.")
    codes = y.reset_index(drop=True) if isinstance(y, pd.Series) else pd.Series(y)
    n_missing = int(codes.isna().sum())
    if n_missing:
        raise ValueError(
            f"{argument} holds {n_missing} missing class code(s); drop those samples first, "
            "for example with samples.dropna(subset=['<class column>'])."
        )
    return codes


def _check_thresholds(min_count: int | None, min_share: float | None) -> None:
    if min_count is None and min_share is None:
        raise ValueError(
            "Give a threshold: min_count (fewest samples a class needs, e.g. min_count=10) "
            "and/or min_share (smallest share of all samples, e.g. min_share=0.01)."
        )
    if min_count is not None and (isinstance(min_count, bool) or int(min_count) != min_count):
        raise ValueError(f"min_count must be a whole number of samples, got {min_count!r}.")
    if min_count is not None and min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count!r}.")
    if min_share is not None and not 0.0 < min_share < 1.0:
        raise ValueError(
            f"min_share is a share of the samples between 0 and 1 (0.01 for 1 %), got {min_share!r}."
        )


def drop_rare_classes(
    y: ArrayLike, *, min_count: int | None = None, min_share: float | None = None
) -> tuple[NDArray, pd.DataFrame]:
    """Find the samples of classes that are frequent enough to be learned.

    A class is dropped when it has fewer than ``min_count`` samples, or when its share
    of all samples is below ``min_share``; with both thresholds, failing either drops it.
    A warning is logged that names the dropped classes.

    Parameters
    ----------
    y : array-like or pandas.Series of shape (n_samples,)
        Class codes, integers or strings.
    min_count : int, optional
        Fewest samples a class needs to be kept.
    min_share : float, optional
        Smallest share of all samples (between 0 and 1) a class needs to be kept.

    Returns
    -------
    keep : ndarray of bool, shape (n_samples,)
        ``True`` for the samples to keep, in the order of ``y`` (select with
        ``samples[keep]``, whatever the index of ``samples``).
    report : pandas.DataFrame
        One row per class, ordered by code, with columns ``code``, ``count``, ``share``
        and ``kept``.

    Raises
    ------
    ValueError
        If no threshold is given, a threshold is out of range, or ``y`` has missing codes.

    Examples
    --------
    >>> y = [231] * 6 + [211] * 3 + [512]
    >>> keep, report = drop_rare_classes(y, min_count=2)
    >>> keep.tolist()
    [True, True, True, True, True, True, True, True, True, False]
    >>> report
       code  count  share   kept
    0   211      3    0.3   True
    1   231      6    0.6   True
    2   512      1    0.1  False
    """
    _check_thresholds(min_count, min_share)
    codes = _as_codes(y)
    counts = codes.value_counts(sort=False).astype(np.int64).rename_axis(None)  # int64, unnamed
    share = counts / max(len(codes), 1)
    kept = (counts >= (min_count or 0)) & (share >= (min_share or 0))  # None: no threshold
    report = pd.DataFrame({"count": counts, "share": share, "kept": kept})
    report.insert(0, "code", [_normalise_code(c) for c in counts.index])
    report = report.sort_values("code", kind="stable", ignore_index=True)

    dropped = report.loc[~report["kept"]]
    if len(dropped):
        listing = ", ".join(
            f"{c} ({n})" for c, n in zip(dropped["code"], dropped["count"], strict=True)
        )
        logger.warning(
            "Dropping %d rare class(es) with %d sample(s) in all: %s.",
            len(dropped),
            int(dropped["count"].sum()),
            listing,
        )
    keep = codes.isin(counts.index[kept.to_numpy()]).to_numpy()
    return keep, report
