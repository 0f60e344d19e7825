"""The area of applicability of a prediction model (Meyer & Pebesma 2021).

A model learns from the feature values of its training samples; a pixel whose features
are unlike any training sample asks it to extrapolate. :class:`AreaOfApplicability`
measures how unlike, as CAST's ``trainDI`` / ``aoa`` do in R:

1. features are standardised (mean 0, standard deviation 1 over the training samples)
   and multiplied by a weight per feature (a given vector, such as a model's permutation
   importance on the cross-validation folds);
2. the **dissimilarity index** (DI) of a point is its distance, in that space, to the
   nearest training sample, divided by the mean distance between training samples;
3. the DI of every training sample is computed against the training samples of its
   cross-validation fold's *training part* (so a clustered sample is not judged by its
   own cluster), and the **threshold** is the upper whisker of those values: the 75th
   percentile plus 1.5 times the interquartile range, capped at their maximum;
4. a point is inside the **area of applicability** (AOA) when its DI <= threshold.

The nearest training sample is found exactly: training samples are grouped in k-means
cells (seeded: ``KMeans(random_state=0)``; the number of cells is the one with the lowest
estimated search cost for the training samples themselves), and a cell is searched only
for the points that its bounding ball could still hold a nearer sample for. A cell is
scored with one float32 matrix product; every row whose best candidate could be beaten
within float32 rounding, and every near tie, is recomputed in float64, so the distance is
the exact float64 minimum whatever the chunk size or thread count. The cells change only
the speed, never a distance. Memory grows with one chunk of points times the samples of
one cell (at most 64 MB of float32 scores), never with all points x all samples.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.neighbors import KDTree, NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

__all__ = ["AreaOfApplicability"]

_SCORES = 1 << 24
_CELLS = (1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64)  # k-means cells tried for the search


class AreaOfApplicability(TransformerMixin, BaseEstimator):
    """Dissimilarity index (DI) and area of applicability (AOA) of a model's training data.

    Parameters
    ----------
    weights : array-like of shape (n_features,), optional
        Weight of each feature, in the order of the columns of ``X``; negative weights
        count as 0. Default: 1 for every feature (CAST weighs by the model's variable
        importance: pass its permutation importance on the folds).
    cv : int, cross-validation splitter or iterable of (train, test), optional
        The folds of the model's cross-validation. Each training sample's DI is measured
        against the training part of the fold that tests it. None: against all other
        training samples (the threshold is then optimistic for clustered samples).

    Attributes
    ----------
    weights_ : ndarray of shape (n_features,)
        The feature weights used (>= 0).
    center_, scale_ : ndarray of shape (n_features,)
        Mean and standard deviation of the training features.
    mean_distance_ : float
        Mean distance between two training samples in the weighted, standardised space.
    training_di_ : ndarray of shape (n_samples,)
        DI of each training sample against the training part of its fold (NaN for
        samples that no fold tests).
    threshold_ : float
        The AOA threshold: upper whisker of ``training_di_``.
    feature_names_in_ : ndarray of str
        Feature names, when fitted on a DataFrame; frames given to ``transform`` and
        ``predict`` must have the same columns in the same order (scikit-learn's check).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> aoa = AreaOfApplicability(cv=5).fit(X)
    >>> di = aoa.transform([[0.0, 0.0], [8.0, 8.0]])[:, 0]
    >>> bool(di[0] < aoa.threshold_ < di[1]), aoa.predict([[0.0, 0.0], [8.0, 8.0]]).tolist()
    (True, [True, False])
    """

    def __init__(self, *, weights=None, cv=None):
        self.weights = weights
        self.cv = cv

    def fit(self, X: Any, y: ArrayLike | None = None, groups: ArrayLike | None = None):
        """Learn the weighted feature space, the training DI and the threshold.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The training features (the model's training table).
        y : array-like of shape (n_samples,), optional
            The labels, for splitters that need them (``cv.split(X, y, groups)``).
        groups : array-like, optional
            Passed to ``cv.split`` (the package's spatial splitters carry their own).

        Returns
        -------
        self
        """
        values = validate_data(self, X, dtype=np.float64, order="C", ensure_min_samples=2)
        folds = None if self.cv is None else list(check_cv(self.cv).split(X, y, groups))
        given = np.ones(values.shape[1]) if self.weights is None else self.weights
        weights = np.asarray(given, dtype=np.float64)
        ok = weights.shape == (values.shape[1],) and np.isfinite(weights).all()
        if not (ok and weights.max() > 0):
            msg = f"weights must be {values.shape[1]} finite numbers, at least one > 0 (negative "
            raise ValueError(msg + f"ones count as 0); got {weights.tolist()}.")
        self.weights_ = np.clip(weights, 0.0, None)
        self.center_, self.scale_ = values.mean(axis=0), values.std(axis=0)
        if (self.scale_ == 0).any():
            raise ValueError(
                f"Feature(s) {np.flatnonzero(self.scale_ == 0).tolist()} (column positions) "
                "have the same value in every training sample; drop them from X."
            )
        Z = self._space(values)
        step = max(1, (1 << 23) // len(Z))  # exact distances, at most 64 MB at a time
        total = math.fsum(cdist(Z[i : i + step], Z).sum() for i in range(0, len(Z), step))
        self.mean_distance_ = float(total / (len(Z) * (len(Z) - 1)))
        self.training_di_ = self._training_distances(Z, folds) / self.mean_distance_
        tested = self.training_di_[np.isfinite(self.training_di_)]
        q1, q3 = np.percentile(tested, [25, 75])  # (an IndexError if no fold tests a sample)
        self.threshold_ = float(min(q3 + 1.5 * (q3 - q1), tested.max()))
        with threadpool_limits(1):  # small k-means fits: threads cost more than they save
            self._index = _search_index(Z, self.training_di_ * self.mean_distance_)
        return self

    def transform(self, X: Any) -> NDArray[np.float64]:
        """The dissimilarity index of each row of ``X``: shape (n_samples, 1)."""
        check_is_fitted(self, "threshold_")
        values = validate_data(self, X, reset=False, dtype=np.float64, ensure_min_samples=0)
        return (self._nearest(self._space(values)) / self.mean_distance_)[:, None]

    def predict(self, X: Any) -> NDArray[np.bool_]:
        """True where a row of ``X`` is inside the area of applicability (DI <= threshold)."""
        return self.transform(X)[:, 0] <= self.threshold_

    def local_point_density(self, X: Any) -> NDArray[np.int64]:
        """The local point density (LPD) of each row of ``X``: how many training samples
        are within the AOA threshold of it (DI to that sample <= threshold), as CAST's
        ``aoa(LPD = TRUE)`` counts them (with all samples: ``maxLPD = 1``). 0 outside the
        AOA; a pixel inside it with a small LPD is supported by few samples.

        Counted with a k-d tree (scikit-learn's ``KDTree.query_radius``): cheap for point
        tables, as slow as a nearest-neighbour search for a whole map.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(200, 2))
        >>> aoa = AreaOfApplicability(cv=5).fit(X)
        >>> aoa.local_point_density([[0.0, 0.0], [8.0, 8.0]]).tolist()
        [13, 0]
        """
        check_is_fitted(self, "threshold_")
        values = validate_data(self, X, reset=False, dtype=np.float64, ensure_min_samples=0)
        if not len(values):
            return np.zeros(0, dtype=np.int64)
        tree, radius = KDTree(self._index[0]), self.threshold_ * self.mean_distance_
        return tree.query_radius(self._space(values), radius, count_only=True).astype(np.int64)

    # -- helpers ---------------------------------------------------------------------
    def _space(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        used = slice(None) if self.weights_.all() else self.weights_ > 0  # 0: adds nothing
        Z = values[:, used] - self.center_[used]  # then in place: few window-sized temporaries
        return np.multiply(Z, self.weights_[used] / self.scale_[used], out=Z)

    def _training_distances(self, Z: NDArray, folds: list | None) -> NDArray[np.float64]:
        if folds is None:  # kneighbors() without X leaves each sample out of its own search
            return _exact(Z, Z, NearestNeighbors(n_neighbors=1).fit(Z).kneighbors()[1][:, 0])
        nearest = np.full(len(Z), np.nan)
        for train, test in folds:
            if not np.isnan(nearest[test]).all():
                raise ValueError("Samples in the test part of several folds: pass one k-fold cv.")
            index = NearestNeighbors(n_neighbors=1).fit(Z[train])
            nearest[test] = _exact(Z[test], Z[train], index.kneighbors(Z[test])[1][:, 0])
        return nearest

    def _nearest(self, Z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Exact distance of each row to its nearest training sample. The training samples
        are in k-means cells; a cell is searched for a point only when the cell's ball
        could hold a sample nearer than the best found so far (its own cell first)."""
        _, centres, radii, cells, blocks, largest = self._index
        best = np.full(len(Z), np.inf)
        cell = max(len(c) for c in cells)
        chunk = int(np.clip(_SCORES // cell, 256, 16384))  # float32 scores: <= 64 MB
        buffer = np.empty(min(chunk, len(Z)) * cell, dtype=np.float32)  # reused: no page faults
        for start in range(0, len(Z), chunk):
            part = Z[start : start + chunk]
            size = (part**2).sum(axis=1)
            # distance to each centre, minus a bound of the rounding of this expansion
            reach = size[:, None] + (centres**2).sum(axis=1)
            lower = np.sqrt(np.maximum(reach - 2 * part @ centres.T - 1e-13 * reach, 0))
            first = lower.argmin(axis=1)
            order = np.argsort(first, kind="stable")  # points of one cell side by side
            ends = np.searchsorted(first[order], np.arange(len(cells) + 1))
            part, size = part[order], size[order]
            lower = np.asfortranarray(lower[order] - radii)  # columns read one cell at a time
            points = np.ones((len(part), part.shape[1] + 1), dtype=np.float32)
            points[:, :-1] = part
            tol = 2e-5 * (size + largest)  # bound of the float32 score's rounding errors
            out = np.full(len(part), np.inf)
            work = [(cells[g], blocks[g], slice(ends[g], ends[g + 1])) for g in range(len(cells))]
            for samples, block, own in work:  # every point searches its own cell first
                _search_cell(part, points, own, out, size, tol, samples, block, buffer)
            lower[np.arange(len(part)), first[order]] = np.inf  # ... and only once
            for g, (samples, block, _) in enumerate(work):
                if (rows := np.flatnonzero(lower[:, g] < out)).size:
                    _search_cell(part, points, rows, out, size, tol, samples, block, buffer)
            best[start + order] = out
        return best


def _search_index(Z: NDArray, nearest: NDArray) -> tuple:
    """Training samples in the k-means cells that make :meth:`_nearest` fastest.

    A point visits its own cell and every cell whose ball it is nearer to than its nearest
    sample; each visit costs the cell's samples plus about 256 samples' worth of per-point
    work (measured). That cost is estimated with the training samples themselves as points
    (``nearest``: their distance to the nearest other sample), for a few k; the cheapest wins.
    """
    points, nearest = Z[np.isfinite(nearest)], nearest[np.isfinite(nearest)]
    options = []
    for k in (k for k in _CELLS if k <= len(Z) // 16 + 1):
        # fewer distinct cells than k only costs speed
        with warnings.catch_warnings(action="ignore", category=ConvergenceWarning):
            fitted = KMeans(k, n_init=1, random_state=0).fit(Z) if k > 1 else None
        centres = Z.mean(axis=0, keepdims=True) if fitted is None else fitted.cluster_centers_
        distances = cdist(Z, centres)  # exact: each sample in the cell of its nearest centre
        used = np.unique(labels := distances.argmin(axis=1))
        centres, labels = centres[used], np.searchsorted(used, labels)
        sizes, distances = np.bincount(labels), distances[:, used]
        radii = np.array([distances[labels == g, g].max() for g in range(len(used))])
        radii = radii * (1 + 1e-7) + 1e-9
        to_centres = cdist(points, centres)
        visits = to_centres - radii < nearest[:, None]
        visits[np.arange(len(points)), to_centres.argmin(axis=1)] = True
        options.append(((visits * (sizes + 256)).sum(), k, centres, labels, radii))
    _, _, centres, labels, radii = min(options, key=lambda o: o[:2])
    cells = [Z[labels == g] for g in range(len(centres))]
    # Per cell, float32 [-2 sample; |sample|^2]: one GEMM with [point, 1] scores a point
    # against the cell's samples; _search_cell re-checks the near-best ones exactly.
    blocks = [np.vstack([-2 * c.T, (c**2).sum(axis=1)]).astype(np.float32) for c in cells]
    return Z, centres, radii, cells, blocks, (Z**2).sum(axis=1).max()


def _search_cell(part, points, rows, out, size, tol, samples, block, buffer) -> None:
    """Lower ``out[rows]`` to the exact distance of ``part[rows]`` to the nearest of
    ``samples`` where that is nearer (float32 scores, near-best ones re-checked in float64)."""
    points = points[rows]
    score = buffer[: len(points) * block.shape[1]].reshape(len(points), block.shape[1])
    np.matmul(points, block, out=score)  # float32 |point - sample|^2 - |point|^2
    j = score.argmin(axis=1)
    near = score[np.arange(len(score)), j] + tol[rows]
    # rows where a sample could beat the best: it and its near-ties, exactly
    keep = np.flatnonzero(near - 2 * tol[rows] < out[rows] ** 2 - size[rows])
    score[keep, j[keep]] = np.inf
    tie = keep[(score if keep.size == len(score) else score[keep]).min(axis=1) <= near[keep]]
    r, t = np.nonzero(score[tie] <= near[tie, None])
    at, j = np.arange(len(out))[rows][np.concatenate([keep, tie[r]])], np.concatenate([j[keep], t])
    np.minimum.at(out, at, _exact(part[at], samples, j))


def _exact(points: NDArray, reference: NDArray, index: NDArray) -> NDArray[np.float64]:
    """Euclidean distance of each point to ``reference[index]``, summed in a fixed order
    (not the BLAS shortcut), so that it does not depend on threads or chunks."""
    return np.sqrt(((points - reference[index]) ** 2).sum(axis=1))
