"""Windowed, bounded-memory map prediction for one or many tiles and years.

:func:`predict_map` turns a fitted classifier and the layers of one tile and year into
the map products of ``docs/architecture.md`` ("Map products"), all Cloud-Optimized
GeoTIFFs; :func:`predict_maps` does it for every tile and year of a dataset and returns
a :class:`MapCatalogue` of the files.

How a map is made, window by window (by default 256 x 256 pixels):

1. read the same window from every layer (on the calling thread);
2. keep the pixels that are valid in *every* layer (nodata in any layer makes the
   pixel nodata in every product);
3. ask the model for ``predict_proba`` (or ``predict_proba_and_uncertainty``) on those
   pixels, on ``n_jobs`` threads (by default all the cores this process may use), with
   the columns in the model's feature order;
4. round the probabilities to whole percentages that sum to exactly 100, take the
   most probable class and its uncertainty;
5. write the window of every product into a work file; at the end, every work file
   becomes a COG and all products of the tile-year are moved into place together.

Memory therefore depends on the window size, not on the size of the tile.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import re
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import rasterio
from numpy.typing import ArrayLike, NDArray
from rasterio.enums import MaskFlags
from rasterio.windows import Window
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from odse_tutorial import raster_io
from odse_tutorial._atomic import _atomic_outputs
from odse_tutorial._tasks import run_tile_years
from odse_tutorial.classes import ClassTable
from odse_tutorial.persistence import _check_feature_names
from odse_tutorial.raster_io import (
    _Band,
    _file_and_band,
    _open,
    _open_work_file,
    _reading,
    _write_cog,
    check_same_grid,
)
from odse_tutorial.uncertainty import normalized_entropy

__all__ = ["MapCatalogue", "predict_map", "predict_maps"]

logger = logging.getLogger(__name__)

_PERCENT_NODATA = 255  # probability, dominant probability, uncertainty (uint8)
_CLASS_NODATA = 0  # dominant class (uint16)
# GDAL's block cache would otherwise grow to 5 % of the machine's memory (too much for
# a 2 GB notebook); input blocks are read once, so a small cache costs nothing.
_GDAL_CACHEMAX_BYTES = 16 * 1024 * 1024
_POST_ROWS = 65536  # rows per slice when rounding: small float64 temporaries
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_PRODUCTS = ("probability", "dominant_class", "dominant_probability", "uncertainty")
_AOA_PRODUCTS = ("dissimilarity", "aoa")  # with predict_map(s)(..., applicability=...)


def _file_part(code: Hashable) -> str:
    return _SAFE_NAME.sub("_", str(code)).strip("_") or "class"


def _file_name(product: str, code: Hashable | None = None) -> str:
    """The file of a product: ``{product}.tif``, or ``{product}_{code}.tif`` per class."""
    return f"{product}.tif" if code is None else f"{product}_{_file_part(code)}.tif"


def _per_class(model: Any) -> tuple[str, ...]:
    """The products a model's maps have per class code."""
    if callable(getattr(model, "predict_proba_and_uncertainty", None)):
        return ("probability", "uncertainty")
    return ("probability",)


