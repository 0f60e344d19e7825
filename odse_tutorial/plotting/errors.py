"""Map errors against a reference map, and how well uncertainty shows them."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import rasterio
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from odse_tutorial.plotting._classes import (
    _class_sources,
    _CodeIds,
    _draw_categories,
    _read_pair,
)
from odse_tutorial.plotting._figures import (
    _axes,
    _bin_table,
    _legend_right,
    _share_bars,
)
from odse_tutorial.plotting._rasters import (
    _finish_map,
    _nodata_handle,
    _strips,
)
from odse_tutorial.raster_io import check_same_grid

__all__ = ["error_rate_by_uncertainty", "plot_error_map", "plot_uncertainty_vs_error"]


CORRECT_COLOUR = "#e6e6e6"

ERROR_COLOUR = "#d55e00"


def plot_error_map(
    predicted_path: str | os.PathLike,
    truth_path: str | os.PathLike,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Map where a class map disagrees with the reference (truth) map.

    Parameters
    ----------
    predicted_path : path-like
        The predicted ``dominant_class.tif``.
    truth_path : path-like
        The reference map of the same tile and year (simulated data only).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the share of pixels in error.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_error_map(data.truth("9529", 2015), data.truth("9529", 2018))
    >>> ax.get_legend().get_texts()[1].get_text()
    'map ≠ reference (error)'
    """
    ra, _, ia, ib, valid, _, _ = _read_pair(predicted_path, truth_path)
    error = valid & (ia != ib)
    ax = _axes(ax, (8.0, 5.5))
    errors = np.ma.MaskedArray(error.astype(np.intp), mask=~valid)
    _draw_categories(ax, errors, ra.frame, [CORRECT_COLOUR, ERROR_COLOUR])
    share = error.sum() / max(valid.sum(), 1)
    _finish_map(
        ax, ra.frame, f"Map errors: {100 * share:.1f} % of pixels" if title is None else title
    )
    handles = [
        Patch(
            facecolor=CORRECT_COLOUR, edgecolor="#999999", linewidth=0.4, label="map = reference"
        ),
        Patch(facecolor=ERROR_COLOUR, label="map ≠ reference (error)"),
    ]
    _legend_right(ax, handles + ([_nodata_handle()] if not valid.all() else []), "Pixels")
    return ax


