"""Accuracy figures: the confusion matrix and the accuracy of each class."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import NDArray

from odse_tutorial.plotting._figures import (
    _axes,
)

__all__ = ["plot_confusion_matrix", "plot_per_class_accuracy"]


def _confusion_frame(report_or_confusion: Any) -> pd.DataFrame:
    confusion = getattr(report_or_confusion, "confusion", report_or_confusion)
    if not isinstance(confusion, pd.DataFrame):
        array = np.asarray(confusion)
        confusion = pd.DataFrame(array, index=range(len(array)), columns=range(len(array)))
    confusion = confusion.drop(index="total", columns="total", errors="ignore")
    if confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"A confusion matrix must be square, got shape {confusion.shape}.")
    return confusion


def _normalised(counts: NDArray[np.float64], normalize: str | None) -> tuple[NDArray, str]:
    if normalize is None:
        return counts, "Samples"
    axis = {"true": 1, "pred": 0}.get(normalize)
    if axis is None:
        raise ValueError(f"normalize must be None, 'true' or 'pred', got {normalize!r}.")
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = 100 * counts / counts.sum(axis=axis, keepdims=True)
    label = "reference samples (row)" if normalize == "true" else "mapped samples (column)"
    return shares, f"Share of {label} (%)"


def _cell_text(value: float, normalize: str | None, integers: bool) -> str:
    if np.isnan(value):
        return "–"
    if normalize is None:
        return f"{value:.0f}" if integers else f"{value:.1f}"
    return "<1" if 0 < value < 0.5 else f"{value:.0f}"


def plot_confusion_matrix(
    report_or_confusion: Any,
    *,
    normalize: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "Blues",
) -> Axes:
    """Draw an annotated confusion (error) matrix: reference in rows, map in columns.

    Parameters
    ----------
    report_or_confusion : AccuracyReport, pandas.DataFrame or array-like
        A report (its ``confusion``), or a square matrix of counts (a ``total`` row
        and column are dropped).
    normalize : {None, "true", "pred"}, default None
        ``None``: counts. ``"true"``: percent of each row (the diagonal is the
        producer's accuracy). ``"pred"``: percent of each column (the diagonal is the
        users' accuracy).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized for the number of classes by default.
    title : str, optional
        Defaults to what the cells show.
    cmap : str, default "Blues"
        Colour map of the cells.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.evaluation import accuracy_report
    >>> report = accuracy_report([1, 1, 2, 2], [1, 2, 2, 2])
    >>> ax = plot_confusion_matrix(report)
    >>> [t.get_text() for t in ax.texts]
    ['1', '1', '0', '2']
    """
    confusion = _confusion_frame(report_or_confusion)
    counts = confusion.to_numpy(dtype=np.float64)
    values, label = _normalised(counts, normalize)
    n = len(confusion)
    ax = _axes(ax, (3.0 + 0.6 * n, 2.2 + 0.55 * n))
    image = ax.imshow(values, cmap=cmap, vmin=0, interpolation="nearest")
    integers = bool(np.all(np.equal(np.mod(counts, 1), 0)))
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    size = 9 if n <= 8 else 8
    for (i, j), value in np.ndenumerate(values):
        colour = "white" if value > 0.55 * top else ("#999999" if value == 0 else "#222222")
        ax.text(
            j,
            i,
            _cell_text(value, normalize, integers),
            ha="center",
            va="center",
            color=colour,
            fontsize=size,
        )
    ax.set_xticks(
        range(n),
        [str(c) for c in confusion.columns],
        rotation=40,
        ha="right",
        rotation_mode="anchor",
    )
    ax.set_yticks(range(n), [str(r) for r in confusion.index])
    ax.set_xlabel("Map (predicted) class")
    ax.set_ylabel("Reference class")
    ax.tick_params(length=0)
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
    bar.set_label(label)
    if title is None:
        title = {
            None: "Confusion matrix (sample counts)",
            "true": "Confusion matrix, % of each reference class\n(diagonal: producer's accuracy)",
            "pred": "Confusion matrix, % of each map class\n(diagonal: users' accuracy)",
        }[normalize]
    ax.set_title(title)
    return ax


def plot_per_class_accuracy(
    report: Any, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Users' and producer's accuracy of each class, as grouped horizontal bars.

    Users' accuracy is the precision of a class (1 - commission error: of the pixels
    mapped as the class, the share that are); producer's accuracy is its recall
    (1 - omission error: of the reference samples of the class, the share mapped as
    it). A dashed line marks the overall accuracy.

    Parameters
    ----------
    report : AccuracyReport
        From :func:`odse_tutorial.evaluation.accuracy_report`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Accuracy per class".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.evaluation import accuracy_report
    >>> ax = plot_per_class_accuracy(accuracy_report([1, 1, 2, 2], [1, 2, 2, 2]))
    >>> [round(p.get_width()) for p in ax.patches]
    [100, 67, 50, 100]
    """
    table = report.per_class
    n = len(table)
    ax = _axes(ax, (8.0, 1.6 + 0.45 * n))
    y = np.arange(n)
    height = 0.4
    series = [
        ("users_accuracy", "Users' accuracy = precision (1 − commission error)", "#0072b2"),
        ("producers_accuracy", "Producer's accuracy = recall (1 − omission error)", "#e69f00"),
    ]
    for offset, (column, label, colour) in zip((-height / 2, height / 2), series, strict=True):
        values = table[column].to_numpy(dtype=np.float64) * 100
        ax.barh(y + offset, np.nan_to_num(values), height, label=label, color=colour)
        for yi in y[np.isnan(values)]:
            ax.text(1, yi + offset, "n/a", va="center", fontsize=8, color="#666666")
    overall = report.summary.get("overall_accuracy")
    if overall is not None:
        ax.axvline(
            100 * overall,
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=f"Overall accuracy ({100 * overall:.0f} %)",
        )
    labels = [f"{r.code} {r.name} (n = {r.support:g})" for r in table.itertuples()]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Accuracy (%)")
    ax.grid(axis="x")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=handles[1:] + handles[:1] if overall is not None else handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1 - 0.3 / max(n, 1)),
        ncols=1,
    )
    ax.set_title("Accuracy per class" if title is None else title)
    return ax