@dataclass(frozen=True)
class MapCatalogue:
    """The map products written by :func:`predict_maps`, by tile, year, product and class.

    Files live under ``root/{tile}/{year}/``: ``probability_{code}.tif`` per class,
    ``dominant_class.tif``, ``dominant_probability.tif``, ``uncertainty.tif``, for
    models with per-class uncertainty ``uncertainty_{code}.tif`` per class, and, when
    asked for the area of applicability, ``dissimilarity.tif`` and ``aoa.tif``.

    Attributes
    ----------
    root : Path
        The folder given to :func:`predict_maps`.
    tiles : tuple of str
    years : tuple of int
    classes : ClassTable
        The classes of the maps, in the model's ``classes_`` order.
    products : tuple of str
        ``"probability"`` (per class only), ``"dominant_class"``,
        ``"dominant_probability"``, ``"uncertainty"`` and, with an applicability,
        ``"dissimilarity"`` and ``"aoa"``.
    per_class : tuple of str
        The products written per class code: ``("probability",)``, plus
        ``"uncertainty"`` for models with ``predict_proba_and_uncertainty``.

    Examples
    --------
    >>> maps = MapCatalogue(Path("maps"), ("9529",), (2018,), ClassTable([211, 231]),
    ...                     _PRODUCTS)
    >>> maps.path("9529", 2018, "probability", 231).as_posix()
    'maps/9529/2018/probability_231.tif'
    >>> len(maps.paths()), list(maps.to_frame().columns)
    (5, ['tile', 'year', 'product', 'class_code', 'path'])
    """

    root: Path
    tiles: tuple[str, ...]
    years: tuple[int, ...]
    classes: ClassTable
    products: tuple[str, ...]
    per_class: tuple[str, ...] = ("probability",)

    def path(self, tile: str, year: int, product: str, code: Hashable | None = None) -> Path:
        """The file of one product; ``code`` for per-class products.

        Raises
        ------
        KeyError
            Naming what exists when the tile, year, product or class is not in the maps.
        """
        if str(tile) not in self.tiles or int(year) not in self.years:
            raise KeyError(
                f"No maps for tile {tile!r}, year {year!r}; the maps have tiles "
                f"{list(self.tiles)} and years {list(self.years)}."
            )
        wide = [p for p in self.products if p != "probability"]
        if product not in (wide if code is None else self.per_class):
            raise KeyError(
                f"No product {product!r} with code={code!r}. Products for the whole map (no "
                f"code): {wide}; per class (code= one of {list(self.classes.codes)}): "
                f"{list(self.per_class)}."
            )
        code = None if code is None else self.classes[self.classes.index_of(code)].code
        return self.root / str(tile) / str(int(year)) / _file_name(product, code)

    def _keys(self) -> list[tuple[str, Hashable | None]]:
        codes = self.classes.codes
        keys = [("probability", c) for c in codes]
        keys += [(p, None) for p in self.products if p != "probability"]
        return keys + [(p, c) for p in self.per_class if p != "probability" for c in codes]

    def paths(self) -> list[Path]:
        """Every file written."""
        return list(self.to_frame()["path"])

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``tile``, ``year``, ``product``, ``class_code``, ``path``."""
        keys = self._keys()
        rows = [(t, y, p, c, self.path(t, y, p, c)) for t in self.tiles for y in self.years
                for p, c in keys]  # fmt: skip
        frame = pd.DataFrame(rows, columns=["tile", "year", "product", "class_code", "path"])
        # ints stay ints (231, not 231.0) next to None, as in the maps' file names
        frame["class_code"] = pd.Series([r[3] for r in rows], dtype=object, index=frame.index)
        return frame


# --------------------------------------------------------------------------------------
# Checking inputs
# --------------------------------------------------------------------------------------
def _feature_names(model: Any, feature_names: Sequence[str] | None) -> list[str]:
    names = getattr(model, "feature_names_in_", None) if feature_names is None else feature_names
    if names is None:
        raise ValueError(
            "The model does not record its feature names (it was fitted on an array, not a "
            "DataFrame); pass feature_names=[...] in the order of the training columns."
        )
    return list(_check_feature_names(model, names))


def _match_layers(layers: Mapping[str, Any], names: list[str], extra_layers: str) -> dict:
    if extra_layers not in ("raise", "ignore"):
        raise ValueError(f"extra_layers must be 'raise' or 'ignore', got {extra_layers!r}.")
    missing = [n for n in names if n not in layers]
    if missing:
        raise KeyError(
            f"No layer for feature(s) {missing}; the model needs {names} but the layers "
            f"given are {list(layers)}. Layer names must equal the feature names."
        )
    extra = [n for n in layers if n not in names]
    if extra and extra_layers == "raise":
        raise ValueError(
            f"Layer(s) {extra} are not features of the model (which uses {names}); remove "
            f"them, or pass extra_layers='ignore' to skip them."
        )
    return {n: layers[n] if isinstance(layers[n], _Band) else Path(layers[n]) for n in names}


def _map_classes(model: Any, classes: ClassTable | None) -> ClassTable:
    if getattr(model, "classes_", None) is None:
        raise ValueError(
            f"This {type(model).__name__} is not fitted; fit it before predicting maps."
        )
    codes = ClassTable(list(model.classes_)).codes  # plain int / str, in the model's order
    if classes is None:
        return ClassTable(codes)
    missing = [c for c in codes if c not in classes]
    if missing:
        raise KeyError(
            f"The class table lacks the model's class code(s) {missing}; it has "
            f"{list(classes.codes)}. Pass a ClassTable covering all of model.classes_."
        )
    return ClassTable(
        codes, [classes.name_of(c) for c in codes], [classes.colour_of(c) for c in codes]
    )


def _specs(table: ClassTable, per_class: tuple[str, ...]) -> dict:
    """(product, code) -> file name and work-file options, in writing order."""
    parts = [_file_part(c) for c in table.codes]
    if len(set(parts)) != len(parts):
        raise ValueError(
            f"Class codes {list(table.codes)} give clashing file names {parts}; use codes "
            f"that differ in letters, digits, '.', '_' or '-'."
        )
    percent = {
        "dtype": "uint8",
        "nodata": _PERCENT_NODATA,
        "units": "percent",
        "resampling": "average",
    }
    specs: dict[tuple[str, Hashable | None], dict[str, Any]] = {}
    for product, what in (("probability", "Probability"), ("uncertainty", "Uncertainty")):
        if product not in per_class:
            continue
        for cls in table:
            specs[(product, cls.code)] = {
                **percent,
                "file": _file_name(product, cls.code),
                "tags": {"product": product, "class_code": cls.code, "class_name": cls.name},
                "description": f"{what} of class {cls.code} ({cls.name}), percent",
            }
    specs[("dominant_class", None)] = {
        "dtype": "uint16",
        "nodata": _CLASS_NODATA,
        "resampling": "mode",
        "file": "dominant_class.tif",
        "tags": {"product": "dominant_class", **table.to_tags()},
        "description": "Dominant class (pixel values: see the 'classes' tag)",
        "colormap": table.colormap(_CLASS_NODATA),
    }
    specs[("dominant_probability", None)] = {
        **percent,
        "file": "dominant_probability.tif",
        "tags": {"product": "dominant_probability"},
        "description": "Probability of the dominant class, percent",
    }
    specs[("uncertainty", None)] = {
        **percent,
        "file": "uncertainty.tif",
        "tags": {"product": "uncertainty"},
        "description": "Uncertainty of the dominant class, percent: the base learners' "
        "spread (std) for models with per-class uncertainty, else normalized entropy",
    }
    return dict(sorted(specs.items(), key=lambda item: item[0][0] != "probability"))


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------
def _to_percent(proba: ArrayLike) -> NDArray[np.uint8]:
    """Round class probabilities (rows) to whole percentages that sum to exactly 100.

    Largest-remainder rounding: each class gets the integer part of its percentage and
    the points missing to 100 go to the largest remainders (ties to the first class),
    so the most probable class keeps the largest percentage.

    Examples
    --------
    >>> _to_percent([[1 / 3, 1 / 3, 1 / 3], [0.555, 0.445, 0.0]]).tolist()
    [[34, 33, 33], [56, 44, 0]]
    """
    p = np.asarray(proba, dtype=np.float64)
    scaled = p * (100.0 / p.sum(axis=1, keepdims=True))
    # The epsilon absorbs float noise (0.29 * 100 = 28.999999999999996).
    floor = np.floor(scaled + 1e-9)
    missing = 100 - floor.sum(axis=1, keepdims=True)
    rows = np.flatnonzero(missing)  # only these need sorting (few: a forest's are whole %)
    order = np.argsort(floor[rows] - scaled[rows], axis=1, kind="stable")  # largest first
    floor[rows] += order.argsort(axis=1) < missing[rows]  # the rank of each class
    return floor.astype(np.uint8)


def _in_slices(function: Any, rows: Any) -> NDArray:
    """``function(rows)``, computed on slices of ``_POST_ROWS`` rows: small float64
    temporaries, whatever the window size."""
    starts = range(0, max(len(rows), 1), _POST_ROWS)
    return np.concatenate([function(rows[i : i + _POST_ROWS]) for i in starts])


def _percent_of(values: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Values in 0..1 as whole percent, NaN as 0."""
    return np.clip(np.rint(np.nan_to_num(values) * 100), 0, 100).astype(np.uint8)


