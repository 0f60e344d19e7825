"""Figures of the tutorial: maps with class legends, accuracy, calibration and change.

Every function draws on ``ax`` (a new figure when ``ax`` is ``None``) and returns the
Axes, or the Figure for figures with several panels. Conventions shared by all maps:

- map axes show easting and northing in km, in the raster's CRS (EPSG:3035 for the
  bundled data);
- nodata pixels are transparent over a light grey hatch, never drawn in a class colour;
- categorical maps take names and colours from a :class:`~odse_tutorial.classes.ClassTable`
  (or from the legend a class map carries in its ``classes`` tag); their legends list
  the classes *present in what is shown*, as ``"code name"``, plus "no data" when there
  are nodata pixels;
- probabilities and uncertainties run from 0 to 100 % with a labelled colour bar;
- rasters larger than :data:`MAX_DISPLAY_SIZE` pixels on their long side are read as a
  decimated overview, so a figure never needs much memory. Tables (:func:`change_matrix`,
  :func:`error_rate_by_uncertainty`) read full-resolution strips instead.

Call :func:`use_style` once at the top of a notebook for the tutorial's look.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray
from rasterio.enums import Resampling
from rasterio.transform import array_bounds
from rasterio.windows import Window

from odse_tutorial.classes import ClassTable
from odse_tutorial.raster_io import check_same_grid

__all__ = [
    "MAX_DISPLAY_SIZE",
    "change_matrix",
    "error_rate_by_uncertainty",
    "expected_calibration_error",
    "plot_change",
    "plot_class_map",
    "plot_class_maps",
    "plot_composite",
    "plot_confusion_matrix",
    "plot_cv_folds",
    "plot_error_map",
    "plot_feature_importance",
    "plot_model_comparison",
    "plot_per_class_accuracy",
    "plot_probability_map",
    "plot_reliability_diagram",
    "plot_samples",
    "plot_uncertainty_map",
    "plot_uncertainty_vs_error",
    "reliability_table",
    "use_style",
]

logger = logging.getLogger(__name__)

#: Rasters are shown at most this many pixels on their long side (decimated overviews).
MAX_DISPLAY_SIZE = 1024

NODATA_HATCH = "#b3b3b3"
UNCHANGED_COLOUR = "#e6e6e6"
CORRECT_COLOUR = "#e6e6e6"
ERROR_COLOUR = "#d55e00"
# Okabe-Ito without black, then more qualitative colours: folds, seasons, models.
_QUALITATIVE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#d55e00",
    "#56b4e9",
    "#cc79a7",
    "#f0e442",
    "#7f7f7f",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#1f77b4",
)
_SEASON_COLOURS = {
    "winter": "#0072b2",
    "spring": "#009e73",
    "summer": "#e69f00",
    "autumn": "#d55e00",
}
_STATIC_COLOUR = "#7f7f7f"
_DEFAULT_BANDS = ("swir1", "nir", "red")
_AREA_UNITS = {"ha": 1e-4, "km2": 1e-6, "m2": 1.0, "pixels": None}
# Metrics of compare_models where lower is better.
_LOWER_IS_BETTER = {"log_loss", "brier_score"}
_STRIP_PIXELS = 1 << 20  # pixels per strip when a table reads a whole raster


# --------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------
def use_style() -> None:
    """Apply the tutorial's matplotlib style (``odse_tutorial/odse.mplstyle``).

    Clean axes, readable fonts, a colour-blind friendly colour cycle (Okabe-Ito),
    nearest-neighbour image interpolation and 100 dpi figures, so that executed
    notebooks stay small.

    Examples
    --------
    >>> use_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"]
    100.0
    """
    with resources.as_file(resources.files("odse_tutorial") / "odse.mplstyle") as path:
        plt.style.use(path)


# --------------------------------------------------------------------------------------
# Private helpers: axes, frames, rasters, legends
# --------------------------------------------------------------------------------------
def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 5.0)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


@dataclass(frozen=True)
class _Frame:
    """Where a map sits: its extent in display units and the axis labels."""

    extent: tuple[float, float, float, float]  # left, right, bottom, top
    scale: float  # CRS units -> display units
    xlabel: str
    ylabel: str


def _frame(bounds: Sequence[float], crs: Any) -> _Frame:
    """Frame of a map with ``bounds`` = (left, bottom, right, top) in ``crs``."""
    left, bottom, right, top = bounds
    if crs is not None and getattr(crs, "is_geographic", False):
        return _Frame((left, right, bottom, top), 1.0, "Longitude (°)", "Latitude (°)")
    epsg = crs.to_epsg() if crs is not None else None
    unit = f"km, EPSG:{epsg}" if epsg else "km"
    s = 1e-3
    return _Frame(
        (left * s, right * s, bottom * s, top * s), s, f"Easting ({unit})", f"Northing ({unit})"
    )


def _finish_map(ax: Axes, frame: _Frame, title: str | None) -> None:
    left, right, bottom, top = frame.extent
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_xlabel(frame.xlabel)
    ax.set_ylabel(frame.ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax.ticklabel_format(useOffset=False, style="plain")
    for spine in ax.spines.values():
        spine.set_visible(True)
    if title:
        ax.set_title(title)


def _nodata_background(ax: Axes, frame: _Frame) -> None:
    """A hatch behind the map: it shows through the transparent nodata pixels only."""
    left, right, bottom, top = frame.extent
    ax.add_patch(
        Rectangle(
            (left, bottom),
            right - left,
            top - bottom,
            facecolor="white",
            edgecolor=NODATA_HATCH,
            hatch="////",
            linewidth=0,
            zorder=-1,
        )
    )


def _nodata_handle() -> Patch:
    return Patch(facecolor="white", edgecolor=NODATA_HATCH, hatch="////", label="no data")


@dataclass(frozen=True)
class _Raster:
    """Band 1 of a raster, read for display."""

    data: np.ma.MaskedArray
    frame: _Frame
    tags: dict[str, str]
    description: str | None
    path: Path


def _read_raster(path: str | os.PathLike, resampling: str = "nearest") -> _Raster:
    """Read band 1, masked where nodata, decimated to at most MAX_DISPLAY_SIZE pixels."""
    with rasterio.open(path) as src:
        factor = max(1, math.ceil(max(src.width, src.height) / MAX_DISPLAY_SIZE))
        shape = (math.ceil(src.height / factor), math.ceil(src.width / factor))
        if factor > 1:
            logger.debug("Showing %s at 1/%d of its resolution", path, factor)
        data = src.read(1, out_shape=shape, masked=True, resampling=Resampling[resampling])
        if data.dtype.kind == "f":
            data = np.ma.masked_invalid(data)
        return _Raster(
            data=data,
            frame=_frame(tuple(src.bounds), src.crs),
            tags={**src.tags(1), **src.tags()},
            description=src.descriptions[0],
            path=Path(path),
        )


def _strips(src: Any) -> Iterator[Window]:
    """Full-width windows of about _STRIP_PIXELS pixels: bounded memory for whole rasters."""
    rows = max(1, _STRIP_PIXELS // max(1, src.width))
    for row in range(0, src.height, rows):
        yield Window(0, row, src.width, min(rows, src.height - row))


def _map_title(path: Path, tags: Mapping[str, str], what: str | None = None) -> str:
    """A readable default title: what, tile and year (from tags or the file's name)."""
    stem = path.stem
    truth = re.fullmatch(r"landcover_(\d{4})", stem)
    if what is None:
        what = "Reference land cover" if truth else stem.replace("_", " ").capitalize()
    parts = [what]
    tile = tags.get("tile") or (path.parent.parent.name if truth else None)
    if tile:
        parts.append(f"tile {tile}")
    year = tags.get("year") or (truth.group(1) if truth else None)
    if year:
        parts.append(str(year))
    return ", ".join(parts)


def _when(path: Path, tags: Mapping[str, str]) -> str:
    """The year of a map (its tag, or four digits in its name), else its name."""
    if tags.get("year"):
        return str(tags["year"])
    found = re.search(r"(?<!\d)(\d{4})(?!\d)", path.stem)
    return found.group(1) if found else path.stem


# -- class codes -------------------------------------------------------------------------
def _legend_records(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``classes`` tag of a class map (prediction and truth maps carry one)."""
    text = tags.get("classes")
    return list(json.loads(text)) if text else []


def _value_codes(records: Sequence[Mapping[str, Any]]) -> dict[int, Hashable] | None:
    """Pixel value -> class code, or ``None`` when the pixel values are the codes."""
    if records and "value" in records[0]:
        return {int(r["value"]): r["code"] for r in records}
    return None


def _codes_of(values: NDArray, value_codes: Mapping[int, Hashable] | None, source: str) -> list:
    """Class code of each of the (unique) pixel ``values``."""
    if value_codes is None:
        return values.tolist()
    unknown = [v for v in values.tolist() if v not in value_codes]
    if unknown:
        raise ValueError(
            f"{source} has pixel value(s) {unknown[:5]} that its 'classes' tag does not "
            f"list (it lists {sorted(value_codes)}); the map and its legend disagree."
        )
    return [value_codes[v] for v in values.tolist()]


def _class_table(
    classes: ClassTable | None, records: Sequence[Mapping[str, Any]], codes: Sequence, source: str
) -> ClassTable:
    """The classes of a map: ``classes`` if given, else its legend, else its codes."""
    if classes is not None:
        missing = [c for c in dict.fromkeys(codes) if c not in classes]
        if missing:
            raise KeyError(
                f"{source} holds class code(s) {missing} that the class table lacks "
                f"({list(classes.codes)}); pass a ClassTable with every class of the map."
            )
        return classes
    known: dict[Hashable, Mapping[str, Any]] = {}
    for record in records:
        known.setdefault(record["code"], record)
    for code in sorted(set(codes) - set(known)):
        known[code] = {"code": code, "name": str(code)}
    rows = list(known.values())
    colours = [r.get("colour") or _QUALITATIVE[i % len(_QUALITATIVE)] for i, r in enumerate(rows)]
    return ClassTable([r["code"] for r in rows], [r["name"] for r in rows], colours)


def _positions(codes: Sequence, table: ClassTable) -> NDArray[np.intp]:
    return np.array([table.index_of(c) for c in codes], dtype=np.intp)


@dataclass(frozen=True)
class _ClassLayer:
    """A class map for display: table positions (masked where nodata) and its classes."""

    index: np.ma.MaskedArray
    table: ClassTable
    frame: _Frame
    title: str

    def present(self) -> set[int]:
        return set(np.unique(self.index.compressed()).tolist())


def _index_map(
    data: np.ma.MaskedArray, value_codes: Mapping | None, records: list, classes, source: str
) -> tuple[np.ma.MaskedArray, ClassTable]:
    mask = np.ma.getmaskarray(data)
    uniq, inverse = np.unique(np.asarray(data)[~mask], return_inverse=True)
    codes = _codes_of(uniq, value_codes, source)
    table = _class_table(classes, records, codes, source)
    index = np.zeros(data.shape, dtype=np.intp)
    index[~mask] = _positions(codes, table)[inverse]
    return np.ma.MaskedArray(index, mask=mask), table


def _read_class_layer(source: Any, classes: ClassTable | None) -> _ClassLayer:
    """A class map from a raster path or from ``(array, transform[, crs])``."""
    if isinstance(source, tuple):
        if len(source) not in (2, 3):
            raise ValueError(
                "A class map given as a tuple must be (array, transform) or "
                f"(array, transform, crs); got {len(source)} items."
            )
        array = np.ma.asarray(source[0])
        if array.ndim != 2:
            raise ValueError(f"The class array must be 2-D (rows, cols), got shape {array.shape}.")
        crs = rasterio.crs.CRS.from_user_input(source[2]) if len(source) == 3 else None
        bounds = array_bounds(array.shape[0], array.shape[1], source[1])
        index, table = _index_map(array, None, [], classes, "The class array")
        return _ClassLayer(index, table, _frame(bounds, crs), "Land cover")
    raster = _read_raster(source)
    records = _legend_records(raster.tags)
    index, table = _index_map(
        raster.data, _value_codes(records), records, classes, str(raster.path)
    )
    what = "Dominant class" if raster.tags.get("product") == "dominant_class" else None
    return _ClassLayer(index, table, raster.frame, _map_title(raster.path, raster.tags, what))


def _class_cmap(colours: Sequence[str]) -> tuple[ListedColormap, BoundaryNorm]:
    cmap = ListedColormap(list(colours)).with_extremes(bad=(0, 0, 0, 0))
    return cmap, BoundaryNorm(np.arange(len(colours) + 1) - 0.5, len(colours))


def _draw_classes(ax: Axes, layer: _ClassLayer, alpha: float = 1.0) -> None:
    cmap, norm = _class_cmap(layer.table.colours)
    if np.ma.getmaskarray(layer.index).any():
        _nodata_background(ax, layer.frame)
    ax.imshow(
        layer.index,
        cmap=cmap,
        norm=norm,
        extent=layer.frame.extent,
        interpolation="nearest",
        alpha=alpha,
    )


def _class_handles(table: ClassTable, present: set[int], nodata: bool = False) -> list[Patch]:
    handles = [
        Patch(facecolor=c.colour, edgecolor="#666666", linewidth=0.4, label=f"{c.code} {c.name}")
        for i, c in enumerate(table)
        if i in present
    ]
    return handles + ([_nodata_handle()] if nodata else [])


def _legend_right(ax: Axes, handles: Sequence[Any], title: str, **kwargs: Any) -> None:
    if ax.get_aspect() == 1.0:
        # A map shrinks to its aspect inside the space layout gives it; keep it at the
        # left of that space so that the legend stays next to it, inside the figure.
        ax.set_anchor("W")
    ax.legend(
        handles=handles,
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        alignment="left",
        **kwargs,
    )


# --------------------------------------------------------------------------------------
# Class maps
# --------------------------------------------------------------------------------------
def plot_class_map(
    source: str | os.PathLike | tuple,
    classes: ClassTable | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Axes:
    """Draw a land-cover (class) map with its class colours and legend.

    Parameters
    ----------
    source : path-like or tuple
        A class raster: ``dominant_class.tif`` of a prediction or a truth map. Its
        ``classes`` tag says which class each pixel value is (the code itself, or the
        position in the class table plus one for string codes). Or a tuple
        ``(array, transform)`` or ``(array, transform, crs)`` whose array holds class
        codes, masked (``numpy.ma``) where nodata.
    classes : ClassTable, optional
        Names and colours; defaults to the legend stored in the raster.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the product, tile and year.
    legend : bool, default True
        Add a legend of the classes present in the map (``"code name"``), and "no data"
        when there are nodata pixels (drawn transparent, over a grey hatch).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_class_map(data.truth("9529", 2018), data.classes)
    >>> ax.get_legend().get_texts()[0].get_text()
    '112 Discontinuous urban fabric'
    """
    layer = _read_class_layer(source, classes)
    ax = _axes(ax, (8.5, 5.5))
    _draw_classes(ax, layer)
    _finish_map(ax, layer.frame, layer.title if title is None else title)
    if legend:
        nodata = bool(np.ma.getmaskarray(layer.index).any())
        _legend_right(ax, _class_handles(layer.table, layer.present(), nodata), "Land cover")
    return ax


def plot_class_maps(
    paths: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike],
    classes: ClassTable | None = None,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 3,
    suptitle: str | None = None,
    panel_size: float = 3.2,
) -> Figure:
    """Small multiples of class maps (one per year, say) with one shared legend.

    Parameters
    ----------
    paths : sequence of path-like, or mapping of str to path-like
        The class rasters; a mapping's keys are the panel titles.
    classes : ClassTable, optional
        Names and colours; defaults to the legend stored in each raster.
    titles : sequence of str, optional
        One title per panel; defaults to the mapping's keys, else tile and year.
    ncols : int, default 3
        Panels per row.
    suptitle : str, optional
        A title over all panels.
    panel_size : float, default 3.2
        Width of a panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The legend lists the classes present in any panel.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> fig = plot_class_maps({y: data.truth("9529", y) for y in (2000, 2018)}, data.classes)
    >>> [ax.get_title() for ax in fig.axes]
    ['2000', '2018']
    """
    if isinstance(paths, Mapping):
        titles = [str(k) for k in paths] if titles is None else titles
        paths = list(paths.values())
    paths = list(paths)
    if not paths:
        raise ValueError("No maps given; pass a list of class raster paths.")
    if titles is not None and len(titles) != len(paths):
        raise ValueError(f"Got {len(titles)} titles for {len(paths)} maps; give one per map.")
    ncols = max(1, min(int(ncols), len(paths)))
    nrows = math.ceil(len(paths) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size * ncols + 3.0, panel_size * nrows + 0.6),
        layout="constrained",
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    found: dict[Hashable, Any] = {}
    nodata = False
    for i, (ax, path) in enumerate(zip(axes.flat, paths, strict=False)):
        layer = _read_class_layer(path, classes)
        _draw_classes(ax, layer)
        _finish_map(ax, layer.frame, layer.title if titles is None else titles[i])
        nodata |= bool(np.ma.getmaskarray(layer.index).any())
        for pos in sorted(layer.present()):
            found.setdefault(layer.table[pos].code, layer.table[pos])
    for ax in axes.flat[len(paths) :]:
        ax.remove()
    for ax in fig.axes:
        ax.label_outer()
    order = sorted(found, key=classes.index_of if classes is not None else None)
    shown = ClassTable(order, [found[c].name for c in order], [found[c].colour for c in order])
    fig.legend(
        handles=_class_handles(shown, set(range(len(shown))), nodata),
        title="Land cover",
        loc="outside right upper",
        alignment="left",
    )
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------
# Probability, uncertainty and composites
# --------------------------------------------------------------------------------------
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
        if code is None:
            return "Uncertainty (normalized entropy)"
        return f"Uncertainty of {cls} (SD of the base learners)"
    return (raster.description or what).removesuffix(", percent")


def _plot_percent_map(
    path: str | os.PathLike, ax: Axes | None, title: str | None, cmap: str, what: str
) -> Axes:
    raster = _read_raster(path, resampling="average")
    top = raster.data.max()
    if top is not np.ma.masked and top > 100:
        raise ValueError(
            f"{raster.path} has values up to {top}, but a {what.lower()} map holds percent "
            "(0-100). Is it a class map? Use plot_class_map for those."
        )
    ax = _axes(ax, (7.0, 5.5))
    if np.ma.getmaskarray(raster.data).any():
        _nodata_background(ax, raster.frame)
    image = ax.imshow(
        raster.data,
        cmap=plt.get_cmap(cmap).with_extremes(bad=(0, 0, 0, 0)),
        vmin=0,
        vmax=100,
        extent=raster.frame.extent,
        interpolation="nearest",
    )
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.85, pad=0.03)
    bar.set_label(f"{what} (%)")
    if title is None:
        title = _map_title(raster.path, raster.tags, _percent_title(raster, what))
    _finish_map(ax, raster.frame, title)
    return ax


def plot_probability_map(
    path: str | os.PathLike,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "viridis",
) -> Axes:
    """Draw a probability map (``probability_{code}.tif``, ``dominant_probability.tif``).

    Parameters
    ----------
    path : path-like
        A percent raster (0-100, nodata 255).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the raster's description (which class), tile and year.
    cmap : str, default "viridis"
        Colour map; the colour bar runs from 0 to 100 %.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "probability_231.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1,
    ...                    dtype="uint8", nodata=255, crs="EPSG:3035",
    ...                    transform=from_origin(4e6, 3e6, 30, 30)) as dst:
    ...     dst.write(np.full((1, 4, 4), 40, "uint8"))
    >>> ax = plot_probability_map(path)
    >>> ax.images[0].colorbar.ax.get_ylabel()
    'Probability (%)'
    """
    return _plot_percent_map(path, ax, title, cmap, "Probability")


def plot_uncertainty_map(
    path: str | os.PathLike,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "magma",
) -> Axes:
    """Draw an uncertainty map (``uncertainty.tif`` or ``uncertainty_{code}.tif``).

    Parameters
    ----------
    path : path-like
        A percent raster (0-100, nodata 255): the normalized entropy of a single
        model, or the standard deviation of an ensemble's base learners for one class.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the raster's description, tile and year.
    cmap : str, default "magma"
        Colour map (bright = uncertain); the colour bar runs from 0 to 100 %.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "uncertainty.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1,
    ...                    dtype="uint8", nodata=255, crs="EPSG:3035",
    ...                    transform=from_origin(4e6, 3e6, 30, 30)) as dst:
    ...     dst.write(np.full((1, 4, 4), 12, "uint8"))
    >>> plot_uncertainty_map(path).images[0].colorbar.ax.get_ylabel()
    'Uncertainty (%)'
    """
    return _plot_percent_map(path, ax, title, cmap, "Uncertainty")


def _composite_layers(
    layers: Mapping[str, Any], bands: Sequence[str] | None, season: str | None
) -> list[str]:
    """Names of the layers to show: the requested bands, or a fallback for the default."""

    def name(band: str) -> str:
        return f"{band}_{season}" if season else band

    wanted = [name(b) for b in (_DEFAULT_BANDS if bands is None else bands)]
    missing = [w for w in wanted if w not in layers]
    if not missing:
        if len(wanted) not in (1, 3):
            raise ValueError(f"Give 3 bands (red, green, blue) or 1 (greyscale), got {bands!r}.")
        return wanted
    if bands is not None:
        raise KeyError(
            f"Layer(s) {missing} are not in the layer catalogue; available layers: "
            f"{list(layers)}. Choose bands (and a season) that exist."
        )
    seasonal = [n for n in layers if season is None or n.endswith(f"_{season}")]
    if not seasonal:
        raise KeyError(
            f"No layer of season {season!r} in the layer catalogue; available: {list(layers)}."
        )
    logger.info("No %s layers; showing %s in greyscale", "/".join(missing), seasonal[0])
    return [seasonal[0]]


def _stretch(data: np.ma.MaskedArray, percentiles: tuple[float, float]) -> NDArray[np.float64]:
    """Linear stretch between two percentiles of the valid pixels, to 0-1."""
    valid = data.compressed().astype(np.float64)
    if valid.size == 0:
        return np.zeros(data.shape)
    low, high = np.percentile(valid, percentiles)
    scaled = (np.ma.getdata(data).astype(np.float64) - low) / max(high - low, 1e-12)
    return np.clip(scaled, 0.0, 1.0)


def plot_composite(
    layers: Mapping[str, str | os.PathLike],
    *,
    bands: Sequence[str] | None = None,
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
    bands : sequence of str, optional
        Three bands for red, green and blue, or one for greyscale. By default
        ``("swir1", "nir", "red")`` (vegetation green, bare soil and towns pink, water
        dark); when a catalogue lacks one of these (the Netherlands data have only
        ``ndvi`` and ``swir1``), the first layer of the season is shown in greyscale.
        Bands given explicitly must exist.
    season : str or None, default "summer"
        Appended to the band names; ``None`` when ``bands`` are full layer names.
    percentiles : tuple of float, default (2, 98)
        The stretch.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the layers shown.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        Requested bands that are not in ``layers``, naming the available layers.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_composite(data.layers("9529", 2018), season="spring")
    >>> ax.get_title()
    'False colour (R = swir1, G = nir, B = red), spring 2018'
    """
    names = _composite_layers(layers, bands, season)
    rasters = [_read_raster(layers[n], resampling="average") for n in names]
    mask = np.logical_or.reduce([np.ma.getmaskarray(r.data) for r in rasters])
    rgb = np.dstack([_stretch(r.data, percentiles) for r in rasters])
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    rgba = np.dstack([rgb, (~mask).astype(np.float64)])
    ax = _axes(ax, (6.5, 5.5))
    frame = rasters[0].frame
    if mask.any():
        _nodata_background(ax, frame)
    ax.imshow(rgba, extent=frame.extent, interpolation="nearest")
    if title is None:
        year = _when(rasters[0].path, rasters[0].tags)
        year = year if year.isdigit() else rasters[0].path.parent.name
        when = f"{season} {year}" if season else year
        if len(names) == 3:
            short = [n.removesuffix(f"_{season}") if season else n for n in names]
            title = f"False colour (R = {short[0]}, G = {short[1]}, B = {short[2]}), {when}"
        else:
            title = f"{names[0]} (greyscale), {year}"
    _finish_map(ax, frame, title)
    return ax


