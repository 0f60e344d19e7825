"""Writing Cloud-Optimized GeoTIFFs atomically, and checking that layers share a grid.

A map is written in two steps. First, window by window, into a tiled work GeoTIFF
next to the target, so that memory depends on the window, not on the raster. Then
GDAL's COG driver copies the work file into a Cloud-Optimized GeoTIFF (tiled,
DEFLATE-compressed, with overviews when the raster is larger than one tile). With
:func:`write_cog` the COG appears under its final name only when it is complete
(:func:`odse_tutorial._atomic.atomic_output`); an interrupted run leaves the final
name untouched.

Colour tables, dataset tags, per-band tags, descriptions and units travel into the
COG, so a map carries its legend with it (:func:`read_legend` reads it back).

The grid helpers answer one question before any pixel is read: are all layers on
the same grid (CRS, transform, shape)? :func:`same_crs` compares coordinate
reference systems by meaning, not by spelling, so ``EPSG:3035`` equals the PROJ
string of the same Lambert azimuthal equal-area projection.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import rasterio.shutil
from affine import Affine
from numpy.typing import ArrayLike
from pyproj import CRS as ProjCRS
from pyproj.exceptions import CRSError
from rasterio.windows import Window

from odse_tutorial._atomic import atomic_output

__all__ = [
    "CogWriter",
    "RasterGrid",
    "check_same_grid",
    "read_grid",
    "read_legend",
    "same_crs",
    "write_cog",
]

logger = logging.getLogger(__name__)

#: Tile size of the Cloud-Optimized GeoTIFFs (the COG driver's default).
COG_BLOCKSIZE = 512

# Two transforms are "the same grid" when pixel sizes agree to this relative tolerance
# and origins agree to this fraction of a pixel (floating-point noise from reprojection
# tools, not real shifts).
_SCALE_RTOL = 1e-9
_ORIGIN_PIXEL_TOL = 1e-3


# --------------------------------------------------------------------------------------
# CRS comparison
# --------------------------------------------------------------------------------------
def _to_pyproj(crs: Any) -> ProjCRS:
    if isinstance(crs, ProjCRS):
        return crs
    if hasattr(crs, "to_wkt"):  # rasterio.crs.CRS and friends
        return ProjCRS.from_wkt(crs.to_wkt())
    return ProjCRS.from_user_input(crs)


def same_crs(a: Any, b: Any) -> bool:
    """Whether two coordinate reference systems describe the same coordinates.

    Equivalent definitions count as equal: an EPSG code, its WKT and a PROJ string with
    the same projection, parameters, ellipsoid and units. The comparison first asks
    PROJ (:meth:`pyproj.CRS.equals`, ignoring axis order, since rasters are always
    stored easting first); when PROJ says no, because one definition names a datum and
    the other only its ellipsoid, it compares what fixes the coordinates: the kind of
    CRS, the projection method and its parameters, the ellipsoid, the prime meridian
    and the units.

    Parameters
    ----------
    a, b : rasterio.crs.CRS, pyproj.CRS, str, int or None
        Anything :meth:`pyproj.CRS.from_user_input` understands (``"EPSG:3035"``,
        ``3035``, WKT, a PROJ string), or a rasterio CRS. ``None`` (no CRS) only
        equals ``None``.

    Returns
    -------
    bool

    Examples
    --------
    >>> laea = ("+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 "
    ...         "+ellps=GRS80 +units=m +no_defs")
    >>> same_crs("EPSG:3035", laea)
    True
    >>> same_crs("EPSG:3035", "EPSG:32632")
    False
    """
    if a is None or b is None:
        return a is None and b is None
    if type(a) is type(b) and a == b:  # identical definitions: no need to ask PROJ
        return True
    try:
        ca, cb = _to_pyproj(a), _to_pyproj(b)
    except CRSError as err:
        raise ValueError(
            f"Cannot compare CRS {a!r} with {b!r}: {err}. Give an EPSG code, WKT or PROJ string."
        ) from err
    if ca.equals(cb, ignore_axis_order=True):
        return True
    return _same_parameters(ca, cb)


def _same_parameters(a: ProjCRS, b: ProjCRS) -> bool:
    """Compare the parameters that fix the coordinates, ignoring datum names."""
    # A BoundCRS (PROJ string with +towgs84) wraps the CRS its coordinates are in.
    a = a.source_crs if a.is_bound and a.source_crs is not None else a
    b = b.source_crs if b.is_bound and b.source_crs is not None else b
    if a.type_name != b.type_name or not (a.is_projected or a.is_geographic):
        return False
    ea, eb = a.ellipsoid, b.ellipsoid
    if ea is None or eb is None:
        return False
    if not math.isclose(ea.semi_major_metre, eb.semi_major_metre, rel_tol=1e-12):
        return False
    if not math.isclose(ea.semi_minor_metre, eb.semi_minor_metre, rel_tol=1e-12):
        return False
    pa, pb = a.prime_meridian, b.prime_meridian
    if (pa is None) != (pb is None) or (
        pa is not None and not math.isclose(pa.longitude, pb.longitude, abs_tol=1e-12)
    ):
        return False
    if _axis_units(a) != _axis_units(b):
        return False
    if a.is_geographic:
        return True
    oa, ob = a.coordinate_operation, b.coordinate_operation
    if oa is None or ob is None or oa.method_name.lower() != ob.method_name.lower():
        return False
    params_a = {p.name.lower(): (p.value, p.unit_name) for p in oa.params}
    params_b = {p.name.lower(): (p.value, p.unit_name) for p in ob.params}
    if params_a.keys() != params_b.keys():
        return False
    for name, (value, unit) in params_a.items():
        other_value, other_unit = params_b[name]
        if unit != other_unit or not math.isclose(value, other_value, abs_tol=1e-9):
            return False
    return True


def _axis_units(crs: ProjCRS) -> list[tuple[str, float]]:
    return sorted(
        (axis.unit_name, round(axis.unit_conversion_factor, 12)) for axis in crs.axis_info
    )


def _crs_label(crs: Any) -> str:
    if crs is None:
        return "no CRS"
    try:
        code = crs.to_epsg()
    except Exception:  # a label only; never fail on it
        code = None
    return f"EPSG:{code}" if code else str(crs)[:80]


# --------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RasterGrid:
    """The grid of a raster: CRS, affine transform and shape.

    Parameters
    ----------
    crs : rasterio.crs.CRS or None
        Coordinate reference system.
    transform : affine.Affine
        Pixel-to-map transform (upper-left corner of pixels).
    width, height : int
        Number of columns and rows.

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> grid = RasterGrid("EPSG:3035", from_origin(4_000_000, 3_000_000, 30, 30), 64, 32)
    >>> grid.shape
    (32, 64)
    """

    crs: Any
    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, the shape of a band array."""
        return (self.height, self.width)

    @classmethod
    def from_dataset(cls, dataset: Any) -> RasterGrid:
        """The grid of an open rasterio dataset."""
        return cls(dataset.crs, dataset.transform, dataset.width, dataset.height)

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any]) -> RasterGrid:
        """The grid of a rasterio profile (``src.profile``): its CRS, transform and shape."""
        missing = [k for k in ("crs", "transform", "width", "height") if k not in profile]
        if missing:
            raise KeyError(
                f"The profile lacks {missing}; pass a rasterio profile such as src.profile."
            )
        return cls(profile["crs"], profile["transform"], profile["width"], profile["height"])

    def profile(self) -> dict[str, Any]:
        """The grid as rasterio profile keys (``crs``, ``transform``, ``width``, ``height``)."""
        return {
            "crs": self.crs,
            "transform": self.transform,
            "width": self.width,
            "height": self.height,
        }

    def difference(self, other: RasterGrid) -> str | None:
        """How ``other`` differs from this grid, in words, or ``None`` when they match.

        CRSs are compared with :func:`same_crs`; transforms up to floating-point noise
        (pixel sizes to a relative 1e-9, origins to 0.1 % of a pixel).
        """
        if (other.height, other.width) != (self.height, self.width):
            return (
                f"its shape is {other.height} rows x {other.width} columns instead of "
                f"{self.height} x {self.width}"
            )
        if not same_crs(self.crs, other.crs):
            return f"its CRS is {_crs_label(other.crs)} instead of {_crs_label(self.crs)}"
        if not _same_transform(self.transform, other.transform):
            return (
                f"its transform is {tuple(round(v, 6) for v in other.transform[:6])} instead of "
                f"{tuple(round(v, 6) for v in self.transform[:6])} (pixel size or origin differ)"
            )
        return None