def _read_window(reads: Iterable[tuple], window: Window) -> tuple[NDArray, NDArray]:
    """The valid pixels of ``window`` as a float32 (n_valid, n_features) array, and the
    validity mask of all its pixels (the window's shape). ``reads``: (open file, its bands,
    their feature positions), one per file, so a stack's needed bands come in one read.
    Only valid pixels are converted to float32."""
    valid = np.ones((int(window.height), int(window.width)), dtype=bool)
    bands: dict[int, NDArray] = {}
    for src, indexes, positions in reads:
        with _reading(src.name):
            block = src.read(indexes, window=window)
        for values, band, j in zip(block, indexes, positions, strict=True):
            bands[j] = values
            nodata = src.nodatavals[band - 1]
            if nodata is not None:
                valid &= ~np.isnan(values) if np.isnan(nodata) else values != nodata
            if values.dtype.kind == "f":
                valid &= np.isfinite(values)
            if MaskFlags.per_dataset in src.mask_flag_enums[band - 1]:  # an internal mask band
                valid &= src.read_masks(band, window=window) > 0
    features = np.empty((int(valid.sum()), len(bands)), dtype=np.float32)
    for j, values in bands.items():
        features[:, j] = values[valid]
    return features, valid


class _Predictor:
    """One window's valid pixels -> the window of every product (thread-safe)."""

    def __init__(self, model: Any, names: list[str], table: ClassTable, specs: dict, aoa=None):
        self.model, self.names, self.aoa = model, names, aoa
        self.nodata = {key: spec["nodata"] for key, spec in specs.items()}
        self.per_class = ("uncertainty", table.codes[0]) in specs
        self.values = np.asarray(table.raster_values, dtype=np.uint16)
        self.codes = table.codes
        self.as_frame = getattr(model, "feature_names_in_", None) is not None

    def _predict(self, features: NDArray[np.float32]) -> tuple[NDArray, NDArray | None]:
        k = len(self.codes)
        if not len(features):
            return np.empty((0, k)), np.empty((0, k)) if self.per_class else None
        X = pd.DataFrame(features, columns=self.names, copy=False) if self.as_frame else features
        # Sequential joblib: no threads inside our threads, and sums (of a forest's trees)
        # in a fixed order, so maps do not depend on n_jobs.
        with joblib.parallel_config(backend="sequential"):
            if self.per_class:
                proba, std = self.model.predict_proba_and_uncertainty(X)
            else:
                proba, std = self.model.predict_proba(X), None
        return np.asarray(proba, np.float64), None if std is None else np.asarray(std, np.float64)

    def __call__(self, features: NDArray, valid: NDArray) -> dict:
        proba, std = self._predict(features)
        total = proba.sum(axis=1)
        good = np.isfinite(total) & (total > 0) & (proba >= 0).all(axis=1)
        if not good.all():
            logger.warning(
                "%d pixel(s) got non-finite or all-zero probabilities; they are nodata.",
                int((~good).sum()),
            )
            valid = valid.copy()
            valid.flat[np.flatnonzero(valid)[~good]] = False
            proba, std = proba[good], None if std is None else std[good]
        best = np.argmax(proba, axis=1)  # the first class wins ties, as in model.predict
        rows = np.arange(len(best))
        percent = _in_slices(_to_percent, proba)
        unc = _in_slices(normalized_entropy, proba) if std is None else std[rows, best]
        out = {("probability", c): percent[:, i] for i, c in enumerate(self.codes)}
        out[("dominant_class", None)] = self.values[best]
        out[("dominant_probability", None)] = percent[rows, best]
        out[("uncertainty", None)] = _percent_of(unc)
        if std is not None:
            out |= {("uncertainty", c): _percent_of(std[:, i]) for i, c in enumerate(self.codes)}
        if self.aoa is not None:
            out |= _applicability(self.aoa, features[good], self.names)

        def place(key: tuple, values: NDArray) -> NDArray:
            full = np.full(valid.shape, self.nodata[key], dtype=values.dtype)
            full[valid] = values
            return full

        return {key: place(key, values) for key, values in out.items()}


