"""Simulated terrain: a smooth landscape rising from river lowlands to mountains."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage


def smooth_field(
    rng: np.random.Generator, shape: tuple[int, int], scale: float
) -> NDArray[np.float64]:
    """Spatially autocorrelated noise: white noise smoothed over ``scale`` pixels.

    The result has mean 0 and standard deviation 1, so fields of different scales
    can be mixed with weights that mean what they say.

    Examples
    --------
    >>> f = smooth_field(np.random.default_rng(0), (64, 64), 8)
    >>> round(float(f.std()), 3)
    1.0
    """
    noise = rng.standard_normal(shape)
    field = ndimage.gaussian_filter(noise, sigma=scale, mode="reflect")
    return (field - field.mean()) / field.std()


def simulate_elevation(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Elevation in metres: a south-west to north-east rise plus hills at several scales.

    Roughly 50 m in the lowlands to 1,600 m on the highest summits, so that land
    cover can follow the terrain (farmland below, forest on slopes, heath, grassland
    and rock at the top).
    """
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    # 0 in the south-west corner, 1 in the north-east corner.
    trend = (cols / (shape[1] - 1) + (1 - rows / (shape[0] - 1))) / 2
    relief = (
        0.8 * smooth_field(rng, shape, 40)
        + 0.4 * smooth_field(rng, shape, 14)
        + 0.08 * smooth_field(rng, shape, 5)
    )
    # Mountains are rougher than lowlands: relief grows with the trend.
    elevation = 60 + 1500 * trend**1.8 + (15 + 280 * trend**1.5) * relief
    return np.clip(elevation, 5, None)


def slope_percent(elevation: NDArray[np.float64], pixel_size: float) -> NDArray[np.float64]:
    """Slope in percent (rise over run x 100) from an elevation grid."""
    dz_dy, dz_dx = np.gradient(elevation, pixel_size)
    return 100 * np.hypot(dz_dx, dz_dy)


def hillshade(
    elevation: NDArray[np.float64], pixel_size: float, azimuth: float, altitude: float
) -> NDArray[np.float64]:
    """Illumination (cosine of the incidence angle) for a sun at ``azimuth``/``altitude`` degrees.

    Used to make reflectance depend on topography, as it does in real imagery:
    slopes facing away from the sun look darker.
    """
    dz_dy, dz_dx = np.gradient(elevation, pixel_size)
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    # Rows grow southwards, so the northward gradient is -dz_dy.
    aspect = np.arctan2(-dz_dx, dz_dy)
    az, alt = np.radians(azimuth), np.radians(altitude)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade / np.sin(alt), 0.3, 1.4)
