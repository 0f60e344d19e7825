"""Spatial cross-validation for spatiotemporal samples.

Land-cover samples are points, and the same location is often surveyed in several years.
A random k-fold split then puts one survey of a location in the training folds and another
survey of it in the test fold: the model is tested on places it has already seen, and the
score is optimistic (Roberts et al. 2017; Ploton et al. 2020). The splitters here keep
whole groups of samples -- square blocks, tiles or locations -- on one side of each split:

- :func:`block_cv`: k-fold over square spatial blocks (the package default);
- :func:`tile_cv`: leave one tile out;
- :func:`location_cv`: k-fold over locations (leave-location-out for multi-year samples);
- :func:`random_cv`: the plain, optimistic baseline, for comparison only.

Each returns a :class:`SpatialKFold`, which carries its groups. It works wherever
scikit-learn takes ``cv`` (``cross_val_predict``, ``cross_validate``,
``GridSearchCV(cv=...)``, ``StackingClassifier(cv=...)``), also inside an outer
cross-validation (nested CV), without anybody passing ``groups``.
:func:`fold_ids` gives the test fold of each sample; :func:`nn_distances` compares where
the folds test with where the map predicts (nearest-neighbour distances, as CAST's
``geodist``).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import wasserstein_distance
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.neighbors import KDTree

from odse_tutorial._checks import missing_column, n_rows

__all__ = [
    "SpatialKFold",
    "block_cv",
    "cross_val_predict_years",
    "cv_candidates",
    "fold_ids",
    "location_cv",
    "nn_distances",
    "out_of_fold_proba",
    "random_cv",
    "tile_cv",
]

logger = logging.getLogger(__name__)


def _require_column(frame: pd.DataFrame, column: str, argument: str) -> None:
    """Raise a KeyError naming a missing column, the columns there are, and a close match."""
    if message := missing_column(column, frame.columns, fix=f" Pass {argument}='{{close}}'."):
        raise KeyError(message)


def _factorize_sorted(values: ArrayLike) -> tuple[NDArray[np.intp], NDArray]:
    """Codes and sorted uniques of ``values``."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object)), sort=True)
    return codes, np.asarray(uniques, dtype=object)


def _duplicated(index: pd.Index, what: str = "The samples table") -> str:
    """Why a duplicated index cannot match rows to groups, and the fix."""
    repeated = index[index.duplicated()].unique()
    return (
        f"{what} has a duplicated index (label(s) {', '.join(map(repr, repeated[:5].tolist()))}"
        f"{', ...' if len(repeated) > 5 else ''} appear more than once, as after pd.concat "
        "without ignore_index=True): its rows cannot be matched to their groups, and would get "
        "other rows' groups. Use samples.reset_index(drop=True) for the splitter and for X, or pass "
        "groups= explicitly."
    )


