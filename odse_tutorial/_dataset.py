"""The :class:`Dataset` type and reading a dataset folder: the bottom of the data layer.

Nothing here knows any data source by name; :mod:`odse_tutorial.netherlands` builds on
this module, and :mod:`odse_tutorial.datasets` (which exports :class:`Dataset`,
:class:`SampleColumns` and :func:`survey_year`) resolves names to sources.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from odse_tutorial._checks import check_sample_weight, missing_column
from odse_tutorial.classes import ClassTable
from odse_tutorial.raster_io import _Band, _file_and_band, _grid, _grid_difference, _open

logger = logging.getLogger(__name__)

_POLYGONS = ("Polygon", "MultiPolygon")  # training areas; other samples are points
_MAX_PIXELS = 1000  # pixels a polygon gives at most (a seeded draw beyond)
_SAMPLE_SUFFIXES = (".gpkg", ".geojson", ".shp", ".fgb", ".parquet")
_COLUMN_KEYS = {"class": "class_code", "class_code": "class_code", "date": "date", "weight": "weight",
                "class_name": "class_name", "location": "location", "tile": "tile"}  # fmt: skip


@dataclass(frozen=True)
class SampleColumns:
    """Which sample columns hold what.

    Attributes
    ----------
    class_code : str
        The land-cover class code (integer or text).
    date : str
        The survey date (a date, a datetime or an integer year).
    class_name : str or None
        The class name (optional).
    weight : str or None
        Sample confidence, used as sample weight (optional).
    location : str or None
        A location id stable across years (optional; rows without one are their own location).
    tile : str or None
        The tile id (optional).
    """

    class_code: str = "lc_code"
    date: str = "survey_date"
    class_name: str | None = "lc_name"
    weight: str | None = "confidence"
    location: str | None = "location_id"
    tile: str | None = "tile_id"


@dataclass(frozen=True)
class Dataset:
    """A land-cover dataset: samples, raster layers per tile and year, and classes.

    Build one with :func:`load_dataset`. Layers are referenced by path and read only
    when needed (by the overlay and by prediction), so a dataset is cheap to open.

    Attributes
    ----------
    name : str
        Short name (``"simulated"``, ``"netherlands"``, or the folder name).
    samples_path : Path
        The samples file.
    classes : ClassTable
        Class codes, names and colours.
    columns : SampleColumns
        Which sample columns hold the class, date, weight, location and tile.
    static_layers : dict
        ``tile -> {layer name -> path}`` for layers valid in every year.
    year_layers : dict
        ``tile -> {year -> {layer name -> path}}``.
    truth_maps : dict
        ``tile -> {year -> path}`` of reference land-cover maps (simulated data only).
    cv_block_size : float or None
        Recommended side of spatial CV blocks, in CRS units.
    description : str
        What the data are.
    notes : tuple of str
        Caveats a user must know (shown in the notebooks).
    assumed_year : int or None
        With one year folder and no date column: the year every sample is taken to be
        surveyed in (the samples get it as their date column).
    """

    name: str
    samples_path: Path
    classes: ClassTable
    columns: SampleColumns
    static_layers: dict[str, dict[str, Path]]
    year_layers: dict[str, dict[int, dict[str, Path]]]
    truth_maps: dict[str, dict[int, Path]] = field(default_factory=dict)
    cv_block_size: float | None = None
    description: str = ""
    notes: tuple[str, ...] = ()
    assumed_year: int | None = None

    # -- catalogue ----------------------------------------------------------------------
    @property
    def tiles(self) -> tuple[str, ...]:
        """Tile ids, sorted."""
        return tuple(sorted(set(self.static_layers) | set(self.year_layers)))

    @property
    def years(self) -> tuple[int, ...]:
        """Years with layers in at least one tile, sorted."""
        return tuple(sorted({y for per_year in self.year_layers.values() for y in per_year}))

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Layer names in feature order: the per-year layers, then the static ones.

        The same for every tile and year (the dataset check requires it)."""
        return tuple(self.layers(self.tiles[0], self.years[0]))

    def layers(self, tile: str, year: int) -> dict[str, Path]:
        """The rasters a sample or pixel of ``tile`` in ``year`` reads: name -> path.

        Per-year layers first (in catalogue order), then static layers.

        Raises
        ------
        KeyError
            For an unknown tile, or a year without layers (naming the missing files).
        """
        tile = str(tile)
        if tile not in self.tiles:
            raise KeyError(f"Unknown tile {tile!r}; tiles of {self.name!r}: {list(self.tiles)}.")
        per_year = self.year_layers.get(tile, {})
        if int(year) not in per_year:
            names = list(next(iter(per_year.values()), {}))[:3] or ["<layer>"]
            raise KeyError(
                f"No layers for year {year} in tile {tile!r} of dataset {self.name!r}; "
                f"years with layers: {sorted(per_year)}. Expected files such as "
                f"{', '.join(f'{tile}/{year}/{n}.tif' for n in names)}. Add them, or drop the "
                f"samples of {year}."
            )
        return {**per_year[int(year)], **self.static_layers.get(tile, {})}

    def truth(self, tile: str, year: int) -> Path:
        """Path of the reference land-cover map of ``tile`` in ``year``."""
        try:
            return self.truth_maps[str(tile)][int(year)]
        except KeyError:
            raise KeyError(
                f"Dataset {self.name!r} has no reference map for tile {tile!r}, year {year}; "
                "only simulated data come with truth maps."
            ) from None

    @property
    def has_truth(self) -> bool:
        """Whether reference (truth) maps exist, as for simulated data."""
        return any(self.truth_maps.values())

    # -- samples ------------------------------------------------------------------------
    @cached_property
    def _samples(self) -> gpd.GeoDataFrame:
        return _read_samples(self.samples_path)

    @property
    def samples(self) -> gpd.GeoDataFrame:
        """The samples, as a fresh copy (change it freely; the dataset keeps its own)."""
        return self._samples.copy()

    def summary(self) -> pd.DataFrame:
        """Sample counts per tile and year (rows) and class (columns)."""
        samples = self.samples
        year = survey_year(samples, self.columns.date)
        by = [samples[self.columns.tile], year] if self.columns.tile in samples else [year]
        return pd.crosstab(by, samples[self.columns.class_code])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.tiles)} tile(s) {list(self.tiles)}, "
            f"years {list(self.years)}, {len(self.feature_names)} layers, "
            f"{len(self.classes)} classes)"
        )