def _same_transform(a: Affine, b: Affine) -> bool:
    for i in (0, 1, 3, 4):  # scale and rotation terms
        if not math.isclose(a[i], b[i], rel_tol=_SCALE_RTOL, abs_tol=1e-12):
            return False
    pixel = max(abs(a.a), abs(a.e), abs(a.b), abs(a.d))
    return (
        abs(a.c - b.c) <= _ORIGIN_PIXEL_TOL * pixel and abs(a.f - b.f) <= _ORIGIN_PIXEL_TOL * pixel
    )


def read_grid(path: str | os.PathLike) -> RasterGrid:
    """The grid of the raster at ``path`` (reads the header only).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from rasterio.transform import from_origin
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=3, count=1,
    ...                    dtype="uint8", crs="EPSG:3035",
    ...                    transform=from_origin(0, 90, 30, 30)) as dst:
    ...     dst.write(np.zeros((1, 3, 4), "uint8"))
    >>> read_grid(path).shape
    (3, 4)
    """
    with rasterio.open(path) as src:
        return RasterGrid.from_dataset(src)


def check_same_grid(layers: Mapping[str, Any]) -> RasterGrid:
    """Check that all layers share one grid (CRS, transform, shape) and return it.

    Parameters
    ----------
    layers : mapping of str to path-like, open rasterio dataset or RasterGrid
        Layer name -> raster, for example ``Dataset.layers(tile, year)``. The first
        layer is the reference.

    Returns
    -------
    RasterGrid
        The common grid.

    Raises
    ------
    ValueError
        Naming the first layer that is off the grid, how it differs, and how to fix it.

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
    >>> check_same_grid({"red": folder / "red.tif", "nir": folder / "nir.tif"}).width
    4
    """
    if not layers:
        raise ValueError("No layers given; pass a mapping of layer name -> raster path.")
    reference_name: str | None = None
    reference: RasterGrid | None = None
    for name, layer in layers.items():
        grid = _grid_of(layer)
        path = getattr(layer, "name", layer)
        if reference is None:
            reference_name, reference = name, grid
            continue
        difference = reference.difference(grid)
        if difference is not None:
            raise ValueError(
                f"Layer {name!r} ({path}) is not on the grid of layer {reference_name!r}: "
                f"{difference}. All layers of a tile must share CRS, transform and shape; "
                f"resample {name!r} onto the grid of {reference_name!r} first (for example "
                f"`rio warp {_file_name(layer)} out.tif --like "
                f"{_file_name(layers[reference_name])}`)."
            )
    assert reference is not None
    return reference