# --------------------------------------------------------------------------------------
# Samples and cross-validation folds
# --------------------------------------------------------------------------------------
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


def _draw_background(
    ax: Axes, background: Any, classes: ClassTable | None
) -> tuple[_Frame, set[int]]:
    """A class map (path; pale) or a composite (layer catalogue) under points."""
    if isinstance(background, Mapping):
        first = next(iter(background.values()))
        plot_composite(background, ax=ax)
        with rasterio.open(first) as src:
            return _frame(tuple(src.bounds), src.crs), set()
    layer = _read_class_layer(background, classes)
    _draw_classes(ax, layer, alpha=0.5)
    return layer.frame, layer.present()


def plot_samples(
    samples: Any,
    classes: ClassTable | None = None,
    *,
    column: str = "lc_code",
    ax: Axes | None = None,
    background: Any = None,
    title: str | None = None,
    markersize: float = 12.0,
) -> Axes:
    """Draw sample points coloured by class, optionally over a class map or composite.

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        Points in a projected CRS (``Dataset.samples``).
    classes : ClassTable, optional
        Names and colours; defaults to the codes with default colours.
    column : str, default "lc_code"
        The class code column.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    background : path-like or mapping, optional
        A class map (path; drawn pale) or a layer catalogue (mapping; drawn as
        :func:`plot_composite`). The axes are limited to its extent.
    title : str, optional
        Defaults to the number of samples.
    markersize : float, default 12
        Marker area in points squared.

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
    if column not in samples.columns:
        raise KeyError(f"No column {column!r} in samples; columns: {list(samples.columns)}.")
    points = samples[samples[column].notna()]
    codes = points[column].tolist()
    table = _class_table(classes, [], codes, "samples")
    positions = _positions(codes, table)
    ax = _axes(ax, (8.5, 5.5))
    frame, present = _sample_frame(points), set()
    if background is not None:
        frame, present = _draw_background(ax, background, table)
    ax.scatter(
        points.geometry.x * frame.scale,
        points.geometry.y * frame.scale,
        c=np.asarray(table.colours)[positions],
        s=markersize,
        edgecolors="#222222",
        linewidths=0.35,
        zorder=3,
    )
    _finish_map(ax, frame, f"{len(points):,} samples" if title is None else title)
    _legend_right(ax, _class_handles(table, present | set(positions.tolist())), "Land cover")
    return ax


def _test_folds(cv: Any, X: Any, y: Any) -> NDArray[np.intp]:
    """The test fold of each row of ``X`` (-1 for rows never in a test fold)."""
    fold = np.full(len(X), -1, dtype=np.intp)
    try:
        for k, (_, test) in enumerate(cv.split(X, y)):
            fold[test] = k
    except (TypeError, ValueError) as err:
        if y is None:
            raise ValueError(
                f"{type(cv).__name__}.split failed without class labels ({err}); pass "
                "y= (the class codes), which stratified splitters need."
            ) from err
        raise
    return fold


def plot_cv_folds(
    samples: Any,
    cv: Any,
    X: Any = None,
    y: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    markersize: float = 10.0,
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
    markersize : float, default 10
        Marker area in points squared.

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
    if isinstance(X, pd.DataFrame | pd.Series):
        missing = X.index.difference(samples.index)
        if len(missing):
            raise KeyError(
                f"{len(missing)} rows of X (e.g. {list(missing[:3])}) are not in samples; "
                "pass the samples X was built from, with the same index."
            )
        points = samples.loc[X.index]
    elif len(X) == len(samples):
        points = samples
    else:
        raise ValueError(f"X has {len(X)} rows but samples {len(samples)}; they must match.")
    fold = _test_folds(cv, X, y)
    ax = _axes(ax, (7.5, 5.5))
    frame = _sample_frame(points)
    xs, ys = points.geometry.x.to_numpy() * frame.scale, points.geometry.y.to_numpy() * frame.scale
    n_folds = int(fold.max()) + 1
    for k in range(-1, n_folds):
        here = fold == k
        if not here.any():
            continue
        colour = "#bbbbbb" if k < 0 else _QUALITATIVE[k % len(_QUALITATIVE)]
        label = "never tested" if k < 0 else f"fold {k}"
        ax.scatter(
            xs[here],
            ys[here],
            s=markersize,
            color=colour,
            edgecolors="none",
            label=f"{label} ({int(here.sum()):,} samples)",
        )
    _finish_map(ax, frame, None)
    ax.set_title(f"Test folds of {type(cv).__name__} ({n_folds} folds)" if title is None else title)
    if n_folds <= len(_QUALITATIVE):
        _legend_right(ax, ax.get_legend_handles_labels()[0], "Test fold", markerscale=2)
    return ax


# --------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------
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
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "n_samples": n,
            "mean_confidence": mean_confidence,
            "accuracy": accuracy,
        }
    )


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


def _share_bars(ax: Axes, x: ArrayLike, share: pd.Series, width: float, what: str) -> Axes:
    """Grey bars of the share (%) in each bin on a twin axis, behind the lines of ``ax``."""
    hist = ax.twinx()
    hist.bar(x, share, width=width, color="#d9d9d9", label=f"{what} (right axis)")
    hist.set_ylim(0, max(float(share.max()) * 3, 1.0))
    hist.set_ylabel(f"{what} (%)", color="#777777")
    hist.tick_params(axis="y", colors="#777777")
    hist.spines["right"].set_visible(True)
    ax.set_zorder(hist.get_zorder() + 1)
    ax.patch.set_visible(False)
    return hist


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


# --------------------------------------------------------------------------------------
# Features and models
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Change, errors and uncertainty (two or three class maps)
# --------------------------------------------------------------------------------------
class _CodeIds:
    """Stable integer ids for class codes seen in one or more class rasters."""

    def __init__(self) -> None:
        self.codes: list[Hashable] = []
        self._ids: dict[Hashable, int] = {}

    def __call__(self, values: NDArray, value_codes: Mapping | None, source: str) -> NDArray:
        uniq, inverse = np.unique(values, return_inverse=True)
        ids = [self._id(code) for code in _codes_of(uniq, value_codes, source)]
        return np.asarray(ids, dtype=np.int64)[inverse].reshape(values.shape)

    def _id(self, code: Hashable) -> int:
        if code not in self._ids:
            self._ids[code] = len(self.codes)
            self.codes.append(code)
        return self._ids[code]


@dataclass
class _ClassSource:
    path: Path
    records: list[dict[str, Any]]
    value_codes: dict[int, Hashable] | None


def _class_sources(*paths: str | os.PathLike) -> list[_ClassSource]:
    check_same_grid({f"map {i + 1} ({p})": p for i, p in enumerate(paths)})
    sources = []
    for path in paths:
        with rasterio.open(path) as src:
            records = _legend_records(src.tags())
        sources.append(_ClassSource(Path(path), records, _value_codes(records)))
    return sources


def _pixel_area(path: str | os.PathLike) -> float:
    with rasterio.open(path) as src:
        if src.crs is not None and src.crs.is_geographic:
            raise ValueError(
                f"{path} is in geographic coordinates (degrees); areas need a projected, "
                "equal-area CRS such as EPSG:3035."
            )
        return abs(src.transform.a * src.transform.e - src.transform.b * src.transform.d)


def change_matrix(
    path_before: str | os.PathLike,
    path_after: str | os.PathLike,
    classes: ClassTable | None = None,
    *,
    unit: str = "ha",
) -> pd.DataFrame:
    """From-to table of land-cover change between two class maps of one grid.

    Reads both maps in full-resolution strips (bounded memory). Pixels that are nodata
    in either map are left out.

    Parameters
    ----------
    path_before, path_after : path-like
        Class rasters of the earlier and the later year (``dominant_class.tif`` or
        truth maps), on the same grid.
    classes : ClassTable, optional
        Names and order of the classes; defaults to the maps' legends.
    unit : {"ha", "km2", "m2", "pixels"}, default "ha"
        Unit of the cells (areas from the pixel size of a projected CRS).

    Returns
    -------
    pandas.DataFrame
        Rows: the class before (index named ``from``); columns: the class after
        (``to``); labels ``"code name"``; only classes present in either map. The
        diagonal is the unchanged area.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> table = change_matrix(data.truth("9529", 2000), data.truth("9529", 2018))
    >>> round(float(table.to_numpy().sum()))  # 256 x 256 pixels of 0.09 ha
    5898
    """
    if unit not in _AREA_UNITS:
        raise ValueError(f"unit must be one of {list(_AREA_UNITS)}, got {unit!r}.")
    before, after = _class_sources(path_before, path_after)
    ids, counts = _CodeIds(), Counter()
    with rasterio.open(before.path) as a, rasterio.open(after.path) as b:
        for window in _strips(a):
            da, db = a.read(1, window=window, masked=True), b.read(1, window=window, masked=True)
            valid = ~(np.ma.getmaskarray(da) | np.ma.getmaskarray(db))
            ia = ids(np.asarray(da)[valid], before.value_codes, str(before.path))
            ib = ids(np.asarray(db)[valid], after.value_codes, str(after.path))
            pairs, n = np.unique(ia * (1 << 20) + ib, return_counts=True)
            counts.update(dict(zip(pairs.tolist(), n.tolist(), strict=True)))
    table = _class_table(classes, before.records + after.records, ids.codes, "the maps")
    order = sorted(range(len(ids.codes)), key=lambda i: table.index_of(ids.codes[i]))
    rank = {old: new for new, old in enumerate(order)}
    matrix = np.zeros((len(order), len(order)))
    for pair, n in counts.items():
        matrix[rank[pair >> 20], rank[pair & ((1 << 20) - 1)]] += n
    factor = _AREA_UNITS[unit]
    if factor is not None:
        matrix *= _pixel_area(path_before) * factor
    labels = [f"{c.code} {c.name}" for c in (table[table.index_of(ids.codes[i])] for i in order)]
    return pd.DataFrame(
        matrix, index=pd.Index(labels, name="from"), columns=pd.Index(labels, name="to")
    )


def _read_pair(
    path_a: str | os.PathLike, path_b: str | os.PathLike
) -> tuple[_Raster, _Raster, NDArray, NDArray, NDArray[np.bool_], _CodeIds, list]:
    """Two class maps for display, their codes as shared ids, and where both are valid."""
    sources = _class_sources(path_a, path_b)
    ra, rb = _read_raster(path_a), _read_raster(path_b)
    valid = ~(np.ma.getmaskarray(ra.data) | np.ma.getmaskarray(rb.data))
    ids = _CodeIds()
    ia = np.full(ra.data.shape, -1, dtype=np.int64)
    ib = np.full(rb.data.shape, -1, dtype=np.int64)
    ia[valid] = ids(np.asarray(ra.data)[valid], sources[0].value_codes, str(path_a))
    ib[valid] = ids(np.asarray(rb.data)[valid], sources[1].value_codes, str(path_b))
    return ra, rb, ia, ib, valid, ids, sources[0].records + sources[1].records


def plot_change(
    path_before: str | os.PathLike,
    path_after: str | os.PathLike,
    classes: ClassTable | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Map land-cover change: changed pixels in the colour of their new class.

    Unchanged pixels are light grey; nodata (in either map) is transparent over a grey
    hatch. The legend lists the new classes of the changed pixels.

    Parameters
    ----------
    path_before, path_after : path-like
        Class rasters of the earlier and the later year, on the same grid.
    classes : ClassTable, optional
        Names and colours; defaults to the maps' legends.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the years and the share of pixels that changed.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_change(data.truth("9529", 2000), data.truth("9529", 2018), data.classes)
    >>> ax.get_legend().get_texts()[0].get_text()
    'unchanged'
    """
    ra, rb, ia, ib, valid, ids, records = _read_pair(path_before, path_after)
    table = _class_table(classes, records, ids.codes, "the maps")
    k = len(table)
    new = np.full(ia.shape, k, dtype=np.intp)  # k: unchanged
    changed = valid & (ia != ib)
    if ids.codes:
        lut = _positions(ids.codes, table)
        new[changed] = lut[ib[changed]]
    cmap, norm = _class_cmap([*table.colours, UNCHANGED_COLOUR])
    ax = _axes(ax, (8.5, 5.5))
    if not valid.all():
        _nodata_background(ax, ra.frame)
    ax.imshow(
        np.ma.MaskedArray(new, mask=~valid),
        cmap=cmap,
        norm=norm,
        extent=ra.frame.extent,
        interpolation="nearest",
    )
    share = changed.sum() / max(valid.sum(), 1)
    if title is None:
        before, after = _when(ra.path, ra.tags), _when(rb.path, rb.tags)
        title = f"Land-cover change {before} → {after}: {100 * share:.1f} % of pixels changed"
    _finish_map(ax, ra.frame, title)
    handles = [
        Patch(facecolor=UNCHANGED_COLOUR, edgecolor="#999999", linewidth=0.4, label="unchanged")
    ]
    handles += _class_handles(table, set(new[changed].tolist()), not valid.all())
    _legend_right(ax, handles, "New class of changed pixels")
    return ax


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
    cmap, norm = _class_cmap([CORRECT_COLOUR, ERROR_COLOUR])
    ax = _axes(ax, (8.0, 5.5))
    if not valid.all():
        _nodata_background(ax, ra.frame)
    ax.imshow(
        np.ma.MaskedArray(error.astype(np.intp), mask=~valid),
        cmap=cmap,
        norm=norm,
        extent=ra.frame.extent,
        interpolation="nearest",
    )
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
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> def write(name, values):
    ...     with rasterio.open(folder / name, "w", driver="GTiff", width=4, height=1,
    ...                        count=1, dtype="uint8", nodata=255, crs="EPSG:3035",
    ...                        transform=from_origin(4e6, 3e6, 30, 30)) as dst:
    ...         dst.write(np.array([[values]], "uint8"))
    ...     return folder / name
    >>> uncertainty = write("uncertainty.tif", [10, 20, 80, 90])
    >>> predicted, truth = write("map.tif", [1, 1, 1, 2]), write("truth.tif", [1, 1, 2, 2])
    >>> table = error_rate_by_uncertainty(uncertainty, predicted, truth, n_bins=2)
    >>> table[["n_pixels", "n_errors", "error_rate"]].values.tolist()
    [[2.0, 0.0, 0.0], [2.0, 1.0, 0.5]]
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
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "n_pixels": n,
            "n_errors": errors,
            "error_rate": rate,
            "share_of_pixels": n / max(int(n.sum()), 1),
        }
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
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> def write(name, values):
    ...     with rasterio.open(folder / name, "w", driver="GTiff", width=4, height=1,
    ...                        count=1, dtype="uint8", nodata=255, crs="EPSG:3035",
    ...                        transform=from_origin(4e6, 3e6, 30, 30)) as dst:
    ...         dst.write(np.array([[values]], "uint8"))
    ...     return folder / name
    >>> uncertainty = write("uncertainty.tif", [10, 20, 80, 90])
    >>> predicted, truth = write("map.tif", [1, 1, 1, 2]), write("truth.tif", [1, 1, 2, 2])
    >>> ax = plot_uncertainty_vs_error(uncertainty, predicted, truth, n_bins=2)
    >>> ax.lines[1].get_ydata().tolist()  # percent wrong per bin
    [0.0, 50.0]
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