def _applicability(aoa: Any, features: NDArray, names: list[str]) -> dict:
    """The dissimilarity index (float32) and the area of applicability (0/1) of pixels."""
    wanted = getattr(aoa, "feature_names_in_", None)
    X = features if wanted is None else pd.DataFrame(features, columns=names)[list(wanted)]
    di = _in_slices(aoa.transform, X)[:, 0]
    inside = (di <= aoa.threshold_).astype(np.uint8)
    return {("dissimilarity", None): di.astype(np.float32), ("aoa", None): inside}


def _applicability_specs(aoa: Any, names: list[str]) -> dict:
    """Work-file options of ``dissimilarity.tif`` and ``aoa.tif``."""
    if not hasattr(aoa, "threshold_"):
        raise ValueError("The applicability is not fitted: call its fit(X) on the model's "
                         "training features first.")  # fmt: skip
    wanted = getattr(aoa, "feature_names_in_", None)
    missing = [] if wanted is None else sorted(set(wanted) - set(names))
    if missing or (wanted is None and aoa.n_features_in_ != len(names)):
        raise KeyError(f"The applicability was fitted on {missing or aoa.n_features_in_} "
                       f"feature(s) the model does not have; the model has {len(names)}: "
                       f"{names}. Fit it on the model's training table.")  # fmt: skip
    return {
        (name, None): {"dtype": dtype, "nodata": nodata, "resampling": resampling,
                       "file": _file_name(name), "description": text,
                       "tags": {"aoa_threshold": aoa.threshold_, "product": name}}
        for name, dtype, nodata, resampling, text in (
            ("dissimilarity", "float32", float("nan"), "average", "Dissimilarity index (DI)"),
            ("aoa", "uint8", _PERCENT_NODATA, "mode", "Area of applicability: 1 inside, 0 outside"),
        )
    }  # fmt: skip


