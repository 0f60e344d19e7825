"""Class areas from a stratified random sample of a map, tried where the truth is known.

:func:`odse_tutorial.evaluation.area_adjusted_accuracy` estimates the class areas and
their confidence intervals from one sample (Olofsson et al. 2014). With a map and its
truth map, :func:`stratified_sample_counts` draws such a sample (strata = the map
classes), and :func:`area_ci_coverage` draws many and measures how often the intervals
hold the true area, for a choice of allocation and interval.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping
from types import SimpleNamespace

import numpy as np
import pandas as pd
import rasterio
from scipy import stats

from odse_tutorial.classes import ClassTable
from odse_tutorial.evaluation import _pair_counts

__all__ = ["area_ci_coverage", "stratified_sample_counts"]

logger = logging.getLogger(__name__)
Allocation = str | Mapping[Hashable, int]


def _draw(
    mapped: str | os.PathLike,
    reference: str | os.PathLike,
    n_points: int,
    min_per_stratum: int,
    allocation: Allocation,
    classes: ClassTable | None,
    random_state: int | None,
    size: int,
) -> tuple[np.ndarray, np.ndarray, list, float]:
    """``size`` stratified samples counted as (draw, map class, true class), the
    population of pixels (map class, true class), the class codes and the pixel area (ha)."""
    pairs = _pair_counts(mapped, reference, classes)
    present = {code for pair in pairs for code in pair}
    codes = sorted(present) if classes is None else [c for c in classes.codes if c in present]
    population = np.zeros((len(codes), len(codes)), dtype=np.int64)
    for (m, r), n in pairs.items():
        population[codes.index(m), codes.index(r)] = n
    N = population.sum(axis=1)
    if isinstance(allocation, Mapping):
        n = np.array([allocation.get(c, 0) for c in codes], dtype=float)
    else:
        share = population / np.maximum(N, 1)[:, None]
        spread = N * np.sqrt((share * (1 - share)).sum(axis=1))  # N_h x S_h (Neyman)
        weight = {"proportional": N, "equal": N > 0, "neyman": spread}.get(allocation)
        if weight is None:
            raise ValueError(
                "allocation must be 'proportional', 'equal', 'neyman' or a mapping "
                f"{{map class: points}}, got {allocation!r}."
            )
        n = np.maximum(min_per_stratum, np.round(n_points * weight / max(weight.sum(), 1)))
    n = np.where(N > 0, np.minimum(n, N), 0).astype(int)
    rng = np.random.default_rng(random_state)
    counts = np.zeros((size, *population.shape), dtype=np.int64)
    for h in np.flatnonzero(n):  # without replacement: multivariate hypergeometric
        counts[:, h] = rng.multivariate_hypergeometric(population[h], n[h], size=size)
    with rasterio.open(mapped) as src:
        pixel_ha = abs(src.transform.a * src.transform.e) / 1e4
    return counts, population, codes, pixel_ha


def stratified_sample_counts(
    mapped: str | os.PathLike,
    reference: str | os.PathLike | None,
    *,
    n_points: int = 500,
    min_per_stratum: int = 50,
    allocation: Allocation = "proportional",
    classes: ClassTable | None = None,
    random_state: int | None = None,
) -> SimpleNamespace | None:
    """Draw one stratified random sample of a map (strata = map classes) and count it.

    The sample's reference class is read from the truth map, as an interpreter would label
    the points. Points per stratum ``h`` (at least ``min_per_stratum``, at most all its
    ``N_h`` pixels): ``"proportional"`` to its area, ``n_points * N_h / N``; ``"equal"``;
    ``"neyman"``, ``n_points * N_h S_h / sum(N S)`` with ``S_h`` the spread of the true
    classes in the stratum (``sqrt(sum_k p_hk (1 - p_hk))``, here known from the truth; in
    a project guessed from a pilot sample): more points where errors, omission of other
    classes included, hide; or a mapping {map class: points}.

    Parameters
    ----------
    mapped, reference : path-like
        A class map and its truth map (same grid, with legends); ``reference`` None (no
        truth maps) returns None with a logged sentence.
    n_points, min_per_stratum : int
        Sample size to allocate (before the minimum is applied), and the least points of
        a stratum.
    allocation : {"proportional", "equal", "neyman"} or mapping
        How the points are shared among the strata (above).
    classes : ClassTable, optional
        Class order; by default the sorted codes found in either map.
    random_state : int, optional
        Seed of the draw.

    Returns
    -------
    types.SimpleNamespace or None
        ``counts`` (DataFrame, rows reference class, columns map class, for
        :func:`~odse_tutorial.evaluation.area_adjusted_accuracy`), ``mapped_area`` and
        ``true_area`` (ha per class, Series), ``n_per_stratum`` (Series).

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> from odse_tutorial.evaluation import area_adjusted_accuracy
    >>> ds = load_dataset()
    >>> sample = stratified_sample_counts(ds.truth("9529", 2015), ds.truth("9529", 2018),
    ...                                   random_state=0)
    >>> int(sample.n_per_stratum.sum()), int(sample.counts.to_numpy().sum())
    (679, 679)
    >>> result = area_adjusted_accuracy(sample.counts, sample.mapped_area)
    """
    if reference is None:
        logger.warning("No truth map: no sample can be labelled from it, so none is drawn.")
        return None
    design = (n_points, min_per_stratum, allocation, classes, random_state)
    counts, population, codes, pixel_ha = _draw(mapped, reference, *design, 1)
    index = pd.Index(codes, name="class")
    return SimpleNamespace(
        counts=pd.DataFrame(
            counts[0].T, index=index.rename("reference"), columns=index.rename("map")
        ),
        mapped_area=pd.Series(population.sum(axis=1) * pixel_ha, index=index),
        true_area=pd.Series(population.sum(axis=0) * pixel_ha, index=index),
        n_per_stratum=pd.Series(counts[0].sum(axis=1), index=index),
    )


def area_ci_coverage(
    mapped: str | os.PathLike,
    reference: str | os.PathLike | None,
    *,
    n_points: int = 500,
    min_per_stratum: int = 50,
    allocation: Allocation = "proportional",
    interval: str = "standard",
    n_draws: int = 1000,
    confidence: float = 0.95,
    classes: ClassTable | None = None,
    random_state: int | None = None,
) -> pd.DataFrame | None:
    """How often the confidence intervals of the class areas hold the true area.

    Draws ``n_draws`` samples of one design (:func:`stratified_sample_counts`), estimates
    each class's area and standard error as
    :func:`~odse_tutorial.evaluation.area_adjusted_accuracy` does (Olofsson et al. 2014),
    and counts the draws whose interval (estimate +- z SE) holds the true area. A class
    whose points all agree in every stratum gets a zero-width interval, which misses the
    omitted pixels of that class. ``interval="jeffreys"`` is the remedy interval: in the
    variance only, each stratum's share ``x / n`` becomes ``(x + 0.5) / (n + 1)`` (shares
    shrunk as by a Jeffreys prior; still a Wald interval, not the Beta "Jeffreys
    interval"), so that no interval has zero width (the estimate is unchanged).

    Parameters
    ----------
    mapped, reference : path-like
        A class map and its truth map; ``reference`` None returns None (logged).
    n_points, min_per_stratum, allocation, classes
        The design, as in :func:`stratified_sample_counts`.
    interval : {"standard", "jeffreys"}
        The standard interval (Olofsson et al. 2014), or the remedy above.
    n_draws : int, default 1000
        Number of samples drawn.
    confidence : float, default 0.95
        Nominal coverage of the intervals.
    random_state : int, optional
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame or None
        One row per class: ``true_area``, ``pixel_count_area``, ``mean_estimate``,
        ``sd_estimate``, ``mean_se`` (ha), ``se_over_sd``, ``coverage`` (share of draws
        whose interval holds the true area) and ``zero_width`` (share of draws with a
        zero-width interval). ``attrs``: ``coverage`` (over all classes and draws),
        ``mc_margin`` (z sqrt(c (1 - c) / n_draws): a class's coverage below
        ``confidence - mc_margin`` is below nominal beyond the Monte-Carlo noise),
        ``below`` (those classes), ``above`` (coverage above ``confidence + mc_margin``:
        wider than needed), ``n_points`` and ``sentence``.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> ds = load_dataset()
    >>> table = area_ci_coverage(ds.truth("9529", 2015), ds.truth("9529", 2018),
    ...                          n_draws=200, random_state=0)
    >>> print(table.attrs["sentence"])  # doctest: +ELLIPSIS
    The 95 % intervals held the true area in ...% of 200 samples x 9 classes (nominal 95 %, \
Monte-Carlo margin +-3.0 points)...
    """
    if reference is None:
        logger.warning("No truth map: the coverage of the area intervals cannot be measured.")
        return None
    if interval not in ("standard", "jeffreys"):
        raise ValueError(f"interval must be 'standard' or 'jeffreys', got {interval!r}.")
    design = (n_points, min_per_stratum, allocation, classes, random_state)
    counts, population, codes, pixel_ha = _draw(mapped, reference, *design, n_draws)
    N = population.sum(axis=1)
    weights, total = (N / N.sum())[None, :, None], N.sum() * pixel_ha
    n = counts.sum(axis=2, keepdims=True)
    share = np.divide(counts, n, out=np.zeros(counts.shape), where=n > 0)
    q = share if interval == "standard" else (counts + 0.5) / (n + 1)
    estimate = total * (weights * share).sum(axis=1)
    se = total * np.sqrt((weights**2 * q * (1 - q) / np.maximum(n - 1, 1)).sum(axis=1))
    z = stats.norm.ppf(0.5 + confidence / 2)
    true = population.sum(axis=0) * pixel_ha
    held = np.abs(estimate - true) <= z * se + 1e-9 * total  # rounding: exact hits hold
    table = pd.DataFrame(
        {
            "true_area": true,
            "pixel_count_area": N * pixel_ha,
            "mean_estimate": estimate.mean(0),
            "sd_estimate": estimate.std(0),
            "mean_se": se.mean(0),
            "coverage": held.mean(0),
            "zero_width": (se == 0).mean(0),
        },
        index=pd.Index(codes, name="class"),
    )
    table.insert(5, "se_over_sd", table["mean_se"] / table["sd_estimate"])
    margin = float(z * np.sqrt(confidence * (1 - confidence) / n_draws))
    below = table.index[table["coverage"] < confidence - margin].tolist()
    above = table.index[table["coverage"] > confidence + margin].tolist()
    zero = table.index[table["zero_width"] > 0].tolist()
    table.attrs.update(
        coverage=float(held.mean()),
        mc_margin=margin,
        below=below,
        above=above,
        n_points=int(counts[0].sum()),
    )
    table.attrs["sentence"] = (
        f"The {100 * confidence:g} % intervals held the true area in {held.mean():.1%} of "
        f"{n_draws} samples x {len(codes)} classes (nominal {100 * confidence:g} %, Monte-Carlo "
        f"margin +-{100 * margin:.1f} points). Zero-width intervals in {(se == 0).mean():.1%} "
        "of them" + (f" (classes {', '.join(map(str, zero))})" if zero else "") + ". Beyond the "
        "margin, below nominal (too narrow): "
        + (", ".join(f"{c} ({table.loc[c, 'coverage']:.0%})" for c in below) or "no class")
        + "; above nominal (wider than needed): "
        + (", ".join(f"{c} ({table.loc[c, 'coverage']:.0%})" for c in above) or "no class")
        + "."
    )
    return table