# -- the splitter --------------------------------------------------------------------------
class SpatialKFold(BaseCrossValidator):
    """K-fold cross-validation over groups of samples (blocks, tiles, locations).

    All samples of a group are in the same test fold, so no group is on both sides of a
    split. The splitter carries the group of every sample of the table it was built from,
    so it needs no ``groups`` argument, also on a subset of that table (the training part
    of an outer fold, in nested cross-validation).

    Groups go to folds deterministically: shuffled with ``random_state``, then the largest
    group first into the fold with the fewest samples so far, which balances fold sizes.

    Parameters
    ----------
    groups : pandas.Series or array-like
        Group id of each sample of the samples table (a Series keeps its index).
    n_splits : int or None, default 5
        Number of folds (at least 2). ``None`` gives one fold per group present in ``X``
        (leave one group out).
    random_state : int, default 0
        Seed of the shuffle of groups before they are dealt to folds (a whole number, so
        that every call of :meth:`split` gives the same folds).

    Notes
    -----
    How :meth:`split` finds the group of each row of ``X``:

    1. ``groups`` passed to ``split`` win;
    2. ``X`` with as many rows as the samples table: by position (so ``reset_index``
       and numpy arrays are fine);
    3. ``X`` with fewer rows (a subset): by the pandas index of ``X``, when its labels
       are unique, all in the samples table, and not ``0 .. m-1`` (the index
       ``reset_index(drop=True)`` leaves, whose labels would name other samples);
       otherwise :meth:`split` raises and asks for ``groups``. Label matching trusts
       that a subset kept the samples table's index: it cannot tell a subset whose
       index was replaced by other labels of the table.

    A duplicated index (in the samples table or in ``X``) cannot match rows, so it is
    refused, except for an array of as many rows (by position); the factories
    (:func:`block_cv`, :func:`tile_cv`, :func:`location_cv`) refuse it at once.

    Examples
    --------
    >>> groups = pd.Series(["a", "a", "b", "b", "c", "c", "d"], index=range(10, 17))
    >>> cv = SpatialKFold(groups, n_splits=2)
    >>> X = pd.DataFrame({"ndvi": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}, index=groups.index)
    >>> [X.index[test].tolist() for _, test in cv.split(X)]
    [[10, 11, 14, 15], [12, 13, 16]]
    >>> [test.tolist() for _, test in cv.split(X.to_numpy())]  # by position
    [[0, 1, 4, 5], [2, 3, 6]]
    >>> inner = X.iloc[2:]  # a subset, e.g. an outer training part: by index
    >>> [inner.index[test].tolist() for _, test in cv.split(inner)]
    [[14, 15, 16], [12, 13]]
    """

    # With scikit-learn's metadata routing on, explicitly passed ``groups`` reach split().
    __metadata_request__split = {"groups": True}

    def __init__(self, groups: Any, n_splits: int | None = 5, *, random_state: int = 0) -> None:
        self.groups = groups
        self.n_splits = n_splits
        self.random_state = random_state

    def __repr__(self) -> str:
        n_groups = pd.Series(np.asarray(self.groups, dtype=object)).nunique()
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, n_groups={n_groups}, "
            f"n_samples={len(self.groups)}, random_state={self.random_state})"
        )

    def _groups_of(self, X: Any, groups: ArrayLike | None) -> NDArray:
        """Group id of each row of ``X`` (see the Notes of the class for how)."""
        n_found = n_rows(X)
        if groups is not None:
            found = np.asarray(groups, dtype=object)
            if len(found) != n_found:
                raise ValueError(
                    f"groups has {len(found)} values but X has {n_found} rows; pass one "
                    "group id per row of X, or leave groups out to use the splitter's own."
                )
        else:
            found = self._carried_groups(X, n_found)
        if pd.isna(found).any():
            raise ValueError(
                f"{int(pd.isna(found).sum())} samples have no group id; fill them or drop "
                "those samples before splitting."
            )
        return found

    def _carried_groups(self, X: Any, n_rows: int) -> NDArray:
        carried = self.groups
        index = getattr(X, "index", None) if isinstance(X, pd.DataFrame | pd.Series) else None
        for labels, what in ((getattr(carried, "index", None), "The samples table"), (index, "X")):
            if (
                labels is not None
                and not labels.is_unique
                and (index is not None or n_rows != len(carried))
            ):
                raise ValueError(_duplicated(labels, what))
        if isinstance(carried, pd.Series) and index is not None:
            same_labels = index.isin(carried.index).all()
            if n_rows < len(carried) and index.equals(pd.RangeIndex(n_rows)):
                raise ValueError(
                    f"X is a subset ({n_rows} of {len(carried)} rows) whose index is "
                    f"0..{n_rows - 1}, as after reset_index(drop=True): its labels may name "
                    "other samples of the table. Pass groups= explicitly (one group id per "
                    "row of X), or keep the samples table's index on the subset."
                )
            if n_rows < len(carried) and same_labels:
                return carried.reindex(index).to_numpy(dtype=object)
            if n_rows == len(carried) and same_labels and not index.equals(carried.index):
                raise ValueError(
                    "X holds the samples in another order than the table the splitter was "
                    "built from, so rows cannot be matched to groups by position. Keep the "
                    "order, or pass groups= explicitly (e.g. groups=cv.groups.loc[X.index])."
                )
        if n_rows == len(carried):
            return np.asarray(carried, dtype=object)
        raise ValueError(
            f"X has {n_rows} rows but the splitter holds groups for {len(carried)} samples, "
            "and the rows cannot be matched to them: X has no pandas index whose labels "
            "(unique) are all in the samples table. Pass groups= with one group id per row "
            "of X, or split a DataFrame that keeps the samples table's index."
        )

    def get_n_splits(self, X: Any = None, y: Any = None, groups: ArrayLike | None = None) -> int:
        """Number of folds; with ``n_splits=None``, the number of groups in ``X``.

        Parameters
        ----------
        X : array-like or DataFrame, optional
            The rows to split (needed only with ``n_splits=None``).
        y : array-like, optional
            Ignored.
        groups : array-like, optional
            Group ids that replace the carried ones.

        Returns
        -------
        int
            The number of folds.
        """
        if self.n_splits is not None:
            return int(self.n_splits)
        if X is None and groups is None:
            return int(pd.Series(np.asarray(self.groups, dtype=object)).nunique())
        rows = groups if X is None else X
        return len(pd.unique(pd.Series(self._groups_of(rows, groups))))

    def _assign(self, codes: NDArray[np.intp], n_groups: int) -> NDArray[np.intp]:
        n_splits = n_groups if self.n_splits is None else self.n_splits
        whole = isinstance(n_splits, numbers.Integral) and not isinstance(n_splits, bool)
        if not (whole and 2 <= n_splits <= n_groups):
            raise ValueError(
                f"Only {n_groups} groups (blocks, tiles or locations) among these samples for "
                f"n_splits={n_splits!r}; cross-validation needs a whole number of at least 2 "
                "folds, and as many groups. Use a smaller n_splits, smaller blocks, or "
                "n_splits=None for one fold per group."
            )
        if not isinstance(self.random_state, numbers.Integral):
            raise ValueError(
                f"random_state must be a whole number (a seed), got {self.random_state!r}: "
                "every call of split() must deal the groups to the same folds."
            )
        sizes = np.bincount(codes, minlength=n_groups)
        order = np.random.RandomState(int(self.random_state)).permutation(n_groups)
        order = order[np.argsort(-sizes[order], kind="stable")]
        fold_sizes, fold = np.zeros(n_splits, dtype=np.int64), np.empty(n_groups, dtype=np.intp)
        for group in order:
            fold[group] = target = int(np.argmin(fold_sizes))
            fold_sizes[target] += sizes[group]
        return fold

    def split(self, X: Any, y: Any = None, groups: ArrayLike | None = None) -> Iterator[tuple]:
        """Generate training and test row positions, one pair per fold.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to split.
        y : array-like, optional
            Ignored; there for scikit-learn compatibility.
        groups : array-like of shape (n_samples,), optional
            Group ids that replace the carried ones.

        Yields
        ------
        train, test : ndarray of int
            Row positions in ``X``.
        """
        codes, names = _factorize_sorted(self._groups_of(X, groups))
        row_fold = self._assign(codes, len(names))[codes]
        for k in range(int(row_fold.max(initial=-1)) + 1):
            is_test = row_fold == k
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)


