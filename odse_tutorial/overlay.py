"""Space-time overlay: every sample reads the rasters of its own survey year.

A point surveyed in 2015 must be described by the 2015 composites, not by those of
2000: land cover changes. :func:`overlay_samples` reads, for each sample, the per-year
layers of its survey year and the static layers (terrain), and returns a tidy
feature table whose column names are the layer names used later for prediction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.features import geometry_mask
from rasterio.transform import Affine
from rasterio.windows import from_bounds

from odse_tutorial import raster_io
from odse_tutorial._dataset import (
    _MAX_PIXELS,
    _POLYGONS,
    Dataset,
    _head,
    _sample_problems,
    survey_year,
)
from odse_tutorial._tasks import run_tile_years
from odse_tutorial.classes import ClassTable
from odse_tutorial.labels import drop_rare_classes
from odse_tutorial.raster_io import _grid, _open, _same_crs, check_same_grid, read_at_points

__all__ = ["overlay_samples", "training_data"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _OverlayReport:
    """What the overlay did with samples it could not use, and why.

    Attributes
    ----------
    n_input : int
        Samples given.
    n_output : int
        Samples in the feature table.
    outside : pandas.DataFrame
        Samples that fall outside every tile (index, x, y, year); dropped.
    nodata : pandas.DataFrame
        Samples with nodata in at least one layer (index, year, layers); dropped.
    reprojected_from : str or None
        The samples' CRS when they had to be reprojected to the rasters' CRS.
    assumed_year : int or None
        The year taken as survey year of samples without a date (one year folder).
    polygons : dict or None
        With polygon samples: ``polygons``, ``kept`` (polygons with a row in the table),
        ``pixels`` (pixel centres inside them), ``pixels_kept``, ``capped`` (polygons with
        more than ``max_pixels``), ``empty`` (polygons covering no pixel centre of any
        tile: index), ``weight`` (the weight column).
    """

    n_input: int
    n_output: int
    outside: pd.DataFrame = field(repr=False)
    nodata: pd.DataFrame = field(repr=False)
    reprojected_from: str | None = None
    assumed_year: int | None = None
    polygons: dict | None = None

    def __str__(self) -> str:
        lines = [f"Overlay: {self.n_output} of {self.n_input} samples kept."]
        if p := self.polygons:
            lines = [f"Overlay: {self.n_output} rows from {self.n_input} samples, {p['polygons']}"
                     " of them polygons (training areas).",
                     f"- polygons: {p['kept']} of {p['polygons']} kept, with {p['pixels_kept']} "
                     f"of the {p['pixels']} pixels whose centres fall inside them"
                     + (f"; {p['capped']} larger than {p['max_pixels']} pixels: a seeded draw "
                        f"of {p['max_pixels']} each" if p["capped"] else "")
                     + (f"; {len(p['empty'])} cover no pixel centre of any tile (outside, or "
                        f"smaller than a pixel; dropped): index {_head(p['empty'])}"
                        if len(p["empty"]) else ""),
                     "- each polygon is one location (its pixels stay in one fold) and counts "
                     f"alike: pixel weight = 1 / its pixels, times its sample weight (column "
                     f"{p['weight']!r})"]  # fmt: skip
        if self.assumed_year is not None:
            lines.append(f"- no date column: every sample taken as surveyed in "
                         f"{self.assumed_year}, the one year folder")  # fmt: skip
        if self.reprojected_from:
            lines.append(f"- samples reprojected from {self.reprojected_from} to the rasters' CRS")
        if len(self.outside):
            lines.append(
                f"- {len(self.outside)} outside every tile (dropped): index {_head(self.outside.index)}"
            )
        if len(self.nodata):
            by_layer = self.nodata["layers"].str.split(", ").explode().value_counts()
            lines.append(
                f"- {len(self.nodata)} {'pixels ' if self.polygons else ''}with nodata in some "
                f"layer (dropped; e.g. cloud gaps): index {_head(self.nodata.index.unique())}; "
                "most affected layers: "
                + ", ".join(f"{k} ({v})" for k, v in by_layer.head(4).items())
            )
        return "\n".join(lines)


def overlay_samples(
    dataset: Dataset,
    samples: gpd.GeoDataFrame | None = None,
    *,
    date_column: str | None = None,
    client: Any = None,
    progress: bool = True,
    max_pixels: int = _MAX_PIXELS,
    random_state: int = 0,
) -> tuple[gpd.GeoDataFrame, _OverlayReport]:
    """Read, for every sample, the layers of its survey year and the static layers.

    A sample is a point, or a polygon (a training area): the pixels whose centres fall
    inside a polygon become rows of its class and year, read in each tile's CRS whatever
    the polygons' CRS, at most ``max_pixels`` per polygon (a seeded draw). Each polygon
    is one location (its pixels share the location column, ``location_id`` when the
    samples have none, so every splitter keeps them in one fold) and counts alike: its
    rows weigh 1 / their number, times its sample weight (weight column, ``weight`` when
    the samples have none).

    Parameters
    ----------
    dataset : Dataset
        The layer catalogue (:func:`odse_tutorial.datasets.load_dataset`).
    samples : GeoDataFrame, optional
        Points or polygons with a class code and a survey date (or year). Defaults to
        the dataset's own samples. Never modified.
    date_column : str, optional
        The date column, when it differs from the dataset's (``dataset.columns.date``).
    client : dask.distributed.Client or "current", optional
        Read the samples of each tile and survey year as one task on this Dask cluster
        (``"current"``: the client made last in this process), as
        :func:`odse_tutorial.prediction.predict_maps` does; the layers must be on a file
        system every worker sees. The table and report are exactly those of the serial
        run. A failed tile-year raises an error naming it and its cause, after the others
        finished; nothing is returned.
    progress : bool, default True
        With a client: a progress bar over finished tasks.
    max_pixels : int, default 1000
        Most pixels a polygon gives; larger polygons give a random draw of this many
        (bounding memory and time).
    random_state : int, default 0
        Seed of that draw (each polygon's draw depends only on the seed and its row).

    Returns
    -------
    table : GeoDataFrame
        The kept samples (original index and columns), a ``year`` column and one
        float32 column per layer, in :attr:`Dataset.feature_names` order. With polygons:
        one row per point or pixel (fresh index; ``sample_index``: the sample's index;
        geometry: the pixel centre), with the location and weight columns above.
    report : object
        Which samples were dropped and why: a plain bundle of attributes, ``n_input``,
        ``n_output``, ``outside`` (frame: index, x, y, year), ``nodata`` (frame: index,
        year, layers), ``reprojected_from`` (the samples' CRS, or None),
        ``assumed_year`` and ``polygons`` (counts of polygons and pixels kept and dropped).

    Raises
    ------
    KeyError
        A survey year without layers (naming the year and the expected files).
    ValueError
        Samples that cannot be overlaid, each problem named (a missing column, with the
        closest existing name; no CRS; no geometry; bad dates).
    OSError
        An unreadable raster (naming the file).
    RuntimeError
        With a client: failed tile-years, each named with its error (naming the file).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> table, report = overlay_samples(ds)
    >>> list(table.columns[-3:])
    ['swir2_autumn', 'elevation', 'slope']
    """
    source = dataset.samples if samples is None else samples
    date_column = date_column or dataset.columns.date
    columns = replace(dataset.columns, date=date_column)
    assumed = dataset.assumed_year if date_column == dataset.columns.date else None
    if samples is not None and date_column in samples:
        assumed = None  # the caller's dates
    elif assumed is not None:  # one year folder, no dates: its year (said in the report)
        source = source.assign(**{date_column: assumed})
    problems = _sample_problems(source, columns)
    if len(source) and source.index.has_duplicates:
        problems.append("The samples' index has duplicates; the feature table keeps the index "
                        "to link rows back to samples. Use samples.reset_index(drop=True) first.")  # fmt: skip
    clash = [c for c in ("year", "sample_index", *dataset.feature_names)
             if c in source and c != date_column]  # fmt: skip
    if clash:
        problems.append(f"The samples have column(s) {clash} that the overlay writes (the survey "
                        "year and one column per layer); rename them first, e.g. samples.rename("
                        f"columns={{{clash[0]!r}: '{clash[0]}_original'}}).")  # fmt: skip
    if problems:
        raise ValueError("The samples cannot be overlaid:\n- " + "\n- ".join(problems))

    polygons, grids = source.index[source.geom_type.isin(_POLYGONS)], _tile_grids(dataset)
    if len(polygons):
        n_samples, weight = len(source), columns.weight or "weight"
        source, stats = _polygon_pixels(source, grids, max_pixels, random_state)
        source = source.assign(**{  # each point its own location, each polygon one
            c: source.get(c, default) for c, default in ((columns.location or "location_id",
            source["sample_index"]), (weight, 1.0))})  # fmt: skip
    table, report = _overlay(dataset, grids, source, date_column, client, progress)
    report = replace(report, assumed_year=assumed)
    if len(polygons):
        from_polygon = table["sample_index"].isin(polygons).to_numpy()
        per_polygon = table.groupby("sample_index")["sample_index"].transform("size")
        table[weight] = table[weight].where(~from_polygon, table[weight] / per_polygon)
        kept = {"kept": table["sample_index"][from_polygon].nunique(), "weight": weight,
                "pixels_kept": int(from_polygon.sum())}  # fmt: skip
        report = replace(report, n_input=n_samples, polygons={**stats, **kept},
                         outside=report.outside.set_axis(source["sample_index"][report.outside.index]),
                         nodata=report.nodata.set_axis(source["sample_index"][report.nodata.index]))  # fmt: skip
    return table, report


#: Largest strip of a polygon's window rasterized at once (pixels): memory stays bounded.
_STRIP_PIXELS = 1 << 20


def _tile_grids(dataset: Dataset) -> dict[str, SimpleNamespace]:
    """The grid of each tile (of its first layer), which every read is checked against."""
    grids = {}
    for tile in dataset.tiles:
        first = next(iter(dataset.layers(tile, min(dataset.year_layers[tile])).values()))
        with _open(first) as src:
            grids[tile] = SimpleNamespace(**_grid(src), name=src.name)
    return grids


def _centres_in(geom: Any, grid: Any, rng: np.random.Generator, cap: int) -> tuple:
    """Random keys, rows and columns of the pixels of ``grid`` whose centres fall inside
    ``geom`` (in the grid's CRS), the ``cap`` with the smallest keys, and how many there
    are in all. Rasterized strip by strip, so memory stays bounded for large polygons."""
    empty = (np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64))
    box = from_bounds(*geom.bounds, transform=grid.transform)  # the polygon's pixels
    col0, row0 = max(0, int(np.floor(box.col_off))), max(0, int(np.floor(box.row_off)))
    width = min(grid.width, int(np.ceil(box.col_off + box.width)) + 1) - col0
    bottom = min(grid.height, int(np.ceil(box.row_off + box.height)) + 1)
    if width <= 0 or bottom <= row0:  # the polygon misses the tile
        return (*empty, 0)
    (keys, rows, cols), total = empty, 0
    step = max(1, _STRIP_PIXELS // max(width, 1))
    for top in range(row0, bottom, step):
        height = min(step, bottom - top)
        inside = geometry_mask([geom], out_shape=(height, width), invert=True,
                               transform=grid.transform @ Affine.translation(col0, top))  # fmt: skip
        r, c = np.nonzero(inside)
        total += len(r)
        keys = np.concatenate([keys, rng.random(len(r))])
        rows, cols = np.concatenate([rows, r + top]), np.concatenate([cols, c + col0])
        if len(keys) > cap:
            best = np.argpartition(keys, cap - 1)[:cap]
            keys, rows, cols = keys[best], rows[best], cols[best]
    return keys, rows, cols, total


def _polygon_pixels(
    source: gpd.GeoDataFrame, grids: dict, max_pixels: int, random_state: int
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The samples as points: a point as it is, a polygon as the centres of the pixels
    inside it, in every tile it covers (at most ``max_pixels``: a seeded draw per polygon,
    the same whatever the other polygons). Fresh index; ``sample_index``: the sample's."""
    is_polygon = source.geom_type.isin(_POLYGONS).to_numpy()
    polygon_pos = np.flatnonzero(is_polygon)
    rngs = {int(p): np.random.default_rng([random_state, int(p)]) for p in polygon_pos}
    parts, totals = [], dict.fromkeys(rngs, 0)
    for t, grid in enumerate(grids.values()):
        for pos, geom in zip(rngs, source.geometry[is_polygon].to_crs(grid.crs), strict=True):
            keys, rows, cols, total = _centres_in(geom, grid, rngs[pos], max_pixels)
            totals[pos] += total
            parts.append((np.full(len(keys), pos), keys, np.full(len(keys), t), rows, cols))
    pos, keys, tile, rows, cols = (np.concatenate([p[i] for p in parts] or [np.empty(0, np.int64)])
                                   for i in range(5))  # fmt: skip
    order = np.lexsort((keys, pos))  # per polygon, the max_pixels smallest keys
    rank = np.arange(len(order)) - np.searchsorted(pos[order], pos[order])
    kept = np.sort(order[rank < max_pixels])
    pos, tile, rows, cols = pos[kept].astype(np.int64), tile[kept], rows[kept], cols[kept]
    geometry = np.empty(len(kept), dtype=object)
    for t, grid in enumerate(grids.values()):  # pixel centres, back in the samples' CRS
        here = tile == t
        x, y = grid.transform @ (cols[here] + 0.5, rows[here] + 0.5)
        geometry[here] = gpd.GeoSeries.from_xy(x, y, crs=grid.crs).to_crs(source.crs).to_numpy()
    positions = np.concatenate([np.flatnonzero(~is_polygon), pos])  # the points, then the pixels
    geometry = np.concatenate([source.geometry.to_numpy()[~is_polygon], geometry])
    order = np.argsort(positions, kind="stable")  # each sample's rows where the sample was
    pixels = source.iloc[positions[order]].reset_index(names="sample_index")
    stats = {"polygons": len(rngs), "pixels": int(sum(totals.values())),
             "capped": sum(n > max_pixels for n in totals.values()),
             "empty": source.index[[p for p, n in totals.items() if n == 0]],
             "max_pixels": max_pixels}  # fmt: skip
    return pixels.set_geometry(geometry[order], crs=source.crs), stats


def _overlay(
    dataset: Dataset,
    grids: dict[str, SimpleNamespace],
    source: gpd.GeoDataFrame,
    date_column: str,
    client: Any,
    progress: bool,
) -> tuple[gpd.GeoDataFrame, _OverlayReport]:
    years = survey_year(source, date_column)
    xs, ys = np.full(len(source), np.nan), np.full(len(source), np.nan)
    tile_of = pd.Series(pd.NA, index=source.index, dtype="object")
    projected: dict[str, tuple] = {}
    for tile, grid in grids.items():  # each tile in its own CRS (a dataset across UTM zones)
        crs = grid.crs.to_wkt()
        if crs not in projected:
            same = _same_crs(source.crs, grid.crs)
            points = source if same else source.to_crs(grid.crs)
            projected[crs] = points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), same
        px, py, _ = projected[crs]
        inside = raster_io._pixel_of(grid, px, py)[2] & tile_of.isna().to_numpy()
        tile_of[inside] = tile
        xs[inside], ys[inside] = px[inside], py[inside]
    reprojected_from = None if all(p[2] for p in projected.values()) else source.crs.to_string()

    out_mask = tile_of.isna().to_numpy()
    outside_frame = pd.DataFrame({"x": source.geometry.x[out_mask], "y": source.geometry.y[out_mask],
                                  "year": years[out_mask]}, index=source.index[out_mask])  # fmt: skip

    names = list(dataset.feature_names)
    values = np.full((len(source), len(names)), np.nan, dtype=np.float32)
    keys = pd.DataFrame({"tile": tile_of.to_numpy(), "year": years.to_numpy()})  # outside: NA
    where = dict(sorted(keys.groupby(["tile", "year"]).indices.items()))  # positions per tile-year
    calls = {  # dataset.layers raises naming the year and files
        (tile, year): {"layers": dataset.layers(tile, int(year)), "grid": grids[tile],
                       "xs": xs[pos], "ys": ys[pos]}
        for (tile, year), pos in where.items()
    }  # fmt: skip
    if client is None:
        read = [_read_points(**call, names=names) for call in calls.values()]
    else:
        read = run_tile_years(client, _read_points, calls, shared={"names": names}, desc="Overlay",
                              progress=progress, advice="Fix the cause and call again.")  # fmt: skip
    for pos, group_values in zip(where.values(), read, strict=True):
        values[pos] = group_values

    bad = np.isnan(values).any(axis=1) & ~out_mask
    nodata_frame = pd.DataFrame({"year": years.to_numpy()[bad], "layers": [", ".join(
        np.asarray(names)[np.isnan(v)]) for v in values[bad]]}, index=source.index[bad])  # fmt: skip

    keep = ~out_mask & ~bad
    table = source.loc[keep].assign(year=years[keep].to_numpy())
    table = pd.concat([table, pd.DataFrame(values[keep], columns=names, index=table.index)], axis=1)
    report = _OverlayReport(len(source), len(table), outside_frame, nodata_frame, reprojected_from)
    if len(outside_frame) or len(nodata_frame):  # one line; print(report) lists the samples
        logger.warning("Overlay: %d of %d samples dropped (%d outside every tile, %d with nodata);"
                       " print the returned report for which.", len(source) - len(table),
                       len(source), len(outside_frame), len(nodata_frame))  # fmt: skip
    return table, report


def _read_points(
    layers: dict, names: list, grid: Any, xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """The values of the layers ``names`` at points of one tile-year (float32, NaN for nodata).

    Each file is opened once and only the bands of ``names`` are read from it."""
    values = np.empty((len(xs), len(names)), dtype=np.float32)
    by_file: dict[Any, list[tuple[int, int | None]]] = {}
    for j, name in enumerate(names):
        path, band = raster_io._file_and_band(layers[name])
        by_file.setdefault(path, []).append((j, band))
    # One GDAL environment for the tile-year's reads (also on a Dask worker). Side-car files
    # are read, as predict_map reads them: nodata in .aux.xml and .msk masks count the same.
    with rasterio.Env():
        for path, picks in by_file.items():
            with _open(path) as src:
                check_same_grid({"the tile's first layer": grid, names[picks[0][0]]: src})
                bands = None if picks[0][1] is None else [band for _, band in picks]
                read = read_at_points(src, xs, ys, indexes=bands).astype(np.float32)
                values[:, [j for j, _ in picks]] = read.filled(np.nan).reshape(len(xs), -1)
    return values


@dataclass(frozen=True)
class _TrainingData:
    """What the notebooks train on, prepared as in notebook 1.

    Attributes
    ----------
    table : GeoDataFrame
        The overlaid samples that are kept (index = the samples' index).
    X : DataFrame
        The features, one column per layer, in the dataset's feature order.
    y : Series
        The class codes.
    weights : Series or None
        Sample weights (the samples' confidence), when the dataset has them.
    classes : ClassTable
        The classes kept, with names and colours.
    overlay_report : object
        Samples dropped by the overlay, and why (see :func:`overlay_samples`).
    class_counts : DataFrame
        Samples per class, and which classes were dropped as too rare.
    """

    table: gpd.GeoDataFrame
    X: pd.DataFrame
    y: pd.Series
    weights: pd.Series | None
    classes: ClassTable
    overlay_report: _OverlayReport
    class_counts: pd.DataFrame


def training_data(
    dataset: Dataset, *, min_class_samples: int = 10, client: Any = None
) -> _TrainingData:
    """Overlay a dataset's samples and drop classes too rare to cross-validate.

    The steps of notebook 1 in one call: :func:`overlay_samples` (on a Dask ``client``,
    when given), then :func:`odse_tutorial.labels.drop_rare_classes`, counting samples:
    a polygon counts once, however many pixels it gives (a class needs
    ``min_class_samples`` points or polygons to be tested by the CV).

    Returns
    -------
    object
        A plain bundle of attributes: ``table`` (the kept overlaid samples), ``X`` (the
        features, in the dataset's feature order), ``y`` (class codes), ``weights``
        (Series or None), ``classes`` (the ClassTable of the kept classes),
        ``overlay_report`` (see :func:`overlay_samples`) and ``class_counts``.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = training_data(load_dataset())
    >>> data.X.shape[1], len(data.classes)
    (26, 10)
    """
    columns = dataset.columns
    table, overlay_report = overlay_samples(dataset, client=client)
    samples = table.drop_duplicates("sample_index") if "sample_index" in table else table
    keep, class_counts = drop_rare_classes(samples[columns.class_code], min_count=min_class_samples)
    if not class_counts["kept"].all():
        logger.warning("Classes with fewer than %d samples (a polygon counts once) cannot be "
                       "tested by the CV and are dropped: %s. The model does not know them: on "
                       "the maps, their areas get one of the kept classes.", min_class_samples,
                       ", ".join(map(str, class_counts["code"][~class_counts["kept"]])))  # fmt: skip
    table = table[table[columns.class_code].isin(samples[columns.class_code][keep])]
    weights = table[columns.weight] if columns.weight in table else None  # optional
    y = table[columns.class_code]
    classes = dataset.classes.subset(sorted(y.unique()))
    return _TrainingData(
        table, table[list(dataset.feature_names)], y, weights, classes, overlay_report, class_counts
    )
