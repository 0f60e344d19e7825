"""Raster input and output: one grid check, one point reader, Cloud-Optimized GeoTIFFs.

- :func:`check_same_grid`: do all layers share one grid (CRS, transform, shape)? CRSs
  are compared by meaning, not by spelling (``EPSG:3035`` equals the PROJ string of
  the same Lambert azimuthal equal-area projection).
- :func:`read_at_points`: the values of a single-band raster at map coordinates,
  window by window, masked where nodata or outside.
- COG writing (private, used by :mod:`odse_tutorial.prediction`): windows go into a
  tiled work GeoTIFF, so that memory depends on the window, then GDAL's COG driver
  (:func:`rasterio.shutil.copy`) turns it into a DEFLATE-compressed COG with overviews.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import ArrayLike
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioIOError
from rasterio.windows import Window

__all__ = ["check_same_grid", "read_at_points"]

#: Tile size of the Cloud-Optimized GeoTIFFs (the COG driver's default).
_COG_BLOCKSIZE = 512
#: Points are read window by window, so memory stays bounded on large rasters.
_POINT_WINDOW = 1024
# Transforms are "the same grid" up to floating-point noise of reprojection tools:
# scale and rotation to 1e-9 of a pixel, origins to 1e-3 of a pixel.
_TRANSFORM_TOLERANCE = np.array([1e-9, 1e-9, 1e-3, 1e-9, 1e-9, 1e-3])


@dataclass(frozen=True)
class _Band(os.PathLike):
    """Band ``index`` of the multi-band raster ``path``, as one layer.

    ``rasterio.open(band)`` opens it as a single-band raster (GDAL's ``vrt://`` with
    ``bands=``: the band's nodata, no copy), so code that opens layers one by one reads the
    right band; the package's readers instead open the file once and read the bands they
    need (``src.read(indexes, window=...)``).

    Examples
    --------
    >>> _Band(Path("/data/landsat.tif"), 3).name
    'landsat.tif band 3'
    """

    path: Path
    index: int

    def __fspath__(self) -> str:
        return f"vrt://{Path(self.path).resolve()}?bands={self.index}"

    @property
    def name(self) -> str:
        return f"{Path(self.path).name} band {self.index}"

    def __str__(self) -> str:
        return f"{self.path} (band {self.index})"


def _file_and_band(layer: Any) -> tuple[Any, int | None]:
    """The file of a layer and its band (None for a plain path: a single-band file)."""
    return (layer.path, layer.index) if isinstance(layer, _Band) else (layer, None)


def _same_crs(a: Any, b: Any) -> bool:
    """Whether two CRSs (rasterio, pyproj, EPSG code, WKT or PROJ string) are the same.

    Equal by rasterio's comparison, or with the same PROJ parameters (projection,
    parameters, ellipsoid, units), which ignores how a datum is named.

    Examples
    --------
    >>> laea = ("+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 "
    ...         "+ellps=GRS80 +units=m +no_defs")
    >>> _same_crs("EPSG:3035", laea), _same_crs("EPSG:3035", "EPSG:32632")
    (True, False)
    """
    if a is None or b is None:
        return a is None and b is None
    try:
        a, b = CRS.from_user_input(a), CRS.from_user_input(b)
    except CRSError as err:
        raise ValueError(
            f"Cannot compare CRS {a!r} with {b!r}: {err}. Give an EPSG code, WKT or PROJ string."
        ) from err
    return a == b or (bool(proj := a.to_dict()) and proj == b.to_dict())  # {}: no PROJ form


def _grid(layer: Any) -> dict[str, Any]:
    if not hasattr(layer, "transform"):
        with _open(layer) as src:
            return _grid(src)
    return {k: getattr(layer, k) for k in ("crs", "transform", "width", "height")}


def check_same_grid(layers: Mapping[str, Any]) -> dict[str, Any]:
    """Check that all layers share one grid (CRS, transform, shape) and return it.

    Parameters
    ----------
    layers : mapping of str to path-like or open rasterio dataset
        Layer name -> raster, for example ``Dataset.layers(tile, year)``. The first
        layer is the reference.

    Returns
    -------
    dict
        The common grid as rasterio profile keys: ``crs``, ``transform``, ``width``,
        ``height``.

    Raises
    ------
    ValueError
        Naming the first layer that is off the grid, how it differs, and the fix.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("red", "nir"):
    ...     with rasterio.open(folder / f"{name}.tif", "w", driver="GTiff", width=4,
    ...                        height=3, count=1, dtype="uint8", crs="EPSG:3035",
    ...                        transform=from_origin(0, 90, 30, 30)) as dst:
    ...         dst.write(np.zeros((1, 3, 4), "uint8"))
    >>> check_same_grid({"red": folder / "red.tif", "nir": folder / "nir.tif"})["width"]
    4
    """
    if not layers:
        raise ValueError("No layers given; pass a mapping of layer name -> raster path.")
    (ref_name, ref_layer), *others = layers.items()
    ref = _grid(ref_layer)
    for name, layer in others:
        how = _grid_difference(ref, _grid(layer))
        if how:
            raise ValueError(
                f"Layer {name!r} ({_name(layer)}) is not on the grid of layer {ref_name!r}: "
                f"{how}. All layers of a tile must share CRS, transform and shape; resample it "
                f"first (for example `rio warp {_name(layer)} out.tif --like {_name(ref_layer)}`)."
            )
    return ref


def _grid_difference(ref: Mapping[str, Any], grid: Mapping[str, Any]) -> str | None:
    """How ``grid`` differs from ``ref`` (shape, CRS or transform), or None."""
    a, b = ref["transform"], grid["transform"]
    if (grid["height"], grid["width"]) != (ref["height"], ref["width"]):
        return f"its shape is {grid['height']} x {grid['width']} instead of {ref['height']} x {ref['width']}"
    if not _same_crs(ref["crs"], grid["crs"]):
        return f"its CRS is {grid['crs']} instead of {ref['crs']}"
    if not np.all(np.abs(np.subtract(a[:6], b[:6])) <= _TRANSFORM_TOLERANCE * abs(a.a)):
        return f"its transform is {tuple(b[:6])} instead of {tuple(a[:6])} (pixel size or origin)"
    return None


def _name(layer: Any) -> str:
    """The full path of a raster (an open dataset's ``name``; a Path's is only its base name)."""
    return os.fspath(layer.name if hasattr(layer, "transform") else layer)


def _open(path: Any) -> Any:
    """``rasterio.open(path)``, with an error that names the full path."""
    with _reading(path):
        return rasterio.open(path)


@contextlib.contextmanager
def _reading(path: Any) -> Any:
    """Turn GDAL's read errors ("Read failed", a bad header) into one naming the full path."""
    try:
        yield
    except RasterioIOError as err:
        raise OSError(
            f"Could not read raster {_name(path)}: {err}. Check that the file exists and is a "
            "valid GeoTIFF (re-download or regenerate it)."
        ) from err