def _resolve_n_jobs(n_jobs: int | None) -> int:
    """Threads for ``n_jobs``; None: the cores this process may use, ``joblib.cpu_count()``
    (it counts the CPU affinity and a container's CPU quota: mybinder.org's one CPU gives
    1), which is also the most a model's own ``n_jobs`` would use alone.

    Examples
    --------
    >>> _resolve_n_jobs(3), _resolve_n_jobs(None) >= 1
    (3, True)
    """
    return joblib.cpu_count() if n_jobs is None else int(joblib.effective_n_jobs(n_jobs))


def _run_windows(windows, read, compute, works: dict, n_jobs: int, bar: Any) -> None:
    """Read windows on this thread, compute them on ``n_jobs`` threads, write them here in
    order into the open files ``works`` (by product key); at most ``2 * n_jobs + 1`` windows
    are in memory at once, so that a thread finds a window waiting when it finishes one
    before an older one."""
    pending: deque = deque()
    with ThreadPoolExecutor(n_jobs, thread_name_prefix="odse-predict") as pool:
        try:
            for window in windows:
                pending.append((window, pool.submit(compute, *read(window))))
                while len(pending) > 2 * n_jobs or (pending and window is windows[-1]):
                    done, future = pending.popleft()
                    for key, array in future.result().items():
                        works[key].write(array, 1, window=done)
                    bar.update()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def predict_map(
    model: Any,
    layers: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    classes: ClassTable | None = None,
    feature_names: Sequence[str] | None = None,
    window_size: int = 256,
    n_jobs: int | None = None,
    progress: bool = True,
    extra_layers: str = "raise",
    tags: Mapping[str, Any] | None = None,
    applicability: Any = None,
) -> dict[str, Path]:
    """Predict the map products of one tile and year, window by window.

    Writes into ``out_dir`` (see ``docs/architecture.md``, "Map products"), as tiled,
    DEFLATE-compressed Cloud-Optimized GeoTIFFs on the grid of the layers:

    - ``probability_{code}.tif`` (uint8, nodata 255): percent per class, summing to
      exactly 100 in every pixel;
    - ``dominant_class.tif`` (uint16, nodata 0): the most probable class (the first in
      ``model.classes_`` on ties, as ``model.predict``), with a colour table; the
      pixel values and legend are those of :attr:`ClassTable.raster_values` and
      :meth:`ClassTable.to_tags` (read back with :meth:`ClassTable.from_tags`);
    - ``dominant_probability.tif`` (uint8, nodata 255): percent of the dominant class;
    - ``uncertainty.tif`` (uint8, nodata 255): the uncertainty of the pixel in percent.
      For models with ``predict_proba_and_uncertainty(X) -> (proba, std)`` (ensembles)
      the base learners' standard deviation for the dominant class; for other models
      the normalized entropy of the probabilities
      (:func:`odse_tutorial.uncertainty.normalized_entropy`);
    - ``uncertainty_{code}.tif`` (uint8, nodata 255), only for models with
      ``predict_proba_and_uncertainty``: the standard deviation for each class;
    - with ``applicability``: ``dissimilarity.tif`` (float32, nodata NaN), the
      dissimilarity index of the pixel to the training data, and ``aoa.tif`` (uint8,
      nodata 255), 1 inside the area of applicability (DI <= threshold), 0 outside; both
      carry the threshold in their ``aoa_threshold`` tag.

    A pixel that is nodata (or NaN) in any layer is nodata in every product. The
    products are written to hidden temporary files and moved into place together at
    the end: if the run fails, no product appears (older files stay as they were).

    Parameters
    ----------
    model : fitted classifier
        Anything with ``predict_proba`` and ``classes_``. It runs single-threaded
        inside each window thread (joblib's sequential backend), so the output is the
        same for every ``n_jobs``; the windows use the cores instead.
    layers : mapping of str to path-like
        Feature name -> single-band raster, or band of a stack, of one tile and year,
        all on one grid (``Dataset.layers(tile, year)``). Each file is opened once and
        only the bands of the model's features are read, window by window.
    out_dir : path-like
        Folder of the products (created if needed).
    classes : ClassTable, optional
        Names and colours; must contain every code of ``model.classes_``.
    feature_names : sequence of str, optional
        The model's feature order, needed only for models fitted on arrays.
    window_size : int, default 256
        Side of the square windows, in pixels; memory grows with
        ``n_jobs * window_size ** 2 * n_features``. Many small windows keep all threads
        busy to the end.
    n_jobs : int, optional
        Windows predicted at the same time, on threads (-1: all CPUs). Default: all the
        cores this process may use (``joblib.cpu_count()``, which counts the CPU affinity
        and a container's CPU quota), as many as the model's own ``n_jobs`` could use. The
        maps are byte for byte the same for every ``n_jobs``.
    progress : bool, default True
        Show a progress bar over windows.
    extra_layers : {"raise", "ignore"}, default "raise"
        Layers that are not features of the model: an error naming them, or skipped.
    tags : mapping, optional
        Extra metadata written into every product.
    applicability : fitted AreaOfApplicability, optional
        Also write ``dissimilarity.tif`` and ``aoa.tif``
        (:class:`odse_tutorial.applicability.AreaOfApplicability`, fitted on the
        training table or a subset of its feature columns).

    Returns
    -------
    dict of str to Path
        File stem (``"dominant_class"``, ``"probability_231"``, ...) -> written file.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd, rasterio
    >>> from rasterio.transform import from_origin
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> layers = {}
    >>> for i, name in enumerate(["ndvi_summer", "elevation"]):
    ...     layers[name] = folder / f"{name}.tif"
    ...     with rasterio.open(layers[name], "w", driver="GTiff", width=32, height=32,
    ...                        count=1, dtype="int16", nodata=-1, crs="EPSG:3035",
    ...                        transform=from_origin(4e6, 3e6, 30, 30)) as dst:
    ...         dst.write(np.arange(32 * 32, dtype="int16").reshape(1, 32, 32) // (i + 1))
    >>> X = pd.DataFrame({"ndvi_summer": [0, 500, 1000], "elevation": [0, 250, 500]})
    >>> model = DecisionTreeClassifier(random_state=0).fit(X, [211, 231, 311])
    >>> maps = predict_map(model, layers, folder / "maps", progress=False)
    >>> sorted(maps)[:3]
    ['dominant_class', 'dominant_probability', 'probability_211']
    >>> with rasterio.open(maps["dominant_class"]) as src:
    ...     sorted(np.unique(src.read(1)).tolist())
    [211, 231, 311]
    """
    if not isinstance(window_size, int | np.integer) or window_size < 16:
        raise ValueError(f"window_size must be an integer of at least 16, got {window_size!r}.")
    table = _map_classes(model, classes)
    names = _feature_names(model, feature_names)
    paths = _match_layers(layers, names, extra_layers)
    specs = _specs(table, _per_class(model))
    if applicability is not None:
        specs |= _applicability_specs(applicability, names)
    for spec in specs.values():  # rasterio writes the values as str
        spec["tags"] = {"model": type(model).__name__, **(tags or {}), **spec["tags"]}
    out = Path(out_dir)
    predictor = _Predictor(model, names, table, specs, applicability)
    with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHEMAX_BYTES), contextlib.ExitStack() as stack:
        # file -> (open file, its bands, their feature positions): each file is opened once
        # and a stack's bands are read together
        plan: dict[Any, tuple[Any, list[int], list[int]]] = {}
        for j, (name, layer) in enumerate(paths.items()):
            path, band = _file_and_band(layer)
            if path not in plan:
                plan[path] = (stack.enter_context(_open(path)), [], [])
            src, bands, positions = plan[path]
            if (src.count != 1) if band is None else not 1 <= band <= src.count:
                raise ValueError(
                    f"Layer {name!r} ({src.name}) has {src.count} bands; name one band per "
                    "layer (a Dataset of a folder does: one layer per band of a stack)."
                )
            bands.append(band or 1)
            positions.append(j)
        grid = check_same_grid({names[pos[0]]: src for src, _, pos in plan.values()})
        size = int(window_size)
        windows = raster_io._windows(grid["width"], grid["height"], size, size)
        n_jobs = max(1, min(_resolve_n_jobs(n_jobs), len(windows)))
        if n_jobs > 1:  # no BLAS threads inside window threads
            stack.enter_context(threadpool_limits(1))
        logger.info("Predicting %s windows on %d thread(s) into %s", len(windows), n_jobs, out)
        # Atomic outputs first, work files after: every COG is written before the set of
        # products replaces the old one, all or none, so a failure leaves no product of this run.
        finals = stack.enter_context(_atomic_outputs([out / s["file"] for s in specs.values()]))
        finals = dict(zip(specs, finals, strict=True))
        block = next((b for b in (512, 256, 128, 64, 32, 16) if size % b == 0), 256)
        works = {key: _open_work_file(stack, out / s["file"], grid, block=block, **s)
                 for key, s in specs.items()}  # fmt: skip

        bar = stack.enter_context(
            tqdm(total=len(windows), desc=f"Predicting {out.name}", unit="window",
                 disable=not progress or len(windows) < 2, leave=False)
        )  # fmt: skip
        _run_windows(
            windows, lambda w: _read_window(plan.values(), w), predictor, works, n_jobs, bar
        )
        with ThreadPoolExecutor(n_jobs, thread_name_prefix="odse-cog") as pool:
            for key in pool.map(
                lambda k: _write_cog(works[k], finals[k], specs[k]["resampling"]) or k, specs
            ):
                logger.debug("Wrote %s", specs[key]["file"])
    written = {out / s["file"] for s in specs.values()}
    stale = sorted(
        p.name for pattern in ("probability_*.tif", "uncertainty*.tif", "dissimilarity.tif", "aoa.tif")
        for p in out.glob(pattern)
        if p not in written
    )  # fmt: skip
    if stale:
        logger.warning("%s also holds products this run did not write (from an earlier model?): "
                       "%s. Delete them, or write each model's maps to a folder of their own.",
                       out, stale)  # fmt: skip
    return {Path(s["file"]).stem: out / s["file"] for s in specs.values()}


