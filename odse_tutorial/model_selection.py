"""Honest cross-validation for spatiotemporal samples: spatial splitters and nested CV.

Land-cover samples are points, and the same location is often surveyed in several years.
A random k-fold split then puts one survey of a location in the training folds and another
survey of it in the test fold: the model is tested on places it has already seen, and the
score is optimistic (Roberts et al. 2017; Ploton et al. 2020). The splitters here keep
whole groups of samples -- square blocks, tiles or locations -- on one side of each split:

- :func:`block_cv`: k-fold over square spatial blocks (the package default);
- :func:`tile_cv`: leave one tile out;
- :func:`location_cv`: k-fold over locations (leave-location-out for multi-year samples);
- :func:`random_cv`: the plain, optimistic baseline, for comparison only.

Each returns a :class:`SpatialKFold`, which carries its groups with it. It therefore works
wherever scikit-learn takes ``cv`` (``cross_val_score``, ``cross_val_predict``,
``GridSearchCV(cv=...)``), also nested inside an outer cross-validation, without anybody
passing ``groups``. :func:`nested_cross_validate` tunes inside each outer training part
only, so that the reported score is not the tuned score; :func:`fold_overlap` counts the
locations that leak between training and test folds.
"""

from __future__ import annotations

import difflib
import logging
import numbers
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed
from tqdm.auto import tqdm

__all__ = [
    "CrossValidationResult",
    "SpatialKFold",
    "block_cv",
    "fold_overlap",
    "location_cv",
    "nested_cross_validate",
    "random_cv",
    "spatial_blocks",
    "tile_cv",
]

logger = logging.getLogger(__name__)


# -- small helpers -------------------------------------------------------------------------
def _require_column(frame: pd.DataFrame, column: str, argument: str) -> None:
    """Raise a KeyError naming a missing column, the columns there are, and a close match."""
    if column in frame.columns:
        return
    names = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(str(column), names, n=1)
    hint = f" Did you mean {argument}={close[0]!r}?" if close else ""
    raise KeyError(
        f"Column {column!r} ({argument}) is not in the samples table.{hint} Columns found: {names}."
    )


def _take(data: Any, indices: NDArray[np.intp]) -> Any:
    """Rows ``indices`` of an array or a pandas object (by position, keeping the index)."""
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    return np.asarray(data)[indices]


def _n_rows(data: Any) -> int:
    return data.shape[0] if hasattr(data, "shape") else len(data)


def _factorize_sorted(values: ArrayLike) -> tuple[NDArray[np.intp], NDArray]:
    """Codes and sorted uniques of ``values`` (text order when the types do not compare)."""
    values = pd.Series(np.asarray(values, dtype=object))
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(values.astype(str), sort=True)
    return codes, np.asarray(uniques, dtype=object)


