"""Write the simulated landscape to disk in the documented dataset layout."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from odse_tutorial.classes import CORINE_CLASSES
from odse_tutorial.simulation import landcover, sampling, spectra, terrain

logger = logging.getLogger(__name__)

#: Fixed date written into the GeoPackage, so that the file's bytes do not depend on
#: the day it was generated.
_GPKG_DATE = "2021-09-06T00:00:00Z"


class SimulationConfig:
    """The fixed design of the bundled dataset (change it and the checksums change).

    Two neighbouring 256 x 256 tiles of 30 m pixels in EPSG:3035, six years including
    the CORINE years (2000, 2006, 2012, 2018) and the LUCAS survey years (2009, 2012,
    2015, 2018).
    """

    seed = 2021
    tile_size = 256
    pixel_size = 30.0
    crs = "EPSG:3035"
    # Upper-left corner of the western tile, on a 7,680 m (256-pixel) tiling grid.
    origin = (4_300_800.0, 2_810_880.0)
    tiles = ("9529", "9530")
    years = (2000, 2006, 2009, 2012, 2015, 2018)
    corine_years = (2000, 2006, 2012, 2018)
    lucas_years = (2009, 2012, 2015, 2018)
    dry_summers = (2018,)
    cv_block_size = 1_920.0  # metres: 64 x 64 pixels, 16 blocks per tile


def _cog_bytes(
    array: NDArray, *, nodata: float, transform, crs: str, colormap=None, tags=None
) -> bytes:
    """A compressed Cloud-Optimized GeoTIFF of ``array``, as bytes."""
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "nodata": nodata,
        "crs": crs,
        "transform": transform,
    }
    with MemoryFile() as mem, mem.open(**profile) as src:
        src.write(array, 1)
        if colormap:
            src.write_colormap(1, colormap)
        if tags:
            src.update_tags(**tags)
        with MemoryFile() as out:
            predictor = 2 if np.issubdtype(array.dtype, np.integer) else 3
            rasterio.shutil.copy(
                src, out.name, driver="COG", compress="DEFLATE", level=9,
                predictor=predictor, blocksize=128, overviews="NONE",
            )  # fmt: skip
            return out.read()


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _simulate(config: type[SimulationConfig]):
    rng = np.random.default_rng(config.seed)
    shape = (config.tile_size, config.tile_size * len(config.tiles))
    elevation = terrain.simulate_elevation(rng, shape)
    slope = terrain.slope_percent(elevation, config.pixel_size)
    land = landcover.simulate_landcover(rng, elevation, slope, list(config.years))

    # A national border cuts the south-east corner: no data beyond it, in any layer.
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    valid = cols < shape[1] - 42 + 0.4 * (shape[0] - 1 - rows) + 4 * np.sin(rows / 7)

    regional = spectra.regional_effects(rng, shape)
    composites = {}
    for year in config.years:
        layers, _ = spectra.simulate_composites(
            rng, land.maps[year], land.field_parcels, elevation, config.pixel_size, regional,
            dry_summer=year in config.dry_summers,
        )  # fmt: skip
        composites[year] = layers

    lucas = sampling.lucas_samples(rng, land.maps, valid, list(config.lucas_years))
    corine = sampling.corine_samples(rng, land.maps, valid, list(config.corine_years))
    # Drawn last, so that the other layers and samples do not depend on it.
    campaign = sampling.campaign_samples(rng, land.maps, valid, list(config.lucas_years))
    points = pd.concat([lucas, corine], ignore_index=True)
    return elevation, slope, land, valid, composites, points, campaign


def _samples_frame(points: pd.DataFrame, config: type[SimulationConfig]) -> gpd.GeoDataFrame:
    x0, y0 = config.origin
    size = config.pixel_size
    x = np.round(x0 + (points.col + points.x_offset) * size, 2)
    y = np.round(y0 - (points.row + points.y_offset) * size, 2)
    tile_index = (points.col // config.tile_size).to_numpy()
    frame = pd.DataFrame(
        {
            "location_id": points.location_id,
            "survey_date": pd.to_datetime(points.survey_date),
            "lc_code": points.lc_code.astype("int32"),
            "lc_name": [CORINE_CLASSES.name_of(c) for c in points.lc_code],
            "source": points.source,
            "confidence": points.confidence.astype("float64"),
            "tile_id": np.asarray(config.tiles)[tile_index],
            "x": x,
            "y": y,
        }
    )
    frame = frame.sort_values(["survey_date", "location_id"], kind="stable", ignore_index=True)
    geometry = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=config.crs)


def _metadata(config: type[SimulationConfig]) -> dict:
    x0, y0 = config.origin
    extent = config.tile_size * config.pixel_size
    return {
        "name": "simulated",
        "title": "A simulated European landscape, 2000-2018",
        "description": (
            "Two neighbouring 256 x 256 tiles of 30 m pixels, simulated from a fixed seed: "
            "terrain, yearly land cover with change, Landsat-like seasonal composites and "
            "LUCAS- / CORINE-like samples. See data/README.md."
        ),
        "crs": config.crs,
        "tiles": {
            tile: {"bounds": [x0 + i * extent, y0 - extent, x0 + (i + 1) * extent, y0]}
            for i, tile in enumerate(config.tiles)
        },
        "years": list(config.years),
        "year_layers": [f"{b}_{s}" for s in spectra.SEASONS for b in spectra.BANDS],
        "static_layers": ["elevation", "slope"],
        "layer_units": {
            "landsat": f"surface reflectance x {1 / spectra.REFLECTANCE_SCALE:g} (uint8, nodata {spectra.NODATA})",
            "elevation": "metres (int16, nodata -32768)",
            "slope": "percent (int16, nodata -32768)",
        },
        "samples": "samples.gpkg",
        "columns": {
            "class": "lc_code",
            "class_name": "lc_name",
            "date": "survey_date",
            "weight": "confidence",
            "location": "location_id",
            "tile": "tile_id",
        },
        "classes": CORINE_CLASSES.to_records(),
        "cv_block_size": config.cv_block_size,
        "truth": "tiles/{tile}/truth/landcover_{year}.tif",
        "generator": {"module": "odse_tutorial.simulation", "seed": config.seed},
    }


def generate_dataset(
    out_dir: str | os.PathLike, config: type[SimulationConfig] = SimulationConfig
) -> Path:
    """Simulate the bundled dataset and write it to ``out_dir``.

    The same ``config`` always gives the same data: same pixels, same samples, same
    file contents (checksums in ``SHA256SUMS``). The folder is built beside
    ``out_dir`` and moved into place at the end, so an interrupted run leaves no
    half-written dataset.

    Parameters
    ----------
    out_dir : path-like
        Folder to create (it must not exist yet, or be empty).
    config : type, optional
        The design of the landscape; :class:`SimulationConfig` by default.

    Returns
    -------
    Path
        ``out_dir``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = generate_dataset(pathlib.Path(tempfile.mkdtemp()) / "simulated")  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(
            f"{out_dir} exists and is not empty; give a new folder or remove it first."
        )
    staging = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)

    logger.info("Simulating the landscape (seed %s)", config.seed)
    elevation, slope, land, valid, composites, points, campaign = _simulate(config)
    size, n = config.pixel_size, config.tile_size
    colormap = CORINE_CLASSES.colormap(0)  # truth maps: nodata 0
    class_tags = CORINE_CLASSES.to_tags()  # the legend of predicted class maps too

    for i, tile in enumerate(config.tiles):
        cols = slice(i * n, (i + 1) * n)
        transform = from_origin(config.origin[0] + i * n * size, config.origin[1], size, size)
        tile_dir = staging / "tiles" / tile
        ok = valid[:, cols]

        cog = functools.partial(_cog_bytes, transform=transform, crs=config.crs)

        static = {
            "elevation": np.round(elevation[:, cols]),
            "slope": np.round(slope[:, cols]),
        }
        for name, values in static.items():
            array = np.where(ok, values, -32768).astype(np.int16)
            _write_bytes(tile_dir / "static" / f"{name}.tif", cog(array, nodata=-32768))
        for year in config.years:
            for name, values in composites[year].items():
                array = np.where(ok, values[:, cols], spectra.NODATA).astype(np.uint8)
                _write_bytes(
                    tile_dir / str(year) / f"{name}.tif", cog(array, nodata=spectra.NODATA)
                )
            truth = np.where(ok, land.maps[year][:, cols], 0).astype(np.uint16)
            _write_bytes(
                tile_dir / "truth" / f"landcover_{year}.tif",
                cog(truth, nodata=0, colormap=colormap, tags=class_tags),
            )

    with _fixed_gpkg_date():
        for name, frame in (("samples", points), ("samples_clustered", campaign)):
            _samples_frame(frame, config).to_file(
                staging / f"{name}.gpkg", layer="samples", driver="GPKG", engine="pyogrio"
            )
    (staging / "dataset.json").write_text(json.dumps(_metadata(config), indent=2) + "\n")
    digests = file_digests(staging)
    (staging / "SHA256SUMS").write_text("".join(f"{d}  {p}\n" for p, d in digests.items()))

    if out_dir.exists():
        out_dir.rmdir()
    staging.rename(out_dir)
    logger.info("Wrote %d files to %s", len(digests) + 1, out_dir)
    return out_dir


@contextlib.contextmanager
def _fixed_gpkg_date() -> Iterator[None]:
    """Pin GDAL's OGR_CURRENT_DATE while writing, for byte-reproducible GeoPackages."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def file_digests(folder: str | os.PathLike) -> dict[str, str]:
    """SHA-256 of every data file under ``folder`` (``SHA256SUMS`` and READMEs excluded).

    Returns a dict ``relative posix path -> hex digest``, sorted by path.
    """
    folder = Path(folder)
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in {"SHA256SUMS", "README.md"}:
            digests[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests
