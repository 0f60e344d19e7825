"""Model figures: feature importance and the comparison of models by metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from odse_tutorial.plotting._figures import (
    _axes,
)

__all__ = ["plot_feature_importance", "plot_model_comparison"]


_SEASON_COLOURS = {
    "winter": "#0072b2",
    "spring": "#009e73",
    "summer": "#e69f00",
    "autumn": "#d55e00",
}

_STATIC_COLOUR = "#7f7f7f"

# Metrics of compare_models where lower is better.
_LOWER_IS_BETTER = {"log_loss", "brier_score"}


def _importances(importances: Any, feature_names: Sequence[str] | None) -> tuple:
    """Values, error bars, names and axis label from an array, Series, estimator or Bunch."""
    errors = None
    label = "Importance"
    if hasattr(importances, "importances_mean"):  # sklearn.inspection.permutation_importance
        values, errors = importances.importances_mean, importances.importances_std
        label = "Drop in score when the feature is shuffled"
    elif hasattr(importances, "feature_importances_"):  # a fitted tree ensemble
        if feature_names is None:
            feature_names = getattr(importances, "feature_names_in_", None)
        values = importances.feature_importances_
        label = "Importance (mean decrease in impurity)"
    elif isinstance(importances, pd.Series):
        feature_names = list(importances.index) if feature_names is None else feature_names
        values = importances.to_numpy()
    else:
        values = importances
    values = np.asarray(values, dtype=np.float64)
    if feature_names is None:
        raise ValueError("Give feature_names (one per importance value).")
    names = [str(n) for n in feature_names]
    if len(names) != len(values):
        raise ValueError(f"{len(values)} importances but {len(names)} feature names.")
    return values, None if errors is None else np.asarray(errors, np.float64), names, label


def _season_of(name: str) -> str | None:
    suffix = name.rsplit("_", 1)[-1]
    return suffix if suffix in _SEASON_COLOURS else None


def plot_feature_importance(
    importances: Any,
    feature_names: Sequence[str] | None = None,
    *,
    top: int = 15,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of the most important features, coloured by season.

    Parameters
    ----------
    importances : array-like, pandas.Series, fitted estimator or permutation result
        One value per feature; a Series (index = names); an estimator with
        ``feature_importances_`` (a random forest); or the result of
        :func:`sklearn.inspection.permutation_importance` (drawn with error bars of one
        standard deviation).
    feature_names : sequence of str, optional
        Names, if not known from ``importances``.
    top : int, default 15
        How many of the most important features to show.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Feature importance (top n of m)".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_feature_importance([0.1, 0.5, 0.4], ["red_summer", "nir_spring", "slope"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['nir_spring', 'slope', 'red_summer']
    """
    values, errors, names, label = _importances(importances, feature_names)
    order = np.argsort(-values, kind="stable")[: max(1, int(top))]
    seasons = [_season_of(names[i]) for i in order]
    colours = [_SEASON_COLOURS.get(s, _STATIC_COLOUR) if s else _STATIC_COLOUR for s in seasons]
    ax = _axes(ax, (7.0, 1.2 + 0.32 * len(order)))
    ax.barh(
        np.arange(len(order)),
        values[order],
        color=colours,
        xerr=None if errors is None else errors[order],
        error_kw={"elinewidth": 0.8},
    )
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order])
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.grid(axis="x")
    if any(seasons):
        shown = [s for s in _SEASON_COLOURS if s in seasons]
        handles = [Patch(color=_SEASON_COLOURS[s], label=s) for s in shown]
        if None in seasons:
            handles.append(Patch(color=_STATIC_COLOUR, label="static (terrain)"))
        ax.legend(handles=handles, title="Season", loc="lower right")
    if title is None:
        title = f"Feature importance (top {len(order)} of {len(values)})"
    ax.set_title(title)
    return ax


def plot_model_comparison(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("overall_accuracy", "f1_weighted", "log_loss"),
    *,
    title: str | None = None,
) -> Figure:
    """Bar charts comparing models, one panel per metric.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model, index = model name, e.g. from
        :func:`odse_tutorial.evaluation.compare_models`.
    metrics : sequence of str, default ("overall_accuracy", "f1_weighted", "log_loss")
        Columns to show. The best model of each metric is drawn darker (lowest for
        ``log_loss`` and ``brier_score``, else highest).
    title : str, optional
        A title over the panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> table = pd.DataFrame({"overall_accuracy": [0.8, 0.85]}, index=["RF", "ensemble"])
    >>> fig = plot_model_comparison(table, ["overall_accuracy"])
    >>> fig.axes[0].get_xlabel()
    'Overall accuracy (higher is better)'
    """
    metrics = list(metrics)
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise KeyError(f"No column(s) {missing} in the table; columns: {list(table.columns)}.")
    n = len(table)
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(3.3 * len(metrics) + 1.5, 1.3 + 0.45 * n),
        layout="constrained",
        sharey=True,
        squeeze=False,
    )
    y = np.arange(n)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        values = table[metric].to_numpy(dtype=np.float64)
        lower = metric in _LOWER_IS_BETTER
        best = None
        if np.isfinite(values).any():
            best = int(np.nanargmin(values) if lower else np.nanargmax(values))
        colours = ["#0072b2" if i == best else "#9ecae1" for i in range(n)]
        ax.barh(y, np.nan_to_num(values), color=colours)
        for yi, value in zip(y, values, strict=True):
            text = "n/a" if np.isnan(value) else f"{value:.3f}"
            ax.text(0 if np.isnan(value) else value, yi, f" {text}", va="center", fontsize=8)
        better = "lower" if lower else "higher"
        ax.set_xlabel(f"{metric.replace('_', ' ').capitalize()} ({better} is better)")
        ax.set_xlim(0, max(np.nanmax(values) * 1.25, 1e-9) if np.isfinite(values).any() else 1)
        ax.grid(axis="x")
    axes[0, 0].set_yticks(y, [str(i) for i in table.index])
    axes[0, 0].invert_yaxis()
    if title is None:
        title = "Model comparison (dark bar: the best model of each metric)"
    fig.suptitle(title, fontweight="bold")
    return fig
