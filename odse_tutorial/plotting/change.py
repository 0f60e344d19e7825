"""Land-cover change between two class maps: the from-to table and the change map."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pandas as pd
import rasterio
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from odse_tutorial.classes import ClassTable
from odse_tutorial.plotting._classes import (
    _class_handles,
    _class_sources,
    _class_table,
    _CodeIds,
    _draw_categories,
    _positions,
    _read_pair,
)
from odse_tutorial.plotting._figures import (
    _axes,
    _legend_right,
)
from odse_tutorial.plotting._rasters import (
    _finish_map,
    _strips,
    _when,
)

__all__ = ["change_matrix", "plot_change"]


UNCHANGED_COLOUR = "#e6e6e6"

_AREA_UNITS = {"ha": 1e-4, "km2": 1e-6, "m2": 1.0, "pixels": None}


def _pixel_area(path: str | os.PathLike) -> float:
    with rasterio.open(path) as src:
        if src.crs is not None and src.crs.is_geographic:
            raise ValueError(
                f"{path} is in geographic coordinates (degrees); areas need a projected, "
                "equal-area CRS such as EPSG:3035."
            )
        return abs(src.transform.a * src.transform.e - src.transform.b * src.transform.d)


def change_matrix(
    path_before: str | os.PathLike,
    path_after: str | os.PathLike,
    classes: ClassTable | None = None,
    *,
    unit: str = "ha",
) -> pd.DataFrame:
    """From-to table of land-cover change between two class maps of one grid.

    Reads both maps in full-resolution strips (bounded memory). Pixels that are nodata
    in either map are left out.

    Parameters
    ----------
    path_before, path_after : path-like
        Class rasters of the earlier and the later year (``dominant_class.tif`` or
        truth maps), on the same grid.
    classes : ClassTable, optional
        Names and order of the classes; defaults to the maps' legends.
    unit : {"ha", "km2", "m2", "pixels"}, default "ha"
        Unit of the cells (areas from the pixel size of a projected CRS).

    Returns
    -------
    pandas.DataFrame
        Rows: the class before (index named ``from``); columns: the class after
        (``to``); labels ``"code name"``; only classes present in either map. The
        diagonal is the unchanged area.

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> table = change_matrix(data.truth("9529", 2000), data.truth("9529", 2018))
    >>> round(float(table.to_numpy().sum()))  # 256 x 256 pixels of 0.09 ha
    5898
    """
    if unit not in _AREA_UNITS:
        raise ValueError(f"unit must be one of {list(_AREA_UNITS)}, got {unit!r}.")
    before, after = _class_sources(path_before, path_after)
    ids, counts = _CodeIds(), Counter()
    with rasterio.open(before.path) as a, rasterio.open(after.path) as b:
        for window in _strips(a):
            da, db = a.read(1, window=window, masked=True), b.read(1, window=window, masked=True)
            valid = ~(np.ma.getmaskarray(da) | np.ma.getmaskarray(db))
            ia = ids(np.asarray(da)[valid], before.value_codes, str(before.path))
            ib = ids(np.asarray(db)[valid], after.value_codes, str(after.path))
            pairs, n = np.unique(ia * (1 << 20) + ib, return_counts=True)
            counts.update(dict(zip(pairs.tolist(), n.tolist(), strict=True)))
    table = _class_table(classes, before.records + after.records, ids.codes, "the maps")
    order = sorted(range(len(ids.codes)), key=lambda i: table.index_of(ids.codes[i]))
    rank = {old: new for new, old in enumerate(order)}
    matrix = np.zeros((len(order), len(order)))
    for pair, n in counts.items():
        matrix[rank[pair >> 20], rank[pair & ((1 << 20) - 1)]] += n
    factor = _AREA_UNITS[unit]
    if factor is not None:
        matrix *= _pixel_area(path_before) * factor
    labels = [f"{c.code} {c.name}" for c in (table[table.index_of(ids.codes[i])] for i in order)]
    return pd.DataFrame(
        matrix, index=pd.Index(labels, name="from"), columns=pd.Index(labels, name="to")
    )


def plot_change(
    path_before: str | os.PathLike,
    path_after: str | os.PathLike,
    classes: ClassTable | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Map land-cover change: changed pixels in the colour of their new class.

    Unchanged pixels are light grey; nodata (in either map) is transparent over a grey
    hatch. The legend lists the new classes of the changed pixels.

    Parameters
    ----------
    path_before, path_after : path-like
        Class rasters of the earlier and the later year, on the same grid.
    classes : ClassTable, optional
        Names and colours; defaults to the maps' legends.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Defaults to the years and the share of pixels that changed.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()
    >>> ax = plot_change(data.truth("9529", 2000), data.truth("9529", 2018), data.classes)
    >>> ax.get_legend().get_texts()[0].get_text()
    'unchanged'
    """
    ra, rb, ia, ib, valid, ids, records = _read_pair(path_before, path_after)
    table = _class_table(classes, records, ids.codes, "the maps")
    k = len(table)
    new = np.full(ia.shape, k, dtype=np.intp)  # k: unchanged
    changed = valid & (ia != ib)
    if ids.codes:
        lut = _positions(ids.codes, table)
        new[changed] = lut[ib[changed]]
    ax = _axes(ax, (8.5, 5.5))
    new_classes = np.ma.MaskedArray(new, mask=~valid)
    _draw_categories(ax, new_classes, ra.frame, [*table.colours, UNCHANGED_COLOUR])
    share = changed.sum() / max(valid.sum(), 1)
    if title is None:
        before, after = _when(ra.path, ra.tags), _when(rb.path, rb.tags)
        title = f"Land-cover change {before} → {after}: {100 * share:.1f} % of pixels changed"
    _finish_map(ax, ra.frame, title)
    handles = [
        Patch(facecolor=UNCHANGED_COLOUR, edgecolor="#999999", linewidth=0.4, label="unchanged")
    ]
    handles += _class_handles(table, set(new[changed].tolist()), not valid.all())
    _legend_right(ax, handles, "New class of changed pixels")
    return ax
