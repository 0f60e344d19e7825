"""Raster maps: class maps, probability and uncertainty maps, composites, errors and
differences, the area of applicability, and figures of several of a catalogue's maps."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from odse_tutorial import evaluation
from odse_tutorial.classes import ClassTable
from odse_tutorial.plotting._base import (
    ERROR_COLOUR,
    _axes,
    _class_handles,
    _draw_categories,
    _finish_map,
    _legend_right,
    _map_title,
    _nodata_background,
    _nodata_handles,
    _patch,
    _Raster,
    _read_class_layer,
    _read_raster,
    _when,
)
from odse_tutorial.raster_io import check_same_grid

logger = logging.getLogger(__name__)


def _plot_class_map(
    source: str | os.PathLike,
    classes: ClassTable | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Axes:
    """Draw a class map (a raster path) with its legend."""
    layer = _read_class_layer(source, classes)
    ax = _axes(ax, (8.5, 5.5))
    _draw_categories(ax, layer.index, layer.frame, layer.table.colours)
    _finish_map(ax, layer.frame, layer.title if title is None else title)
    if legend:
        handles = _class_handles(layer.table, layer.present()) + _nodata_handles(layer.index)
        _legend_right(ax, handles, "Land cover")
    return ax


def _percent_title(raster: _Raster, what: str) -> str:
    """What a percent map shows, from the tags that prediction writes."""
    tags = raster.tags
    product, code = tags.get("product"), tags.get("class_code")
    cls = f"{code} {tags.get('class_name', '')}".strip()
    if product == "probability" and code is not None:
        return f"Probability of {cls}"
    if product == "dominant_probability":
        return "Probability of the dominant class"
    if product == "uncertainty":
        return f"Uncertainty of {cls} (SD of the base learners)" if code else "Uncertainty"
    return (raster.description or what).removesuffix(", percent")


def _fitted_top(values: NDArray) -> float:
    """Top of a percent scale: the 99th percentile, rounded up to 5 % (100 for no values)."""
    return min(100, 5 * max(1, math.ceil(np.percentile(values, 99) / 5))) if values.size else 100


def _draw_values(ax: Axes, raster: _Raster, cmap: str, vmax: float, label: str, **bar: Any) -> None:
    """A continuous raster from 0 to ``vmax``, nodata transparent over the hatch, a colour bar."""
    _nodata_background(ax, raster.frame, np.ma.getmaskarray(raster.data))
    cmap = plt.get_cmap(cmap).with_extremes(bad=(0, 0, 0, 0))
    image = ax.imshow(raster.data, cmap=cmap, vmin=0, vmax=vmax, extent=raster.frame.extent,
                      interpolation="nearest")  # fmt: skip
    ax.figure.colorbar(image, ax=ax, **{"shrink": 0.85, "pad": 0.03, **bar}).set_label(label)


def _plot_percent_map(
    path: str | os.PathLike,
    what: str = "Probability",
    vmax: float | None = 100,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a percent map (0-100, nodata 255): a probability (viridis) or uncertainty (magma)
    map; ``vmax=None`` fits the colour bar to the 99th percentile, rounded up to 5 %."""
    raster = _read_raster(path, resampling="average")
    top = raster.data.filled(0).max()
    if top > 100:
        raise ValueError(
            f"{raster.path} has values up to {top}, but a {what.lower()} map holds percent "
            "(0-100). Is it a class map? Draw it with plot_maps (_plot_class_map)."
        )
    vmax = _fitted_top(raster.data.compressed()) if vmax is None else vmax
    ax = _axes(ax, (7.0, 5.5))
    cmap = "viridis" if what == "Probability" else "magma"
    extend = "max" if top > vmax else "neither"
    _draw_values(ax, raster, cmap, vmax, f"{what} (%)", extend=extend)
    if title is None:
        title = _map_title(raster.path, raster.tags, _percent_title(raster, what))
    _finish_map(ax, raster.frame, title)
    return ax


