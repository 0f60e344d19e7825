"""Datasets: samples, a catalogue of raster layers per tile and year, and the class table.

One call, :func:`load_dataset`, opens a dataset by name (the data sources below) or a
folder of your own. The smallest folder that works::

    my_dataset/
        points.gpkg                        the samples: points or polygons, a class (and a date)
        tiles/<tile>/<year>/<layer>.tif    e.g. tiles/T1/2021/blue.tif ... swir2.tif

and, only when you need them::

    dataset.json                       only what differs from the defaults (below)
    classes.csv                        code,name,colour (else the classes of the samples)
    tiles/<tile>/static/<layer>.tif    layers valid for every year (terrain)
    tiles/<tile>/truth/landcover_<year>.tif   reference maps (simulated data)

Every ``.tif`` is a GeoTIFF (nodata set, if it has gaps); all layers of one tile share
one grid, tiles may differ in CRS. A single-band file is one layer named by the file
(``red.tif``: ``red``); a multi-band stack is one layer per band, named by the band
descriptions when every band has one, else ``<file stem>_<band>`` (``landsat.tif``:
``landsat_1`` ... ``landsat_5``); ``check`` lists them. Every tile and year needs the same
files and layer names; these are the feature names of the overlay and of prediction,
which read only the bands they need.

The samples file (any of GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet; any
CRS) holds points, or polygons (training areas: the pixels whose centres fall inside
become samples, see :func:`odse_tutorial.overlay.overlay_samples`), or both. It needs a
class code column, and a survey date column (dates, ISO text or whole years) unless
there is one year folder (the samples are then taken as surveyed in that year).
``dataset.json`` names the columns that differ from the defaults
of :class:`SampleColumns`, and nothing else, for example::

    {"columns": {"class_code": "landcover", "date": "observed"}}

The optional columns ``class_name``, ``weight`` (sample confidence), ``location`` (an id
stable across years) and ``tile`` are used when they exist; without them, samples count
alike and each is its own location. ``dataset.json`` may also give ``classes``,
``year_layers`` / ``static_layers`` (the layer order; else by name), ``samples`` (the
file, when there are several) and ``cv_block_size``.

Opening a folder checks it (headers only, well under a second): the layout, every
raster (readable, a CRS, one grid per tile) and the samples (columns, dates,
geometry, CRS, weights, class codes), with one error listing every problem, each with
the file or the ``dataset.json`` line to fix. :func:`check_dataset` (or the command
``odse-tutorial check <folder>``) runs the same checks without raising, and also says
what the notebooks will skip with these data (no truth maps, one year, one tile...).

Data sources by name (``SOURCES``), each a function returning a :class:`Dataset`:

``"simulated"``
    The bundled, simulated landscape. In a clone of the repository it is read from
    ``data/simulated`` (offline). An installed package without that folder fetches the
    same files with pooch from this release's data on GitHub (each checked against
    ``odse_tutorial/registries/simulated.sha256``) into pooch's cache folder
    (``pooch.os_cache("odse-tutorial")``); ``ODSE_SIMULATED_SOURCE`` sets a mirror
    instead: a base URL, or a local folder holding the same files.
``"netherlands"``
    Real Landsat composites near Wageningen (:mod:`odse_tutorial.netherlands`).

Layers: :mod:`odse_tutorial._dataset` (the :class:`Dataset` type, reading a folder) is
at the bottom; :mod:`odse_tutorial.netherlands` builds on it; this module, above both,
maps names to sources. Nothing imports upward.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pooch

from odse_tutorial import __version__
from odse_tutorial._dataset import (
    Dataset,
    SampleColumns,
    _DatasetReport,
    check_catalogue,
    check_folder,
    survey_year,
)
from odse_tutorial._fetch import REGISTRIES, fetch, read_sha256sums
from odse_tutorial.netherlands import load_netherlands

__all__ = ["Dataset", "SampleColumns", "check_dataset", "load_dataset", "survey_year"]

#: The data of a release: the repository's ``data/simulated`` at the release's tag
#: (``v0.1.0``), or on ``main`` for a development version (``0.1.1.dev3+g1234abc``).
RELEASE_URL = "https://github.com/odse-tutorial/odse-tutorial/raw/{version}/data/simulated/"
_CLONE_DATA = Path(__file__).resolve().parent.parent / "data" / "simulated"


def _load_simulated() -> Path:
    """The bundled dataset's folder: ``data/simulated`` of a clone, else fetched."""
    if (_CLONE_DATA / "dataset.json").is_file():
        return _CLONE_DATA
    return fetch(
        "Simulated dataset",
        read_sha256sums(REGISTRIES / "simulated.sha256"),
        path=pooch.os_cache("odse-tutorial") / "simulated",
        base_url=RELEASE_URL,
        source_env="ODSE_SIMULATED_SOURCE",
        version=f"v{__version__}",  # the release tag; pooch takes main for a local version
    )


#: Data sources by name: name -> function returning its folder or (unchecked) Dataset.
SOURCES: dict[str, Callable[[], Path | Dataset]] = {
    "simulated": _load_simulated,
    "netherlands": load_netherlands,
}


def load_dataset(source: str | os.PathLike = "simulated") -> Dataset:
    """Open a dataset: a data source by name, or a folder of your own.

    Parameters
    ----------
    source : str or path-like, default "simulated"
        ``"simulated"`` (the bundled dataset), ``"netherlands"`` (real Landsat data,
        fetched once and cached; see :mod:`odse_tutorial.netherlands`), or the path of
        a folder laid out as described in this module's docstring.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> ds = load_dataset()
    >>> ds.tiles, ds.years[:2]
    (('9529', '9530'), (2000, 2006))
    >>> ds.layers("9529", 2018)["nir_summer"].name
    'nir_summer.tif'
    """
    return check_dataset(source).dataset_or_raise()


def check_dataset(source: str | os.PathLike) -> _DatasetReport:
    """Check a dataset folder before the notebooks run: every problem at once.

    The same checks run when :func:`load_dataset` opens a folder (headers only, fast):
    the layout and the layers (the same layers in every tile and year, single band, one
    grid per tile, readable headers) and the samples (columns, dates, geometry, CRS,
    weights, class codes). Also on the command line: ``odse-tutorial check <folder>``.

    Parameters
    ----------
    source : str or path-like
        A dataset folder (or the name of a data source, checked as it opens).

    Returns
    -------
    object
        A plain bundle of attributes: ``report.ok``, ``report.problems`` (each naming the file or the ``dataset.json``
        line to fix), ``report.skipped`` (what the notebooks will skip with these data:
        no truth maps, one year, one tile, no weights...) and ``report.dataset``;
        ``print(report)`` lists them.

    Examples
    --------
    >>> report = check_dataset("simulated")
    >>> report.ok, report.skipped
    (True, ())
    """
    if isinstance(source, str) and source in SOURCES:
        found = SOURCES[source]()
        return check_folder(found) if isinstance(found, Path) else check_catalogue(found)
    folder = Path(source).expanduser()
    if not folder.is_dir():
        hint = difflib.get_close_matches(str(source), list(SOURCES), n=1)
        raise FileNotFoundError(
            f"Dataset {str(source)!r} is neither a known name ({', '.join(SOURCES)}) nor an "
            f"existing folder." + (f" Did you mean {hint[0]!r}?" if hint else "")
        )
    return check_folder(folder)
