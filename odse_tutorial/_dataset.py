"""The :class:`Dataset` type and reading a dataset folder: the bottom of the data layer.

Nothing here knows any data source by name; :mod:`odse_tutorial.netherlands` builds on
this module, and :mod:`odse_tutorial.datasets` (which exports :class:`Dataset`,
:class:`SampleColumns` and :func:`survey_year`) resolves names to sources.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from odse_tutorial.classes import ClassTable

logger = logging.getLogger(__name__)

_SAMPLE_SUFFIXES = (".gpkg", ".geojson", ".shp", ".fgb", ".parquet")


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

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str | None]) -> SampleColumns:
        """Build from ``dataset.json``'s ``columns`` (keys ``class``, ``date``, ...)."""
        aliases = {"class": "class_code", "class_code": "class_code", "date": "date",
                   "class_name": "class_name", "weight": "weight", "location": "location",
                   "tile": "tile"}  # fmt: skip
        unknown = set(mapping) - set(aliases)
        if unknown:
            raise KeyError(
                f"Unknown keys in 'columns': {sorted(unknown)}; allowed: {sorted(aliases)}."
            )
        return cls(**{aliases[k]: v for k, v in mapping.items()})


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
        """Layer names in feature order: the per-year layers, then the static ones."""
        return self.layer_names(self.tiles[0], self.years[0])

    def layer_names(self, tile: str, year: int) -> tuple[str, ...]:
        """Feature names of one tile and year (see :meth:`layers`)."""
        return tuple(self.layers(tile, year))

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
            expected = self._expected_year_files(tile, int(year))
            raise KeyError(
                f"No layers for year {year} in tile {tile!r} of dataset {self.name!r}; "
                f"years with layers: {sorted(per_year)}. Expected files such as "
                f"{', '.join(expected)}. Add them, or drop the samples of {year}."
            )
        return {**per_year[int(year)], **self.static_layers.get(tile, {})}

    def _expected_year_files(self, tile: str, year: int) -> list[str]:
        per_year = self.year_layers.get(tile, {})
        if not per_year:
            return [f"tiles/{tile}/{year}/<layer>.tif"]
        some_year = next(iter(per_year.values()))
        examples = [f"{tile}/{year}/{name}.tif" for name in list(some_year)[:3]]
        return examples + (["..."] if len(some_year) > 3 else [])

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


def read_folder(
    folder: Path, columns: SampleColumns | Mapping[str, str | None] | None = None
) -> Dataset:
    """Read a dataset folder laid out as in this module's docstring."""
    meta: dict[str, Any] = {}
    if (folder / "dataset.json").exists():
        try:
            meta = json.loads((folder / "dataset.json").read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{folder / 'dataset.json'} is not valid JSON: {err}") from err

    if columns is None:
        columns = SampleColumns.from_mapping(meta.get("columns", {}))
    elif not isinstance(columns, SampleColumns):
        columns = SampleColumns.from_mapping(columns)

    samples_path = _find_samples(folder, meta.get("samples"))
    static, per_year = _scan_layers(folder, meta)
    truth = _scan_truth(folder)
    classes = _class_table(folder, meta, samples_path, columns)
    return Dataset(
        name=meta.get("name", folder.name),
        samples_path=samples_path,
        classes=classes,
        columns=columns,
        static_layers=static,
        year_layers=per_year,
        truth_maps=truth,
        cv_block_size=meta.get("cv_block_size"),
        description=meta.get("description", ""),
        notes=tuple(meta.get("notes", ())),
    )


def _find_samples(folder: Path, name: str | None) -> Path:
    if name:
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"Samples file {path} (named in dataset.json) does not exist.")
        return path
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SAMPLE_SUFFIXES)
    if len(found) != 1:
        raise FileNotFoundError(
            f"Expected exactly one samples file ({', '.join(_SAMPLE_SUFFIXES)}) in {folder}, "
            f'found {[p.name for p in found]}. Name it in dataset.json as "samples".'
        )
    return found[0]


def _ordered(found: dict[str, Path], order: list[str] | None, where: Path) -> dict[str, Path]:
    if not order:
        return dict(sorted(found.items()))
    missing = [name for name in order if name not in found]
    if missing:
        raise FileNotFoundError(
            f"Layers {missing} listed in dataset.json are missing in {where} "
            f"(expected {', '.join(f'{m}.tif' for m in missing[:3])}{'...' if len(missing) > 3 else ''})."
        )
    extra = sorted(set(found) - set(order))
    if extra:
        logger.warning("Ignoring layers not listed in dataset.json in %s: %s", where, extra)
    return {name: found[name] for name in order}


