"""Simulated land cover: a first map driven by terrain, then change from year to year.

The first year's map is built in two steps, as landscapes are: a *zone* from the
terrain (water, settlements, farmland, forest, semi-natural land, rock) and, inside
each zone, parcels and stands (arable fields and pastures, broad-leaved and
coniferous stands). Later years change by processes, not by noise: forest stands
are clear-cut and grow back through transitional woodland-shrub, towns grow into
neighbouring fields, and fields switch between arable land and pasture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from odse_tutorial.simulation.terrain import smooth_field

URBAN, ARABLE, PASTURE = 112, 211, 231
BROADLEAVED, CONIFEROUS = 311, 312
GRASSLAND, HEATH, TRANSITIONAL = 321, 322, 324
ROCK, WATER = 332, 512

#: Years a clear-cut stays transitional woodland-shrub before it counts as forest again.
REGROWTH_YEARS = 10


@dataclass(frozen=True)
class Landscape:
    """Truth land cover per year, and the parcels it is made of.

    Attributes
    ----------
    maps : dict of int to ndarray
        CORINE class code per pixel, one map per year.
    field_parcels : ndarray of int
        Parcel id per pixel (fields and forest stands); parcels change class as a whole.
    crop_seed : ndarray of float
        A value in [0, 1) per parcel used to draw crops per year.
    """

    maps: dict[int, NDArray[np.int32]]
    field_parcels: NDArray[np.int32]
    crop_seed: NDArray[np.float64]


def parcels(rng: np.random.Generator, shape: tuple[int, int], spacing: float) -> NDArray[np.int32]:
    """Irregular parcels: the Voronoi cells of jittered grid points ``spacing`` pixels apart.

    Examples
    --------
    >>> p = parcels(np.random.default_rng(0), (40, 40), 10)
    >>> p.shape, int(p.max()) < 40
    ((40, 40), True)
    """
    ny, nx = int(np.ceil(shape[0] / spacing)) + 1, int(np.ceil(shape[1] / spacing)) + 1
    gy, gx = np.mgrid[0:ny, 0:nx].astype(float) * spacing
    gy += rng.uniform(-0.4, 0.4, gy.shape) * spacing
    gx += rng.uniform(-0.4, 0.4, gx.shape) * spacing
    seeds = np.zeros(shape, dtype=bool)
    iy = np.clip(np.round(gy).astype(int), 0, shape[0] - 1).ravel()
    ix = np.clip(np.round(gx).astype(int), 0, shape[1] - 1).ravel()
    seeds[iy, ix] = True
    labels, _ = ndimage.label(seeds)
    # Each pixel takes the label of its nearest seed.
    _, (ry, rx) = ndimage.distance_transform_edt(~seeds, return_indices=True)
    return labels[ry, rx].astype(np.int32)


def _parcel_mean(values: NDArray, field_parcels: NDArray[np.int32]) -> NDArray[np.float64]:
    """Mean of ``values`` over each parcel (0 for parcel ids without pixels)."""
    sums = np.bincount(field_parcels.ravel(), weights=values.ravel().astype(float))
    counts = np.bincount(field_parcels.ravel())
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)


def _initial_map(
    rng: np.random.Generator,
    elevation: NDArray[np.float64],
    slope: NDArray[np.float64],
    field_parcels: NDArray[np.int32],
) -> NDArray[np.int32]:
    shape = elevation.shape
    lc = np.zeros(shape, dtype=np.int32)
    n_parcels = int(field_parcels.max()) + 1

    # Water: a few lakes in flat lowland hollows, with irregular shores.
    yy, xx = np.ogrid[0 : shape[0], 0 : shape[1]]
    shore = smooth_field(rng, shape, 3)
    lowland = np.argwhere((slope < 5) & (elevation < np.quantile(elevation, 0.3)))
    water = np.zeros(shape, dtype=bool)
    for cy, cx in lowland[rng.choice(len(lowland), size=4, replace=False)]:
        radius = rng.uniform(4, 9)
        dist = np.sqrt((yy - cy) ** 2 + ((xx - cx) / rng.uniform(1, 2.5)) ** 2)
        water |= dist + 2.0 * shore < radius

    # Settlements: a few towns on flat lowland, denser towards their centres.
    towns = np.zeros(shape)
    flat_low = np.argwhere((slope < 8) & (elevation < 500) & ~water)
    for cy, cx in flat_low[rng.choice(len(flat_low), size=10, replace=False)]:
        radius = rng.uniform(5, 12)
        towns = np.maximum(towns, np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)))
    urban = (towns * (1 + 0.35 * smooth_field(rng, shape, 2)) > 0.5) & ~water
    wet = ndimage.gaussian_filter(elevation, 25) - elevation
    wet = wet / wet.std()

    # Zones from terrain suitability plus smooth noise (patches, not salt-and-pepper).
    noise = {
        k: smooth_field(rng, shape, s) for k, s in (("farm", 18), ("forest", 12), ("semi", 10))
    }
    farm = 2.6 - elevation / 400 - slope / 11 + 0.8 * noise["farm"]
    forest = 0.6 + 0.02 * slope - np.abs(elevation - 850) / 700 + 0.9 * noise["forest"]
    semi = -1.4 + elevation / 600 + 0.7 * noise["semi"]
    rock = ((elevation > 1150) & (slope > 30)) | (elevation > 1330)
    zone = np.argmax(np.stack([farm, forest, semi]), axis=0)

    # Farmland parcels: arable on flat, low land; pasture on wetter, steeper, higher land.
    p_arable = 1 / (1 + np.exp(-(2.6 - slope / 4 - elevation / 350 - 0.6 * wet)))
    parcel_draw = rng.uniform(size=n_parcels)
    arable_parcel = (parcel_draw < _parcel_mean(p_arable, field_parcels))[field_parcels]
    lc[zone == 0] = np.where(arable_parcel, ARABLE, PASTURE)[zone == 0]

    # Forest stands: coniferous up high (and planted in some lowland stands).
    conifer_score = (elevation - 650) / 250 + 1.2 * smooth_field(rng, shape, 8)
    conifer = _parcel_mean(conifer_score > 0, field_parcels)[field_parcels] > 0.5
    lc[zone == 1] = np.where(conifer, CONIFEROUS, BROADLEAVED)[zone == 1]

    # Semi-natural land: grassland above the tree line, heath on gentle acid soils,
    # shrub where forest encroaches.
    semi_kind = np.argmax(
        np.stack(
            [
                (elevation - 950) / 180 + 0.8 * smooth_field(rng, shape, 7),
                0.3 - slope / 40 + 0.9 * smooth_field(rng, shape, 7),
                -0.2 + 0.9 * smooth_field(rng, shape, 5),
            ]
        ),
        axis=0,
    )
    lc[zone == 2] = np.array([GRASSLAND, HEATH, TRANSITIONAL])[semi_kind][zone == 2]

    lc[rock] = ROCK
    lc[urban] = URBAN
    lc[water] = WATER
    return lc


def simulate_landcover(
    rng: np.random.Generator,
    elevation: NDArray[np.float64],
    slope: NDArray[np.float64],
    years: list[int],
) -> Landscape:
    """Simulate one truth map per year, with land-cover change driven by processes.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (fixed seed for a reproducible landscape).
    elevation, slope : ndarray
        Terrain, in metres and percent.
    years : list of int
        Increasing years; the first year's map is drawn from the terrain, each
        later one changes the previous one.

    Returns
    -------
    Landscape
    """
    shape = elevation.shape
    field_parcels = parcels(rng, shape, spacing=9)
    n_parcels = int(field_parcels.max()) + 1
    lc = _initial_map(rng, elevation, slope, field_parcels)

    # Transitional land that exists in the first year is partly old clear-cuts.
    forest_kind = np.where(elevation > 700, CONIFEROUS, BROADLEAVED).astype(np.int32)
    cut_year = np.full(shape, -9999, dtype=np.int32)
    old_cut = (lc == TRANSITIONAL) & (smooth_field(rng, shape, 4) > 0.3)
    cut_year[old_cut] = years[0] - rng.integers(1, REGROWTH_YEARS, size=int(old_cut.sum()))

    maps = {years[0]: lc.copy()}
    for previous, year in zip(years[:-1], years[1:], strict=True):
        gap = year - previous
        lc = lc.copy()
        parcel_draw = rng.uniform(size=n_parcels)[field_parcels]

        # Regrowth: clear-cuts older than REGROWTH_YEARS are forest again.
        regrown = (cut_year > -9999) & (year - cut_year >= REGROWTH_YEARS) & (lc == TRANSITIONAL)
        lc[regrown] = forest_kind[regrown]
        cut_year[regrown] = -9999

        # Clear-cuts: whole stands, more often in coniferous production forest.
        rate = np.where(lc == CONIFEROUS, 0.012, 0.004) * gap
        cut = ((lc == CONIFEROUS) | (lc == BROADLEAVED)) & (parcel_draw < rate)
        forest_kind[cut] = lc[cut]
        lc[cut] = TRANSITIONAL
        cut_year[cut] = year - rng.integers(0, gap, size=int(cut.sum()))

        # Urban growth: fields next to town become built-up, parcel by parcel.
        near_town = ndimage.binary_dilation(lc == URBAN, iterations=3)
        touched = np.unique(field_parcels[near_town & np.isin(lc, (ARABLE, PASTURE))])
        grows = np.isin(field_parcels, touched[rng.uniform(size=touched.size) < 0.012 * gap])
        lc[grows & np.isin(lc, (ARABLE, PASTURE))] = URBAN

        # Farming: fields switch between arable land and pasture.
        switch = np.isin(lc, (ARABLE, PASTURE)) & (parcel_draw > 1 - 0.012 * gap)
        lc[switch] = np.where(lc[switch] == ARABLE, PASTURE, ARABLE)
        maps[year] = lc

    return Landscape(maps=maps, field_parcels=field_parcels, crop_seed=rng.uniform(size=n_parcels))
