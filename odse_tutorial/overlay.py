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

from odse_tutorial import raster_io
from odse_tutorial._checks import check_sample_weight
from odse_tutorial._dataset import Dataset, _head, _sample_problems, survey_year
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
    """

    n_input: int
    n_output: int
    outside: pd.DataFrame = field(repr=False)
    nodata: pd.DataFrame = field(repr=False)
    reprojected_from: str | None = None
    assumed_year: int | None = None

    def __str__(self) -> str:
        lines = [f"Overlay: {self.n_output} of {self.n_input} samples kept."]
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
                f"- {len(self.nodata)} with nodata in some layer (dropped; e.g. cloud gaps): "
                f"index {_head(self.nodata.index)}; most affected layers: "
                + ", ".join(f"{k} ({v})" for k, v in by_layer.head(4).items())
            )
        return "\n".join(lines)


def overlay_samples(
    dataset: Dataset,
    samples: gpd.GeoDataFrame | None = None,
    *,
    date_column: str | None = None,
    class_column: str | None = None,
    outside: str = "drop",
    nodata: str = "drop",
    client: Any = None,
    progress: bool = True,
) -> tuple[gpd.GeoDataFrame, _OverlayReport]:
    """Read, for every sample, the layers of its survey year and the static layers.

    Parameters
    ----------
    dataset : Dataset
        The layer catalogue (:func:`odse_tutorial.datasets.load_dataset`).
    samples : GeoDataFrame, optional
        Points with a class code and a survey date (or year). Defaults to the
        dataset's own samples. Never modified.
    date_column, class_column : str, optional
        Column names, when they differ from the dataset's (``dataset.columns``).
    outside : {"drop", "raise"}
        What to do with samples outside every tile: drop them (and report them),
        or raise an error.
    nodata : {"drop", "raise", "keep"}
        Samples with nodata in a layer (cloud gaps, borders): drop them (and report),
        raise, or keep them with NaN features (for models that handle missing values).
    client : dask.distributed.Client or "current", optional
        Read the samples of each tile and survey year as one task on this Dask cluster
        (``"current"``: the client made last in this process), as
        :func:`odse_tutorial.prediction.predict_maps` does; the layers must be on a file
        system every worker sees. The table and report are exactly those of the serial
        run. A failed tile-year raises an error naming it and its cause, after the others
        finished; nothing is returned.
    progress : bool, default True
        With a client: a progress bar over finished tasks.

    Returns
    -------
    table : GeoDataFrame
        The kept samples (original index and columns), a ``year`` column and one
        float32 column per layer, in :attr:`Dataset.feature_names` order.
    report : object
        Which samples were dropped and why: a plain bundle of attributes, ``n_input``,
        ``n_output``, ``outside`` (frame: index, x, y, year), ``nodata`` (frame: index,
        year, layers) and ``reprojected_from`` (the samples' CRS, or None).

    Raises
    ------
    KeyError
        A survey year without layers (naming the year and the expected files).
    ValueError
        Samples that cannot be overlaid, each problem named (a missing column, with the
        closest existing name; no CRS; no geometry; bad dates), or an invalid
        ``outside`` / ``nodata`` option.
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
    if outside not in ("drop", "raise"):
        raise ValueError(f"outside must be 'drop' or 'raise', got {outside!r}.")
    if nodata not in ("drop", "raise", "keep"):
        raise ValueError(f"nodata must be 'drop', 'raise' or 'keep', got {nodata!r}.")
    source = dataset.samples if samples is None else samples
    date_column = date_column or dataset.columns.date
    class_column = class_column or dataset.columns.class_code
    columns = replace(dataset.columns, date=date_column, class_code=class_column)
    assumed = dataset.assumed_year if date_column == dataset.columns.date else None
    if samples is not None and date_column in samples:
        assumed = None  # the caller's dates
    elif assumed is not None:  # one year folder, no dates: its year (said in the report)
        source = source.assign(**{date_column: assumed})
    problems = _sample_problems(source, columns)
    if len(source) and source.index.has_duplicates:
        problems.append("The samples' index has duplicates; the feature table keeps the index "
                        "to link rows back to samples. Use samples.reset_index(drop=True) first.")  # fmt: skip
    clash = [c for c in ("year", *dataset.feature_names) if c in source and c != date_column]
    if clash:
        problems.append(f"The samples have column(s) {clash} that the overlay writes (the survey "
                        "year and one column per layer); rename them first, e.g. samples.rename("
                        f"columns={{{clash[0]!r}: '{clash[0]}_original'}}).")  # fmt: skip
    if problems:
        raise ValueError("The samples cannot be overlaid:\n- " + "\n- ".join(problems))

    table, report = _overlay(dataset, source, date_column, outside, nodata, client, progress)
    return table, replace(report, assumed_year=assumed)


def _overlay(
    dataset: Dataset,
    source: gpd.GeoDataFrame,
    date_column: str,
    outside: str,
    nodata: str,
    client: Any,
    progress: bool,
) -> tuple[gpd.GeoDataFrame, _OverlayReport]:
    years = survey_year(source, date_column)
    xs, ys = np.full(len(source), np.nan), np.full(len(source), np.nan)
    tile_of = pd.Series(pd.NA, index=source.index, dtype="object")
    grids, projected = {}, {}
    for tile in dataset.tiles:  # each tile in its own CRS (a dataset across UTM zones)
        first = next(iter(dataset.layers(tile, min(dataset.year_layers[tile])).values()))
        with _open(first) as src:  # every read is checked against this grid
            grid = grids[tile] = SimpleNamespace(**_grid(src), name=src.name)
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
    if out_mask.any() and outside == "raise":
        raise ValueError(
            f"{out_mask.sum()} samples fall outside every tile (index {_head(outside_frame.index)}); "
            "check their coordinates and CRS, or pass outside='drop'."
        )

    names = list(dataset.feature_names)
    values = np.full((len(source), len(names)), np.nan, dtype=np.float32)
    inside_idx = np.flatnonzero(~out_mask)
    groups = pd.DataFrame({"tile": tile_of.to_numpy()[inside_idx], "year": years.to_numpy()[inside_idx],
                           "pos": inside_idx})  # fmt: skip
    where = {key: pos.to_numpy() for key, pos in groups.groupby(["tile", "year"], sort=True)["pos"]}
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
    if bad.any() and nodata == "raise":
        raise ValueError(
            f"{bad.sum()} samples have nodata in some layer (index {_head(nodata_frame.index)}); "
            "pass nodata='drop' to drop them or nodata='keep' to keep NaN features."
        )

    keep = ~out_mask & (~bad if nodata == "drop" else True)
    table = source.loc[keep].copy()
    table["year"] = years[keep].to_numpy()
    features = pd.DataFrame(values[keep], columns=names, index=table.index)
    table = pd.concat([table, features], axis=1)
    report = _OverlayReport(
        n_input=len(source),
        n_output=len(table),
        outside=outside_frame,
        nodata=nodata_frame,
        reprojected_from=reprojected_from,
    )
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
    when given), then :func:`odse_tutorial.labels.drop_rare_classes`.

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
    keep, class_counts = drop_rare_classes(table[columns.class_code], min_count=min_class_samples)
    table = table[keep]
    weights = table[columns.weight] if columns.weight in table else None  # optional
    check_sample_weight(weights, len(table), name=f"The weight column {columns.weight!r}")
    return _TrainingData(
        table=table,
        X=table[list(dataset.feature_names)],
        y=table[columns.class_code],
        weights=weights,
        classes=dataset.classes.subset(sorted(table[columns.class_code].unique())),
        overlay_report=overlay_report,
        class_counts=class_counts,
    )