# -- spatial blocks ------------------------------------------------------------------------
def spatial_blocks(
    samples: Any,
    block_size: float,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
) -> pd.Series:
    """Square block id of each sample, such as ``"E0123N0456"``.

    The block of a point ``(x, y)`` is column ``floor((x - x0) / block_size)`` and row
    ``floor((y - y0) / block_size)``; the id writes both with four digits.

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        The samples, in a projected CRS (metres). Non-point geometries use their centroid.
    block_size : float
        Side of the square blocks, in the units of the CRS (metres).
    origin : tuple of float, default (0.0, 0.0)
        Lower-left corner ``(x0, y0)`` of block ``E0000N0000``.

    Returns
    -------
    pandas.Series of str
        The block id of each sample, indexed like ``samples``.

    Raises
    ------
    TypeError
        If ``samples`` is not a GeoDataFrame.
    ValueError
        If the CRS is geographic (degrees), ``block_size`` is not positive, or a
        geometry is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500, 1500, 2500], [200, 200, 1200]),
    ...                        crs="EPSG:3035")
    >>> spatial_blocks(pts, 1000).tolist()
    ['E0000N0000', 'E0001N0000', 'E0002N0001']
    """
    import geopandas as gpd

    if not isinstance(samples, gpd.GeoDataFrame):
        raise TypeError(
            "spatial_blocks needs the samples as a geopandas.GeoDataFrame, got "
            f"{type(samples).__name__}. Build one with geopandas.GeoDataFrame(df, "
            "geometry=geopandas.points_from_xy(df.x, df.y), crs=...)."
        )
    if not (isinstance(block_size, numbers.Real) and block_size > 0):
        raise ValueError(f"block_size must be a positive length in metres, got {block_size!r}.")
    if samples.crs is None:
        warnings.warn(
            "The samples have no CRS; block_size is taken to be in their coordinate units. "
            "Set the CRS with samples.set_crs(...) to be sure they are metres.",
            UserWarning,
            stacklevel=2,
        )
    elif samples.crs.is_geographic:
        raise ValueError(
            f"The samples are in a geographic CRS ({samples.crs.to_string()}, degrees), but "
            "block_size is in metres. Project them first, e.g. "
            "samples.to_crs(samples.estimate_utm_crs()) or samples.to_crs('EPSG:3035')."
        )
    geometry = samples.geometry
    if len(geometry) and not (geometry.geom_type == "Point").all():
        geometry = geometry.centroid
    x = geometry.x.to_numpy(dtype=float)
    y = geometry.y.to_numpy(dtype=float)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} samples have an empty or missing geometry; drop them first, "
            "e.g. samples[~samples.geometry.is_empty & samples.geometry.notna()]."
        )
    column = np.floor((x - origin[0]) / block_size).astype(np.int64)
    row = np.floor((y - origin[1]) / block_size).astype(np.int64)
    ids = (
        "E"
        + pd.Series(column).astype(str).str.zfill(4)
        + "N"
        + pd.Series(row).astype(str).str.zfill(4)
    )
    return pd.Series(ids.to_numpy(), index=samples.index, name="block")


def _merge_by_location(
    units: pd.Series, locations: pd.Series | None, what: str = "blocks"
) -> pd.Series:
    """Join units (blocks, tiles) that share a location, so each location has one group.

    A location surveyed in several years can fall into two blocks (GPS jitter): both
    blocks then become one group, named by their ids joined with ``+``.
    """
    unit_codes, unit_names = _factorize_sorted(units)
    unit_names = np.array([str(u) for u in unit_names], dtype=object)
    if locations is None:
        return pd.Series(unit_names[unit_codes], index=units.index)
    location_codes, _ = pd.factorize(locations)  # missing locations -> -1, linked to nothing
    linked = location_codes >= 0
    n_units, n_locations = len(unit_names), int(location_codes.max(initial=-1)) + 1
    size = n_units + n_locations
    graph = coo_matrix(
        (
            np.ones(int(linked.sum()), dtype=np.int8),
            (unit_codes[linked], n_units + location_codes[linked]),
        ),
        shape=(size, size),
    )
    _, component = connected_components(graph, directed=False)
    unit_component = component[:n_units]
    members = pd.Series(unit_names).groupby(unit_component).agg(lambda s: "+".join(sorted(s)))
    group_names = members.loc[unit_component].to_numpy()
    n_groups = len(members)
    if n_groups < n_units:
        logger.info(
            "Merged %d %s into %d groups: some locations have samples in more than one of them.",
            n_units,
            what,
            n_groups,
        )
    return pd.Series(group_names[unit_codes], index=units.index)


