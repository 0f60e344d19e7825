"""Windowed, bounded-memory map prediction for one or many tiles and years.

:func:`predict_map` turns a fitted classifier and the layers of one tile and year into
the map products of the architecture notes (``docs/architecture.md``, "Map
products"): a probability map per class, the dominant class, its probability and an
uncertainty map, all as Cloud-Optimized GeoTIFFs. :func:`predict_maps` does it for
every tile and year of a dataset, writing each year's maps under that year's name.

How a map is made, window by window:

1. read the same window (by default 512 x 512 pixels) from every layer;
2. keep the pixels that are valid in *every* layer (a nodata value in any layer makes
   the pixel nodata in every product);
3. ask the model for ``predict_proba`` on those pixels, with the columns in the model's
   feature order;
4. turn the probabilities into whole percentages that sum to exactly 100
   (:func:`to_percent`), take the most probable class, and measure uncertainty;
5. write the window of every product.

Memory therefore depends on the window size, not on the size of the tile.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import math
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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

from odse_tutorial._atomic import atomic_output
from odse_tutorial.classes import ClassTable
from odse_tutorial.raster_io import CogWriter, RasterGrid, check_same_grid
from odse_tutorial.uncertainty import normalized_entropy

__all__ = [
    "MapProducts",
    "predict_map",
    "predict_maps",
    "read_map_at_points",
    "to_percent",
]

logger = logging.getLogger(__name__)

#: Nodata of the percentage products (probability, dominant probability, uncertainty).
PERCENT_NODATA = 255
#: Nodata of ``dominant_class.tif``.
CLASS_NODATA = 0
_MAX_CLASS_VALUE = 65534  # uint16, keeping 65535 free
# GDAL's block cache would otherwise grow to 5 % of the machine's memory (a lot on a
# shared server, too much for a 2 GB notebook). Input blocks are read once and output
# windows cover whole tiles of the work files, so a small cache costs nothing.
_GDAL_CACHEMAX_BYTES = 16 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_POST_ROWS = 65536  # rows per slice when turning probabilities into products


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapProducts:
    """The files :func:`predict_map` wrote for one tile and year.

    Attributes
    ----------
    directory : Path
        The folder of the products.
    classes : ClassTable
        The classes of the maps, in the model's ``classes_`` order (the order of the
        probability maps).
    probability : dict
        Class code -> ``probability_{code}.tif``.
    dominant_class : Path
        ``dominant_class.tif``.
    dominant_probability : Path
        ``dominant_probability.tif``.
    uncertainty : Path or None
        ``uncertainty.tif`` (normalized entropy) for single models, else ``None``.
    class_uncertainty : dict
        Class code -> ``uncertainty_{code}.tif`` for ensembles (models with
        ``predict_uncertainty``), else empty.
    dominant_values : dict
        Pixel value of ``dominant_class.tif`` -> class code. The value is the code
        itself for integer codes 1..65534, else the position in ``classes`` plus one.
    """

    directory: Path
    classes: ClassTable
    probability: dict[Hashable, Path]
    dominant_class: Path
    dominant_probability: Path
    uncertainty: Path | None = None
    class_uncertainty: dict[Hashable, Path] = field(default_factory=dict)
    dominant_values: dict[int, Hashable] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        """All written files."""
        return self.to_frame()["path"].tolist()

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``product``, ``class_code`` (``None`` if not per class), ``path``."""
        rows: list[tuple[str, Hashable | None, Path]] = [
            ("probability", code, path) for code, path in self.probability.items()
        ]
        rows += [
            ("dominant_class", None, self.dominant_class),
            ("dominant_probability", None, self.dominant_probability),
        ]
        if self.uncertainty is not None:
            rows.append(("uncertainty", None, self.uncertainty))
        rows += [("uncertainty", code, path) for code, path in self.class_uncertainty.items()]
        products, codes, paths = zip(*rows, strict=True)
        return pd.DataFrame(
            {
                "product": list(products),
                # object: integer codes stay integers next to the None of map-wide products
                "class_code": pd.Series(codes, dtype=object),
                "path": list(paths),
            }
        )