@dataclass(frozen=True)
class _DatasetReport:
    """What checking a dataset found: problems to fix, and what the notebooks will skip.

    Attributes
    ----------
    source : str
        The folder (or dataset name) checked.
    problems : tuple of str
        Every problem, each naming the file or ``dataset.json`` line to fix.
    skipped : tuple of str
        What the notebooks will skip with these data (no truth maps, one year...).
    dataset : Dataset
        The dataset as read (usable only when there is no problem).
    notes : tuple of str
        How the data are read: the layers of each multi-band file, the survey year
        taken for samples without a date.
    """

    source: str
    problems: tuple[str, ...]
    skipped: tuple[str, ...]
    dataset: Dataset = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the dataset has no problem."""
        return not self.problems

    def __str__(self) -> str:
        head = f"{len(self.problems)} problem(s) to fix" if self.problems else "no problems found"
        lines = [f"{self.source}: {head}"] + [f"- {p}" for p in self.problems]
        for title, items in (("Read as:", self.notes), ("The notebooks will skip:", self.skipped)):
            lines += [title, *(f"- {i}" for i in items)] if items else []
        return "\n".join(lines)

    def dataset_or_raise(self) -> Dataset:
        """The dataset; a ValueError listing every problem when there is one."""
        if self.problems:
            raise ValueError(str(self))
        return self.dataset


def check_folder(folder: Path) -> _DatasetReport:
    """Read a dataset folder and check it, collecting every problem instead of stopping."""
    problems: list[str] = []
    meta: dict[str, Any] = {}
    if (folder / "dataset.json").exists():
        try:
            meta = json.loads((folder / "dataset.json").read_text())
        except json.JSONDecodeError as err:
            problems.append(f"{folder / 'dataset.json'} is not valid JSON: {err}; fix that line.")
    mapping = meta.get("columns", {})
    if unknown := sorted(set(mapping) - set(_COLUMN_KEYS)):  # reported; the rest is used
        problems.append(
            f'{folder / "dataset.json"}: unknown keys in "columns": {unknown}; '
            f"use {sorted(_COLUMN_KEYS)}."
        )
    columns = SampleColumns(**{_COLUMN_KEYS[k]: v for k, v in mapping.items() if k in _COLUMN_KEYS})
    headers: dict[Path, Any] = {}
    with rasterio.Env():  # one GDAL environment for every header
        static, per_year = _scan_layers(folder, meta, problems, headers)
    dataset = Dataset(
        name=meta.get("name", folder.name),
        samples_path=_find_samples(folder, meta.get("samples"), problems),
        classes=_class_table(folder, meta, problems),  # type: ignore[arg-type]
        columns=columns,
        static_layers=static,
        year_layers=per_year,
        truth_maps=_scan_truth(folder),
        cv_block_size=meta.get("cv_block_size"),
        description=meta.get("description", ""),
        notes=tuple(meta.get("notes", ())),
    )
    return check_catalogue(dataset, problems, str(folder), headers)


def check_catalogue(
    dataset: Dataset,
    problems: list[str] | None = None,
    source: str | None = None,
    headers: dict[Path, Any] | None = None,
) -> _DatasetReport:
    """Check a dataset's rasters (headers only; ``headers``: those read already) and
    samples; optional columns it lacks become ``None`` (not available), logged once."""
    headers = {} if headers is None else headers
    problems = [*(problems or []), *_raster_problems(dataset, headers)]
    notes = _stack_notes(dataset, headers)
    year_sets = {t: sorted(per_year) for t, per_year in dataset.year_layers.items() if per_year}
    if len({tuple(y) for y in year_sets.values()}) > 1:
        problems.append(f"The tiles have different years ({year_sets}); every tile needs the same "
                        "<year> folders: add the missing ones or remove the extra ones.")  # fmt: skip
    samples = None
    if dataset.samples_path is not None:
        try:
            samples = dataset._samples
        except OSError as err:
            problems.append(str(err))
    columns = dataset.columns
    if samples is not None:
        explicit = [f.name for f in fields(SampleColumns) if getattr(columns, f.name) != f.default]
        if columns.date not in samples and "date" not in explicit and len(dataset.years) == 1:
            dataset = replace(dataset, assumed_year=dataset.years[0])
            samples = samples.assign(**{columns.date: dataset.years[0]})
            notes.append(f"no date column {columns.date!r} in the samples: every sample is "
                         f"taken as surveyed in {dataset.years[0]}, the one year folder")  # fmt: skip
        problems += _sample_problems(samples, columns, explicit, dataset.years)
        absent = {f: None for f in ("class_name", "weight", "location", "tile")
                  if getattr(columns, f) not in (None, *samples.columns)}  # fmt: skip
        if absent:
            logger.info("Not available (no such sample column): %s.",
                        ", ".join(f"{f} {getattr(columns, f)!r}" for f in absent))  # fmt: skip
        columns = replace(columns, **absent)
        is_polygon = isinstance(samples, gpd.GeoDataFrame) and samples.geom_type.isin(_POLYGONS)
        if np.any(is_polygon):  # the overlay's columns, in samples too
            location, weight = columns.location or "location_id", columns.weight or "weight"
            samples = samples.assign(**{location: samples.get(location, samples.index),
                                        weight: samples.get(weight, 1.0)})  # fmt: skip
            notes.append(f"{is_polygon.sum()} polygon(s) (training areas) among {len(samples)} "
                         "samples: each gives the pixels whose centres fall inside it (at most "
                         f"{_MAX_PIXELS}, a seeded draw), is one location (column {location!r}) and "
                         f"counts alike: its pixels weigh 1 / their number (times column {weight!r})")  # fmt: skip
            columns = replace(columns, location=location, weight=weight)
        codes = samples[columns.class_code].dropna() if columns.class_code in samples else []
        if dataset.classes is None and len(codes):  # no class file: the classes of the samples
            dataset = replace(
                dataset, classes=_classes_of(samples.loc[codes.index], columns, problems)
            )
        unknown = {c for c in codes if dataset.classes is not None and c not in dataset.classes}
        if unknown:
            problems.append(
                f"The samples have class code(s) {sorted(map(str, unknown))} that the class table "
                'lacks; add them to classes.csv (code,name,colour) or to dataset.json\'s "classes".'
            )
    dataset = replace(dataset, columns=columns)
    if samples is not None:
        dataset.__dict__["_samples"] = samples
    return _DatasetReport(
        source or dataset.name, tuple(problems), _skipped(dataset), dataset, tuple(notes)
    )


def _skipped(dataset: Dataset) -> tuple[str, ...]:
    columns, years = dataset.columns, dataset.years
    return tuple(text for skip, text in (
        (not dataset.has_truth, "no truth maps (tiles/<tile>/truth/landcover_<year>.tif): "
                                "no comparison with the true accuracy of the maps"),
        (len(years) == 1, f"one year ({years[0] if years else '-'}): no change maps"),
        (len(dataset.tiles) == 1, "one tile: no leave-one-tile-out cross-validation"),
        (columns.weight is None, "no weight column: every sample counts alike (weights=None)"),
        (columns.location is None, "no location column: every sample is its own location"),
        (columns.tile is None, "no tile column: no per-tile groups"),
    ) if skip)  # fmt: skip


def _find_samples(folder: Path, name: str | None, problems: list[str]) -> Path | None:
    found = [folder / name] if name else sorted(
        p for p in folder.iterdir() if p.suffix.lower() in _SAMPLE_SUFFIXES)  # fmt: skip
    if name and not found[0].exists():
        problems.append(f'The samples file {found[0]} ("samples" in dataset.json) does not exist.')
    elif len(found) != 1:
        problems.append(
            f"Expected one samples file ({', '.join(_SAMPLE_SUFFIXES)}) in {folder}, found "
            f'{[p.name for p in found]}; keep one, or name it in dataset.json: "samples": "<file>".'
        )
    return found[0] if len(found) == 1 and found[0].exists() else None


def _header(path: Path, headers: dict[Path, Any]) -> Any:
    """The grid, band count and descriptions of a raster (read once), or its OSError."""
    if path not in headers:
        try:
            with _open(path) as src:
                headers[path] = (_grid(src), src.count, src.descriptions)
        except OSError as err:
            headers[path] = err
    return headers[path]


def _file_layers(path: Path, headers: dict[Path, Any]) -> dict[str, Path | _Band]:
    """The layers of one GeoTIFF: the file (one band), else one layer per band, named by
    the band descriptions when every band has a distinct one, else ``<file stem>_<band>``."""
    header = _header(path, headers)
    if isinstance(header, OSError) or header[1] == 1:  # an unreadable file is reported later
        return {path.stem: path}
    names = list(header[2])
    if not all(names) or len(set(names)) < len(names):
        names = [f"{path.stem}_{k}" for k in range(1, header[1] + 1)]
    return {name: _Band(path, k) for k, name in enumerate(names, 1)}


def _folder_layers(sub: Path, headers: dict[Path, Any], problems: list[str]) -> dict:
    layers: dict[str, Path | _Band] = {}
    for path in sorted(sub.glob("*.tif")):
        for name, layer in _file_layers(path, headers).items():
            if name in layers:
                problems.append(f"{sub}: layer name {name!r} is given by both {layers[name]} "
                                f"and {layer}; rename a file or change a band description.")  # fmt: skip
            layers.setdefault(name, layer)
    return layers


def _stack_notes(dataset: Dataset, headers: dict[Path, Any]) -> list[str]:
    """One line per multi-band file name: the layers it gives."""
    stacks: dict[str, dict[int, str]] = {}
    for folder in [*dataset.static_layers.values(),
                   *(ls for per in dataset.year_layers.values() for ls in per.values())]:  # fmt: skip
        for name, layer in folder.items():
            if isinstance(layer, _Band):
                stacks.setdefault(layer.path.name, {})[layer.index] = name
    notes = []
    for file, names in stacks.items():
        band, name = min(names.items())  # dataset.json may use only some bands
        named = "no band descriptions: <file stem>_<band>"
        named = named if name == f"{Path(file).stem}_{band}" else "from the band descriptions"
        layers = ", ".join(names[k] for k in sorted(names))
        notes.append(f"{file}: {len(names)} bands -> layers {layers} ({named})")
    return notes


def _scan_layers(
    folder: Path, meta: Mapping[str, Any], problems: list[str], headers: dict[Path, Any]
) -> tuple[dict[str, dict[str, Path]], dict[str, dict[int, dict[str, Path]]]]:
    tiles_dir = folder / "tiles"
    found = {sub: _folder_layers(sub, headers, problems)
             for sub in sorted(tiles_dir.glob("*/*")) if sub.is_dir()
             and (sub.name == "static" or re.fullmatch(r"\d{4}", sub.name))}  # fmt: skip
    years = {sub: layers for sub, layers in found.items() if sub.name != "static"}
    tiles = sorted({sub.parent.name for sub in found})
    if not years:
        problems.append(f"No layers in {tiles_dir}: put them in {tiles_dir}/<tile>/<year>/"
                        "<layer>.tif (and terrain in <tile>/static/<layer>.tif).")  # fmt: skip
    for tile in sorted(set(tiles) - {sub.parent.name for sub in years}):
        problems.append(f"{tiles_dir / tile} has no year folder (<year>/<layer>.tif).")
    static = {sub: layers for sub, layers in found.items() if sub.name == "static"}
    if static:  # a tile without the static layers of the others lacks them all
        static = {tiles_dir / t / "static": static.get(tiles_dir / t / "static", {}) for t in tiles}
    per_year: dict[str, dict[int, dict[str, Path]]] = {}
    for sub, layers in _same_layers(years, meta.get("year_layers"), problems).items():
        per_year.setdefault(sub.parent.name, {})[int(sub.name)] = layers
    static_layers = {sub.parent.name: layers
                     for sub, layers in _same_layers(static, meta.get("static_layers"), problems).items()}  # fmt: skip
    both = sorted({n for t, ls in static_layers.items() for y in per_year.get(t, {}).values()
                   for n in set(ls) & set(y)})  # fmt: skip
    if both:
        problems.append(f"Layer(s) {both} are both static and yearly (<tile>/static/ and "
                        "<tile>/<year>/): rename or remove one of each pair.")  # fmt: skip
    return static_layers, per_year


def _same_layers(
    folders: dict[Path, dict[str, Path]], order: list[str] | None, problems: list[str]
) -> dict[Path, dict[str, Path]]:
    """Every folder must hold the same layers: those of dataset.json, else of most folders."""
    counts = Counter(name for layers in folders.values() for name in layers)
    names = list(order or sorted(n for n, k in counts.items() if 2 * k >= len(folders)))
    source = "listed in dataset.json" if order else "that the other folders have"
    label = {n: f"{n}.tif" if not isinstance(p, _Band) else f"{p.path.name} band {p.index} ({n})"
             for layers in folders.values() for n, p in layers.items()}  # fmt: skip
    for where, layers in folders.items():
        missing = [label.get(n, f"{n}.tif") for n in names if n not in layers]
        extra = sorted(set(layers) - set(names))
        if missing:
            problems.append(f"{where} lacks layer(s) {source}: {', '.join(missing)}; add "
                            "them (every tile and year needs the same layers).")  # fmt: skip
        if extra and order:
            logger.warning("Ignoring layers not listed in dataset.json in %s: %s", where, extra)
        elif extra:
            problems.append(f"{where} has layer(s) the other folders lack: "
                            f"{', '.join(label[n] for n in extra)}; remove them, or add them "
                            "to every folder.")  # fmt: skip
    return {
        where: {n: layers[n] for n in names if n in layers} for where, layers in folders.items()
    }


def _raster_problems(dataset: Dataset, headers: dict[Path, Any]) -> list[str]:
    """Headers only: readable, a CRS, and one grid per tile (the readers check that a plain
    path is one band: a folder's multi-band files are read as one layer per band)."""
    problems = []
    with rasterio.Env():
        for tile in dataset.tiles:
            reference = None
            layers = [*(p for layers in dataset.year_layers.get(tile, {}).values()
                        for p in layers.values()), *dataset.static_layers.get(tile, {}).values(),
                      *dataset.truth_maps.get(tile, {}).values()]  # fmt: skip
            for path in dict.fromkeys(_file_and_band(p)[0] for p in layers):  # a stack's file once
                header = _header(path, headers)
                if isinstance(header, OSError):
                    problems.append(str(header))
                    continue
                grid = header[0]
                if grid["crs"] is None:
                    problems.append(
                        f"{path} has no CRS; set it (`rio edit-info --crs EPSG:<code> {path}`)."
                    )
                    continue
                how = reference and _grid_difference(reference[1], grid)
                if how:
                    problems.append(f"{path} is not on the grid of {reference[0]}: {how}; resample it "
                                    f"(`rio warp {path} out.tif --like {reference[0]}`).")  # fmt: skip
                reference = reference or (path, grid)
    return problems


def _scan_truth(folder: Path) -> dict[str, dict[int, Path]]:
    truth: dict[str, dict[int, Path]] = {}
    for path in sorted((folder / "tiles").glob("*/truth/landcover_" + "[0-9]" * 4 + ".tif")):
        truth.setdefault(path.parent.parent.name, {})[int(path.stem[-4:])] = path
    return truth


def _class_table(folder: Path, meta: Mapping[str, Any], problems: list) -> ClassTable | None:
    try:
        if "classes" in meta:
            return ClassTable.from_records(meta["classes"])
        if (folder / "classes.csv").exists():
            return ClassTable.from_frame(pd.read_csv(folder / "classes.csv"))
    except (ValueError, KeyError, TypeError) as err:
        problems.append(f"Cannot read the class table (dataset.json's \"classes\" or "
                        f"{folder / 'classes.csv'}): {err}")  # fmt: skip
    return None


def _classes_of(samples: pd.DataFrame, columns: SampleColumns, problems: list) -> ClassTable | None:
    classes = samples.drop_duplicates(columns.class_code).sort_values(columns.class_code)
    names = classes.get(columns.class_name) if columns.class_name else None
    try:
        return ClassTable(classes[columns.class_code], None if names is None else names.tolist())
    except (ValueError, TypeError) as err:
        problems.append(f"The class codes in {columns.class_code!r} are not usable: {err}")
        return None


def _read_samples(path: Path) -> gpd.GeoDataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except Exception as err:  # the GDAL error types vary; re-raise with the file name
        raise OSError(
            f"Could not read the samples file {path}: {err}. Is it a valid vector file "
            "(GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet)?"
        ) from err


def _sample_problems(
    samples: Any, columns: SampleColumns, explicit: Any = (), years: tuple = ()
) -> list[str]:
    """Everything wrong with a samples table, each problem with its fix.

    ``explicit``: optional columns the user named, so they must exist; ``years``: the
    years of the layers (with several, a missing date column says why it is needed).
    """
    several = (f" The layers have {len(years)} years ({', '.join(map(str, years))}): each "
               "sample needs its survey date (a date or a year).") if len(years) > 1 else ""  # fmt: skip
    if len(samples) == 0:
        return ["There are no samples (0 rows); did a filter remove them all?"]
    geometry = getattr(samples, "geometry", None) if isinstance(samples, gpd.GeoDataFrame) else None
    if geometry is None:
        return ["The samples must be a GeoDataFrame with point geometries (geopandas.read_file, "
                "or geopandas.GeoDataFrame(frame, geometry=geopandas.points_from_xy(x, y)))."]  # fmt: skip
    problems = [m for f in dict.fromkeys(("class_code", "date", *explicit)) if getattr(columns, f)
                and (m := missing_column(getattr(columns, f), samples.columns, what=f.replace("_", " ") + " ",
                     fix=(several if f == "date" else "") + ' Name yours in dataset.json: "columns": '
                         '{{"' + f + '": "{close}"}}.'))]  # fmt: skip
    if samples.crs is None:
        problems.append("The samples have no CRS. Set the one their coordinates are in, e.g. "
                        "samples.set_crs('EPSG:3035'), or fix the samples file.")  # fmt: skip
    empty = (geometry.is_empty | geometry.isna()).to_numpy()
    bad = ~geometry.geom_type.isin(("Point", *_POLYGONS)).to_numpy() | empty
    if bad.any():
        kinds = Counter(np.where(empty, "missing or empty", geometry.geom_type.astype(str))[bad])
        problems.append(f"{bad.sum()} sample(s) are neither a point nor a polygon ("
                        f"{', '.join(f'{n} {k}' for k, n in kinds.items())}): rows "
                        f"{_head(samples.index[bad])}; a sample is a point or a polygon (a "
                        "training area): drop them or fix their geometry.")  # fmt: skip
    if columns.date in samples.columns:
        try:
            survey_year(samples, columns.date)
        except ValueError as err:
            problems.append(str(err))
    missing = samples[columns.class_code].isna() if columns.class_code in samples.columns else []
    if any(missing):
        problems.append(f"{sum(missing)} sample(s) have no class code in {columns.class_code!r}: "
                        f"rows {_head(samples.index[missing])}; drop or label them.")  # fmt: skip
    if columns.weight in samples.columns:
        try:
            check_sample_weight(samples[columns.weight], len(samples),
                                name=f"The weight column {columns.weight!r}")  # fmt: skip
        except ValueError as err:
            problems.append(str(err))
    return problems


def _head(index: pd.Index, n: int = 5) -> str:
    items = [str(i) for i in index[:n]]
    return ", ".join(items) + (", ..." if len(index) > n else "")


def survey_year(samples: pd.DataFrame, date_column: str) -> pd.Series:
    """The survey year of each sample, from dates, datetimes, ISO text or (float) years.

    Raises
    ------
    KeyError
        No such column (naming the closest one).
    ValueError
        Values that are no date or whole year, or missing ones, naming the rows.

    Examples
    --------
    >>> survey_year(pd.DataFrame({"d": ["2015-06-01", "2018"]}), "d").tolist()
    [2015, 2018]
    >>> survey_year(pd.DataFrame({"d": [2015.0, 2018.0]}), "d").tolist()
    [2015, 2018]
    """
    if message := missing_column(date_column, samples.columns, what="date "):
        raise KeyError(message)
    values = samples[date_column]
    if pd.api.types.is_datetime64_any_dtype(values):
        year = values.dt.year.astype("Float64")
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        year = values.astype("Float64")
    else:
        text = values.astype("string").str.strip()  # the local year: the text's first 4 digits
        valid = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True).notna()
        year = pd.to_numeric(text.str.slice(0, 4), errors="coerce").astype("Float64").where(valid)
    bad = (year.isna() | (year % 1 != 0) | ~year.between(1000, 9999)).fillna(True).to_numpy(bool)
    if bad.any():
        raise ValueError(
            f"Column {date_column!r} has {bad.sum()} value(s) that are not dates or years: "
            f"rows {_head(samples.index[bad])} hold {values[bad].head(3).tolist()}. Use dates "
            f"(YYYY-MM-DD) or whole years (2018); drop or fill the rows without one, e.g. "
            f"samples.dropna(subset=[{date_column!r}])."
        )
    return year.astype("int64").rename("year")