# -- the splitter --------------------------------------------------------------------------
class SpatialKFold(BaseCrossValidator):
    """K-fold cross-validation over groups of samples (blocks, tiles, locations).

    All samples of a group are in the same test fold, so no group is on both sides of a
    split. The splitter carries its groups: it finds the group of each row of ``X`` by the
    index of ``X`` (a pandas DataFrame), so it also works on a subset of the samples, such
    as the training part of an outer fold in nested cross-validation.

    Groups go to folds deterministically: shuffled with ``random_state``, then the largest
    group first into the fold with the fewest samples so far, which balances fold sizes.

    Parameters
    ----------
    groups : pandas.Series
        Group id of each sample, indexed like the samples table (unique index).
    n_splits : int or None, default 5
        Number of folds (at least 2). ``None`` gives one fold per group present in ``X``
        (leave one group out).
    random_state : int, default 0
        Seed of the shuffle of groups before they are dealt to folds.

    Notes
    -----
    How :meth:`split` finds the groups of ``X``:

    - ``groups`` passed explicitly are used as they are;
    - a pandas ``X`` is aligned by its index (keep the index of the overlay table; do not
      ``reset_index``);
    - any other ``X`` is aligned by position, if it has as many rows as ``groups``.

    Examples
    --------
    >>> groups = pd.Series(["a", "a", "b", "b", "c", "c", "d"], index=range(10, 17))
    >>> cv = SpatialKFold(groups, n_splits=2)
    >>> cv.fold_of_group().to_dict()
    {'a': 0, 'b': 1, 'c': 0, 'd': 1}
    >>> X = pd.DataFrame({"ndvi": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}, index=groups.index)
    >>> [X.index[test].tolist() for _, test in cv.split(X)]
    [[10, 11, 14, 15], [12, 13, 16]]
    >>> inner = X.iloc[2:]  # a subset, e.g. an outer training part: aligned by index
    >>> [inner.index[test].tolist() for _, test in cv.split(inner)]
    [[14, 15, 16], [12, 13]]
    """

    # With scikit-learn's metadata routing on, explicitly passed ``groups`` reach split().
    __metadata_request__split = {"groups": True}

    def __init__(
        self, groups: pd.Series, n_splits: int | None = 5, *, random_state: int = 0
    ) -> None:
        if not isinstance(groups, pd.Series):
            groups = pd.Series(np.asarray(groups, dtype=object))
        if not groups.index.is_unique:
            raise ValueError(
                "The index of groups (the samples table) has repeated labels; rows of X "
                "cannot be matched to groups. Give the samples a unique index first, e.g. "
                "samples.reset_index(drop=True), before the overlay."
            )
        if groups.isna().any():
            raise ValueError(
                f"{int(groups.isna().sum())} samples have no group id; fill them or drop "
                "those samples before building the splitter."
            )
        if n_splits is not None and (
            not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool) or n_splits < 2
        ):
            raise ValueError(
                f"n_splits must be a whole number of at least 2, or None for one fold per "
                f"group; got {n_splits!r}."
            )
        self.groups = groups.copy()
        self.n_splits = n_splits
        self.random_state = random_state

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, n_groups={self.groups.nunique()}, "
            f"n_samples={len(self.groups)}, random_state={self.random_state})"
        )

    def groups_of(self, X: Any, groups: ArrayLike | None = None) -> NDArray:
        """Group id of each row of ``X`` (see the Notes of the class for how)."""
        if groups is not None:
            groups = np.asarray(groups, dtype=object)
            if len(groups) != _n_rows(X):
                raise ValueError(
                    f"groups has {len(groups)} values but X has {_n_rows(X)} rows; pass one "
                    "group id per row of X, or leave groups out to use the splitter's own."
                )
            return groups
        if isinstance(X, pd.DataFrame | pd.Series):
            unknown = ~X.index.isin(self.groups.index)
            if unknown.any():
                examples = list(X.index[unknown][:5])
                raise ValueError(
                    f"{int(unknown.sum())} rows of X have index labels that are not in the "
                    f"samples this splitter was built from (e.g. {examples}). Pass X as the "
                    "feature table returned by the overlay, with its original index (no "
                    "reset_index), and build the splitter from the same samples table."
                )
            return self.groups.reindex(X.index).to_numpy(dtype=object)
        n_rows = _n_rows(X)
        if n_rows != len(self.groups):
            raise ValueError(
                f"X is a {type(X).__name__} with {n_rows} rows and no index, but the splitter "
                f"holds groups for {len(self.groups)} samples, so rows cannot be matched to "
                "groups. Pass X as the pandas DataFrame returned by the overlay (with its "
                "index), or pass groups= explicitly."
            )
        return self.groups.to_numpy(dtype=object)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: ArrayLike | None = None) -> int:
        """Number of folds; with ``n_splits=None``, the number of groups in ``X``."""
        if self.n_splits is not None:
            return int(self.n_splits)
        if X is None and groups is None:
            return int(self.groups.nunique())
        return len(pd.unique(pd.Series(self.groups_of(X, groups))))

    def fold_of_group(self, X: Any = None, groups: ArrayLike | None = None) -> pd.Series:
        """The test fold of each group present in ``X`` (all stored groups without ``X``)."""
        if X is None and groups is None:
            row_groups = self.groups.to_numpy(dtype=object)
        else:
            row_groups = self.groups_of(X, groups)
        codes, names = _factorize_sorted(row_groups)
        return pd.Series(self._assign(codes, len(names)), index=pd.Index(names, name="group"))

    def _assign(self, codes: NDArray[np.intp], n_groups: int) -> NDArray[np.intp]:
        n_splits = n_groups if self.n_splits is None else int(self.n_splits)
        if n_groups < n_splits:
            raise ValueError(
                f"Only {n_groups} groups (blocks, tiles or locations) among these samples, "
                f"fewer than n_splits={n_splits}. Use a smaller n_splits, smaller blocks, "
                "or n_splits=None for one fold per group."
            )
        if n_splits < 2:
            raise ValueError(
                f"Only {n_groups} group among these samples; cross-validation needs at least 2. "
                "Use smaller blocks, or more tiles."
            )
        sizes = np.bincount(codes, minlength=n_groups)
        order = check_random_state(self.random_state).permutation(n_groups)
        order = order[np.argsort(-sizes[order], kind="stable")]
        fold_sizes = np.zeros(n_splits, dtype=np.int64)
        fold = np.empty(n_groups, dtype=np.intp)
        for group in order:
            target = int(np.argmin(fold_sizes))
            fold[group] = target
            fold_sizes[target] += sizes[group]
        return fold

    def split(
        self, X: Any, y: Any = None, groups: ArrayLike | None = None
    ) -> Iterator[tuple[NDArray[np.intp], NDArray[np.intp]]]:
        """Generate training and test row positions, one pair per fold.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            The features; a DataFrame is matched to the groups by its index.
        y : array-like, optional
            Ignored; there for scikit-learn compatibility.
        groups : array-like of shape (n_samples,), optional
            Group ids that replace the splitter's own.

        Yields
        ------
        train, test : ndarray of int
            Row positions in ``X``.
        """
        codes, names = _factorize_sorted(self.groups_of(X, groups))
        row_fold = self._assign(codes, len(names))[codes]
        for k in range(int(row_fold.max(initial=-1)) + 1):
            is_test = row_fold == k
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)