def predict_maps(
    model: Any,
    dataset: Any,
    out_dir: str | os.PathLike,
    *,
    tiles: Iterable[str] | str | None = None,
    years: Iterable[int] | int | None = None,
    progress: bool = True,
    client: Any = None,
    skip_existing: bool = False,
    **kwargs: Any,
) -> MapCatalogue:
    """Predict the map products of every tile and year of a dataset.

    Each tile-year reads its own layers (``dataset.layers(tile, year)``) and is written
    by :func:`predict_map` to ``out_dir/{tile}/{year}/``, with the tile and year in the
    products' tags.

    Parameters
    ----------
    model : fitted classifier
        As for :func:`predict_map`.
    dataset : Dataset
        Anything with ``tiles``, ``years``, ``classes`` and ``layers(tile, year)``.
    out_dir : path-like
        Root folder of the maps.
    tiles, years : optional
        Which tiles and years (default: all of the dataset).
    progress : bool, default True
        Progress bars over tile-years and windows (with a client: over finished tasks).
    client : dask.distributed.Client or "current", optional
        Run each tile-year as a task on this Dask cluster (``"current"``: the client made
        last in this process). The model and the applicability are scattered once; each
        worker writes its tile-years into ``out_dir``, which, like the layers, must be on
        a file system every worker sees. The files are byte for byte those of the serial
        run. Each task uses ``n_jobs`` window threads, by default 1 (the workers are the
        parallelism: one per core). A failed tile-year raises an error naming it, after the others finished; it
        leaves no products.
    skip_existing : bool, default False
        Skip the tile-years whose products all exist already (to complete a run that
        failed or was stopped; the files are not checked further).
    **kwargs
        Passed to :func:`predict_map` (``window_size``, ``n_jobs``, ...); ``classes``
        defaults to ``dataset.classes``.

    Returns
    -------
    MapCatalogue
        The files, by tile, year, product and class: ``maps.path(tile, year,
        "dominant_class")``, ``maps.path(tile, year, "probability", code)``.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()  # the bundled, simulated landscape
    >>> X = pd.DataFrame({"nir_summer": [20, 120], "elevation": [100, 900]})
    >>> model = DecisionTreeClassifier().fit(X, [231, 311])
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> maps = predict_maps(model, ds, out, tiles="9529", years=[2000, 2018],
    ...                     extra_layers="ignore", progress=False)
    >>> maps.path("9529", 2018, "dominant_class").relative_to(out).as_posix()
    '9529/2018/dominant_class.tif'
    >>> all(path.exists() for path in maps.paths()), len(maps.paths())
    (True, 10)
    """
    tiles = _select("tile", tiles, tuple(dataset.tiles))
    years = _select("year", years, tuple(dataset.years))
    options = {
        name: p.default
        for name, p in inspect.signature(predict_map).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise TypeError(
            f"predict_maps got unknown option(s) {unknown}; predict_map accepts {sorted(options)}."
        )
    options |= kwargs | {"progress": progress}
    if options["classes"] is None:
        options["classes"] = getattr(dataset, "classes", None)
    user_tags = dict(options.pop("tags") or {})
    maps = MapCatalogue(
        root=Path(out_dir),
        tiles=tuple(str(t) for t in tiles),
        years=tuple(int(y) for y in years),
        classes=_map_classes(model, options["classes"]),
        products=_PRODUCTS + (() if options["applicability"] is None else _AOA_PRODUCTS),
        per_class=_per_class(model),
    )
    keys = maps._keys()
    calls = {
        (tile, year): {**options, "layers": dataset.layers(tile, year),
                       "out_dir": Path(out_dir) / str(tile) / str(year),
                       "tags": {**user_tags, "tile": tile, "year": year}}
        for tile in tiles for year in years
        if not (skip_existing and all(maps.path(tile, year, *k).exists() for k in keys))
    }  # fmt: skip
    if client is not None:  # the model and the applicability are sent to the workers once
        run_tile_years(client, predict_map, {k: c | {"progress": False, "n_jobs": c["n_jobs"] or 1}
                                             for k, c in calls.items()},
                       shared={"model": model, "applicability": options["applicability"]},
                       progress=progress, advice="The failed ones wrote no products; the others "
                       "are complete: fix the cause and call again with skip_existing=True to "
                       "make only the missing ones.")  # fmt: skip
        return maps
    for (tile, year), call in tqdm(
        calls.items(), desc="Tiles and years", unit="map", disable=not progress
    ):
        logger.info("Tile %s, year %s -> %s", tile, year, call["out_dir"])
        predict_map(model, **call)
    return maps


def _select(label: str, wanted: Any, available: tuple) -> tuple:
    if wanted is None:
        return available
    if isinstance(wanted, str | int | np.integer):
        wanted = (wanted,)
    wanted = tuple(wanted)
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise KeyError(f"Unknown {label}(s) {unknown}; the dataset has {label}s {list(available)}.")
    return wanted