def error_rate_by_uncertainty(
    uncertainty_path: str | os.PathLike,
    predicted_path: str | os.PathLike,
    truth_path: str | os.PathLike,
    *,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Share of wrongly mapped pixels per bin of uncertainty (maps with a known truth).

    Reads the three maps in full-resolution strips; pixels that are nodata in any of
    them are left out. Bins are ``[lower, upper)`` of uncertainty in percent (the last
    includes 100).

    Parameters
    ----------
    uncertainty_path : path-like
        ``uncertainty.tif`` (or ``uncertainty_{code}.tif``), percent.
    predicted_path : path-like
        ``dominant_class.tif`` of the same tile and year.
    truth_path : path-like
        The reference map of that tile and year.
    n_bins : int, default 10
        Number of equal-width bins from 0 to 100 %.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper`` (percent), ``n_pixels``, ``n_errors``,
        ``error_rate`` (0-1, NaN in empty bins) and ``share_of_pixels`` (0-1).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> uncertainty = data.layers("9529", 2018)["blue_summer"]  # stands in for a 0-100 % map
    >>> predicted, truth = data.truth("9529", 2015), data.truth("9529", 2018)
    >>> table = error_rate_by_uncertainty(uncertainty, predicted, truth, n_bins=5)
    >>> table.n_pixels.tolist()
    [61257, 4279, 0, 0, 0]
    """
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    check_same_grid({"uncertainty": uncertainty_path, "predicted": predicted_path})
    predicted, truth = _class_sources(predicted_path, truth_path)
    ids = _CodeIds()
    n = np.zeros(n_bins, dtype=np.int64)
    errors = np.zeros(n_bins, dtype=np.int64)
    with (
        rasterio.open(uncertainty_path) as u,
        rasterio.open(predicted.path) as p,
        rasterio.open(truth.path) as t,
    ):
        for window in _strips(u):
            du, dp, dt = (s.read(1, window=window, masked=True) for s in (u, p, t))
            valid = ~(np.ma.getmaskarray(du) | np.ma.getmaskarray(dp) | np.ma.getmaskarray(dt))
            wrong = ids(np.asarray(dp)[valid], predicted.value_codes, str(predicted.path)) != ids(
                np.asarray(dt)[valid], truth.value_codes, str(truth.path)
            )
            percent = np.asarray(du)[valid].astype(np.float64)
            if percent.size and (percent.min() < 0 or percent.max() > 100):
                raise ValueError(
                    f"{uncertainty_path} has values outside 0-100; pass an uncertainty map "
                    "in percent (uncertainty.tif or uncertainty_{code}.tif)."
                )
            bins = np.clip(np.floor(percent * n_bins / 100).astype(np.int64), 0, n_bins - 1)
            n += np.bincount(bins, minlength=n_bins)
            errors += np.bincount(bins, wrong, minlength=n_bins).astype(np.int64)
    edges = np.linspace(0.0, 100.0, n_bins + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = errors / n
    return _bin_table(
        edges,
        n_pixels=n,
        n_errors=errors,
        error_rate=rate,
        share_of_pixels=n / max(int(n.sum()), 1),
    )


def plot_uncertainty_vs_error(
    uncertainty_path: str | os.PathLike,
    predicted_path: str | os.PathLike,
    truth_path: str | os.PathLike,
    *,
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Does uncertainty show where the map is wrong? Error rate per uncertainty bin.

    Points: the share of pixels whose mapped class differs from the reference, per bin
    of uncertainty (:func:`error_rate_by_uncertainty`). A useful uncertainty layer
    gives a line that rises from left to right. Grey bars (right axis): the share of
    pixels per bin (few pixels: a noisy rate). Dashed line: the error rate of the map.

    Parameters
    ----------
    uncertainty_path : path-like
        The uncertainty map (percent).
    predicted_path : path-like
        ``dominant_class.tif`` of the same tile and year.
    truth_path : path-like
        The reference map of that tile and year.
    n_bins : int, default 10
        Number of equal-width bins from 0 to 100 %.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to "Map errors by uncertainty".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> uncertainty = data.layers("9529", 2018)["blue_summer"]  # stands in for a 0-100 % map
    >>> predicted, truth = data.truth("9529", 2015), data.truth("9529", 2018)
    >>> ax = plot_uncertainty_vs_error(uncertainty, predicted, truth, n_bins=5)
    >>> ax.lines[1].get_ydata().round(1).tolist()  # percent wrong per bin
    [4.3, 7.6]
    """
    table = error_rate_by_uncertainty(uncertainty_path, predicted_path, truth_path, n_bins=n_bins)
    ax = _axes(ax, (7.0, 4.8))
    centres = (table.lower + table.upper) / 2
    hist = _share_bars(ax, centres, 100 * table.share_of_pixels, 90 / n_bins, "Pixels in bin")
    overall = table.n_errors.sum() / max(int(table.n_pixels.sum()), 1)
    ax.axhline(
        100 * overall,
        color="#333333",
        linestyle="--",
        linewidth=1,
        label=f"Error rate of the whole map ({100 * overall:.1f} %)",
    )
    full = table[table.n_pixels > 0]
    ax.plot(
        full.lower + (full.upper - full.lower) / 2,
        100 * full.error_rate,
        marker="o",
        color=ERROR_COLOUR,
        label="Error rate in bin",
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Uncertainty (%)")
    ax.set_ylabel("Pixels mapped wrongly (%)")
    ax.grid(True)
    handles = ax.get_legend_handles_labels()[0] + hist.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left")
    ax.set_title("Map errors by uncertainty" if title is None else title)
    return ax