# -- spatial blocks ------------------------------------------------------------------------
def _block_ids(samples: Any, block_size: float) -> pd.Series:
    """Square block id of each sample, such as ``"E0123N0456"``.

    The block of a point ``(x, y)`` is column ``floor(x / block_size)`` and row
    ``floor(y / block_size)``; the id writes both zero-padded to at least four digits
    (more from block 10000 on; west or south of the origin with a minus sign, such as
    ``E-003N0001``).

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        The samples, in a projected CRS (metres; a geographic CRS is projected to the
        samples' UTM zone). Non-point geometries use their centroid.
    block_size : float
        Side of the square blocks, in the units of the CRS (metres).

    Returns
    -------
    pandas.Series of str
        The block id of each sample, indexed like ``samples``.

    Raises
    ------
    TypeError
        If ``samples`` is not a GeoDataFrame.
    ValueError
        If ``block_size`` is not positive, or a geometry is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500, 1500, 2500], [200, 200, 1200]),
    ...                        crs="EPSG:3035")
    >>> _block_ids(pts, 1000).tolist()
    ['E0000N0000', 'E0001N0000', 'E0002N0001']
    """
    import geopandas as gpd

    if not isinstance(samples, gpd.GeoDataFrame):
        raise TypeError(
            "block_cv needs the samples as a geopandas.GeoDataFrame, got "
            f"{type(samples).__name__}. Build one with geopandas.GeoDataFrame(df, "
            "geometry=geopandas.points_from_xy(df.x, df.y), crs=...)."
        )
    if not (isinstance(block_size, numbers.Real) and block_size > 0):
        raise ValueError(f"block_size must be a positive length in metres, got {block_size!r}.")
    if samples.crs is None:
        warnings.warn("The samples have no CRS; block_size is taken to be in their coordinate "
                      "units. Set the CRS with samples.set_crs(...) to be sure they are metres.",
                      UserWarning, stacklevel=2)  # fmt: skip
    elif samples.crs.is_geographic:  # degrees: blocks in metres of the UTM zone
        samples = samples.to_crs(samples.estimate_utm_crs())
        logger.info("block_cv: samples in degrees, blocks drawn in %s.", samples.crs.name)
    x, y = _xy(samples.geometry).T
    column = np.floor(x / block_size).astype(np.int64)
    row = np.floor(y / block_size).astype(np.int64)
    ids = "E" + pd.Series(column).astype(str).str.zfill(4) + "N" + pd.Series(row).astype(str).str.zfill(4)  # fmt: skip
    return pd.Series(ids.to_numpy(), index=samples.index, name="block")


