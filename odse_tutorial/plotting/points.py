"""Point maps: sample points by class, and the test folds of a cross-validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from odse_tutorial._checks import missing_column
from odse_tutorial.classes import ClassTable
from odse_tutorial.model_selection import _xy, fold_ids
from odse_tutorial.plotting._base import (
    QUALITATIVE,
    _axes,
    _class_handles,
    _draw_categories,
    _finish_map,
    _Frame,
    _frame,
    _legend_right,
    _read_class_layer,
    _table_for,
)


def _require_points(samples: Any, argument: str = "samples") -> None:
    if not hasattr(samples, "geometry") or not hasattr(samples, "crs"):
        raise TypeError(
            f"{argument} must be a GeoDataFrame of points (Dataset.samples), got "
            f"{type(samples).__name__}."
        )


def _sample_frame(samples: Any, pad: float = 0.03) -> _Frame:
    """Frame around points, with a small margin so that edge points are whole."""
    left, bottom, right, top = samples.total_bounds
    margin = pad * max(right - left, top - bottom, 1.0)
    return _frame((left - margin, bottom - margin, right + margin, top + margin), samples.crs)


def plot_samples(
    samples: Any,
    classes: ClassTable | None = None,
    *,
    column: str = "lc_code",
    ax: Axes | None = None,
    background: Any = None,
    title: str | None = None,
) -> Axes:
    """Draw sample points coloured by class, optionally over a class map or composite.

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        Points in a projected CRS (``Dataset.samples``); polygons (training areas) are
        drawn as filled outlines in their class colour.
    classes : ClassTable, optional
        Names and colours; defaults to the codes with default colours.
    column : str, default "lc_code"
        The class code column.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    background : path-like, optional
        A class map, drawn pale. The axes are limited to its extent.
    title : str, optional
        Defaults to the number of samples.

    Returns
    -------
    matplotlib.axes.Axes
        With a legend of the classes present (in the samples or the background map).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_samples(data.samples, data.classes)
    >>> ax.get_title()
    '3,318 samples'
    """
    _require_points(samples)
    if message := missing_column(column, samples.columns):
        raise KeyError(message)
    points = samples[samples[column].notna()]
    codes = points[column].tolist()
    table = _table_for(codes, classes, "samples")
    positions = np.array([table.index_of(c) for c in codes], dtype=np.intp)
    ax = _axes(ax, (8.5, 5.5))
    frame, present = _sample_frame(points), set()
    if background is not None:  # a class map, drawn pale
        layer = _read_class_layer(background, table)
        _draw_categories(ax, layer.index, layer.frame, layer.table.colours, alpha=0.5)
        frame, present = layer.frame, layer.present()
    colours = np.asarray(table.colours)[positions]
    is_point = points.geom_type.eq("Point").to_numpy()
    if not is_point.all():  # training areas: filled outlines in the class colour
        areas = points.geometry[~is_point].scale(frame.scale, frame.scale, origin=(0, 0))
        areas.plot(ax=ax, color=colours[~is_point], edgecolor="#222222", linewidth=0.4, zorder=3)
    xs, ys = points.geometry[is_point].x * frame.scale, points.geometry[is_point].y * frame.scale
    ax.scatter(xs, ys, c=colours[is_point], s=12, edgecolors="#222222", linewidths=0.35, zorder=3)
    _finish_map(ax, frame, f"{len(points):,} samples" if title is None else title)
    _legend_right(ax, _class_handles(table, present | set(positions.tolist())), "Land cover")
    return ax


def plot_cv_folds(
    samples: Any,
    cv: Any,
    X: Any = None,
    y: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Map the samples coloured by the cross-validation fold in which they are tested.

    Put a random and a spatially blocked splitter side by side to see why random
    cross-validation is optimistic: with random folds, test points sit right next to
    training points (and the same location, surveyed in another year, is on both
    sides).

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        The sample points.
    cv : cross-validation splitter
        Anything with ``split(X, y)``: a :class:`~odse_tutorial.model_selection.SpatialKFold`
        (``block_cv``, ``tile_cv``, ``location_cv``) or a scikit-learn splitter.
    X : pandas.DataFrame, optional
        The rows given to ``cv.split``; a DataFrame's index selects the samples (the
        overlay table). Defaults to ``samples``.
    y : array-like, optional
        Class codes, for stratified splitters (``random_cv``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the splitter and its number of folds.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> from odse_tutorial.model_selection import block_cv
    >>> samples = load_dataset().samples
    >>> ax = plot_cv_folds(samples, block_cv(samples, 1920))
    >>> ax.get_legend().get_texts()[0].get_text()
    'fold 0 (720 samples)'
    """
    _require_points(samples)
    X = samples if X is None else X
    points = samples.loc[X.index] if isinstance(X, pd.DataFrame | pd.Series) else samples
    try:
        fold = fold_ids(cv, X, y)
    except (TypeError, ValueError) as err:  # stratified splitters need the class codes
        raise ValueError(f"{type(cv).__name__}.split failed ({err}); pass y= (the class "
                         "codes) if it needs them.") from err  # fmt: skip
    ax = _axes(ax, (7.5, 5.5))
    frame = _sample_frame(points)
    xs, ys = _xy(points.geometry).T * frame.scale  # polygons: their centroid
    n_folds = int(fold.max()) + 1
    for k in (k for k in range(-1, n_folds) if (fold == k).any()):
        here, label = fold == k, "never tested" if k < 0 else f"fold {k}"
        ax.scatter(
            xs[here],
            ys[here],
            s=10,
            edgecolors="none",
            color="#bbbbbb" if k < 0 else QUALITATIVE[k % len(QUALITATIVE)],
            label=f"{label} ({int(here.sum()):,} samples)",
        )
    _finish_map(ax, frame, None)
    ax.set_title(f"Test folds of {type(cv).__name__} ({n_folds} folds)" if title is None else title)
    if n_folds <= len(QUALITATIVE):
        _legend_right(ax, ax.get_legend_handles_labels()[0], "Test fold", markerscale=2)
    return ax