def _grid_of(layer: Any) -> RasterGrid:
    if isinstance(layer, RasterGrid):
        return layer
    if all(hasattr(layer, a) for a in ("crs", "transform", "width", "height")):
        return RasterGrid.from_dataset(layer)
    return read_grid(layer)


def _file_name(layer: Any) -> str:
    if isinstance(layer, RasterGrid):
        return "LAYER.tif"
    return Path(getattr(layer, "name", layer)).name


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------
def _work_blocksize(size: int | None) -> int:
    # Work-file tiles that divide the writer's windows avoid read-modify-write of
    # partially written tiles.
    if size is None:
        return COG_BLOCKSIZE
    for block in (512, 256, 128, 64, 32, 16):
        if size % block == 0:
            return block
    return 256


def _tag_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=_json_scalar)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):  # numpy ints, floats, strings in tags
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"Cannot store {value!r} ({type(value).__name__}) in raster metadata.")


class CogWriter:
    """Write a raster window by window, then turn it into a Cloud-Optimized GeoTIFF.

    Use as a context manager. Windows are written into a tiled, uncompressed work
    GeoTIFF next to ``path`` (so memory is bounded by the window); on a clean exit the
    work file is copied into a DEFLATE-compressed COG at ``path`` and removed. On an
    exception nothing is written to ``path`` and the work file is removed.

    ``CogWriter`` writes to ``path`` as given. To make the final file appear atomically,
    use :func:`write_cog`, or give it the temporary path of
    :func:`odse_tutorial._atomic.atomic_output` (as :mod:`odse_tutorial.prediction` does
    to commit all products of a tile-year together).

    Parameters
    ----------
    path : path-like
        Where the COG is written.
    grid : RasterGrid or mapping
        The grid of the output (CRS, transform, shape), usually the inputs' grid; a
        rasterio profile of a reference raster (``src.profile``) works too.
    dtype : str or numpy dtype
        Data type of the bands, for example ``"uint8"``.
    nodata : int or float, optional
        The nodata value, stored in the file.
    count : int, default 1
        Number of bands.
    colormap : mapping of int to (r, g, b, a), optional
        Colour table of band 1 (``uint8`` or ``uint16`` only).
    tags : mapping, optional
        Dataset metadata; non-string values are stored as JSON.
    band_tags : sequence of mapping, optional
        Metadata per band (one mapping per band).
    descriptions : sequence of str, optional
        A description per band.
    units : sequence of str, optional
        Units per band, for example ``"percent"``.
    overview_resampling : str, default "nearest"
        Resampling of the overviews: ``"nearest"`` or ``"mode"`` for classes,
        ``"average"`` for continuous values.
    window_size : int, optional
        Side of the windows the caller will write; the work file's tiles are chosen to
        divide it.
    deflate_level : int, default 1
        DEFLATE compression level, 1 (fastest) to 9. Level 1 writes probability maps
        about twice as fast as GDAL's default 6, for files about 5 % larger.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rasterio.transform import from_origin
    >>> from rasterio.windows import Window
    >>> grid = RasterGrid("EPSG:3035", from_origin(4_000_000, 3_000_000, 30, 30), 64, 64)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ones.tif"
    >>> with CogWriter(path, grid, dtype="uint8", nodata=255) as dst:
    ...     for row in (0, 32):
    ...         dst.write(np.ones((32, 64), "uint8"), Window(0, row, 64, 32))
    >>> with rasterio.open(path) as src:
    ...     src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"], int(src.read(1).sum())
    ('COG', 4096)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        grid: RasterGrid | Mapping[str, Any],
        *,
        dtype: str | np.dtype,
        nodata: float | None = None,
        count: int = 1,
        colormap: Mapping[int, Sequence[int]] | None = None,
        tags: Mapping[str, Any] | None = None,
        band_tags: Sequence[Mapping[str, Any]] | None = None,
        descriptions: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        overview_resampling: str = "nearest",
        window_size: int | None = None,
        deflate_level: int = 1,
    ) -> None:
        self.path = Path(path)
        self.grid = grid if isinstance(grid, RasterGrid) else RasterGrid.from_profile(grid)
        self.dtype = np.dtype(dtype)
        self.nodata = nodata
        self.count = int(count)
        self.colormap = dict(colormap) if colormap is not None else None
        self.tags = {str(k): _tag_value(v) for k, v in (tags or {}).items()}
        self.band_tags = [dict(t) for t in band_tags] if band_tags is not None else None
        self.descriptions = tuple(descriptions) if descriptions is not None else None
        self.units = tuple(units) if units is not None else None
        self.overview_resampling = overview_resampling
        self.window_size = window_size
        if not 1 <= int(deflate_level) <= 9:
            raise ValueError(f"deflate_level must be 1..9, got {deflate_level!r}.")
        self.deflate_level = int(deflate_level)
        for label, values in (
            ("band_tags", self.band_tags),
            ("descriptions", self.descriptions),
            ("units", self.units),
        ):
            if values is not None and len(values) != self.count:
                raise ValueError(
                    f"{label} has {len(values)} entries but the raster has {self.count} "
                    f"band(s); give one entry per band."
                )
        if self.colormap is not None and self.dtype not in (np.uint8, np.uint16):
            raise ValueError(
                f"A colour table needs a uint8 or uint16 raster, not {self.dtype}; "
                f"change dtype or drop colormap."
            )
        self._work: Path | None = None
        self._dataset: Any = None
        self._finished = False

    def __enter__(self) -> CogWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".work.tif", dir=self.path.parent
        )
        os.close(fd)
        self._work = Path(name)
        block = _work_blocksize(self.window_size)
        try:
            self._dataset = rasterio.open(
                self._work,
                "w",
                driver="GTiff",
                dtype=self.dtype.name,
                nodata=self.nodata,
                count=self.count,
                tiled=True,
                blockxsize=block,
                blockysize=block,
                compress="NONE",
                BIGTIFF="IF_SAFER",
                **self.grid.profile(),
            )
            # Before any pixel: GDAL sets the palette interpretation only on a fresh file.
            self._write_metadata()
        except BaseException:
            if self._dataset is not None:
                self._dataset.close()
                self._dataset = None
            self._remove_work()
            raise
        return self

    def write(self, array: ArrayLike, window: Window, band: int | None = None) -> None:
        """Write ``array`` into ``window``.

        Parameters
        ----------
        array : array-like
            ``(rows, cols)`` for one band (``band`` or band 1), or
            ``(count, rows, cols)`` for all bands.
        window : rasterio.windows.Window
            Where the array goes.
        band : int, optional
            The band (1-based) a 2-D array is written to; defaults to 1.
        """
        if self._dataset is None:
            raise RuntimeError(
                "CogWriter.write() is only available inside a `with` block, before finish()."
            )
        data = np.asarray(array, dtype=self.dtype)
        if data.ndim == 2:
            self._dataset.write(data, 1 if band is None else band, window=window)
        elif data.ndim == 3 and band is None:
            self._dataset.write(data, window=window)
        else:
            raise ValueError(
                f"Expected a 2-D (rows, cols) or 3-D (bands, rows, cols) array, got shape "
                f"{data.shape} with band={band}."
            )

    def finish(self) -> None:
        """Close the work file and write the COG to ``path`` (done on a clean exit).

        Calling it inside the ``with`` block lets a caller convert several writers
        at once, on threads (GDAL releases the GIL while it compresses). Writing
        after ``finish`` is an error; calling it twice does nothing.
        """
        if self._finished:
            return
        if self._dataset is None:
            raise RuntimeError("CogWriter.finish() is only available inside a `with` block.")
        self._dataset.close()
        self._dataset = None
        self._convert()
        self._finished = True

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.finish()
            elif self._dataset is not None:
                self._dataset.close()
                self._dataset = None
        finally:
            self._remove_work()

    def _write_metadata(self) -> None:
        dst = self._dataset
        if self.tags:
            dst.update_tags(**self.tags)
        if self.band_tags is not None:
            for i, band_tags in enumerate(self.band_tags, start=1):
                if band_tags:
                    dst.update_tags(i, **{str(k): _tag_value(v) for k, v in band_tags.items()})
        if self.descriptions is not None:
            for i, description in enumerate(self.descriptions, start=1):
                dst.set_band_description(i, description)
        if self.units is not None:
            dst.units = self.units
        if self.colormap is not None:
            dst.write_colormap(1, self.colormap)

    def _convert(self) -> None:
        assert self._work is not None
        rasterio.shutil.copy(
            self._work,
            self.path,
            driver="COG",
            compress="DEFLATE",
            level=self.deflate_level,
            blocksize=COG_BLOCKSIZE,
            overview_resampling=self.overview_resampling,
            BIGTIFF="IF_SAFER",
        )
        logger.debug("Wrote COG %s", self.path)

    def _remove_work(self) -> None:
        if self._work is not None:
            with contextlib.suppress(FileNotFoundError):
                self._work.unlink()
            self._work = None


@contextlib.contextmanager
def write_cog(
    path: str | os.PathLike, grid: RasterGrid | Mapping[str, Any], **options: Any
) -> Iterator[CogWriter]:
    """Write a COG window by window; it appears at ``path`` only when complete.

    A :class:`CogWriter` on the temporary path of
    :func:`odse_tutorial._atomic.atomic_output`: if the block raises, ``path`` is left
    as it was (an older file there stays untouched).

    Parameters
    ----------
    path : path-like
        The final file name.
    grid : RasterGrid or mapping
        The output grid, or a reference raster's profile (``src.profile``).
    **options
        Keyword arguments of :class:`CogWriter` (``dtype``, ``nodata``, ``colormap``,
        ``tags``, ...).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rasterio.transform import from_origin
    >>> from rasterio.windows import Window
    >>> grid = RasterGrid("EPSG:3035", from_origin(4_000_000, 3_000_000, 30, 30), 16, 16)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "classes.tif"
    >>> with write_cog(path, grid, dtype="uint16", nodata=0,
    ...                colormap={1: (255, 0, 0, 255)}) as dst:
    ...     dst.write(np.ones((16, 16), "uint16"), Window(0, 0, 16, 16))
    >>> with rasterio.open(path) as src:
    ...     src.colormap(1)[1]
    (255, 0, 0, 255)
    """
    with atomic_output(path) as tmp, CogWriter(tmp, grid, **options) as writer:
        yield writer


def read_legend(path: str | os.PathLike) -> pd.DataFrame:
    """The class legend stored in a class map's ``classes`` tag.

    Parameters
    ----------
    path : path-like
        A raster written with a ``classes`` tag: a JSON list of records with keys
        ``value``, ``code``, ``name`` and ``colour`` (as ``dominant_class.tif`` of
        :func:`odse_tutorial.prediction.predict_map`).

    Returns
    -------
    pandas.DataFrame
        Columns ``value`` (the pixel value), ``code``, ``name``, ``colour``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from rasterio.transform import from_origin
    >>> from rasterio.windows import Window
    >>> grid = RasterGrid("EPSG:3035", from_origin(0, 16, 1, 1), 16, 16)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "classes.tif"
    >>> legend = [{"value": 1, "code": "forest", "name": "Forest", "colour": "#00a600"}]
    >>> with write_cog(path, grid, dtype="uint16", nodata=0, tags={"classes": legend}) as dst:
    ...     dst.write(np.ones((16, 16), "uint16"), Window(0, 0, 16, 16))
    >>> read_legend(path)[["value", "code"]].values.tolist()
    [[1, 'forest']]
    """
    with rasterio.open(path) as src:
        text = src.tags().get("classes")
    if text is None:
        raise ValueError(
            f"{path} has no 'classes' tag, so it carries no legend; is it a class map "
            f"written by odse_tutorial (dominant_class.tif)?"
        )
    return pd.DataFrame(json.loads(text), columns=["value", "code", "name", "colour"])