# -- factories -----------------------------------------------------------------------------
def _location_ids(samples: pd.DataFrame, location_column: str | None) -> pd.Series | None:
    if location_column is None:
        return None
    _require_column(samples, location_column, "location_column")
    return samples[location_column]


def block_cv(
    samples: Any,
    block_size: float,
    *,
    n_splits: int = 5,
    origin: tuple[float, float] = (0.0, 0.0),
    location_column: str | None = "location_id",
    random_state: int = 0,
) -> SpatialKFold:
    """K-fold cross-validation over square spatial blocks (the package default).

    Blocks that share a location (a place surveyed in several years whose points fall in
    different blocks) are merged, so that every location sits in one test fold.

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        The samples, in a projected CRS (metres), with a unique index.
    block_size : float
        Side of the square blocks, in metres. Larger than the range of spatial
        autocorrelation of the features, ideally.
    n_splits : int, default 5
        Number of folds.
    origin : tuple of float, default (0.0, 0.0)
        Lower-left corner of the block grid.
    location_column : str or None, default "location_id"
        Column with the location id; ``None`` when every location has one sample only.
    random_state : int, default 0
        Seed of the assignment of blocks to folds.

    Returns
    -------
    SpatialKFold

    Examples
    --------
    >>> import geopandas as gpd
    >>> samples = gpd.GeoDataFrame(
    ...     {"location_id": [1, 1, 2, 3, 4]},
    ...     geometry=gpd.points_from_xy([990, 1010, 2500, 3500, 4500], [0, 0, 0, 0, 0]),
    ...     crs="EPSG:3035")
    >>> cv = block_cv(samples, 1000, n_splits=2)
    >>> cv.groups.tolist()  # location 1 straddles blocks 0 and 1: they become one group
    ['E0000N0000+E0001N0000', 'E0000N0000+E0001N0000', 'E0002N0000', 'E0003N0000', 'E0004N0000']
    """
    locations = _location_ids(samples, location_column)
    blocks = spatial_blocks(samples, block_size, origin=origin)
    groups = _merge_by_location(blocks, locations).rename("block")
    return SpatialKFold(groups, n_splits, random_state=random_state)


