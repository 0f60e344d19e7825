"""Class labels: dropping rare classes (with a report) and encoding class codes.

Models in this package are fitted on the original class codes (CORINE codes such as
``231``, or strings). Two small jobs remain for the labels themselves:

- classes with only a handful of samples cannot be learned, nor validated, and make
  cross-validation folds without that class; :func:`drop_rare_classes` removes them and
  says which ones it removed;
- rasters cannot hold string codes, so :func:`encode_labels` turns codes into their
  position 0..K-1 in a :class:`~odse_tutorial.classes.ClassTable`, and
  :func:`decode_labels` turns positions back into codes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from odse_tutorial.classes import ClassTable, _normalise_code

__all__ = ["decode_labels", "drop_rare_classes", "encode_labels"]

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
    y: ArrayLike,
    *,
    min_count: int | None = None,
    min_share: float | None = None,
) -> tuple[NDArray[np.bool_], pd.DataFrame]:
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
    counts = codes.value_counts(sort=False)
    report = pd.DataFrame(
        {
            "code": [_normalise_code(c) for c in counts.index],
            "count": counts.to_numpy(dtype=np.int64),
        }
    )
    report["share"] = report["count"] / max(len(codes), 1)
    kept = np.ones(len(report), dtype=bool)
    if min_count is not None:
        kept &= report["count"].to_numpy() >= min_count
    if min_share is not None:
        kept &= report["share"].to_numpy() >= min_share
    report["kept"] = kept
    kept_before_sort = kept.copy()
    report = report.sort_values("code", kind="stable").reset_index(drop=True)

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
    keep = codes.isin(counts.index[kept_before_sort]).to_numpy()
    return keep, report


def encode_labels(y: ArrayLike, classes: ClassTable) -> NDArray[np.intp]:
    """Class codes -> their position 0..K-1 in a class table.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class codes, integers or strings.
    classes : ClassTable
        The table whose order defines the encoding.

    Returns
    -------
    ndarray of int, shape (n_samples,)
        The position of each code in ``classes``.

    Raises
    ------
    ValueError
        If ``y`` holds codes that are not in ``classes`` (all are listed).

    Examples
    --------
    >>> table = ClassTable([211, 231, 512], ["Arable land", "Pastures", "Water bodies"])
    >>> encode_labels([231, 512, 211, 231], table).tolist()
    [1, 2, 0, 1]
    """
    inverse, uniques = pd.factorize(_as_codes(y))
    unique_codes = [_normalise_code(c) for c in uniques]
    unknown = [c for c in unique_codes if c not in classes]
    if unknown:
        raise ValueError(
            f"Class codes {sorted(unknown, key=str)} are not in the class table "
            f"(known codes: {list(classes.codes)}). Add them to the table, or drop those "
            "samples first (for example with drop_rare_classes)."
        )
    positions = np.array([classes.index_of(c) for c in unique_codes], dtype=np.intp)
    return positions[inverse]


def decode_labels(encoded: ArrayLike, classes: ClassTable) -> NDArray:
    """Positions 0..K-1 in a class table -> class codes (the inverse of :func:`encode_labels`).

    Parameters
    ----------
    encoded : array-like of int, shape (n_samples,)
        Positions in ``classes``.
    classes : ClassTable
        The table the positions refer to.

    Returns
    -------
    ndarray of shape (n_samples,)
        The class codes (integers, or strings for a table of string codes).

    Raises
    ------
    ValueError
        If a position is outside 0..K-1.

    Examples
    --------
    >>> table = ClassTable(["forest", "water"])
    >>> decode_labels([1, 0, 1], table).tolist()
    ['water', 'forest', 'water']
    """
    positions = np.asarray(encoded)
    if positions.size and (
        not np.issubdtype(positions.dtype, np.integer)
        or positions.min() < 0
        or positions.max() >= len(classes)
    ):
        raise ValueError(
            f"Encoded labels must be whole numbers from 0 to {len(classes) - 1} (the positions "
            f"in a table of {len(classes)} classes); got values from {positions.min()} to "
            f"{positions.max()} ({positions.dtype}). Decode with the table used to encode."
        )
    return np.asarray(classes.codes)[positions]
