"""Calibration of predicted probabilities: reliability table, ECE and diagram."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from odse_tutorial.plotting._figures import (
    _axes,
    _bin_table,
    _share_bars,
)

__all__ = ["expected_calibration_error", "plot_reliability_diagram", "reliability_table"]


def reliability_table(
    y_true: ArrayLike, y_proba: ArrayLike, classes_: ArrayLike, *, n_bins: int = 10
) -> pd.DataFrame:
    """Calibration of the predicted class's probability, in equal-width bins.

    For each sample the *confidence* is the probability of its predicted (most
    probable) class; it is *correct* when that class is the reference class. Bins are
    ``(lower, upper]`` (the first also holds 0). A calibrated model is right in 80 % of
    the cases where it says 80 %.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes.
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes_``.
    classes_ : array-like of shape (n_classes,)
        The class of each column (the model's ``classes_``).
    n_bins : int, default 10
        Number of bins between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper``, ``n_samples``, ``mean_confidence`` and
        ``accuracy`` (NaN in empty bins).

    Examples
    --------
    >>> table = reliability_table([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2)
    >>> table[["n_samples", "mean_confidence", "accuracy"]].values.tolist()
    [[0.0, nan, nan], [2.0, 0.775, 0.5]]
    """
    confidence, correct = _confidence(y_true, y_proba, classes_)
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    n = np.bincount(bins, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, confidence, minlength=n_bins) / n
        accuracy = np.bincount(bins, correct, minlength=n_bins) / n
    return _bin_table(edges, n_samples=n, mean_confidence=mean_confidence, accuracy=accuracy)


def _confidence(
    y_true: ArrayLike, y_proba: ArrayLike, classes_: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    proba = np.asarray(y_proba, dtype=np.float64)
    truth = np.asarray(y_true)
    labels = np.asarray(classes_)
    if proba.ndim != 2 or proba.shape[1] != len(labels):
        raise ValueError(
            f"y_proba must have one column per class of classes_ ({len(labels)}), got shape "
            f"{proba.shape}."
        )
    if len(truth) != len(proba):
        raise ValueError(f"y_true has {len(truth)} values but y_proba {len(proba)} rows.")
    if len(truth) == 0:
        raise ValueError("No samples: y_true is empty.")
    predicted = labels[proba.argmax(axis=1)]
    return proba.max(axis=1), (predicted == truth).astype(np.float64)


def expected_calibration_error(
    y_true: ArrayLike, y_proba: ArrayLike, classes_: ArrayLike, *, n_bins: int = 10
) -> float:
    """Expected calibration error of the predicted class's probability.

    The mean over bins of ``|accuracy - mean confidence|``, weighted by the share of
    samples in the bin (see :func:`reliability_table`): 0 for a calibrated model.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes.
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes_``.
    classes_ : array-like of shape (n_classes,)
        The class of each column.
    n_bins : int, default 10
        Number of equal-width bins.

    Returns
    -------
    float

    Examples
    --------
    >>> expected_calibration_error([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2)
    0.275
    """
    table = reliability_table(y_true, y_proba, classes_, n_bins=n_bins)
    full = table[table.n_samples > 0]
    weights = full.n_samples / full.n_samples.sum()
    return round(float((weights * (full.accuracy - full.mean_confidence).abs()).sum()), 12)


def plot_reliability_diagram(
    y_true: ArrayLike,
    y_proba: ArrayLike,
    classes_: ArrayLike,
    *,
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Reliability diagram of the predicted class's probability, with its histogram.

    Points: per bin of predicted probability (of the predicted class: "top-label"
    calibration), the mean predicted probability against the share of samples whose
    predicted class is right. Points below the diagonal: the model is over-confident.
    Grey bars (right axis): the share of samples per bin. The title gives the expected
    calibration error (:func:`expected_calibration_error`).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Reference class codes (out-of-fold, e.g. ``CrossValidationResult.y_true``).
    y_proba : array-like of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes_``.
    classes_ : array-like of shape (n_classes,)
        The class of each column.
    n_bins : int, default 10
        Number of equal-width bins.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Reliability diagram (ECE = ...)".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_reliability_diagram([1, 2], [[0.9, 0.1], [0.65, 0.35]], [1, 2], n_bins=2)
    >>> ax.get_title()
    'Reliability diagram: expected calibration error 27.5 %'
    """
    table = reliability_table(y_true, y_proba, classes_, n_bins=n_bins)
    ece = expected_calibration_error(y_true, y_proba, classes_, n_bins=n_bins)
    ax = _axes(ax, (6.0, 5.0))
    share = 100 * table.n_samples / table.n_samples.sum()
    hist = _share_bars(ax, 50 * (table.lower + table.upper), share, 90 / n_bins, "Samples in bin")
    ax.plot(
        [0, 100],
        [0, 100],
        linestyle="--",
        color="#777777",
        linewidth=1,
        label="Perfect calibration",
    )
    full = table[table.n_samples > 0]
    ax.plot(
        100 * full.mean_confidence, 100 * full.accuracy, marker="o", color="#0072b2", label="Model"
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Predicted probability of the predicted class (%)")
    ax.set_ylabel("Predicted class is right (% of samples)")
    ax.grid(True)
    handles = ax.get_legend_handles_labels()[0] + hist.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left")
    if title is None:
        title = f"Reliability diagram: expected calibration error {100 * ece:.1f} %"
    ax.set_title(title)
    return ax