def _xy(geometry: Any) -> NDArray[np.float64]:
    """Coordinates (n x 2) of points (centroids of other geometries); none may be missing."""
    if len(geometry) and not (geometry.geom_type == "Point").all():
        geometry = geometry.centroid
    xy = np.column_stack([geometry.x.to_numpy(dtype=float), geometry.y.to_numpy(dtype=float)])
    missing = ~np.isfinite(xy).all(axis=1)
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} samples have an empty or missing geometry; drop them first, "
            "e.g. samples[~samples.geometry.is_empty & samples.geometry.notna()]."
        )
    return xy


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
    edges = (unit_codes[linked], n_units + location_codes[linked])
    size = n_units + n_locations
    graph = coo_matrix((np.ones(int(linked.sum()), dtype=np.int8), edges), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    unit_component = component[:n_units]
    members = pd.Series(unit_names).groupby(unit_component).agg(lambda s: "+".join(sorted(s)))
    if len(members) < n_units:
        logger.info(
            "Merged %d %s into %d groups: some locations have samples in more than one of them.",
            n_units,
            what,
            len(members),
        )
    return pd.Series(members.loc[unit_component].to_numpy()[unit_codes], index=units.index)


# -- factories -----------------------------------------------------------------------------
def _location_ids(samples: pd.DataFrame, location_column: str | None) -> pd.Series | None:
    if not samples.index.is_unique:
        raise ValueError(_duplicated(samples.index))
    if location_column is None:
        return None
    _require_column(samples, location_column, "location_column")
    return samples[location_column]


def block_cv(
    samples: Any,
    block_size: float,
    *,
    n_splits: int = 5,
    location_column: str | None = "location_id",
    random_state: int = 0,
) -> SpatialKFold:
    """K-fold cross-validation over square spatial blocks (the package default).

    Blocks that share a location (a place surveyed in several years whose points fall in
    different blocks) are merged, so that every location sits in one test fold.

    Parameters
    ----------
    samples : geopandas.GeoDataFrame
        The samples, with a unique index; in a projected CRS (metres), or in degrees,
        then projected to their UTM zone (``samples.to_crs(samples.estimate_utm_crs())``).
    block_size : float
        Side of the square blocks, in metres. Larger than the range of spatial
        autocorrelation of the features, ideally.
    n_splits : int, default 5
        Number of folds.
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
    blocks = _block_ids(samples, block_size)
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


def cv_candidates(
    dataset: Any,
    samples: Any,
    *,
    n_splits: int = 5,
    block_scales: Sequence[float] = (1,),
    random_state: int = 0,
) -> dict[str, BaseCrossValidator]:
    """The cross-validations the notebooks compare, built the same way in each of them.

    ``"random folds"`` (:func:`random_cv`), ``"location folds"`` (:func:`location_cv`, when
    the dataset has a location column) and ``"blocked folds"`` (:func:`block_cv` with the
    dataset's ``cv_block_size``, 2,000 m if it has none; left out, with a log line, when
    there are fewer blocks than folds). Pick one with :func:`nn_distances`.

    Parameters
    ----------
    dataset : Dataset
        Gives the location column (``dataset.columns.location``) and ``cv_block_size``.
    samples : geopandas.GeoDataFrame
        The samples (the overlay table), with a unique index.
    n_splits : int, default 5
        Number of folds of each.
    block_scales : sequence of float, default (1,)
        Block sizes as multiples of the dataset's block size. With more than one, each
        blocked CV is named by its size (``"blocked folds 4 km"``).
    random_state : int, default 0
        Seed of each.

    Returns
    -------
    dict of str to splitter

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> list(cv_candidates(ds, ds.samples))
    ['random folds', 'location folds', 'blocked folds']
    >>> list(cv_candidates(ds, ds.samples, block_scales=(1, 2)))[2:]
    ['blocked folds 1.92 km', 'blocked folds 3.84 km']
    """
    location, size = dataset.columns.location, dataset.cv_block_size or 2000
    kwargs = {"n_splits": n_splits, "random_state": random_state}
    cvs = {"random folds": random_cv(n_splits, random_state)}
    if location is not None:
        cvs["location folds"] = location_cv(samples, location_column=location, **kwargs)
    for scale in block_scales:
        blocked = block_cv(samples, scale * size, location_column=location, **kwargs)
        size_name = f" {scale * size / 1000:g} km" if len(block_scales) > 1 else ""
        if blocked.groups.nunique() >= n_splits:
            cvs["blocked folds" + size_name] = blocked
        else:
            logger.warning(
                "Blocked folds left out: only %d blocks of %g m for %d folds.",
                blocked.groups.nunique(),
                scale * size,
                n_splits,
            )
    return cvs


def out_of_fold_proba(results: dict, X: Any, *, classes: ArrayLike) -> NDArray[np.float64]:
    """Out-of-fold probabilities from ``cross_validate`` with the fitted fold models.

    Each fold's model predicts its test rows, so one ``cross_validate(...,
    return_estimator=True, return_indices=True)`` gives the scores, the fitted models (their
    tuned parameters, importances) and the probabilities, without fitting again.

    Parameters
    ----------
    results : dict
        From :func:`sklearn.model_selection.cross_validate` with ``return_estimator=True``
        and ``return_indices=True``.
    X : pandas.DataFrame or array-like
        The rows given to ``cross_validate``.
    classes : array-like
        The class codes of the columns (sorted, as ``np.unique(y)``); a class missing from
        a fold's training part gets probability 0 there.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_classes)
        NaN in rows that no fold tests.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = np.array([[0.0], [0.1], [1.0], [1.1]]), np.array([1, 1, 2, 2])
    >>> results = cross_validate(DecisionTreeClassifier(), X, y, cv=2,
    ...                          return_estimator=True, return_indices=True)
    >>> out_of_fold_proba(results, X, classes=[1, 2]).tolist()
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    """
    classes = np.asarray(classes)
    proba = np.full((n_rows(X), len(classes)), np.nan)
    for model, test in zip(results["estimator"], results["indices"]["test"], strict=True):
        rows = X.iloc[test] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[test]
        proba[test] = 0.0
        proba[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(rows)
    return proba


@dataclass(frozen=True)
class _YearlyProbabilities:
    """What :func:`cross_val_predict_years` returns: see there."""

    proba: NDArray[np.float64]
    labels: NDArray[np.intp]
    classes: NDArray
    years: tuple[int, ...]
    locations: NDArray


def cross_val_predict_years(
    estimator: Any, dataset: Any, samples: Any, cv: Any, *, params: dict | None = None
) -> _YearlyProbabilities:
    """Out-of-fold probabilities of every sampled location in every year of the dataset.

    As ``cross_val_predict(method="predict_proba")``, but each location is predicted in
    every year (its features read from that year's layers) by the model of the fold that
    tests it, never by a model trained on it: the material to tune a rule over time
    (e.g. a temporal-consistency margin) by cross-validation.

    Parameters
    ----------
    estimator : classifier
        Cloned and fitted once per fold.
    dataset : Dataset
        Its layers, years and columns (the location column; without one, every sample is
        its own location).
    samples : geopandas.GeoDataFrame
        The overlay table (features, class codes, ``year``).
    cv : cross-validation splitter
        Splits ``samples`` (as ``cv.split(X, y)``).
    params : dict, optional
        Fit parameters per sample, e.g. ``{"sample_weight": weights}``.

    Returns
    -------
    result
        ``proba`` (year x class x location, 0-1, NaN never), ``labels`` (year x location:
        the position in ``classes`` of the label surveyed there that year, -1 if none),
        ``classes`` (sorted codes), ``years`` and ``locations`` (their ids, or row
        positions without a location column); only locations whose features exist in
        every year (no nodata).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from odse_tutorial.datasets import load_dataset
    >>> from odse_tutorial.overlay import overlay_samples
    >>> ds = load_dataset()
    >>> table, _ = overlay_samples(ds, ds.samples.iloc[:300], progress=False)
    >>> found = cross_val_predict_years(DecisionTreeClassifier(max_depth=3, random_state=0),
    ...                                 ds, table, location_cv(table, n_splits=3))
    >>> found.proba.shape[:2], found.labels.shape[0]
    ((6, 10), 6)
    """
    from sklearn.base import clone

    from odse_tutorial.overlay import overlay_samples

    cols, features = dataset.columns, list(dataset.feature_names)
    table = samples.reset_index(drop=True)
    location = cols.location or "_row"
    table["_row"] = np.arange(len(table))
    X, y = table[features], table[cols.class_code]
    classes, years = np.unique(y), tuple(dataset.years)
    sites = table.drop_duplicates(location).set_index(location)
    every_year = sites[[cols.class_code, sites.geometry.name]].reset_index()
    visits = pd.concat([every_year.assign(year=year) for year in years], ignore_index=True)
    quiet = logging.getLogger("odse_tutorial.overlay")  # its report is internal here
    level, _ = quiet.level, quiet.setLevel(logging.ERROR)
    try:
        visited, _ = overlay_samples(dataset, visits, date_column="year", progress=False)
    finally:
        quiet.setLevel(level)
    at = (pd.Index(years).get_indexer(visited["year"]), sites.index.get_indexer(visited[location]))
    proba = np.full((len(years), len(classes), len(sites)), np.nan)
    weights = (params or {}).get("sample_weight")
    for train, test in cv.split(X, y):
        fit = {} if weights is None else {"sample_weight": np.asarray(weights)[train]}
        model = clone(estimator).fit(X.iloc[train], y.iloc[train], **fit)
        mine = np.flatnonzero(visited[location].isin(table[location].iloc[test]).to_numpy())
        year, site = at[0][mine], at[1][mine]
        proba[year, :, site] = 0.0
        columns = np.searchsorted(classes, model.classes_)
        proba[year[:, None], columns, site[:, None]] = model.predict_proba(
            visited.iloc[mine][features]
        )
    labels = np.full((len(years), len(sites)), -1)
    site = sites.index.get_indexer(table[location])
    labels[pd.Index(years).get_indexer(table["year"]), site] = np.searchsorted(classes, y)
    complete = ~np.isnan(proba).any(axis=(0, 1))
    logger.info("%d of %d locations left out: nodata in some year.", (~complete).sum(), len(sites))
    kept = sites.index.to_numpy()[complete]
    return _YearlyProbabilities(proba[:, :, complete], labels[:, complete], classes, years, kept)


def fold_ids(
    cv: Any, X: Any, y: ArrayLike | None = None, groups: ArrayLike | None = None
) -> NDArray:
    """The test fold of each sample: ``k`` for the ``k``-th split of ``cv``, -1 if none.

    Parameters
    ----------
    cv : cross-validation splitter
        Anything with ``split(X, y, groups)`` that tests each sample at most once.
    X : pandas.DataFrame or array-like
        The rows to split, as passed to scikit-learn.
    y : array-like, optional
        Class codes, for splitters that need them (``random_cv`` stratifies on ``y``).
    groups : array-like, optional
        Group ids, for splitters that need them.

    Returns
    -------
    numpy.ndarray of int
        One fold number per row of ``X``; -1 for rows that no split tests.

    Raises
    ------
    ValueError
        If a row is tested by more than one split (repeated cross-validation).

    Examples
    --------
    >>> samples = pd.DataFrame({"location_id": [1, 1, 2, 2, 3, 4]})
    >>> fold_ids(location_cv(samples, n_splits=2), samples).tolist()
    [1, 1, 0, 0, 0, 1]
    """
    folds = np.full(n_rows(X), -1, dtype=np.intp)
    for k, (_, test) in enumerate(cv.split(X, y, groups)):
        if (folds[test] >= 0).any():
            raise ValueError(
                f"Split {k} tests rows that an earlier split tested already (repeated "
                "cross-validation?): a row needs exactly one test fold."
            )
        folds[test] = k
    return folds


# -- where the folds test, where the map predicts -------------------------------------------
def _pixel_centres(dataset: Any, n: int, rng: np.random.Generator, crs: Any) -> NDArray:
    """Up to ``n`` random centres of valid pixels (not nodata in the first layer of the
    first year) of the dataset's tiles, spread over the tiles by their pixel counts."""
    import geopandas as gpd
    import rasterio

    from odse_tutorial.raster_io import read_at_points

    paths = [next(iter(dataset.layers(t, dataset.years[0]).values())) for t in dataset.tiles]
    sources = [rasterio.open(path) for path in paths]
    sizes = np.array([src.width * src.height for src in sources])
    found = []
    for src, count in zip(sources, rng.multinomial(n, sizes / sizes.sum()), strict=True):
        with src:
            if count == 0:
                continue
            rows, cols = rng.integers(src.height, size=4 * count), rng.integers(src.width, size=4 * count)  # fmt: skip
            xs, ys = rasterio.transform.xy(src.transform, rows, cols)
            valid = ~np.ma.getmaskarray(read_at_points(src, xs, ys))
            points = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=src.crs)[valid][:count]
        found.append(points.to_crs(crs) if crs is not None and points.crs is not None else points)
    return _xy(pd.concat(found)) if found else np.empty((0, 2))


