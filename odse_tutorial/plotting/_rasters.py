"""Rasters for display: decimated reading, frames in km, default titles, nodata hatch."""

from __future__ import annotations

import importlib
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from rasterio.enums import Resampling
from rasterio.windows import Window

logger = logging.getLogger(__name__)


NODATA_HATCH = "#b3b3b3"

_STRIP_PIXELS = 1 << 20  # pixels per strip when a table reads a whole raster


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


def _max_display_size() -> int:
    """:data:`odse_tutorial.plotting.MAX_DISPLAY_SIZE`, read on use so that setting it works."""
    return importlib.import_module("odse_tutorial.plotting").MAX_DISPLAY_SIZE


def _read_raster(path: str | os.PathLike, resampling: str = "nearest") -> _Raster:
    """Read band 1, masked where nodata, decimated to at most MAX_DISPLAY_SIZE pixels."""
    with rasterio.open(path) as src:
        factor = max(1, math.ceil(max(src.width, src.height) / _max_display_size()))
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