_DEFAULT_BANDS = ("swir1", "nir", "red")


def _composite_layers(
    layers: Mapping[str, Any], season: str | None
) -> tuple[list[str], str | None]:
    """swir1, nir and red of ``season``, else of another season, else without a season;
    without them, the first layer of the season in greyscale."""
    seasons = sorted({n.rsplit("_", 1)[-1] for n in layers if "_" in n})
    for when in dict.fromkeys([season, *seasons, None]):
        wanted = [f"{b}_{when}" if when else b for b in _DEFAULT_BANDS]
        if all(w in layers for w in wanted):
            return wanted, when
    grey = next(
        (n for n in layers if season is None or n.endswith(f"_{season}")), next(iter(layers))
    )
    logger.info("No swir1/nir/red layers; showing %s in greyscale", grey)
    return [grey], None


def _stretch(data: np.ma.MaskedArray, percentiles: tuple[float, float]) -> NDArray[np.float64]:
    """Linear stretch between two percentiles of the valid pixels, to 0-1."""
    if not data.count():
        return np.zeros(data.shape)
    low, high = np.percentile(data.compressed(), percentiles)
    scaled = (np.ma.getdata(data).astype(np.float64) - low) / max(high - low, 1e-12)
    return np.clip(scaled, 0.0, 1.0)