def _nearest(train: NDArray, query: NDArray) -> NDArray[np.float64]:
    """Distance from each query point to its nearest training point."""
    return KDTree(train).query(query, k=1)[0][:, 0]


def _compare(cv_m: NDArray, prediction_m: NDArray) -> str:
    ratio = np.median(cv_m) / max(np.median(prediction_m), 1.0)
    return (
        "about as far as" if 0.5 <= ratio <= 2 else "farther than" if ratio > 2 else "closer than"
    )


def nn_distances(
    cv: Any,
    samples: Any,
    prediction_points: Any,
    *,
    X: Any = None,
    y: ArrayLike | None = None,
    n_prediction: int = 2000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Nearest-neighbour distances: where the folds test against where the map predicts.

    As CAST's ``geodist`` (Meyer & Pebesma 2022; Milà et al. 2022): for each split of
    ``cv``, the distance from every test sample to its nearest training sample of that
    split; and from every prediction point to its nearest sample. A CV whose test
    distances are much shorter than the prediction distances measures interpolation
    while the map extrapolates: it is optimistic.

    Parameters
    ----------
    cv : cross-validation splitter or dict of str to splitter
        Anything with ``split(X, y, groups)``; a dict compares several, by name.
    samples : geopandas.GeoDataFrame or GeoSeries
        The training samples (one per row of ``X``). In a geographic CRS they are projected
        to their UTM zone, so that distances are in metres.
    prediction_points : GeoDataFrame, GeoSeries or Dataset
        Where the map predicts. A :class:`~odse_tutorial.datasets.Dataset`: random centres
        of valid pixels of its tiles (seeded).
    X : pandas.DataFrame or array-like, optional
        The rows given to ``cv.split`` (default ``samples``).
    y : array-like, optional
        Class codes, for splitters that need them (``random_cv``).
    n_prediction : int, default 2000
        Number of prediction points drawn from a Dataset, or kept (drawn) from more points.
    random_state : int, default 0
        Seed of those draws.

    Returns
    -------
    pandas.DataFrame
        One row per distance: ``what`` (``"CV: test to training"``, or
        ``"CV <name>: test to training"`` for a dict, and ``"prediction to training"``)
        and ``distance_m``. ``attrs``: ``median_m`` (median per ``what``),
        ``wasserstein_m`` (per CV: the Wasserstein distance between its distances and the
        prediction distances in metres, 0 when they match; the statistic kNNDM minimises),
        ``wasserstein_log`` (the same between ``log10(distance + 10 m)``: distances span
        orders of magnitude, and 10 m instead of 100 m matters as much as 1 km instead of
        10 km), ``closest`` (the name of the CV with the smallest ``wasserstein_log``; ""
        for a single CV) and ``summary`` (a sentence from these numbers).

    Examples
    --------
    >>> import geopandas as gpd
    >>> samples = gpd.GeoSeries(gpd.points_from_xy([0, 100, 1000, 1100], [0, 0, 0, 0]),
    ...                         crs="EPSG:3035")
    >>> where = gpd.GeoSeries(gpd.points_from_xy([500], [0]), crs="EPSG:3035")
    >>> cv = SpatialKFold(pd.Series(["west", "west", "east", "east"]), n_splits=2)
    >>> d = nn_distances(cv, samples, where)
    >>> d.groupby("what")["distance_m"].median().to_dict()
    {'CV: test to training': 950.0, 'prediction to training': 400.0}
    >>> print(d.attrs["summary"])
    The CV tests at a median 950 m from the training samples, the map predicts at 400 m, so it tests farther than the map predicts (medians within a factor 2 count as about; Wasserstein distance of the log10 distances 0.37).
    """
    rng = np.random.default_rng(random_state)
    geometry = getattr(samples, "geometry", samples)
    if geometry.crs is not None and geometry.crs.is_geographic:
        geometry = geometry.to_crs(geometry.estimate_utm_crs())
    xy = _xy(geometry)
    if hasattr(prediction_points, "tiles"):
        where = _pixel_centres(prediction_points, n_prediction, rng, geometry.crs)
    else:
        points = getattr(prediction_points, "geometry", prediction_points)
        if geometry.crs is not None and points.crs is not None:
            points = points.to_crs(geometry.crs)
        where = _xy(points)
        if len(where) > n_prediction:
            where = where[np.sort(rng.choice(len(where), n_prediction, replace=False))]
    prediction = _nearest(xy, where)
    cvs = cv if isinstance(cv, dict) else {"": cv}
    by_cv = {}
    for name, splitter in cvs.items():
        splits = splitter.split(samples if X is None else X, y)
        by_cv[name] = np.concatenate([_nearest(xy[train], xy[test]) for train, test in splits])
    labels = {name: f"CV {name}".strip() + ": test to training" for name in cvs}
    frames = [pd.DataFrame({"what": labels[name], "distance_m": d}) for name, d in by_cv.items()]
    frames.append(pd.DataFrame({"what": "prediction to training", "distance_m": prediction}))
    table = pd.concat(frames, ignore_index=True)
    w = {name: float(wasserstein_distance(d, prediction)) for name, d in by_cv.items()}
    log = {name: float(wasserstein_distance(np.log10(d + 10), np.log10(prediction + 10)))
           for name, d in by_cv.items()}  # fmt: skip
    best, *others = sorted(log, key=log.get)
    medians = (f"tests at a median {np.median(by_cv[best]):,.0f} m from the training samples, "
               f"the map predicts at {np.median(prediction):,.0f} m, so it tests "
               f"{_compare(by_cv[best], prediction)} the map predicts (medians within a factor 2 "
               "count as about")  # fmt: skip
    summary = f"The CV {medians}; Wasserstein distance of the log10 distances {log[best]:.2f})."
    if best:  # several CVs: which one, and by how much
        next_best = f"; next: {others[0]} {log[others[0]]:.2f}" if others else ""
        summary = (f"The CV that tests most like the map is {best} (Wasserstein distance of the "
                   f"log10 distances {log[best]:.2f}{next_best}; on a log scale, testing at 10 m "
                   f"instead of 100 m counts as much as at 1 km instead of 10 km): it {medians}).")  # fmt: skip
    table.attrs = {
        "median_m": table.groupby("what")["distance_m"].median().to_dict(),
        "wasserstein_m": w,
        "wasserstein_log": log,
        "closest": best,
        "summary": summary,
    }
    return table
