"""Class maps for display: pixel values -> class codes -> class tables, colours, legends."""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch
from numpy.typing import NDArray
from rasterio.transform import array_bounds

from odse_tutorial.classes import ClassTable
from odse_tutorial.plotting._figures import (
    _QUALITATIVE,
)
from odse_tutorial.plotting._rasters import (
    _Frame,
    _frame,
    _map_title,
    _nodata_background,
    _nodata_handle,
    _Raster,
    _read_raster,
)
from odse_tutorial.raster_io import check_same_grid


def _legend_records(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``classes`` tag of a class map (prediction and truth maps carry one)."""
    text = tags.get("classes")
    return list(json.loads(text)) if text else []


def _value_codes(records: Sequence[Mapping[str, Any]]) -> dict[int, Hashable] | None:
    """Pixel value -> class code, or ``None`` when the pixel values are the codes."""
    if records and "value" in records[0]:
        return {int(r["value"]): r["code"] for r in records}
    return None


def _codes_of(values: NDArray, value_codes: Mapping[int, Hashable] | None, source: str) -> list:
    """Class code of each of the (unique) pixel ``values``."""
    if value_codes is None:
        return values.tolist()
    unknown = [v for v in values.tolist() if v not in value_codes]
    if unknown:
        raise ValueError(
            f"{source} has pixel value(s) {unknown[:5]} that its 'classes' tag does not "
            f"list (it lists {sorted(value_codes)}); the map and its legend disagree."
        )
    return [value_codes[v] for v in values.tolist()]


def _class_table(
    classes: ClassTable | None, records: Sequence[Mapping[str, Any]], codes: Sequence, source: str
) -> ClassTable:
    """The classes of a map: ``classes`` if given, else its legend, else its codes."""
    if classes is not None:
        missing = [c for c in dict.fromkeys(codes) if c not in classes]
        if missing:
            raise KeyError(
                f"{source} holds class code(s) {missing} that the class table lacks "
                f"({list(classes.codes)}); pass a ClassTable with every class of the map."
            )
        return classes
    known: dict[Hashable, Mapping[str, Any]] = {}
    for record in records:
        known.setdefault(record["code"], record)
    for code in sorted(set(codes) - set(known)):
        known[code] = {"code": code, "name": str(code)}
    rows = list(known.values())
    colours = [r.get("colour") or _QUALITATIVE[i % len(_QUALITATIVE)] for i, r in enumerate(rows)]
    return ClassTable([r["code"] for r in rows], [r["name"] for r in rows], colours)


def _positions(codes: Sequence, table: ClassTable) -> NDArray[np.intp]:
    return np.array([table.index_of(c) for c in codes], dtype=np.intp)


@dataclass(frozen=True)
class _ClassLayer:
    """A class map for display: table positions (masked where nodata) and its classes."""

    index: np.ma.MaskedArray
    table: ClassTable
    frame: _Frame
    title: str

    def present(self) -> set[int]:
        return set(np.unique(self.index.compressed()).tolist())


def _index_map(
    data: np.ma.MaskedArray, value_codes: Mapping | None, records: list, classes, source: str
) -> tuple[np.ma.MaskedArray, ClassTable]:
    mask = np.ma.getmaskarray(data)
    uniq, inverse = np.unique(np.asarray(data)[~mask], return_inverse=True)
    codes = _codes_of(uniq, value_codes, source)
    table = _class_table(classes, records, codes, source)
    index = np.zeros(data.shape, dtype=np.intp)
    index[~mask] = _positions(codes, table)[inverse]
    return np.ma.MaskedArray(index, mask=mask), table


def _read_class_layer(source: Any, classes: ClassTable | None) -> _ClassLayer:
    """A class map from a raster path or from ``(array, transform[, crs])``."""
    if isinstance(source, tuple):
        if len(source) not in (2, 3):
            raise ValueError(
                "A class map given as a tuple must be (array, transform) or "
                f"(array, transform, crs); got {len(source)} items."
            )
        array = np.ma.asarray(source[0])
        if array.ndim != 2:
            raise ValueError(f"The class array must be 2-D (rows, cols), got shape {array.shape}.")
        crs = rasterio.crs.CRS.from_user_input(source[2]) if len(source) == 3 else None
        bounds = array_bounds(array.shape[0], array.shape[1], source[1])
        index, table = _index_map(array, None, [], classes, "The class array")
        return _ClassLayer(index, table, _frame(bounds, crs), "Land cover")
    raster = _read_raster(source)
    records = _legend_records(raster.tags)
    index, table = _index_map(
        raster.data, _value_codes(records), records, classes, str(raster.path)
    )
    what = "Dominant class" if raster.tags.get("product") == "dominant_class" else None
    return _ClassLayer(index, table, raster.frame, _map_title(raster.path, raster.tags, what))


def _class_cmap(colours: Sequence[str]) -> tuple[ListedColormap, BoundaryNorm]:
    cmap = ListedColormap(list(colours)).with_extremes(bad=(0, 0, 0, 0))
    return cmap, BoundaryNorm(np.arange(len(colours) + 1) - 0.5, len(colours))


def _draw_categories(
    ax: Axes,
    index: np.ma.MaskedArray,
    frame: _Frame,
    colours: Sequence[str],
    alpha: float | None = None,
) -> None:
    """Draw positions 0..n-1 in ``colours``; masked pixels transparent over the hatch."""
    cmap, norm = _class_cmap(colours)
    if np.ma.getmaskarray(index).any():
        _nodata_background(ax, frame)
    ax.imshow(
        index, cmap=cmap, norm=norm, extent=frame.extent, interpolation="nearest", alpha=alpha
    )


def _draw_classes(ax: Axes, layer: _ClassLayer, alpha: float = 1.0) -> None:
    _draw_categories(ax, layer.index, layer.frame, layer.table.colours, alpha)


def _class_handles(table: ClassTable, present: set[int], nodata: bool = False) -> list[Patch]:
    handles = [
        Patch(facecolor=c.colour, edgecolor="#666666", linewidth=0.4, label=f"{c.code} {c.name}")
        for i, c in enumerate(table)
        if i in present
    ]
    return handles + ([_nodata_handle()] if nodata else [])


class _CodeIds:
    """Stable integer ids for class codes seen in one or more class rasters."""

    def __init__(self) -> None:
        self.codes: list[Hashable] = []
        self._ids: dict[Hashable, int] = {}

    def __call__(self, values: NDArray, value_codes: Mapping | None, source: str) -> NDArray:
        uniq, inverse = np.unique(values, return_inverse=True)
        ids = [self._id(code) for code in _codes_of(uniq, value_codes, source)]
        return np.asarray(ids, dtype=np.int64)[inverse].reshape(values.shape)

    def _id(self, code: Hashable) -> int:
        if code not in self._ids:
            self._ids[code] = len(self.codes)
            self.codes.append(code)
        return self._ids[code]


@dataclass
class _ClassSource:
    path: Path
    records: list[dict[str, Any]]
    value_codes: dict[int, Hashable] | None


def _class_sources(*paths: str | os.PathLike) -> list[_ClassSource]:
    check_same_grid({f"map {i + 1} ({p})": p for i, p in enumerate(paths)})
    sources = []
    for path in paths:
        with rasterio.open(path) as src:
            records = _legend_records(src.tags())
        sources.append(_ClassSource(Path(path), records, _value_codes(records)))
    return sources


def _read_pair(
    path_a: str | os.PathLike, path_b: str | os.PathLike
) -> tuple[_Raster, _Raster, NDArray, NDArray, NDArray[np.bool_], _CodeIds, list]:
    """Two class maps for display, their codes as shared ids, and where both are valid."""
    sources = _class_sources(path_a, path_b)
    ra, rb = _read_raster(path_a), _read_raster(path_b)
    valid = ~(np.ma.getmaskarray(ra.data) | np.ma.getmaskarray(rb.data))
    ids = _CodeIds()
    ia = np.full(ra.data.shape, -1, dtype=np.int64)
    ib = np.full(rb.data.shape, -1, dtype=np.int64)
    ia[valid] = ids(np.asarray(ra.data)[valid], sources[0].value_codes, str(path_a))
    ib[valid] = ids(np.asarray(rb.data)[valid], sources[1].value_codes, str(path_b))
    return ra, rb, ia, ib, valid, ids, sources[0].records + sources[1].records