def _scan_layers(
    folder: Path, meta: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Path]], dict[str, dict[int, dict[str, Path]]]]:
    tiles_dir = folder / "tiles"
    if not tiles_dir.is_dir():
        raise FileNotFoundError(
            f"{folder} has no 'tiles' folder; layers must be in "
            "tiles/<tile>/static/<layer>.tif and tiles/<tile>/<year>/<layer>.tif."
        )
    static: dict[str, dict[str, Path]] = {}
    per_year: dict[str, dict[int, dict[str, Path]]] = {}
    for tile_dir in sorted(p for p in tiles_dir.iterdir() if p.is_dir()):
        tile = tile_dir.name
        for sub in sorted(p for p in tile_dir.iterdir() if p.is_dir()):
            found = {p.stem: p for p in sorted(sub.glob("*.tif"))}
            if sub.name == "static":
                static[tile] = _ordered(found, meta.get("static_layers"), sub)
            elif re.fullmatch(r"\d{4}", sub.name):
                per_year.setdefault(tile, {})[int(sub.name)] = _ordered(
                    found, meta.get("year_layers"), sub
                )
    if not per_year:
        raise FileNotFoundError(f"No per-year layers found under {tiles_dir}/<tile>/<year>/.")
    _check_same_layers(per_year)
    return static, per_year


def _check_same_layers(per_year: dict[str, dict[int, dict[str, Path]]]) -> None:
    """Every tile and year must offer the same layers, or features would not line up."""
    reference = None
    for tile, years in per_year.items():
        for year, layers in years.items():
            names = list(layers)
            if reference is None:
                reference = (tile, year, names)
            elif names != reference[2]:
                missing = sorted(set(reference[2]) - set(names))
                extra = sorted(set(names) - set(reference[2]))
                raise FileNotFoundError(
                    f"Tile {tile!r}, year {year} has other layers than tile {reference[0]!r}, "
                    f"year {reference[1]}: missing {missing}, extra {extra}. Every year needs "
                    "the same layer files."
                )


def _scan_truth(folder: Path) -> dict[str, dict[int, Path]]:
    truth: dict[str, dict[int, Path]] = {}
    for path in sorted((folder / "tiles").glob("*/truth/landcover_*.tif")):
        match = re.fullmatch(r"landcover_(\d{4})", path.stem)
        if match:
            truth.setdefault(path.parent.parent.name, {})[int(match.group(1))] = path
    return truth


def _class_table(
    folder: Path, meta: Mapping[str, Any], samples_path: Path, columns: SampleColumns
) -> ClassTable:
    if "classes" in meta:
        return ClassTable.from_records(meta["classes"])
    if (folder / "classes.csv").exists():
        return ClassTable.from_frame(pd.read_csv(folder / "classes.csv"))
    samples = _read_samples(samples_path)
    if columns.class_code not in samples.columns:
        raise KeyError(_missing_column_message(columns.class_code, samples.columns, "class code"))
    codes = sorted(samples[columns.class_code].dropna().unique().tolist())
    names = None
    if columns.class_name and columns.class_name in samples.columns:
        lookup = samples.drop_duplicates(columns.class_code).set_index(columns.class_code)
        names = [str(lookup.loc[c, columns.class_name]) for c in codes]
    return ClassTable(codes, names)


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


def _missing_column_message(column: str, available, what: str) -> str:
    available = [str(c) for c in available]
    hint = difflib.get_close_matches(column, available, n=1)
    return (
        f"The samples have no {what} column {column!r}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "")
        + f". Columns found: {available}. Pass the right name, e.g. "
        f"columns={{'{'class' if what == 'class code' else what}': ...}}."
    )


def survey_year(samples: pd.DataFrame, date_column: str) -> pd.Series:
    """The survey year of each sample, from a date, datetime or integer-year column.

    Examples
    --------
    >>> survey_year(pd.DataFrame({"d": ["2015-06-01", "2018-07-15"]}), "d").tolist()
    [2015, 2018]
    """
    if date_column not in samples.columns:
        raise KeyError(_missing_column_message(date_column, samples.columns, "date"))
    values = samples[date_column]
    if pd.api.types.is_integer_dtype(values):
        year = values
    elif pd.api.types.is_datetime64_any_dtype(values):
        year = values.dt.year
    else:
        parsed = pd.to_datetime(values, errors="coerce")
        if parsed.isna().any():
            bad = values[parsed.isna()].head(3).tolist()
            raise ValueError(
                f"Column {date_column!r} has values that are not dates or years, e.g. {bad}. "
                "Use dates (YYYY-MM-DD) or integer years."
            )
        year = parsed.dt.year
    return year.astype("int64").rename("year")