def plot_composite(
    layers: Mapping[str, str | os.PathLike],
    *,
    season: str | None = "summer",
    percentiles: tuple[float, float] = (2.0, 98.0),
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a false-colour composite of one season from a layer catalogue.

    Each band is stretched linearly between two percentiles of its valid pixels.
    Pixels that are nodata in any band (clouds, borders) are transparent over a grey
    hatch.

    Parameters
    ----------
    layers : mapping of str to path-like
        Layer name -> raster, e.g. ``Dataset.layers(tile, year)``, with names
        ``{band}_{season}``.
    season : str or None, default "summer"
        The season whose ``swir1``, ``nir`` and ``red`` layers are drawn as red, green and
        blue (vegetation green, bare soil and towns pink, water dark); else those of
        another season, else without a season (a learner's ``swir1.tif``). When a
        catalogue lacks one of these (the Netherlands data have only ``ndvi`` and
        ``swir1``), the first layer of the season is shown in greyscale.
    percentiles : tuple of float, default (2, 98)
        The stretch.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the layers shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_composite(data.layers("9529", 2018), season="spring")
    >>> ax.get_title()
    'False colour (R = swir1, G = nir, B = red), spring 2018'
    """
    names, season = _composite_layers(layers, season)
    rasters = [_read_raster(layers[n], resampling="average") for n in names]
    mask = np.logical_or.reduce([np.ma.getmaskarray(r.data) for r in rasters])
    grey = 3 // len(rasters)  # one layer: the same in red, green and blue
    rgba = np.dstack([_stretch(r.data, percentiles) for r in rasters] * grey + [~mask])
    ax = _axes(ax, (6.5, 5.5))
    frame = rasters[0].frame
    _nodata_background(ax, frame, mask)
    ax.imshow(rgba, extent=frame.extent, interpolation="nearest")
    if title is None:
        year = _when(rasters[0].path, rasters[0].tags) or rasters[0].path.parent.name
        if len(names) == 3:
            when = f"{season} {year}" if season else year
            title = "False colour (R = {}, G = {}, B = {}), {}".format(*_DEFAULT_BANDS, when)
        else:
            title = f"{names[0]} (greyscale), {year}"
    _finish_map(ax, frame, title)
    return ax


CORRECT_COLOUR = "#e6e6e6"
#: Pixel kinds of a difference map (two maps against the truth) and their colours.
_KINDS = {
    "agree, both right": CORRECT_COLOUR,
    "agree, both wrong": "#737373",
    "differ, {a} right": "#0072b2",
    "differ, {b} right": "#e69f00",
    "differ, both wrong": "#cc79a7",
}


def plot_error_map(
    predicted_path: str | os.PathLike,
    truth_path: str | os.PathLike | None,
    *,
    other: str | os.PathLike | None = None,
    names: tuple[str, str] = ("map", "other map"),
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes | None:
    """Map where a class map disagrees with the reference (truth) map, or with another map.

    Parameters
    ----------
    predicted_path : path-like
        The predicted ``dominant_class.tif``.
    truth_path : path-like or None
        The reference map of the same tile and year (simulated data only). None: with
        ``other``, where the two maps agree or differ; without, nothing is drawn (one
        logged sentence) and None is returned.
    other : path-like, optional
        A second class map of the same grid: each pixel is then one of "agree, both
        right", "agree, both wrong", "differ, A right", "differ, B right", "differ, both
        wrong" (A and B from ``names``), each with its share of the pixels.
    names : tuple of str, default ("map", "other map")
        Names of ``predicted_path`` and ``other`` in the legend.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the share of pixels in error (one minus the overall accuracy of
        :func:`odse_tutorial.evaluation.map_accuracy`), or "A vs B", with tile and year.

    Returns
    -------
    matplotlib.axes.Axes or None

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_error_map(data.truth("9529", 2015), data.truth("9529", 2018))
    >>> ax.get_legend().get_texts()[1].get_text()
    'map ≠ reference (error)'
    >>> ax = plot_error_map(data.truth("9529", 2012), data.truth("9529", 2018),
    ...                     other=data.truth("9529", 2015), names=("2012", "2015"))
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['agree, both right (91.9 %)', 'agree, both wrong (4.6 %)']
    """
    paths = [p for p in (predicted_path, other, truth_path) if p is not None]
    if len(paths) < 2:
        logger.warning("No truth map: the map's errors cannot be drawn.")
        return None
    check_same_grid({str(p): p for p in paths})
    table = evaluation._legend_table(paths, None)  # one for every map
    layers = [_read_class_layer(p, None, table) for p in paths]
    valid = ~np.logical_or.reduce([np.ma.getmaskarray(layer.index) for layer in layers])
    index = [np.asarray(layer.index) for layer in layers]
    kinds = (index[0] != index[1]).astype(np.intp)  # two maps: equal or not
    if other is None:
        labels = {"map = reference": CORRECT_COLOUR, "map ≠ reference (error)": ERROR_COLOUR}
    elif truth_path is None:
        labels = {"agree": CORRECT_COLOUR, "differ": _KINDS["differ, {a} right"]}
    else:
        right_a, right_b = index[0] == index[2], index[1] == index[2]
        kinds = np.select([right_a & right_b, kinds == 0, right_a, right_b], [0, 1, 2, 3], 4)
        labels = {k.format(a=names[0], b=names[1]): c for k, c in _KINDS.items()}
    ax = _axes(ax, (8.0, 5.5))
    shown = np.ma.MaskedArray(kinds, mask=~valid)
    _draw_categories(ax, shown, layers[0].frame, list(labels.values()))
    if title is None and other is None:
        accuracy = evaluation.map_accuracy([predicted_path], [truth_path])
        title = f"Map errors ({100 * (1 - accuracy.summary['overall_accuracy']):.1f} % of pixels)"
    elif title is None:
        title = f"{names[0]} vs {names[1]}"
    _finish_map(ax, layers[0].frame, ", ".join(p for p in (title, layers[0].where) if p))
    shares = 100 * np.bincount(kinds[valid], minlength=len(labels)) / max(int(valid.sum()), 1)
    handles = [
        _patch(colour, label if other is None else f"{label} ({share:.1f} %)")
        for (label, colour), share in zip(labels.items(), shares, strict=True)
    ]
    _legend_right(ax, handles + _nodata_handles(shown), "Pixels")
    return ax


# -- the area of applicability -------------------------------------------------------------
INSIDE_COLOUR, OUTSIDE_COLOUR = "#d9d9d9", "#d7301f"


def _plot_dissimilarity(path: Path, ax: Axes) -> None:
    """The DI map: magma_r up to its 99th percentile, a colour-bar label that fits."""
    raster = _read_raster(path, resampling="average")
    top = float(np.percentile(raster.data.compressed(), 99)) if raster.data.count() else 1.0
    label = "DI (unitless; the scale stops at its 99th percentile)"
    _draw_values(ax, raster, "magma_r", top, label, location="bottom", shrink=0.6, aspect=30, extend="max")  # fmt: skip
    _finish_map(ax, raster.frame, _map_title(raster.path, raster.tags, "Dissimilarity index"))
    _legend_right(ax, _nodata_handles(raster.data), "")


def _plot_aoa(path: Path, ax: Axes) -> None:
    """Inside / outside the area of applicability, and no data, each in the legend."""
    raster = _read_raster(path)
    inside = np.ma.masked_greater(raster.data, 1).astype(np.intp)
    _draw_categories(ax, inside, raster.frame, [OUTSIDE_COLOUR, INSIDE_COLOUR])
    threshold = raster.tags.get("aoa_threshold")
    what = "Area of applicability" + (f" (DI <= {float(threshold):.2f})" if threshold else "")
    _finish_map(ax, raster.frame, _map_title(raster.path, raster.tags, what))
    handles = [_patch(INSIDE_COLOUR, "inside"), _patch(OUTSIDE_COLOUR, "outside")]
    _legend_right(ax, handles + _nodata_handles(inside), "AOA")


# -- several maps of a catalogue -----------------------------------------------------------
def _truth_lookup(truth: Any) -> Callable[[str, int], Path | None] | None:
    """(tile, year) -> truth map path or None, from a Dataset; None for none."""
    if truth is None or getattr(truth, "has_truth", True) is False:
        return None  # no reference maps (a Dataset without truth): no truth products
    if not callable(getattr(truth, "truth", None)):
        raise TypeError(f"truth must be a Dataset (with truth maps), got {type(truth).__name__}.")

    def lookup(tile: str, year: int) -> Path | None:
        try:
            return Path(truth.truth(tile, year))
        except (KeyError, FileNotFoundError):
            return None

    return lookup


def _drawer(
    maps: Any, tile: str, year: int, product: str, *, code: Hashable | None = None,
    lookup: Callable | None = None, classes: ClassTable | None = None, vmax: float | None = None,
) -> Callable[[Axes], Any]:  # fmt: skip
    """A function that draws one product of ``maps`` on an Axes; LookupError if absent.
    ``lookup`` finds the truth maps (:func:`_truth_lookup`)."""
    where = f"tile {tile}, {year}"
    truth = lookup(tile, year) if lookup is not None else None
    if product in ("truth", "errors") and truth is None:
        raise LookupError(f"No reference (truth) map for {where}.")
    if product == "truth":
        return lambda ax: _plot_class_map(truth, classes, ax=ax)
    base = "dominant_class" if product == "errors" else product
    path = maps.path(tile, year, base, code if product == "probability" else None)
    if not path.exists():
        raise LookupError(f"No {product.replace('_', ' ')} map for {where} ({path}).")
    draw: dict[str, Callable[[Axes], Any]] = {
        "errors": lambda ax: plot_error_map(path, truth, ax=ax),
        "dominant_class": lambda ax: _plot_class_map(path, classes, ax=ax),
        "uncertainty": lambda ax: _plot_percent_map(path, "Uncertainty", vmax, ax=ax),
        "dissimilarity": lambda ax: _plot_dissimilarity(path, ax),
        "aoa": lambda ax: _plot_aoa(path, ax),
    }
    return draw.get(product, lambda ax: _plot_percent_map(path, ax=ax))


def plot_maps(
    maps: Any,
    products: Sequence[str] = ("dominant_class", "errors"),
    *,
    tile: str | None = None,
    years: int | Sequence[int] | None = None,
    code: Hashable | None = None,
    truth: Any = None,
    classes: ClassTable | None = None,
    title: str | None = None,
) -> Figure | None:
    """Several maps of a catalogue in one figure: one row per product, one column per year.

    Sized for a notebook's width (9.5 inches). Panels that need the truth (``"errors"``,
    ``"truth"``) are left out, with one logged sentence, when there is none, so the same
    call works on data with and without truth maps. The uncertainty panels share one
    colour scale.

    Parameters
    ----------
    maps : MapCatalogue
        From :func:`odse_tutorial.prediction.predict_maps`.
    products : sequence of str, default ("dominant_class", "errors")
        Any of ``"dominant_class"``, ``"errors"`` (map against the truth),
        ``"truth"``, ``"probability"`` (of class ``code``), ``"dominant_probability"``,
        ``"uncertainty"``, ``"dissimilarity"`` (the DI) and ``"aoa"`` (inside or
        outside the area of applicability).
    tile : str, optional
        Defaults to the first tile.
    years : int or sequence of int, optional
        Defaults to the last year.
    code : class code, optional
        The class of ``"probability"``.
    truth : Dataset, optional
        Reference maps (none when the Dataset has no truth maps).
    classes : ClassTable, optional
        Names and colours of class maps; defaults to each map's legend.
    title : str, optional
        A title over the panels.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no panel is left.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> from odse_tutorial.datasets import load_dataset
    >>> from odse_tutorial.prediction import MapCatalogue
    >>> data = load_dataset()  # a reference map stands in for a predicted one
    >>> maps = MapCatalogue(pathlib.Path(tempfile.mkdtemp()), ("9529",), (2015,),
    ...                     data.classes, ("dominant_class",))
    >>> maps.path("9529", 2015, "dominant_class").parent.mkdir(parents=True)
    >>> _ = shutil.copy(data.truth("9529", 2015), maps.path("9529", 2015, "dominant_class"))
    >>> fig = plot_maps(maps, truth=data)
    >>> [ax.get_title()[:10] for ax in fig.axes]
    ['Dominant c', 'Map errors']
    """
    tile = maps.tiles[0] if tile is None else str(tile)
    years = [maps.years[-1]] if years is None else np.atleast_1d(years).tolist()
    lookup = _truth_lookup(truth)
    if lookup is None and {"errors", "truth"} & set(products):
        logger.warning("No truth maps: the panels that need them are left out.")
        products = [p for p in products if p not in ("errors", "truth")]
    if not products:
        return None
    vmax = None
    if "uncertainty" in products:  # one scale for all years, fitted as for one map
        paths = [maps.path(tile, y, "uncertainty") for y in years]
        read = [_read_raster(p, resampling="average") for p in paths]  # as the panels draw them
        vmax = _fitted_top(np.concatenate([raster.data.compressed() for raster in read]))
    rows, cols = len(products), len(years)
    fig = plt.figure(figsize=(9.5, rows * (9.5 / cols * 0.62 + 0.8)), layout="constrained")
    for i, product in enumerate(products):
        for j, year in enumerate(years):
            ax = fig.add_subplot(rows, cols, i * cols + j + 1)
            _drawer(maps, tile, year, product, code=code, lookup=lookup, classes=classes,
                    vmax=vmax)(ax)  # fmt: skip
            if cols > 1:  # what in the first column's label, the year (and numbers) on top
                what, _, numbers = (
                    ax.get_title().removesuffix(f", tile {tile}, {year}").partition(" (")
                )
                ax.set(title=f"{year} ({numbers}" if numbers else str(year),
                       ylabel=f"{what}\n{ax.get_ylabel()}" if j == 0 else "")  # fmt: skip
                if legend := ax.get_legend():  # below the map: the columns stay wide
                    legend.set_loc("upper left")
                    legend.set_bbox_to_anchor((0.0, -0.22), transform=ax.transAxes)
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig
