"""Shared by all figures: axes and legends, rasters read for display, class layers."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import rasterio
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import LogFormatter, MaxNLocator
from numpy.typing import NDArray
from rasterio.enums import Resampling

from odse_tutorial.classes import ClassTable

logger = logging.getLogger(__name__)

#: Rasters are shown at most this many pixels on their long side (decimated overviews).
MAX_DISPLAY_SIZE = 1024

NODATA_HATCH = "#b3b3b3"
ERROR_COLOUR = "#d55e00"

QUALITATIVE = (
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7",
    "#f0e442", "#7f7f7f", "#8c564b", "#17becf", "#bcbd22", "#1f77b4",
)  # fmt: skip


# -- axes and legends ----------------------------------------------------------------------
def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 5.0)) -> Axes:
    if ax is not None:
        return ax
    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _legend_right(ax: Axes, handles: Sequence[Any], title: str, **kwargs: Any) -> None:
    if ax.get_aspect() == 1.0:
        # A map shrinks to its aspect inside the space layout gives it; keep it at the
        # left of that space so that the legend stays next to it, inside the figure.
        ax.set_anchor("W")
    ax.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0, alignment="left", **kwargs)  # fmt: skip


class _PlainLogFormatter(LogFormatter):
    """Log-axis tick labels as plain decimals (0.2, 0.3, 10), not 2x10^-1."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def _plain_log(axis: Any) -> None:
    """Label a log axis (``ax.xaxis``, ``ax.yaxis``) with plain decimals."""
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))


def _patch(colour: str, label: str, **kwargs: Any) -> Patch:
    return Patch(facecolor=colour, edgecolor="#999999", linewidth=0.4, label=label, **kwargs)


def _nodata_handles(data: np.ma.MaskedArray) -> list[Patch]:
    """A "no data" legend entry when ``data`` has masked pixels, else none."""
    if not np.ma.getmaskarray(data).any():
        return []
    return [Patch(facecolor="white", edgecolor=NODATA_HATCH, hatch="////", label="no data")]


# -- rasters -------------------------------------------------------------------------------
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
    unit, s = f"km, EPSG:{epsg}" if epsg else "km", 1e-3
    return _Frame(
        (left * s, right * s, bottom * s, top * s), s, f"Easting ({unit})", f"Northing ({unit})"
    )


def _finish_map(ax: Axes, frame: _Frame, title: str | None) -> None:
    ax.set(
        xlim=frame.extent[:2],
        ylim=frame.extent[2:],
        aspect="equal",
        xlabel=frame.xlabel,
        ylabel=frame.ylabel,
        title=title or "",
    )
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.spines[:].set_visible(True)


def _nodata_background(ax: Axes, frame: _Frame, mask: NDArray[np.bool_]) -> None:
    """A hatch behind the map when ``mask`` (nodata) has pixels: it shows through the
    transparent nodata pixels only."""
    if not mask.any():
        return
    left, right, bottom, top = frame.extent
    ax.add_patch(Rectangle((left, bottom), right - left, top - bottom, facecolor="white",
                           edgecolor=NODATA_HATCH, hatch="////", linewidth=0, zorder=-1))  # fmt: skip


@dataclass(frozen=True)
class _Raster:
    """Band 1 of a raster, read for display."""

    data: np.ma.MaskedArray
    frame: _Frame
    tags: dict[str, str]
    description: str | None
    path: Path


def _read_raster(path: str | os.PathLike, resampling: str = "nearest") -> _Raster:
    """Band 1, masked where nodata, decimated to at most ``MAX_DISPLAY_SIZE`` pixels a side."""
    with rasterio.open(path) as src:
        factor = max(1, math.ceil(max(src.width, src.height) / MAX_DISPLAY_SIZE))
        shape = (math.ceil(src.height / factor), math.ceil(src.width / factor))
        if factor > 1:
            logger.debug("Showing %s at 1/%d of its resolution", path, factor)
        data = src.read(1, out_shape=shape, masked=True, resampling=Resampling[resampling])
        if data.dtype.kind == "f":
            data = np.ma.masked_invalid(data)
        tags = {**src.tags(1), **src.tags()}
        return _Raster(
            data, _frame(tuple(src.bounds), src.crs), tags, src.descriptions[0], Path(path)
        )


