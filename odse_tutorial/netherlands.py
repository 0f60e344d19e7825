"""The real Netherlands Landsat dataset: fetched once with pooch, checked, cached.

A 256 x 256 window of 30 m pixels (7.68 km a side) near Wageningen, the Netherlands,
in ETRS89-LAEA (EPSG:3035): 256 points labelled with CORINE level-3 classes for
2015-2020, quarterly GLAD Landsat NDVI and SWIR1 composites (Dec 2014 - Dec 2020) and
terrain (elevation, slope). It is the toy dataset of scikit-map (MIT licence), the
library behind the 2021 ODSE workshop, pinned at one commit.

:func:`load_netherlands` (or ``load_dataset("netherlands")``) downloads the files the
dataset needs with `pooch <https://www.fatiando.org/pooch>`_, checks every file
against its pinned SHA-256 digest (``odse_tutorial/registries/netherlands.sha256``,
the upstream ``SHA256SUMS``), keeps them in pooch's cache folder, and
returns the same :class:`~odse_tutorial.datasets.Dataset` object as the bundled,
simulated data. Later calls find the files in the cache, check them again, and do not
download anything; pooch fetches again a cached file that fails its check.

Two environment variables change where the files come from and where they go:

``ODSE_DATA_CACHE``
    The folder that keeps the files (pooch's ``env`` override; default:
    ``pooch.os_cache("odse-tutorial") / "nl-landsat"``, e.g.
    ``~/.cache/odse-tutorial/nl-landsat`` on Linux).
``ODSE_NETHERLANDS_SOURCE``
    Where to fetch from instead of the pinned upstream URL (:data:`UPSTREAM_URL`): a
    base URL (``https://...``), a local folder or a ``file://`` URL holding the same
    relative paths (``samples/samples.gpkg``, ``ndvi/filled/...``). Files from any
    source must match the pinned digests.

Seasons. The composites cover quarters named by their dates, ``_s_YYYYMMDD_YYYYMMDD_``
in the file names. The four quarters that end in a year are that year's seasons:

========  =========================================
season    period
========  =========================================
winter    2 December (previous year) - 20 March
spring    21 March - 24 June
summer    25 June - 12 September
autumn    13 September - 1 December
========  =========================================

so the layers of 2019 are ``ndvi_winter`` (2 Dec 2018 - 20 Mar 2019), ...,
``swir1_autumn`` (13 Sep - 1 Dec 2019). A sample's ``date`` is 1 January of its
year and only stands for the year.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pooch

from odse_tutorial._dataset import Dataset, SampleColumns, _read_samples
from odse_tutorial._fetch import REGISTRIES, fetch, read_sha256sums
from odse_tutorial.classes import _CORINE_COLOURS, _DEFAULT_PALETTE, ClassTable

__all__ = ["load_netherlands"]

logger = logging.getLogger(__name__)

#: The pinned upstream location (scikit-map at commit fe412d7, ``skmap/data/toy/``).
UPSTREAM_URL = (
    "https://raw.githubusercontent.com/openlandmap/scikit-map/"
    "fe412d7491be00d33bf0031c45f0f325a52f0c97/skmap/data/toy/"
)
_TILE = "wageningen"
# The quarter (first and last month-day) of each season, in feature order.
_SEASONS = {"winter": ("1202", "0320"), "spring": ("0321", "0624"),
            "summer": ("0625", "0912"), "autumn": ("0913", "1201")}  # fmt: skip
_PERIOD = re.compile(r"_s_\d{4}(\d{4})_(\d{4})(\d{4})_")
_CV_BLOCK_SIZE = 1500.0  # beyond it, labels and summer NDVI are no more alike than at random
_MIN_CV_COUNT = 5  # classes with fewer samples than this are named in the notes
_SAMPLES = "samples/samples.gpkg"
_STATIC = {
    "elevation": "static/elev.lowestmode_gedi.eml_mf_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif",
    "slope": "static/slope.percent_gedi.eml_m_30m_s_20000101_20181231_nl_epsg.3035_v0.3.tif",
}
_NDVI = "ndvi/filled/"  # the gap-filled composites (ndvi/gappy/ is not fetched)


def _year_layers(folder: Path, fnames: list[str]) -> dict[int, dict[str, Path]]:
    """``year -> {band_season -> path}``: the four quarters ending in each year."""
    quarters = {days: season for season, days in _SEASONS.items()}
    found: dict[int, dict[str, Path]] = {}
    for fname in fnames:
        band = "ndvi" if fname.startswith(_NDVI) else "swir1"
        if fname.startswith(("swir1/", _NDVI)):
            first_day, end_year, last_day = _PERIOD.search(fname).groups()
            season = quarters[first_day, last_day]
            found.setdefault(int(end_year), {})[f"{band}_{season}"] = folder / fname
    order = [f"{band}_{season}" for season in _SEASONS for band in ("ndvi", "swir1")]
    return {year: {name: found[year][name] for name in order} for year in sorted(found)}


def _classes(samples: Any, columns: SampleColumns):
    counts = samples[columns.class_code].value_counts()
    codes = sorted(str(c) for c in counts.index)
    first = samples.drop_duplicates(columns.class_code).set_index(columns.class_code)
    names = [str(first.loc[code, columns.class_name]) for code in codes]
    spare = iter(c for c in _DEFAULT_PALETTE if c not in _CORINE_COLOURS.values())
    colours = [_CORINE_COLOURS.get(code) or next(spare) for code in codes]
    rare = {str(code): int(n) for code, n in counts.items() if n < _MIN_CV_COUNT}
    return ClassTable(codes, names, colours), dict(sorted(rare.items()))


def load_netherlands() -> Dataset:
    """The real Netherlands Landsat dataset, fetched once and cached (see the module doc).

    Returns
    -------
    Dataset
        ``name="netherlands"``, one tile ``"wageningen"``, years 2015-2020. Per-year
        layers ``ndvi_winter, swir1_winter, ndvi_spring, ..., swir1_autumn`` (the four
        quarters ending in the year), then static ``elevation`` and ``slope`` (the
        2000-2018 terrain, used for every year). Samples: columns ``code`` (CORINE
        code as text), ``label``, ``date`` (1 January of the survey year), ``target``;
        no weight, location or tile column. ``cv_block_size`` is 1,500 m: beyond that
        distance, neither the labels nor summer NDVI are more alike than at random.

    Raises
    ------
    OSError
        A file could not be fetched or failed its checksum (naming it, and the fix).
    """
    registry = read_sha256sums(REGISTRIES / "netherlands.sha256")
    registry = {
        name: digest for name, digest in registry.items() if not name.startswith("ndvi/gappy/")
    }
    folder = fetch(
        "Netherlands dataset",
        registry,
        path=pooch.os_cache("odse-tutorial") / "nl-landsat",
        base_url=UPSTREAM_URL,
        source_env="ODSE_NETHERLANDS_SOURCE",
        cache_env="ODSE_DATA_CACHE",
    )
    columns = SampleColumns(
        class_code="code", date="date", class_name="label", weight=None, location=None, tile=None
    )
    samples_path = folder / _SAMPLES
    samples = _read_samples(samples_path)  # read once: the dataset check reads it from the cache
    classes, rare = _classes(samples, columns)
    per_year = _year_layers(folder, sorted(registry))
    years = sorted(per_year)
    description = (
        f"Real data: a 256 x 256 window of 30 m pixels (7.68 km a side) near Wageningen, "
        f"the Netherlands, in ETRS89-LAEA (EPSG:3035). {len(samples)} points labelled with "
        f"{len(classes)} CORINE level-3 classes for {years[0]}-{years[-1]}; quarterly GLAD "
        f"Landsat NDVI (gap-filled) and "
        f"SWIR1 composites; terrain (elevation, slope). The toy dataset of scikit-map (MIT "
        f"licence), pinned at commit fe412d7. The labels were read from a published "
        f"land-cover map, not observed in the field."
    )
    notes = (
        "Labels come from another map: each point's class was read from a published "
        "land-cover map of its year (itself made with machine learning), not observed in "
        "the field. Accuracy measured against them is agreement with that map, not "
        "accuracy against ground truth.",
        f"Rare classes: {', '.join(f'{c} {classes.name_of(c)} ({n})' for c, n in rare.items())} "
        f"have fewer than {_MIN_CV_COUNT} points, too few to cross-validate. Drop or merge "
        "them first, e.g. odse_tutorial.labels.drop_rare_classes(samples['code'], "
        f"min_count={_MIN_CV_COUNT}).",
        "Class codes are text ('231', not 231), as in the source; the class table, models "
        "and maps keep them as text.",
        "The terrain layers (elevation, slope) describe 2000-2018; they are used unchanged "
        "for the 2019 and 2020 samples (terrain hardly changes).",
        "A sample's date is 1 January of its survey year and only stands for the year: a "
        "sample of year Y reads the four quarterly composites that end in Y (winter = "
        "2 Dec of Y-1 to 20 Mar, spring = 21 Mar - 24 Jun, summer = 25 Jun - 12 Sep, "
        "autumn = 13 Sep - 1 Dec).",
        f"One 7.68 km window with clustered points: random cross-validation is optimistic. "
        f"Use blocks of {_CV_BLOCK_SIZE:,.0f} m (cv_block_size). The samples have no location "
        "or tile column: every point is its own location (location_column=None).",
        "The samples, the terrain and the composites write the same ETRS89-LAEA projection "
        "three different ways (an unnamed LAEA, EPSG:3035, IGNF:ETRS89LAEA); the package "
        "compares CRSs by meaning, so nothing is reprojected.",
    )
    static = {_TILE: {name: folder / fname for name, fname in _STATIC.items()}}
    dataset = Dataset(
        name="netherlands",
        samples_path=samples_path,
        classes=classes,
        columns=columns,
        static_layers=static,
        year_layers={_TILE: per_year},
        cv_block_size=_CV_BLOCK_SIZE,
        description=description,
        notes=notes,
    )
    dataset.__dict__["_samples"] = samples  # the cached property, as check_catalogue sets it
    return dataset