def tile_cv(
    samples: pd.DataFrame,
    *,
    tile_column: str = "tile_id",
    location_column: str | None = "location_id",
) -> SpatialKFold:
    """Leave-one-tile-out cross-validation: one fold per tile.

    Tiles that share a location are merged into one group (and one fold).

    Parameters
    ----------
    samples : pandas.DataFrame or geopandas.GeoDataFrame
        The samples, with a unique index.
    tile_column : str, default "tile_id"
        Column with the tile id.
    location_column : str or None, default "location_id"
        Column with the location id; ``None`` to skip merging.

    Returns
    -------
    SpatialKFold
        With ``n_splits=None``: one fold per tile present in ``X``.

    Examples
    --------
    >>> samples = pd.DataFrame({"tile_id": ["A", "A", "B", "C"], "location_id": [1, 2, 3, 4]})
    >>> tile_cv(samples).get_n_splits()
    3
    """
    _require_column(samples, tile_column, "tile_column")
    locations = _location_ids(samples, location_column)
    tiles = samples[tile_column]
    if tiles.isna().any():
        raise ValueError(
            f"{int(tiles.isna().sum())} samples have no {tile_column!r}; fill or drop them."
        )
    groups = _merge_by_location(tiles, locations, what="tiles").rename("tile")
    return SpatialKFold(groups, n_splits=None)


def location_cv(
    samples: pd.DataFrame,
    *,
    location_column: str = "location_id",
    n_splits: int = 5,
    random_state: int = 0,
) -> SpatialKFold:
    """K-fold cross-validation over locations: all years of a location share one fold.

    Parameters
    ----------
    samples : pandas.DataFrame or geopandas.GeoDataFrame
        The samples, with a unique index.
    location_column : str, default "location_id"
        Column with the location id.
    n_splits : int, default 5
        Number of folds.
    random_state : int, default 0
        Seed of the assignment of locations to folds.

    Returns
    -------
    SpatialKFold

    Examples
    --------
    >>> samples = pd.DataFrame({"location_id": [1, 1, 2, 2, 3, 4], "year": [2000, 2010] * 3})
    >>> cv = location_cv(samples, n_splits=2)
    >>> [test.tolist() for _, test in cv.split(samples)]
    [[2, 3, 4], [0, 1, 5]]
    """
    locations = _location_ids(samples, location_column)
    if locations.isna().any():
        raise ValueError(
            f"{int(locations.isna().sum())} samples have no {location_column!r}; give each a "
            "location id (a unique one per sample if it was surveyed once) or drop them."
        )
    return SpatialKFold(locations.rename("location"), n_splits, random_state=random_state)


