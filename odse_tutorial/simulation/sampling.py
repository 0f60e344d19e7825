"""Simulated land-cover samples: LUCAS-like field survey points and CORINE-like map points.

These two make the bundled ``samples.gpkg``: a probability sample (a systematic grid plus
random points) spread over the whole mapped area. A second, separate design,
:func:`campaign_samples` (``samples_clustered.gpkg``), is clustered and preferential, as
field campaigns often are: it shows what cross-validation estimates when the map must
extrapolate far from its training data.

- **LUCAS-like**: a systematic grid of locations, each visited in some of the survey
  years (so most locations appear several times, with the same ``location_id``). The
  surveyor records the class where they stand (a few metres of GPS error) and gets it
  wrong now and then. High confidence.
- **CORINE-like**: random points labelled from a generalised map, as CORINE maps with a
  25 ha minimum mapping unit (here: the majority class in a 270 m window), plus label
  noise. Confidence = how homogeneous that window is, so lower than LUCAS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import ndimage

from odse_tutorial.simulation import landcover as lc

#: Classes an interpreter may take for another (label noise goes to these).
CONFUSABLE: dict[int, tuple[int, ...]] = {
    lc.URBAN: (lc.ARABLE, lc.PASTURE),
    lc.ARABLE: (lc.PASTURE,),
    lc.PASTURE: (lc.ARABLE, lc.GRASSLAND),
    lc.BROADLEAVED: (lc.CONIFEROUS, lc.TRANSITIONAL),
    lc.CONIFEROUS: (lc.BROADLEAVED, lc.TRANSITIONAL),
    lc.GRASSLAND: (lc.PASTURE, lc.HEATH),
    lc.HEATH: (lc.GRASSLAND, lc.TRANSITIONAL),
    lc.TRANSITIONAL: (lc.HEATH, lc.BROADLEAVED, lc.CONIFEROUS),
    lc.ROCK: (lc.GRASSLAND,),
    lc.WATER: (lc.PASTURE,),
}

_COLUMNS = ["location_id", "survey_date", "lc_code", "source", "confidence", "row", "col", "x_offset", "y_offset"]  # fmt: skip


def _mislabel(rng: np.random.Generator, codes: NDArray, rate: float) -> NDArray:
    codes = codes.copy()
    for i in np.flatnonzero(rng.uniform(size=codes.size) < rate):
        codes[i] = rng.choice(CONFUSABLE[int(codes[i])])
    return codes


def _survey_dates(rng: np.random.Generator, year: int, n: int, months: tuple[int, int]) -> list:
    start = pd.Timestamp(year=year, month=months[0], day=1)
    days = (pd.Timestamp(year=year, month=months[1], day=1) - start).days
    return [(start + pd.Timedelta(days=int(d))).date() for d in rng.integers(0, days, n)]


def lucas_samples(
    rng: np.random.Generator,
    maps: dict[int, NDArray[np.int32]],
    valid: NDArray[np.bool_],
    years: list[int],
    *,
    spacing: int = 12,
    visit_probability: float = 0.6,
    gps_error_px: float = 0.2,
    noise_rate: float = 0.03,
) -> pd.DataFrame:
    """Survey points on a systematic grid, revisited across the survey ``years``.

    Returns a frame in pixel coordinates (``row``, ``col`` plus sub-pixel offsets);
    the dataset writer turns them into map coordinates.
    """
    shape = valid.shape
    rows, cols = np.mgrid[spacing // 2 : shape[0] : spacing, spacing // 2 : shape[1] : spacing]
    grid = pd.DataFrame({"grid_row": rows.ravel(), "grid_col": cols.ravel()})
    grid = grid[valid[grid.grid_row, grid.grid_col]].reset_index(drop=True)
    grid["location_id"] = [f"L{i:05d}" for i in range(1, len(grid) + 1)]
    return _field_visits(
        rng, maps, grid, years, "LUCAS", visit_probability, gps_error_px, noise_rate
    )


def campaign_samples(
    rng: np.random.Generator,
    maps: dict[int, NDArray[np.int32]],
    valid: NDArray[np.bool_],
    years: list[int],
    *,
    n_clusters: int = 25,
    n_locations: int = 40,
    radius: float = 9.0,
    town_distance: float = 40.0,
    visit_probability: float = 0.75,
) -> pd.DataFrame:
    """Field campaigns: clusters of survey points near towns (clustered, preferential).

    Each campaign centre is drawn with a probability that falls with the distance to
    the nearest built-up pixel of the first year (``exp(-distance / town_distance)``);
    its ``n_locations`` locations lie within ``radius`` pixels of it and are revisited
    as the LUCAS-like ones are (same GPS error, same 3 % label noise). Most of the
    landscape, the mountains above all, is far from every cluster.
    """
    first = maps[min(maps)]
    distance = ndimage.distance_transform_edt(first != lc.URBAN)
    weight = np.where(valid, np.exp(-distance / town_distance), 0.0).ravel()
    centres = rng.choice(weight.size, size=n_clusters, replace=False, p=weight / weight.sum())
    angle = rng.uniform(0, 2 * np.pi, (n_clusters, n_locations))
    reach = radius * np.sqrt(rng.uniform(size=(n_clusters, n_locations)))
    centre_rows, centre_cols = np.unravel_index(centres, valid.shape)
    rows = np.clip(np.round(centre_rows[:, None] + reach * np.sin(angle)), 0, valid.shape[0] - 1)
    cols = np.clip(np.round(centre_cols[:, None] + reach * np.cos(angle)), 0, valid.shape[1] - 1)
    sites = pd.DataFrame(
        {"grid_row": rows.ravel().astype(int), "grid_col": cols.ravel().astype(int)}
    )
    sites = sites[valid[sites.grid_row, sites.grid_col]].drop_duplicates(ignore_index=True)
    sites["location_id"] = [f"F{i:05d}" for i in range(1, len(sites) + 1)]
    return _field_visits(rng, maps, sites, years, "campaign", visit_probability, 0.2, 0.03)


def _field_visits(
    rng: np.random.Generator,
    maps: dict[int, NDArray[np.int32]],
    sites: pd.DataFrame,
    years: list[int],
    source: str,
    visit_probability: float,
    gps_error_px: float,
    noise_rate: float,
) -> pd.DataFrame:
    """Visits of field ``sites`` (``grid_row``, ``grid_col``, ``location_id``) per year."""
    frames = []
    for year in years:
        visited = sites[rng.uniform(size=len(sites)) < visit_probability]
        n = len(visited)
        # Sub-pixel position of the surveyor, a little off the theoretical point.
        fy = np.clip(0.5 + rng.normal(0, gps_error_px, n), 0, 0.999)
        fx = np.clip(0.5 + rng.normal(0, gps_error_px, n), 0, 0.999)
        codes = maps[year][visited.grid_row, visited.grid_col]
        frames.append(
            pd.DataFrame(
                {
                    "location_id": visited.location_id.to_numpy(),
                    "survey_date": _survey_dates(rng, year, n, (5, 10)),
                    "lc_code": _mislabel(rng, codes, noise_rate),
                    "source": source,
                    # Some points are photo-interpreted rather than visited: less sure.
                    "confidence": np.where(rng.uniform(size=n) < 0.1, 0.8, 1.0),
                    "row": visited.grid_row.to_numpy(),
                    "col": visited.grid_col.to_numpy(),
                    "y_offset": fy,
                    "x_offset": fx,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[_COLUMNS]


def corine_samples(
    rng: np.random.Generator,
    maps: dict[int, NDArray[np.int32]],
    valid: NDArray[np.bool_],
    years: list[int],
    *,
    n_per_year: int = 300,
    window: int = 9,
    noise_rate: float = 0.1,
    first_id: int = 1,
) -> pd.DataFrame:
    """Random points labelled from a generalised (CORINE-like) map of each year."""
    frames = []
    candidates = np.argwhere(valid)
    next_id = first_id
    for year in years:
        truth = maps[year]
        codes = np.unique(truth[valid])
        shares = np.stack(
            [ndimage.uniform_filter((truth == c).astype(float), window) for c in codes]
        )
        generalised = codes[np.argmax(shares, axis=0)]
        homogeneity = shares.max(axis=0)

        picked = candidates[rng.choice(len(candidates), size=n_per_year, replace=False)]
        r, c = picked[:, 0], picked[:, 1]
        frames.append(
            pd.DataFrame(
                {
                    "location_id": [f"C{i:05d}" for i in range(next_id, next_id + n_per_year)],
                    "survey_date": [pd.Timestamp(year=year, month=1, day=1).date()] * n_per_year,
                    "lc_code": _mislabel(rng, generalised[r, c], noise_rate),
                    "source": "CORINE",
                    "confidence": np.round(0.3 + 0.5 * homogeneity[r, c], 2),
                    "row": r,
                    "col": c,
                    "y_offset": rng.uniform(size=n_per_year),
                    "x_offset": rng.uniform(size=n_per_year),
                }
            )
        )
        next_id += n_per_year
    return pd.concat(frames, ignore_index=True)[_COLUMNS]