def _windows(width: int, height: int, rows: int, cols: int | None = None) -> list[Window]:
    """Windows of ``rows`` x ``cols`` pixels (whole rows if ``cols`` is None) that tile a
    raster of ``width`` x ``height``, row by row; the last ones are cut to the edges."""
    cols = cols or width
    return [Window(c, r, min(cols, width - c), min(rows, height - r))
            for r in range(0, height, rows) for c in range(0, width, cols)]  # fmt: skip


def _pixel_of(grid: Any, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column (floored) of points in a grid (``transform``, ``height``, ``width``),
    and whether each point lies inside it."""
    cols, rows = ~grid.transform @ (x, y)
    rows, cols = np.floor(rows), np.floor(cols)
    return rows, cols, (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)


def read_at_points(
    path: str | os.PathLike,
    xs: ArrayLike,
    ys: ArrayLike,
    *,
    indexes: int | Sequence[int] | None = None,
) -> np.ma.MaskedArray:
    """Values of raster bands at map coordinates, masked where nodata or outside.

    Points are read window by window (windows of at most 1024 x 1024 pixels), so memory
    does not depend on the size of the raster; only the bands asked for are read.

    Parameters
    ----------
    path : path-like or open rasterio dataset
        The raster.
    xs, ys : array-like
        Point coordinates in the raster's CRS. NaN coordinates count as outside.
    indexes : int or sequence of int, optional
        Band number(s), from 1. Default: the one band of a single-band raster.

    Returns
    -------
    numpy.ma.MaskedArray
        One value per point (with a sequence of ``indexes``: one column per band), in
        the raster's dtype; masked for each band's nodata (and NaN) pixels and for
        points outside the raster.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="uint8", nodata=255,
    ...                    transform=from_origin(0, 10, 10, 10)) as dst:
    ...     dst.write(np.array([[[7, 255]]], dtype="uint8"))
    >>> read_at_points(path, [5, 15, 99], [5, 5, 5]).tolist()
    [7, None, None]
    """
    x = np.atleast_1d(np.asarray(xs, dtype=np.float64))
    y = np.atleast_1d(np.asarray(ys, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"xs and ys must be 1-D and of equal length, got {x.shape} and {y.shape}.")
    with contextlib.nullcontext(path) if hasattr(path, "read") else _open(path) as src:
        if indexes is None and src.count != 1:
            raise ValueError(
                f"{src.name} has {src.count} bands; pass indexes= (the band numbers to read)."
            )
        bands = [1] if indexes is None else np.atleast_1d(indexes).tolist()
        rows, cols, inside = _pixel_of(src, x, y)
        result = np.ma.masked_array(np.zeros((len(x), len(bands)), src.dtypes[bands[0] - 1]), True)
        at = np.flatnonzero(inside)
        r, c = rows[at].astype(np.int64), cols[at].astype(np.int64)
        blocks = (r // _POINT_WINDOW) * (src.width // _POINT_WINDOW + 1) + c // _POINT_WINDOW
        for block in np.unique(blocks):
            pick = blocks == block
            rr, cc = r[pick], c[pick]
            top, left = rr.min(), cc.min()
            window = Window(left, top, cc.max() - left + 1, rr.max() - top + 1)
            with _reading(src.name):
                values = src.read(bands, window=window, masked=True)[:, rr - top, cc - left]
            result[at[pick]] = values.T  # values and their mask
    if np.issubdtype(result.dtype, np.floating):  # NaN and inf are nodata, as in predict_map
        result[~np.isfinite(result.data)] = np.ma.masked
    return result if np.ndim(indexes) else result[:, 0]


# --------------------------------------------------------------------------------------
# Cloud-Optimized GeoTIFFs
# --------------------------------------------------------------------------------------
def _open_work_file(
    stack: contextlib.ExitStack,
    path: Path,
    grid: Mapping[str, Any],
    *,
    dtype: str,
    nodata: float,
    block: int,
    tags: Mapping[str, Any],
    description: str,
    colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
    units: str | None = None,
    **_: Any,
) -> Any:
    """A tiled, uncompressed work GeoTIFF next to ``path``, open for writing windows.

    ``stack`` removes it on exit; :func:`_write_cog` turns it into the COG. Other keyword
    arguments (the rest of a product's spec) are ignored.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".work.tif", dir=path.parent)
    os.close(fd)
    stack.callback(Path(name).unlink, missing_ok=True)
    dst = rasterio.open(
        name, "w", driver="GTiff", count=1, dtype=dtype, nodata=nodata, tiled=True,
        blockxsize=block, blockysize=block, BIGTIFF="IF_SAFER", **grid,
    )  # fmt: skip
    stack.callback(dst.close)
    # Before any pixel: GDAL sets the palette interpretation only on a fresh file.
    dst.update_tags(**tags)
    dst.set_band_description(1, description)
    if colormap is not None:
        dst.write_colormap(1, colormap)
    if units is not None:
        dst.units = (units,)
    return dst


def _write_cog(work: Any, path: Path, overview_resampling: str) -> None:
    """Close the work file ``work`` and copy it into a COG at ``path``.

    DEFLATE level 1 writes probability maps about twice as fast as GDAL's default 6,
    for files about 5 % larger.
    """
    work.close()
    rasterio.shutil.copy(
        work.name, path, driver="COG", compress="DEFLATE", level=1, blocksize=_COG_BLOCKSIZE,
        overview_resampling=overview_resampling, BIGTIFF="IF_SAFER",
    )  # fmt: skip