# --------------------------------------------------------------------------------------
# Probabilities to percentages
# --------------------------------------------------------------------------------------
def to_percent(proba: ArrayLike) -> NDArray[np.uint8]:
    """Round class probabilities to whole percentages that sum to exactly 100.

    Largest-remainder rounding: every class gets the integer part of its percentage,
    and the points still missing to 100 go to the classes with the largest remainders
    (ties to the first class). Rows are normalised to sum to 1 first. Rounding never
    changes the order of two classes, so the most probable class keeps the largest
    percentage. Truncating instead, as the 2021 code did, loses up to K - 1 points.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities, finite, non-negative, each row with a positive sum.

    Returns
    -------
    ndarray of uint8, shape (n_samples, n_classes)
        Percentages; every row sums to 100.

    Examples
    --------
    >>> to_percent([[1 / 3, 1 / 3, 1 / 3], [0.555, 0.445, 0.0]]).tolist()
    [[34, 33, 33], [56, 44, 0]]
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"Expected probabilities of shape (n_samples, n_classes), got {p.shape}.")
    return np.ascontiguousarray(_percent_by_class(p).T)


def _percent_by_class(p: NDArray[np.float64], check: bool = True) -> NDArray[np.uint8]:
    """:func:`to_percent` of ``p`` (n, K), returned class by class as a (K, n) array.

    Class-major layout keeps every step contiguous, and one class is one output map.
    """
    if p.size == 0:
        return np.zeros(p.shape[::-1], dtype=np.uint8)
    total = p.sum(axis=1)
    if check and not (np.isfinite(total).all() and (total > 0).all() and (p >= 0).all()):
        raise ValueError(
            "Probabilities must be finite, non-negative and have a positive sum in every "
            "row; check the model's predict_proba output."
        )
    scaled = np.ascontiguousarray(p.T)
    scaled *= 100.0 / total
    # The small epsilon absorbs float noise (0.29 * 100 = 28.999999999999996); the floors
    # still never sum to more than 100.
    floor = np.add(scaled, 1e-9)
    np.floor(floor, out=floor)
    remainder = np.subtract(scaled, floor, out=scaled)
    percent = floor.astype(np.uint8)
    missing = 100 - percent.sum(axis=0, dtype=np.int16)
    percent += _remainder_rank(remainder) < missing
    return percent


def _remainder_rank(remainder: NDArray[np.float64]) -> NDArray[np.int16]:
    """Rank of each class's remainder in its pixel (column), largest first, ties to the
    first class; ``remainder`` and the result are (K, n)."""
    k, n = remainder.shape
    if k > 16:
        order = np.argsort(-remainder, axis=0, kind="stable")
        rank = np.empty((k, n), dtype=np.int16)
        np.put_along_axis(rank, order, np.arange(k, dtype=np.int16)[:, None], axis=0)
        return rank
    # For few classes, K * K vectorised comparisons beat sorting every pixel.
    rank = np.zeros((k, n), dtype=np.int16)
    for i in range(k):
        for j in range(k):
            if j < i:
                rank[i] += remainder[j] >= remainder[i]
            elif j > i:
                rank[i] += remainder[j] > remainder[i]
    return rank


# --------------------------------------------------------------------------------------
# Checking inputs
# --------------------------------------------------------------------------------------
def _feature_names(model: Any, feature_names: Sequence[str] | None) -> list[str]:
    from_model = getattr(model, "feature_names_in_", None)
    if from_model is not None:
        names = [str(n) for n in from_model]
        if feature_names is not None and list(feature_names) != names:
            raise ValueError(
                f"feature_names {list(feature_names)} differ from the features the model was "
                f"fitted with ({names}); drop the feature_names argument, the model's own "
                f"names are used."
            )
    elif feature_names is None:
        raise ValueError(
            "The model does not record its feature names (it was fitted on an array, not a "
            "DataFrame); pass feature_names=[...] in the order of the training columns."
        )
    else:
        names = [str(n) for n in feature_names]
    n_in = getattr(model, "n_features_in_", None)
    if n_in is not None and n_in != len(names):
        raise ValueError(
            f"The model was fitted on {n_in} features but {len(names)} feature names were "
            f"given ({names}); pass one name per training column."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"Feature names must be unique, got {names}.")
    return names


def _match_layers(
    layers: Mapping[str, str | os.PathLike], names: Sequence[str], extra_layers: str
) -> dict[str, Path]:
    if extra_layers not in ("raise", "ignore"):
        raise ValueError(f"extra_layers must be 'raise' or 'ignore', got {extra_layers!r}.")
    given = {str(k): Path(v) for k, v in layers.items()}
    missing = [n for n in names if n not in given]
    if missing:
        raise KeyError(
            f"No layer for feature(s) {missing}; the model needs {list(names)} but the "
            f"layers given are {list(given)}. Layer names must equal the feature names."
        )
    extra = [n for n in given if n not in set(names)]
    if extra and extra_layers == "raise":
        raise ValueError(
            f"Layer(s) {extra} are not features of the model (which uses {list(names)}); "
            f"remove them, or pass extra_layers='ignore' to skip them."
        )
    if extra:
        logger.info("Ignoring layers that are not features of the model: %s", extra)
    return {n: given[n] for n in names}


def _map_classes(model: Any, classes: ClassTable | None) -> ClassTable:
    model_codes = getattr(model, "classes_", None)
    if model_codes is None:
        raise ValueError(
            f"{type(model).__name__} has no classes_; fit the classifier before predicting maps."
        )
    codes = ClassTable(list(model_codes)).codes  # plain int / str, in the model's order
    if len(codes) < 2:
        raise ValueError(
            f"The model knows a single class ({codes}); a map needs at least two classes."
        )
    if classes is None:
        return ClassTable(codes)
    missing = [c for c in codes if c not in classes]
    if missing:
        raise KeyError(
            f"The class table lacks the model's class code(s) {missing}; it has "
            f"{list(classes.codes)}. Pass a ClassTable covering all of model.classes_ "
            f"({list(codes)})."
        )
    return ClassTable(
        codes, [classes.name_of(c) for c in codes], [classes.colour_of(c) for c in codes]
    )


def _dominant_values(table: ClassTable) -> tuple[NDArray[np.uint16], str]:
    codes = table.codes
    if all(isinstance(c, int) and 1 <= c <= _MAX_CLASS_VALUE for c in codes):
        return np.asarray(codes, dtype=np.uint16), "code"
    if len(codes) > _MAX_CLASS_VALUE:
        raise ValueError(f"Too many classes ({len(codes)}) for a uint16 class map.")
    return np.arange(1, len(codes) + 1, dtype=np.uint16), "position"


def _file_part(code: Hashable) -> str:
    return _SAFE_NAME.sub("_", str(code)).strip("_") or "class"


# Attributes of fitted meta-estimators that hold the fitted estimators used to predict
# (Pipeline, stacking and voting ensembles, searches, the tutorial's StackingEnsemble).
_NESTED = ("steps", "estimators_", "named_estimators_", "final_estimator_", "best_estimator_")


def _single_threaded(model: Any, memo: dict[int, Any] | None = None) -> Any:
    """``model`` with ``n_jobs=1`` everywhere, as shallow copies; the caller's is unchanged.

    Walks the fitted estimators of pipelines and ensembles (``_NESTED``), so that the
    base learners of an ensemble do not start their own threads inside our window
    threads, and so that their sums are always taken in the same order (a forest
    predicting on several threads adds its trees in whatever order they finish).
    Unchanged estimators are returned as they are; nothing is copied deeply.
    """
    memo = {} if memo is None else memo
    if id(model) in memo:
        return memo[id(model)]
    memo[id(model)] = model  # guards against cycles
    changes: dict[str, Any] = {}
    for attr in _NESTED:
        try:
            value = getattr(model, attr, None)
        except Exception:  # an unfitted attribute behind a property
            continue
        if value is not None:
            replaced = _single_threaded_nested(value, memo)
            if replaced is not value:
                changes[attr] = replaced
    get_params = getattr(model, "get_params", None)
    if callable(get_params) and get_params(deep=False).get("n_jobs") not in (None, 1):
        changes["n_jobs"] = 1
    if changes:
        new = copy.copy(model)
        for attr, value in changes.items():
            setattr(new, attr, value)
        memo[id(model)] = new
    return memo[id(model)]


def _single_threaded_nested(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, list | tuple):
        items = [_single_threaded_nested(v, memo) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):  # also sklearn's Bunch
        items = {k: _single_threaded_nested(v, memo) for k, v in value.items()}
        if all(items[k] is v for k, v in value.items()):
            return value
        new = copy.copy(value)
        new.update(items)
        return new
    if hasattr(value, "get_params"):
        return _single_threaded(value, memo)
    return value  # "drop", "passthrough", names


# --------------------------------------------------------------------------------------
# Reading and predicting windows
# --------------------------------------------------------------------------------------
def _windows(grid: RasterGrid, size: int) -> list[Window]:
    return [
        Window(col, row, min(size, grid.width - col), min(size, grid.height - row))
        for row in range(0, grid.height, size)
        for col in range(0, grid.width, size)
    ]


@dataclass
class _Layer:
    name: str
    dataset: Any
    nodata: float | None
    is_float: bool
    per_dataset_mask: bool


def _open_layers(stack: contextlib.ExitStack, paths: Mapping[str, Path]) -> list[_Layer]:
    opened = []
    for name, path in paths.items():
        src = stack.enter_context(rasterio.open(path))
        if src.count != 1:
            raise ValueError(
                f"Layer {name!r} ({path}) has {src.count} bands; each layer must be a "
                f"single-band raster (split it into one file per band)."
            )
        flags = src.mask_flag_enums[0]
        per_dataset = MaskFlags.per_dataset in flags and MaskFlags.nodata not in flags
        if src.nodata is None and not per_dataset:
            logger.warning(
                "Layer %r (%s) has no nodata value; all its pixels are taken as valid "
                "(NaN excepted). Set its nodata value if it has gaps.",
                name,
                path,
            )
        opened.append(
            _Layer(
                name,
                src,
                src.nodata,
                np.issubdtype(np.dtype(src.dtypes[0]), np.floating),
                per_dataset,
            )
        )
    return opened


def _read_window(
    layers: Sequence[_Layer], window: Window
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """The valid pixels of ``window`` as a (n_valid, n_features) float32 array, and the
    validity mask of all its pixels (row-major).

    Layers are read in their own dtype first (often 2 bytes a value) and only the valid
    pixels are converted, so no float32 copy of the invalid pixels is ever made.
    """
    n = int(window.height) * int(window.width)
    valid = np.ones(n, dtype=bool)
    bands = []
    for layer in layers:
        values = layer.dataset.read(1, window=window).ravel()
        bands.append(values)
        if layer.nodata is not None:
            if math.isnan(layer.nodata):
                valid &= ~np.isnan(values)
            else:
                valid &= values != layer.nodata
        if layer.is_float:
            valid &= np.isfinite(values)
        if layer.per_dataset_mask:
            valid &= layer.dataset.read_masks(1, window=window).ravel() > 0
    all_valid = bool(valid.all())
    features = np.empty((n if all_valid else int(valid.sum()), len(layers)), dtype=np.float32)
    for j, values in enumerate(bands):
        features[:, j] = values if all_valid else values[valid]
    return features, valid


@dataclass(frozen=True)
class _Products:
    """Names, files and writer options of the products, in writing order."""

    names: list[str]
    options: dict[str, dict[str, Any]]
    files: dict[str, str]


class _WindowPredictor:
    """Turns one window's pixels into the windows of every product (thread-safe)."""

    def __init__(
        self,
        model: Any,
        feature_names: list[str],
        n_classes: int,
        values: NDArray[np.uint16],
        ensemble: bool,
        uncertainty: bool,
        as_frame: bool,
        codes: Sequence[Hashable],
    ) -> None:
        self.model = model
        self.feature_names = feature_names
        self.n_classes = n_classes
        self.values = values
        self.ensemble = ensemble
        self.uncertainty = uncertainty
        self.as_frame = as_frame
        self.codes = codes
        # Ensembles that can return both from one pass over their base learners.
        self.combined = callable(getattr(model, "predict_proba_and_uncertainty", None))

    def __call__(
        self, features: NDArray[np.float32], valid: NDArray[np.bool_], shape: tuple[int, int]
    ) -> dict[str, NDArray]:
        """Products of one window from its valid pixels' ``features`` and ``valid`` mask."""
        k = self.n_classes
        n_valid = features.shape[0]
        if n_valid == 0:
            return self._nodata(valid, shape)
        X = self._as_input(features)
        std = None
        if self.uncertainty and self.ensemble and self.combined:
            proba, std = self.model.predict_proba_and_uncertainty(X)
            proba, std = np.asarray(proba, dtype=np.float64), np.asarray(std, dtype=np.float64)
        else:
            proba = np.asarray(self.model.predict_proba(X), dtype=np.float64)
        if proba.shape != (n_valid, k):
            raise ValueError(
                f"predict_proba returned shape {proba.shape}, expected ({n_valid}, {k}) "
                f"for the classes {list(self.codes)}."
            )
        total = proba.sum(axis=1)
        good = np.isfinite(total) & (total > 0) & (proba >= 0).all(axis=1)
        if not good.all():
            logger.warning(
                "%d pixel(s) got non-finite or all-zero probabilities; they are nodata.",
                int((~good).sum()),
            )
            valid = valid.copy()
            valid[np.flatnonzero(valid)[~good]] = False
            proba = proba[good]
            features = features[good]
            X = self._as_input(features)
            std = std[good] if std is not None else None
            if not len(proba):
                return self._nodata(valid, shape)
        # (K, m), in slices of rows: the float64 temporaries of rounding and entropy
        # stay small while other threads hold windows of their own.
        percent = np.empty((k, len(proba)), dtype=np.uint8)
        for i in range(0, len(proba), _POST_ROWS):
            rows = slice(i, i + _POST_ROWS)
            percent[:, rows] = _percent_by_class(proba[rows], check=False)  # checked above
        best = np.argmax(proba, axis=1)  # the first class wins ties, as in model.predict
        dominant = self.values[best]
        dominant_pct = percent[best, np.arange(best.size)]
        unc = None
        if self.uncertainty and self.ensemble:
            if std is None:
                std = np.asarray(self.model.predict_uncertainty(X), dtype=np.float64)
            if std.shape != proba.shape:
                raise ValueError(
                    f"predict_uncertainty returned shape {std.shape}, expected "
                    f"{proba.shape} (one standard deviation per class)."
                )
            unc = _percent_of(np.ascontiguousarray(std.T))
        elif self.uncertainty:
            entropy = np.concatenate(
                [
                    normalized_entropy(proba[i : i + _POST_ROWS])
                    for i in range(0, len(proba), _POST_ROWS)
                ]
            )
            unc = _percent_of(entropy)[None, :]
        return self._products(percent, dominant, dominant_pct, unc, valid, shape)

    def _nodata(self, valid: NDArray[np.bool_], shape: tuple[int, int]) -> dict[str, NDArray]:
        """Products of a window without a single valid pixel."""
        nothing = np.empty((self.n_classes, 0), dtype=np.uint8)
        unc = nothing[: self.n_classes if self.ensemble else 1] if self.uncertainty else None
        none = np.zeros(valid.shape, dtype=bool)
        return self._products(nothing, self.values[:0], nothing[0], unc, none, shape)

    def _products(
        self,
        percent: NDArray[np.uint8],
        dominant: NDArray[np.uint16],
        dominant_pct: NDArray[np.uint8],
        unc: NDArray[np.uint8] | None,
        valid: NDArray[np.bool_],
        shape: tuple[int, int],
    ) -> dict[str, NDArray]:
        """Window arrays of every product from the values of the valid pixels."""
        all_valid = bool(valid.all())

        def place(values: NDArray, nodata: int) -> NDArray:
            if all_valid:
                return values.reshape(shape)
            full = np.full(valid.size, nodata, dtype=values.dtype)
            full[valid] = values
            return full.reshape(shape)

        k = self.n_classes
        out = {f"probability_{i}": place(percent[i], PERCENT_NODATA) for i in range(k)}
        out["dominant_class"] = place(dominant, CLASS_NODATA)
        out["dominant_probability"] = place(dominant_pct, PERCENT_NODATA)
        if self.uncertainty and self.ensemble:
            for i in range(k):
                out[f"uncertainty_{i}"] = place(
                    unc[i] if unc is not None else percent[i], PERCENT_NODATA
                )
        elif self.uncertainty:
            out["uncertainty"] = place(unc[0] if unc is not None else dominant_pct, PERCENT_NODATA)
        return out

    def _as_input(self, features: NDArray[np.float32]) -> Any:
        # Models fitted on frames warn when given arrays; wrapping costs no copy.
        if self.as_frame:
            return pd.DataFrame(features, columns=self.feature_names, copy=False)
        return features