def random_cv(n_splits: int = 5, random_state: int = 0) -> StratifiedKFold:
    """Plain stratified k-fold on shuffled samples: the optimistic baseline.

    It ignores space and locations, so surveys of one location in different years land on
    both sides of a split. Use it only to show how much it overestimates accuracy
    compared with :func:`block_cv`, :func:`tile_cv` or :func:`location_cv`.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds.
    random_state : int, default 0
        Seed of the shuffle.

    Returns
    -------
    sklearn.model_selection.StratifiedKFold

    Examples
    --------
    >>> random_cv(3)
    StratifiedKFold(n_splits=3, random_state=0, shuffle=True)
    """
    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def fold_overlap(cv: Any, X: Any, locations: ArrayLike, *, y: ArrayLike | None = None) -> int:
    """Number of locations that appear in both the training and the test part of a fold.

    Parameters
    ----------
    cv : cross-validation splitter
        Anything with ``split(X, y)``.
    X : pandas.DataFrame or array-like
        The features, as passed to the splitter.
    locations : pandas.Series or array-like
        Location id of each sample; a Series is aligned to a DataFrame ``X`` by index.
    y : array-like, optional
        Class codes, for splitters that need them (``random_cv`` stratifies on ``y``).

    Returns
    -------
    int
        Distinct locations found on both sides of at least one split: 0 for an honest
        spatial splitter.

    Examples
    --------
    >>> samples = pd.DataFrame({"location_id": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> fold_overlap(location_cv(samples, n_splits=2), samples, samples["location_id"])
    0
    """
    if isinstance(locations, pd.Series) and isinstance(X, pd.DataFrame | pd.Series):
        locations = locations.reindex(X.index)
    locations = np.asarray(locations, dtype=object)
    if len(locations) != _n_rows(X):
        raise ValueError(
            f"locations has {len(locations)} values but X has {_n_rows(X)} rows; pass the "
            "location column of the samples that X was built from."
        )
    leaked: set = set()
    for train, test in cv.split(X, y):
        shared = pd.Index(locations[test]).intersection(pd.Index(locations[train]))
        leaked.update(shared)
    return len(leaked)