def _where(path: Path, tags: Mapping[str, str]) -> str:
    """Tile and year of a map (from its tags or file name), e.g. ``"tile 9529, 2018"``."""
    truth = re.fullmatch(r"landcover_(\d{4})", path.stem)
    tile = tags.get("tile") or (path.parent.parent.name if truth else None)
    year = tags.get("year") or (truth.group(1) if truth else None)
    return ", ".join(str(p) for p in (tile and f"tile {tile}", year) if p)


def _map_title(path: Path, tags: Mapping[str, str], what: str | None = None) -> str:
    """A readable default title: what, tile and year (from tags or the file's name)."""
    if what is None:
        truth = re.fullmatch(r"landcover_(\d{4})", path.stem)
        what = "Reference land cover" if truth else path.stem.replace("_", " ").capitalize()
    return ", ".join(p for p in (what, _where(path, tags)) if p)


def _when(path: Path, tags: Mapping[str, str]) -> str:
    """The year of a map (its tag, or four digits in its name), else ``""``."""
    found = re.search(r"(?<!\d)(\d{4})(?!\d)", path.stem)
    return str(tags.get("year") or (found.group(1) if found else ""))


# -- class maps ----------------------------------------------------------------------------
def _table_for(codes: Sequence[Hashable], classes: ClassTable | None, source: str) -> ClassTable:
    """``classes`` if it holds every code, else an error; the codes sorted without it."""
    if classes is None:
        return ClassTable(sorted(set(codes)))
    missing = [c for c in dict.fromkeys(codes) if c not in classes]
    if missing:
        raise KeyError(
            f"{source} holds class code(s) {missing} that the class table lacks "
            f"({list(classes.codes)}); pass a ClassTable with every class of the map."
        )
    return classes


@dataclass(frozen=True)
class _ClassLayer:
    """A class map for display: positions in ``table`` (masked where nodata)."""

    index: np.ma.MaskedArray
    table: ClassTable
    frame: _Frame
    title: str
    where: str = ""

    def present(self) -> set[int]:
        return set(np.unique(self.index.compressed()).tolist())


def _read_class_layer(
    source: Any, classes: ClassTable | None, table: ClassTable | None = None
) -> _ClassLayer:
    """A class map from a raster path, positions in ``table`` (by default ``classes``, else
    the map's legend)."""
    table = classes if table is None else table
    raster = _read_raster(source)
    name = str(raster.path)
    legend = ClassTable.of_map(raster.tags, name, classes)  # table is None: classes is too
    mask = np.ma.getmaskarray(raster.data)
    values, inverse = legend.decode(np.asarray(raster.data)[~mask], name)
    table = _table_for(values, legend if table is None else table, name)
    index = np.ma.MaskedArray(np.zeros(mask.shape, dtype=np.intp), mask=mask)
    index[~mask] = np.array([table.index_of(c) for c in values], dtype=np.intp)[inverse]
    what = "Dominant class" if raster.tags.get("product") == "dominant_class" else None
    title = _map_title(raster.path, raster.tags, what)
    return _ClassLayer(index, table, raster.frame, title, _where(raster.path, raster.tags))


def _draw_categories(
    ax: Axes, index: np.ma.MaskedArray, frame: _Frame, colours: Sequence[str], alpha=None
) -> None:
    """Draw positions 0..n-1 in ``colours``; masked pixels transparent over the hatch."""
    cmap = ListedColormap(list(colours)).with_extremes(bad=(0, 0, 0, 0))
    norm = BoundaryNorm(np.arange(len(colours) + 1) - 0.5, len(colours))
    _nodata_background(ax, frame, np.ma.getmaskarray(index))
    ax.imshow(
        index, cmap=cmap, norm=norm, extent=frame.extent, interpolation="nearest", alpha=alpha
    )


def _class_handles(table: ClassTable, present: set[int]) -> list[Patch]:
    """Legend entries ``"code name"`` of the classes at positions ``present``."""
    return [_patch(c.colour, f"{c.code} {c.name}") for i, c in enumerate(table) if i in present]
