"""Simulated Landsat seasonal composites: class signatures, phenology, terrain and clouds.

Each class has a surface-reflectance signature per season (six Landsat bands), loosely
after published spectral libraries. Arable fields carry a crop that changes each year
(winter cereal: green in spring, stubble in summer; summer crop: bare in spring, green in
summer), so arable land in summer can look like pasture. On top of the signatures the
simulation adds what makes real composites hard: stand-to-stand vigour, a later spring
and winter snow in the mountains, a dry summer, illumination by slope and sun, mixed
pixels at boundaries, sensor noise and cloud gaps left by compositing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from odse_tutorial.simulation import landcover as lc
from odse_tutorial.simulation.terrain import hillshade, smooth_field

BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")
SEASONS = ("winter", "spring", "summer", "autumn")
#: Reflectance = digital number x REFLECTANCE_SCALE (digital numbers 0-250).
REFLECTANCE_SCALE = 0.004
NODATA = 255

# Sun (azimuth, altitude) in degrees at composite time, per season (mid-latitude Europe).
_SUN = {"winter": (165, 18), "spring": (150, 45), "summer": (145, 58), "autumn": (160, 32)}

# Reflectance per season (rows: winter, spring, summer, autumn) and band
# (columns: blue, green, red, nir, swir1, swir2).
_S = np.array
SIGNATURES: dict[int, NDArray[np.float64]] = {
    lc.URBAN: _S([[.09, .10, .11, .17, .19, .16], [.08, .09, .10, .19, .19, .16],
                  [.08, .09, .10, .20, .20, .16], [.09, .10, .11, .18, .19, .16]]),
    lc.PASTURE: _S([[.04, .06, .05, .25, .21, .11], [.03, .07, .04, .38, .21, .10],
                    [.035, .07, .045, .34, .23, .11], [.035, .065, .05, .30, .22, .11]]),
    lc.BROADLEAVED: _S([[.04, .05, .06, .19, .18, .10], [.03, .06, .04, .32, .17, .07],
                        [.025, .05, .03, .36, .16, .06], [.035, .06, .06, .26, .17, .08]]),
    lc.CONIFEROUS: _S([[.025, .035, .03, .14, .09, .045], [.02, .04, .025, .21, .10, .045],
                       [.02, .04, .025, .24, .11, .045], [.025, .04, .03, .18, .10, .045]]),
    lc.GRASSLAND: _S([[.05, .07, .08, .22, .26, .16], [.04, .07, .06, .27, .24, .14],
                      [.035, .065, .05, .31, .24, .12], [.05, .07, .08, .24, .27, .17]]),
    lc.HEATH: _S([[.035, .045, .05, .16, .17, .10], [.03, .05, .045, .21, .17, .09],
                  [.03, .05, .05, .25, .18, .09], [.035, .045, .055, .19, .17, .10]]),
    lc.TRANSITIONAL: _S([[.04, .055, .06, .20, .20, .11], [.03, .06, .045, .29, .19, .09],
                         [.03, .06, .04, .32, .19, .085], [.035, .06, .055, .25, .20, .10]]),
    lc.ROCK: _S([[.12, .14, .16, .21, .26, .21], [.12, .14, .16, .21, .26, .21],
                 [.13, .15, .17, .22, .27, .22], [.12, .14, .16, .21, .26, .21]]),
    lc.WATER: _S([[.05, .05, .035, .025, .012, .008], [.045, .055, .035, .03, .012, .008],
                  [.04, .06, .04, .035, .012, .008], [.045, .05, .035, .025, .012, .008]]),
}  # fmt: skip
# Arable land: the signature depends on the crop of the year.
CROPS: dict[str, NDArray[np.float64]] = {
    "winter_cereal": _S([[.045, .065, .06, .23, .21, .12], [.03, .07, .04, .42, .22, .10],
                         [.08, .11, .14, .25, .31, .23], [.07, .09, .11, .19, .27, .20]]),
    "summer_crop": _S([[.07, .09, .11, .19, .27, .20], [.07, .09, .10, .22, .27, .19],
                       [.03, .07, .04, .44, .21, .09], [.06, .085, .10, .23, .27, .19]]),
}  # fmt: skip
SNOW = _S([0.72, 0.71, 0.69, 0.60, 0.10, 0.08])

_VEGETATION = (lc.PASTURE, lc.BROADLEAVED, lc.CONIFEROUS, lc.GRASSLAND, lc.HEATH,
               lc.TRANSITIONAL, lc.ARABLE)  # fmt: skip


def _base_reflectance(
    rng: np.random.Generator,
    land: NDArray[np.int32],
    field_parcels: NDArray[np.int32],
) -> NDArray[np.float64]:
    """Class signatures painted on the map: array (season, band, row, col)."""
    refl = np.zeros((len(SEASONS), len(BANDS), *land.shape))
    for code, signature in SIGNATURES.items():
        mask = land == code
        refl[:, :, mask] = signature[:, :, None]
    # Each arable parcel gets this year's crop.
    crop_draw = rng.uniform(size=int(field_parcels.max()) + 1)[field_parcels]
    for crop, share in (("winter_cereal", (0.0, 0.55)), ("summer_crop", (0.55, 1.0))):
        mask = (land == lc.ARABLE) & (crop_draw >= share[0]) & (crop_draw < share[1])
        refl[:, :, mask] = CROPS[crop][:, :, None]
    return refl


def regional_effects(
    rng: np.random.Generator, shape: tuple[int, int], strength: float = 0.2
) -> NDArray[np.float64]:
    """Lasting regional reflectance factors (around 1) per season, band and pixel."""
    return 1 + strength * np.stack(
        [np.stack([smooth_field(rng, shape, 30) for _ in BANDS]) for _ in SEASONS]
    )


def simulate_composites(
    rng: np.random.Generator,
    land: NDArray[np.int32],
    field_parcels: NDArray[np.int32],
    elevation: NDArray[np.float64],
    pixel_size: float,
    regional: NDArray[np.float64],
    *,
    dry_summer: bool = False,
) -> tuple[dict[str, NDArray[np.uint8]], NDArray[np.bool_]]:
    """Seasonal composites of one year as scaled integers.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    land : ndarray of int
        Truth land cover (CORINE codes) of the year.
    field_parcels : ndarray of int
        Parcel id per pixel (crops are drawn per parcel).
    elevation : ndarray
        Elevation in metres (snow, late spring, illumination).
    pixel_size : float
        Pixel size in metres.
    regional : ndarray, shape (n_seasons, n_bands, rows, cols)
        Lasting multiplicative differences between regions (:func:`regional_effects`),
        the same every year.
    dry_summer : bool
        A drought year: vegetation is less green in summer.

    Returns
    -------
    layers : dict of str to ndarray of uint8
        ``"{band}_{season}"`` -> digital numbers (reflectance / 0.004), nodata 255.
    cloud_gaps : ndarray of bool, shape (n_seasons, rows, cols)
        Where each season's composite has no clear observation.
    """
    shape = land.shape
    refl = _base_reflectance(rng, land, field_parcels)
    vegetation = np.isin(land, _VEGETATION)

    # Vigour of stands and fields: greener here, sparser there.
    for s in range(len(SEASONS)):
        vigour = 0.12 * smooth_field(rng, shape, 4) * vegetation
        refl[s, 3] *= 1 + vigour
        refl[s, 2] *= 1 - 1.5 * vigour
        refl[s, 4:] *= 1 - 0.5 * vigour
    # Lasting regional differences (soils, moisture, management), plus this year's
    # local ones: what a model learns in one region transfers imperfectly to another.
    refl *= regional
    refl *= 1 + 0.04 * np.stack(
        [np.stack([smooth_field(rng, shape, 4) for _ in BANDS]) for _ in SEASONS]
    )

    # Mountains: spring arrives late and winters are snowy.
    late = np.clip((elevation - 500) / 900, 0, 0.7)
    refl[1] = (1 - late) * refl[1] + late * refl[0]
    snow_line = rng.normal(950, 120)
    snow = np.clip((elevation - snow_line) / 350 + 0.35 * smooth_field(rng, shape, 5), 0, 1)
    snow[land == lc.WATER] = 0
    refl[0] = (1 - snow) * refl[0] + snow * SNOW[:, None, None]

    if dry_summer:
        refl[2, 3, vegetation] *= 0.85
        refl[2, 2, vegetation] *= 1.25
        refl[2, 4:, vegetation] *= 1.12

    # Illumination by the sun on sloping terrain, and the atmosphere of each composite.
    for s, season in enumerate(SEASONS):
        refl[s] *= hillshade(elevation, pixel_size, *_SUN[season])[None]
        refl[s] *= rng.normal(1.0, 0.03, size=(len(BANDS), 1, 1))

    # Mixed pixels at boundaries, then sensor noise.
    refl = ndimage.gaussian_filter(refl, sigma=(0, 0, 0.6, 0.6))
    refl *= 1 + rng.normal(0, 0.07, size=refl.shape)
    refl += rng.normal(0, 0.003, size=refl.shape)

    digital = np.clip(np.round(refl / REFLECTANCE_SCALE), 0, 250).astype(np.uint8)

    # Cloud gaps: compositing leaves a few cloudy patches, mostly in winter.
    cloud_gaps = np.zeros((len(SEASONS), *shape), dtype=bool)
    for s, p_cloudy in enumerate((0.8, 0.35, 0.15, 0.5)):
        if rng.uniform() < p_cloudy:
            cover = rng.uniform(0.004, 0.025)
            field = smooth_field(rng, shape, 5)
            cloud_gaps[s] = field > np.quantile(field, 1 - cover)
            digital[s][:, cloud_gaps[s]] = NODATA

    layers = {
        f"{band}_{season}": digital[s, b]
        for s, season in enumerate(SEASONS)
        for b, band in enumerate(BANDS)
    }
    return layers, cloud_gaps