# -- nested cross-validation ---------------------------------------------------------------
@dataclass
class CrossValidationResult:
    """Out-of-fold predictions of :func:`nested_cross_validate`.

    Attributes
    ----------
    y_true : ndarray of shape (n_samples,)
        The reference class codes.
    y_pred : ndarray of shape (n_samples,)
        The class predicted for each sample by the model that did not see it.
    y_proba : ndarray of shape (n_samples, n_classes) or None
        Out-of-fold class probabilities, columns in the order of ``classes_``; ``None``
        when the estimator has no ``predict_proba``.
    classes_ : ndarray
        All class codes of ``y``, sorted (as scikit-learn's ``classes_``).
    fold : ndarray of int, shape (n_samples,)
        The outer fold in which each sample was a test sample.
    folds : pandas.DataFrame
        One row per outer fold: ``fold``, ``n_train``, ``n_test``, ``fit_seconds``,
        ``overall_accuracy`` and, for search estimators, ``best_params`` and
        ``best_inner_score`` (the tuned, optimistic inner score).
    fit_seconds : float
        Total fitting time over the outer folds.
    index : pandas.Index
        The index of ``X`` (positions 0..n-1 when ``X`` is an array).
    """

    y_true: NDArray
    y_pred: NDArray
    y_proba: NDArray[np.float64] | None
    classes_: NDArray
    fold: NDArray[np.intp]
    folds: pd.DataFrame
    fit_seconds: float
    index: pd.Index

    @property
    def overall_accuracy(self) -> float:
        """Share of samples whose out-of-fold prediction is their reference class."""
        return float(np.mean(self.y_pred == self.y_true))

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: ``fold``, ``y_true``, ``y_pred`` and ``proba_{code}``."""
        frame = pd.DataFrame(
            {"fold": self.fold, "y_true": self.y_true, "y_pred": self.y_pred}, index=self.index
        )
        if self.y_proba is not None:
            for j, code in enumerate(self.classes_):
                frame[f"proba_{code}"] = self.y_proba[:, j]
        return frame


def _check_cv(cv: Any) -> None:
    if cv is None or isinstance(cv, numbers.Integral) or not hasattr(cv, "split"):
        raise TypeError(
            f"cv must be a splitter object, got {cv!r}. Build one from the samples, e.g. "
            "cv=block_cv(samples, block_size=10_000), or cv=random_cv() for the "
            "optimistic baseline (an integer would give unshuffled, non-spatial folds)."
        )


def _check_partition(splits: list, n_samples: int) -> NDArray[np.intp]:
    """Fold number of each sample; every sample must be in exactly one test fold."""
    fold = np.full(n_samples, -1, dtype=np.intp)
    times_tested = np.zeros(n_samples, dtype=np.intp)
    for k, (_, test) in enumerate(splits):
        fold[test] = k
        times_tested[test] += 1
    if (times_tested != 1).any():
        raise ValueError(
            f"{int((times_tested != 1).sum())} samples are in no test fold or in several; "
            "nested_cross_validate needs test folds that cover every sample once, as the "
            "splitters of this module (block_cv, tile_cv, location_cv, random_cv) do."
        )
    return fold


def _fit_and_predict(
    estimator: BaseEstimator,
    X: Any,
    y: Any,
    sample_weight: NDArray | None,
    train: NDArray[np.intp],
    test: NDArray[np.intp],
    fold: int,
) -> dict[str, Any]:
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight[train]}
    start = time.perf_counter()
    estimator.fit(_take(X, train), _take(y, train), **fit_params)
    seconds = time.perf_counter() - start
    X_test = _take(X, test)
    out: dict[str, Any] = {
        "fold": fold,
        "n_train": len(train),
        "n_test": len(test),
        "fit_seconds": seconds,
        "y_pred": np.asarray(estimator.predict(X_test)),
        "proba": estimator.predict_proba(X_test) if hasattr(estimator, "predict_proba") else None,
        "fold_classes": np.asarray(estimator.classes_),
    }
    if hasattr(estimator, "best_params_"):
        out["best_params"] = dict(estimator.best_params_)
        out["best_inner_score"] = float(getattr(estimator, "best_score_", np.nan))
    return out


def _place_proba(
    result: dict[str, Any], classes: NDArray, proba: NDArray[np.float64], test: NDArray[np.intp]
) -> None:
    """Copy a fold's probabilities into the columns of all classes; absent classes stay 0."""
    fold_classes = result["fold_classes"]
    columns = np.searchsorted(classes, fold_classes)
    proba[np.ix_(test, columns)] = result["proba"]
    missing = np.setdiff1d(classes, fold_classes)
    if len(missing):
        warnings.warn(
            f"Outer fold {result['fold']}: classes {missing.tolist()} have no training samples, "
            "so their probability is 0 for this fold's test samples. Drop rare classes first "
            "(odse_tutorial.labels.drop_rare_classes) or use fewer, larger folds.",
            UserWarning,
            stacklevel=3,
        )