def _percent_of(values: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Values in 0..1 as whole percent (uint8), NaN as 0."""
    out = np.nan_to_num(values, nan=0.0)  # a copy; the steps below work in place
    out *= 100.0
    np.rint(out, out=out)
    np.clip(out, 0, 100, out=out)
    return out.astype(np.uint8)


class _Prefetch:
    """Read windows on a background thread, ``depth`` windows ahead of the consumer.

    Only this thread touches the input datasets, so reading overlaps prediction without
    sharing a rasterio dataset between threads. A window is read only once the consumer
    has taken the one before (semaphore), which bounds memory. Leaving the ``with``
    block stops and joins the thread before the datasets are closed.
    """

    _DONE = object()

    def __init__(self, read: Callable[[Window], Any], windows: Sequence[Window], depth: int):
        self._read = read
        self._windows = windows
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.Semaphore(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="odse-read", daemon=True)

    def _work(self) -> None:
        try:
            for window in self._windows:
                while not self._slots.acquire(timeout=0.05):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                self._queue.put((window, self._read(window)))
            self._queue.put(self._DONE)
        except BaseException as error:  # handed to the consumer, raised there
            self._queue.put(error)

    def __enter__(self) -> _Prefetch:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[tuple[Window, Any]]:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            self._slots.release()
            yield item

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _run_windows(
    windows: Sequence[Window],
    read: Callable[[Window], tuple[NDArray, NDArray]],
    compute: Callable[[NDArray, NDArray, tuple[int, int]], dict[str, NDArray]],
    write: Callable[[Window, dict[str, NDArray]], None],
    n_jobs: int,
    bar: Any,
) -> None:
    """Read, compute and write every window; compute runs on ``n_jobs`` threads.

    A reader thread reads one window ahead; computing happens on the calling thread
    (``n_jobs=1``) or on a pool of ``n_jobs`` threads; writing stays on the calling
    thread, in window order. At most ``n_jobs + 1`` windows are in memory at once.
    """

    def shape(window: Window) -> tuple[int, int]:
        return int(window.height), int(window.width)

    with _Prefetch(read, windows, depth=1) as reader:
        if n_jobs == 1:
            for window, (features, valid) in reader:
                write(window, compute(features, valid, shape(window)))
                bar.update()
            return
        pending: deque[tuple[Window, Future]] = deque()
        with ThreadPoolExecutor(n_jobs, thread_name_prefix="odse-predict") as pool:
            try:
                for window, (features, valid) in reader:
                    pending.append((window, pool.submit(compute, features, valid, shape(window))))
                    if len(pending) >= n_jobs:
                        done, future = pending.popleft()
                        write(done, future.result())
                        bar.update()
                while pending:
                    done, future = pending.popleft()
                    write(done, future.result())
                    bar.update()
            except BaseException:
                for _, future in pending:
                    future.cancel()
                raise


def _finish_all(writers: Sequence[CogWriter], n_jobs: int) -> None:
    """Turn every work file into its COG, on ``n_jobs`` threads."""
    if n_jobs == 1:
        for writer in writers:
            writer.finish()
        return
    with ThreadPoolExecutor(n_jobs, thread_name_prefix="odse-cog") as pool:
        for future in [pool.submit(writer.finish) for writer in writers]:
            future.result()


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
    window_size: int = 512,
    n_jobs: int = 1,
    progress: bool = True,
    extra_layers: str = "raise",
    uncertainty: bool = True,
    tags: Mapping[str, Any] | None = None,
) -> MapProducts:
    """Predict the map products of one tile and year, window by window.

    Writes into ``out_dir`` (see ``docs/architecture.md``, "Map products"), all as
    tiled, DEFLATE-compressed Cloud-Optimized GeoTIFFs on the grid of the layers:

    - ``probability_{code}.tif`` (uint8, nodata 255): percent per class, summing to
      exactly 100 in every pixel (:func:`to_percent`);
    - ``dominant_class.tif`` (uint16, nodata 0): the class with the highest
      probability (the first in ``model.classes_`` order on ties, as
      ``model.predict``), with a colour table, and the legend as JSON in the
      ``classes`` tag. Pixel values are the class codes when all codes are integers
      from 1 to 65534; otherwise (string codes, code 0, larger codes) the position in
      ``model.classes_`` plus one; the ``classes`` tag maps values to codes;
    - ``dominant_probability.tif`` (uint8, nodata 255): percent of the dominant class;
    - ``uncertainty_{code}.tif`` (uint8, nodata 255) for ensembles, i.e. models with
      ``predict_uncertainty(X)``: the standard deviation of the base learners'
      probabilities x 100; or ``uncertainty.tif`` for single models: the normalized
      entropy of the probabilities x 100
      (:func:`odse_tutorial.uncertainty.normalized_entropy`). An ensemble that also
      has ``predict_proba_and_uncertainty(X) -> (proba, std)`` gets both from one
      call, instead of running its base learners twice.

    A pixel that is nodata (or NaN) in any layer is nodata in every product. Files
    are written to hidden temporary names and moved into place together at the end:
    if the run fails, no product appears (older files under the final names stay as
    they were).

    Parameters
    ----------
    model : fitted classifier
        Anything with ``predict_proba`` and ``classes_`` (a scikit-learn classifier or
        pipeline, an ensemble). The model's own ``n_jobs`` (and that of the fitted
        estimators inside pipelines and ensembles) is set to 1 during prediction, on
        shallow copies (the model passed in is not changed): use ``n_jobs`` here
        instead. This also makes the output identical for every ``n_jobs``.
    layers : mapping of str to path-like
        Layer catalogue of one tile and year: feature name -> single-band raster, all
        on one grid (``Dataset.layers(tile, year)``).
    out_dir : path-like
        Folder of the products (created if needed).
    classes : ClassTable, optional
        Names and colours; must contain every code of ``model.classes_``. Defaults to
        the codes themselves with default colours.
    feature_names : sequence of str, optional
        The model's feature order, needed only for models fitted on arrays; models
        fitted on DataFrames know it (``feature_names_in_``).
    window_size : int, default 512
        Side of the square windows, in pixels. Memory grows with ``window_size ** 2 *
        n_features``; 512 x 512 x 26 features is 27 MB of float32 per window.
    n_jobs : int, default 1
        Windows predicted at the same time, on threads (-1: all CPUs). Output is the
        same for every ``n_jobs``.
    progress : bool, default True
        Show a progress bar over windows.
    extra_layers : {"raise", "ignore"}, default "raise"
        What to do with layers that are not features of the model: raise an error
        naming them (a misspelt layer name is caught early), or skip them (for a
        catalogue that holds more layers than one model uses).
    uncertainty : bool, default True
        Write the uncertainty product(s).
    tags : mapping, optional
        Extra metadata written into every product (:func:`predict_maps` stores the
        tile and year).

    Returns
    -------
    MapProducts
        The written paths.

    Raises
    ------
    KeyError
        A feature has no layer, or ``classes`` lacks a class of the model.
    ValueError
        Extra layers (with ``extra_layers="raise"``), layers off the common grid, or
        inconsistent feature names.

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
    >>> sorted(p.name for p in maps.paths())[:3]
    ['dominant_class.tif', 'dominant_probability.tif', 'probability_211.tif']
    >>> with rasterio.open(maps.dominant_class) as src:
    ...     sorted(np.unique(src.read(1)).tolist())
    [211, 231, 311]
    """
    return _predict_map(
        model,
        layers,
        out_dir,
        classes=classes,
        feature_names=feature_names,
        window_size=window_size,
        n_jobs=n_jobs,
        progress=progress,
        extra_layers=extra_layers,
        uncertainty=uncertainty,
        tags=tags,
        leave=True,
    )


def _predict_map(
    model: Any,
    layers: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    classes: ClassTable | None,
    feature_names: Sequence[str] | None,
    window_size: int,
    n_jobs: int,
    progress: bool,
    extra_layers: str,
    uncertainty: bool,
    tags: Mapping[str, Any] | None,
    leave: bool,
) -> MapProducts:
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"{type(model).__name__} has no predict_proba; map products need class "
            f"probabilities (use a probabilistic classifier)."
        )
    if not isinstance(window_size, int | np.integer) or window_size < 16:
        raise ValueError(f"window_size must be an integer of at least 16, got {window_size!r}.")
    window_size = int(window_size)
    names = _feature_names(model, feature_names)
    paths = _match_layers(layers, names, extra_layers)
    table = _map_classes(model, classes)
    values, encoding = _dominant_values(table)
    ensemble = callable(getattr(model, "predict_uncertainty", None))
    n_jobs = int(joblib.effective_n_jobs(n_jobs))
    out = Path(out_dir)
    products = _product_specs(table, values, encoding, ensemble, uncertainty, model, tags)

    predictor = _WindowPredictor(
        _single_threaded(model),
        names,
        len(table),
        values,
        ensemble,
        uncertainty,
        getattr(model, "feature_names_in_", None) is not None,
        table.codes,
    )
    with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHEMAX_BYTES), contextlib.ExitStack() as stack:
        sources = _open_layers(stack, paths)
        grid = check_same_grid({layer.name: layer.dataset for layer in sources})
        windows = _windows(grid, window_size)
        n_jobs = max(1, min(n_jobs, len(windows)))
        if n_jobs > 1:  # no BLAS threads inside window threads
            stack.enter_context(threadpool_limits(1))
        logger.info(
            "Predicting %d x %d pixels in %d window(s) of %d pixels on %d thread(s) into %s",
            grid.height,
            grid.width,
            len(windows),
            window_size,
            n_jobs,
            out,
        )
        # Enter every atomic output first and every writer after: every COG is finished
        # (_finish_all) before the atomic outputs move them into place, so a failure
        # leaves no product of this run at a final name.
        tmp = {
            name: stack.enter_context(atomic_output(out / products.files[name]))
            for name in products.names
        }
        writers = {
            name: stack.enter_context(
                CogWriter(tmp[name], grid, window_size=window_size, **products.options[name])
            )
            for name in products.names
        }

        def write(window: Window, arrays: dict[str, NDArray]) -> None:
            for name, array in arrays.items():
                writers[name].write(array, window)

        bar = stack.enter_context(
            tqdm(
                total=len(windows),
                desc=f"Predicting {out.name or out}",
                unit="window",
                # A bar for a single window says nothing: the tile-year bar is enough.
                disable=not progress or len(windows) < 2,
                leave=leave,
            )
        )
        _run_windows(windows, lambda w: _read_window(sources, w), predictor, write, n_jobs, bar)
        _finish_all(list(writers.values()), n_jobs)

    def file(name: str) -> Path:
        return out / products.files[name]

    written = set(products.files.values())
    stale = sorted(
        p.name
        for pattern in ("probability_*.tif", "uncertainty*.tif")
        for p in out.glob(pattern)
        if p.name not in written
    )
    if stale:
        logger.warning(
            "%s also holds products this run did not write (from an earlier model?): %s. "
            "Delete them, or write each model's maps to a folder of their own.",
            out,
            stale,
        )

    k = len(table)
    return MapProducts(
        directory=out,
        classes=table,
        probability={table.codes[i]: file(f"probability_{i}") for i in range(k)},
        dominant_class=file("dominant_class"),
        dominant_probability=file("dominant_probability"),
        uncertainty=file("uncertainty") if uncertainty and not ensemble else None,
        class_uncertainty=(
            {table.codes[i]: file(f"uncertainty_{i}") for i in range(k)}
            if uncertainty and ensemble
            else {}
        ),
        dominant_values={int(v): c for v, c in zip(values, table.codes, strict=True)},
    )


def _product_specs(
    table: ClassTable,
    values: NDArray[np.uint16],
    encoding: str,
    ensemble: bool,
    uncertainty: bool,
    model: Any,
    tags: Mapping[str, Any] | None,
) -> _Products:
    common = {"model": type(model).__name__, **(tags or {})}
    percent = {"dtype": "uint8", "nodata": PERCENT_NODATA, "units": ["percent"]}
    names: list[str] = []
    options: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    parts = [_file_part(c) for c in table.codes]
    if len(set(parts)) != len(parts):
        raise ValueError(
            f"Class codes {list(table.codes)} give clashing file names {parts}; use codes "
            f"that differ in letters, digits, '.', '_' or '-'."
        )

    def add(name: str, filename: str, **opts: Any) -> None:
        names.append(name)
        files[name] = filename
        options[name] = opts

    for i, cls in enumerate(table):
        add(
            f"probability_{i}",
            f"probability_{parts[i]}.tif",
            **percent,
            overview_resampling="average",
            tags={**common, "product": "probability", "class_code": cls.code},
            band_tags=[{"class_code": cls.code, "class_name": cls.name}],
            descriptions=[f"Probability of class {cls.code} ({cls.name}), percent"],
        )
    legend = [
        {"value": int(v), "code": c.code, "name": c.name, "colour": c.colour}
        for v, c in zip(values, table, strict=True)
    ]
    colormap = {CLASS_NODATA: (0, 0, 0, 0)}
    colormap.update({int(v): table.rgba(c.code) for v, c in zip(values, table, strict=True)})
    add(
        "dominant_class",
        "dominant_class.tif",
        dtype="uint16",
        nodata=CLASS_NODATA,
        overview_resampling="mode",
        colormap=colormap,
        tags={**common, "product": "dominant_class", "classes": legend, "encoding": encoding},
        descriptions=[
            "Dominant class (class code)"
            if encoding == "code"
            else "Dominant class (position in the 'classes' tag, from 1)"
        ],
    )
    add(
        "dominant_probability",
        "dominant_probability.tif",
        **percent,
        overview_resampling="average",
        tags={**common, "product": "dominant_probability"},
        descriptions=["Probability of the dominant class, percent"],
    )
    if uncertainty and ensemble:
        for i, cls in enumerate(table):
            add(
                f"uncertainty_{i}",
                f"uncertainty_{parts[i]}.tif",
                **percent,
                overview_resampling="average",
                tags={**common, "product": "uncertainty", "class_code": cls.code},
                band_tags=[{"class_code": cls.code, "class_name": cls.name}],
                descriptions=[
                    f"Standard deviation of the base learners' probabilities of class "
                    f"{cls.code} ({cls.name}), percent"
                ],
            )
    elif uncertainty:
        add(
            "uncertainty",
            "uncertainty.tif",
            **percent,
            overview_resampling="average",
            tags={**common, "product": "uncertainty"},
            descriptions=["Normalized entropy of the class probabilities, percent"],
        )
    return _Products(names, options, files)


def predict_maps(
    model: Any,
    dataset: Any,
    out_dir: str | os.PathLike,
    *,
    tiles: Iterable[str] | str | None = None,
    years: Iterable[int] | int | None = None,
    progress: bool = True,
    **kwargs: Any,
) -> pd.DataFrame:
    """Predict the map products of every tile and year of a dataset.

    Each tile-year reads its own layers (``dataset.layers(tile, year)``, per-year
    layers of that year and the static layers) and is written to
    ``out_dir/{tile}/{year}/``, with the tile and year also in the products' tags.

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
        Progress bars over tile-years and windows.
    **kwargs
        Passed to :func:`predict_map` (``window_size``, ``n_jobs``, ...); ``classes``
        defaults to ``dataset.classes``.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``tile``, ``year``, ``product``, ``class_code`` (``None``
        for products that are not per class) and ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()  # the bundled, simulated landscape
    >>> X = pd.DataFrame({"nir_summer": [20, 120], "elevation": [100, 900]})
    >>> model = DecisionTreeClassifier().fit(X, [231, 311])
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> table = predict_maps(model, ds, out, tiles="9529", years=[2000, 2018],
    ...                      extra_layers="ignore", progress=False)
    >>> table.groupby("year").size().to_dict()
    {2000: 5, 2018: 5}
    >>> table["path"].iloc[0].relative_to(out).as_posix()
    '9529/2000/probability_231.tif'
    """
    tiles = _select("tile", tiles, tuple(dataset.tiles))
    years = _select("year", years, tuple(dataset.years))
    # One source of defaults and names: predict_map's signature. A misspelt option is
    # an error, not silently ignored.
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
    options.update(kwargs)
    options["progress"] = progress
    if options["classes"] is None:
        options["classes"] = getattr(dataset, "classes", None)
    user_tags = dict(options.pop("tags") or {})
    frames = []
    jobs = [(tile, year) for tile in tiles for year in years]
    for tile, year in tqdm(jobs, desc="Tiles and years", unit="map", disable=not progress):
        layers = dataset.layers(tile, year)
        out = Path(out_dir) / str(tile) / str(year)
        logger.info("Tile %s, year %s -> %s", tile, year, out)
        result = _predict_map(
            model,
            layers,
            out,
            tags={**user_tags, "tile": tile, "year": year},
            leave=False,
            **options,
        )
        frame = result.to_frame()
        frame.insert(0, "year", year)
        frame.insert(0, "tile", tile)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["tile", "year", "product", "class_code", "path"])
    return pd.concat(frames, ignore_index=True)


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


def read_map_at_points(path: str | os.PathLike, xs: ArrayLike, ys: ArrayLike) -> np.ma.MaskedArray:
    """Values of a single-band map at map coordinates, masked where nodata or outside.

    Reads one pixel per point, so memory does not depend on the map's size.

    Parameters
    ----------
    path : path-like
        A raster, for example ``probability_231.tif``.
    xs, ys : array-like
        Point coordinates in the map's CRS.

    Returns
    -------
    numpy.ma.MaskedArray
        One value per point, in the raster's dtype; masked for nodata pixels and for
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
    >>> read_map_at_points(path, [5, 15, 99], [5, 5, 5]).tolist()
    [7, None, None]
    """
    x = np.atleast_1d(np.asarray(xs, dtype=np.float64))
    y = np.atleast_1d(np.asarray(ys, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"xs and ys must be 1-D and of equal length, got {x.shape} and {y.shape}.")
    with rasterio.open(path) as src:
        if src.count != 1:
            raise ValueError(f"{path} has {src.count} bands; read_map_at_points reads one band.")
        rows, cols = rasterio.transform.rowcol(src.transform, x, y)
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        data = np.zeros(x.shape, dtype=src.dtypes[0])
        mask = ~inside
        for i in np.flatnonzero(inside):
            window = Window(int(cols[i]), int(rows[i]), 1, 1)
            data[i] = src.read(1, window=window)[0, 0]
            mask[i] |= not src.read_masks(1, window=window)[0, 0]
    return np.ma.MaskedArray(data, mask=mask)