def nested_cross_validate(
    estimator: BaseEstimator,
    X: Any,
    y: ArrayLike,
    *,
    cv: Any,
    sample_weight: ArrayLike | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> CrossValidationResult:
    """Out-of-fold predictions of an estimator, tuned inside each outer training part.

    For each outer fold of ``cv`` a fresh clone of ``estimator`` is fitted on the training
    part and predicts the test part. When ``estimator`` is a search (``GridSearchCV``,
    ``RandomizedSearchCV``, ``HalvingGridSearchCV``...), its own ``cv`` tunes on inner
    folds of the outer training part only: the test part never influences the chosen
    hyper-parameters, and the out-of-fold score is an honest estimate for the whole
    procedure "tune, then fit".

    Parameters
    ----------
    estimator : scikit-learn classifier or search object
        Cloned for every outer fold; never fitted itself.
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The features. Keep the overlay's DataFrame (with its index) so that spatial
        splitters, inner ones included, find the groups of the rows.
    y : array-like of shape (n_samples,)
        Reference class codes.
    cv : cross-validation splitter
        The outer splitter, e.g. :func:`block_cv`; its test folds must cover every sample
        exactly once.
    sample_weight : array-like of shape (n_samples,), optional
        Passed to ``fit`` (subset to the training part). A search passes it on to its
        estimator; a ``Pipeline`` needs a step-prefixed name, so fit it through a search
        or without weights.
    n_jobs : int, optional
        Outer folds fitted in parallel (joblib); ``None`` means one at a time.
    progress : bool, default True
        Show a progress bar over the outer folds.

    Returns
    -------
    CrossValidationResult

    Raises
    ------
    TypeError
        If ``cv`` is not a splitter object (an integer would give non-spatial folds).
    ValueError
        If the test folds do not cover every sample once, or lengths disagree.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"ndvi": rng.random(60), "elevation": rng.random(60)})
    >>> y = np.where(X["ndvi"] > 0.5, 311, 231)
    >>> samples = pd.DataFrame({"location_id": np.arange(60) // 2})  # two years each
    >>> search = GridSearchCV(DecisionTreeClassifier(random_state=0),
    ...                       {"max_depth": [1, 3]}, cv=location_cv(samples, n_splits=3))
    >>> result = nested_cross_validate(search, X, y, cv=location_cv(samples), progress=False)
    >>> result.folds[["fold", "n_train", "n_test"]].to_numpy().tolist()[0]
    [0, 48, 12]
    >>> round(result.overall_accuracy, 2)
    1.0
    """
    _check_cv(cv)
    y_values = np.asarray(y)
    n_samples = _n_rows(X)
    if y_values.ndim != 1 or len(y_values) != n_samples:
        raise ValueError(
            f"y must hold one class code per row of X ({n_samples}), got shape {y_values.shape}."
        )
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=float)
        if weights.shape != (n_samples,):
            raise ValueError(
                f"sample_weight must hold one weight per row of X ({n_samples}), "
                f"got shape {weights.shape}."
            )
    classes = np.unique(y_values)
    splits = list(cv.split(X, y_values))
    fold = _check_partition(splits, n_samples)

    jobs = (
        delayed(_fit_and_predict)(clone(estimator), X, y, weights, train, test, k)
        for k, (train, test) in enumerate(splits)
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    y_pred = np.empty(n_samples, dtype=y_values.dtype)
    proba: NDArray[np.float64] | None = None
    rows = []
    for result in tqdm(results, total=len(splits), desc="outer folds", disable=not progress):
        test = splits[result["fold"]][1]
        y_pred[test] = result["y_pred"]
        if result["proba"] is not None:
            if proba is None:
                proba = np.zeros((n_samples, len(classes)), dtype=np.float64)
            _place_proba(result, classes, proba, test)
        row = {k: v for k, v in result.items() if k not in ("y_pred", "proba", "fold_classes")}
        row["overall_accuracy"] = float(np.mean(result["y_pred"] == y_values[test]))
        rows.append(row)
        logger.info(
            "Outer fold %d: %d training / %d test samples, overall accuracy %.3f.",
            row["fold"],
            row["n_train"],
            row["n_test"],
            row["overall_accuracy"],
        )
    folds = pd.DataFrame(rows)
    leading = ["fold", "n_train", "n_test", "fit_seconds", "overall_accuracy"]
    folds = folds[leading + [c for c in folds.columns if c not in leading]]
    index = X.index if isinstance(X, pd.DataFrame | pd.Series) else pd.RangeIndex(n_samples)
    return CrossValidationResult(
        y_true=y_values.copy(),
        y_pred=y_pred,
        y_proba=proba,
        classes_=classes,
        fold=fold,
        folds=folds,
        fit_seconds=float(folds["fit_seconds"].sum()),
        index=index,
    )
