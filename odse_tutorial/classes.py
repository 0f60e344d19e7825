"""Land-cover class tables: the codes, names and colours that travel with every map.

A :class:`ClassTable` is the one place where a class code (``231``, or ``"231"``)
meets its name (``"Pastures"``) and its colour (``"#e6e64d"``). Models keep the
table they were trained with, maps carry it in their metadata, and plots use it
for legends, so that a code never appears without its meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["CORINE_CLASSES", "ClassTable"]

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Fallback palette (colour-blind friendly, Okabe-Ito then Tableau) for classes that
# come without a colour.
_DEFAULT_PALETTE = (
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7",
    "#999999", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


@dataclass(frozen=True)
class _LandCoverClass:
    """One land-cover class: its code, its name and its map colour.

    Parameters
    ----------
    code : int or str
        The class code as used in the samples (for example a CORINE code).
    name : str
        A human-readable class name.
    colour : str
        Map colour as ``"#rrggbb"``.
    """

    code: int | str
    name: str
    colour: str


class ClassTable(Sequence[_LandCoverClass]):
    """An ordered, immutable table of land-cover classes.

    The order is the order of the codes given; it is the order of probability
    columns, probability layers and legends.

    Parameters
    ----------
    codes : sequence of int or str
        Unique class codes. Integers and strings may not be mixed.
    names : sequence of str, optional
        One name per code. Defaults to the code written as text.
    colours : sequence of str, optional
        One ``"#rrggbb"`` colour per code. Defaults to a colour-blind friendly palette.

    Examples
    --------
    >>> table = ClassTable([211, 231], ["Arable land", "Pastures"], ["#ffffa8", "#e6e64d"])
    >>> table.name_of(231)
    'Pastures'
    >>> table.subset([231]).codes
    (231,)
    """

    def __init__(
        self,
        codes: Sequence[Hashable],
        names: Sequence[str] | None = None,
        colours: Sequence[str] | None = None,
    ) -> None:
        codes = tuple(_normalise_code(c) for c in codes)
        if len(set(codes)) != len(codes):
            dupes = sorted({str(c) for c in codes if codes.count(c) > 1})
            raise ValueError(f"Class codes must be unique; repeated: {', '.join(dupes)}.")
        if len({type(c) for c in codes}) > 1:
            raise ValueError(
                "Class codes mix integers and strings; convert them to one type first "
                f"(got {sorted(map(str, codes))})."
            )
        names = tuple(str(c) for c in codes) if names is None else tuple(map(str, names))
        if colours is None:
            colours = tuple(_DEFAULT_PALETTE[i % len(_DEFAULT_PALETTE)] for i in range(len(codes)))
        colours = tuple(str(c) for c in colours)
        if not (len(codes) == len(names) == len(colours)):
            raise ValueError(
                f"codes, names and colours must have the same length, got "
                f"{len(codes)}, {len(names)} and {len(colours)}."
            )
        for code, colour in zip(codes, colours, strict=True):
            if not _HEX_COLOUR.match(colour):
                raise ValueError(
                    f"Colour {colour!r} of class {code!r} is not of the form '#rrggbb'."
                )
        self._classes = tuple(
            _LandCoverClass(c, n, col.lower())
            for c, n, col in zip(codes, names, colours, strict=True)
        )
        self._index = {c.code: i for i, c in enumerate(self._classes)}

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ClassTable:
        """Build a table from a frame with columns ``code``, ``name`` and ``colour``.

        Examples
        --------
        >>> df = pd.DataFrame({"code": [1, 2], "name": ["a", "b"], "colour": ["#000000", "#ffffff"]})
        >>> ClassTable.from_frame(df).names
        ('a', 'b')
        """
        missing = [c for c in ("code", "name") if c not in frame.columns]
        if missing:
            raise KeyError(
                f"A class table needs columns 'code' and 'name' (and optionally 'colour'); "
                f"missing: {missing}. Columns found: {list(frame.columns)}."
            )
        colours = frame["colour"].tolist() if "colour" in frame.columns else None
        return cls(frame["code"].tolist(), frame["name"].tolist(), colours)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> ClassTable:
        """Build a table from dicts with keys ``code``, ``name`` and ``colour``."""
        return cls.from_frame(pd.DataFrame(list(records)))

    def to_records(self) -> list[dict[str, Any]]:
        """Plain dicts, for JSON metadata (the inverse of :meth:`from_records`)."""
        return [{"code": c.code, "name": c.name, "colour": c.colour} for c in self._classes]

    # -- the legend of a class map -----------------------------------------------------
    @property
    def raster_values(self) -> tuple[int, ...]:
        """The pixel value of each class in a class map, in table order.

        Integer codes from 1 to 65534 are stored as themselves (a CORINE map keeps its
        codes); otherwise (string codes, or codes a ``uint16`` raster cannot hold with 0 as
        nodata) a class is stored as its position in the table plus one.

        Examples
        --------
        >>> ClassTable([211, 231]).raster_values
        (211, 231)
        >>> ClassTable(["forest", "water"]).raster_values
        (1, 2)
        """
        if all(isinstance(c, int) and 0 < c < 65535 for c in self.codes):
            return tuple(self.codes)
        return tuple(range(1, len(self) + 1))

    def to_tags(self) -> dict[str, str]:
        """The raster tags that carry this table with a class map (the legend).

        A ``classes`` tag holds a JSON list of records with keys ``value`` (the pixel
        value, see :attr:`raster_values`), ``code``, ``name`` and ``colour``;
        :meth:`from_tags` reads it back.

        Examples
        --------
        >>> tags = ClassTable(["forest"], ["Forest"], ["#00a600"]).to_tags()
        >>> tags["classes"]
        '[{"value": 1, "code": "forest", "name": "Forest", "colour": "#00a600"}]'
        >>> ClassTable.from_tags(tags).names
        ('Forest',)
        """
        records = [
            {"value": v, **r} for v, r in zip(self.raster_values, self.to_records(), strict=True)
        ]
        return {"classes": json.dumps(records)}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], source: object = "the raster") -> ClassTable:
        """Read the table a class map carries in its tags (the inverse of :meth:`to_tags`).

        Parameters
        ----------
        tags : mapping
            The raster's tags, for example ``rasterio.open(path).tags()``.
        source : object
            What the tags come from (a path), named in errors.

        Raises
        ------
        ValueError
            If there is no ``classes`` tag, or its pixel values disagree with the rule of
            :attr:`raster_values`.
        """
        text = tags.get("classes")
        if text is None:
            raise ValueError(
                f"{source} has no 'classes' tag, so it carries no legend; is it a class map "
                "(such as dominant_class.tif or a truth map)? Pass the class table instead."
            )
        records = json.loads(text)
        table = cls.from_records(records)
        stored = tuple(int(r["value"]) for r in records)
        if stored != table.raster_values:
            raise ValueError(
                f"The legend of {source} stores pixel values {list(stored)}, but its class "
                f"codes imply {list(table.raster_values)}; the file was not written by "
                "ClassTable.to_tags. Rewrite its 'classes' tag."
            )
        return table

    @classmethod
    def of_map(
        cls,
        tags: Mapping[str, str],
        source: object = "the raster",
        classes: ClassTable | None = None,
    ) -> ClassTable:
        """The legend of a class map: its ``classes`` tag, else ``classes`` (whose
        :attr:`raster_values` rule then gives the pixel values)."""
        return cls.from_tags(tags, source) if classes is None or "classes" in tags else classes

    def decode(self, values: Any, source: object = "the map") -> tuple[list, NDArray[np.intp]]:
        """Class codes of pixel values: the code of each distinct value (sorted by value)
        and, for each pixel, the position of its value among them.

        Examples
        --------
        >>> ClassTable(["forest", "water"]).decode([[2, 1, 2]])
        (['forest', 'water'], array([[1, 0, 1]]))
        """
        uniq, inverse = np.unique(np.asarray(values), return_inverse=True)
        lookup = dict(zip(self.raster_values, self.codes, strict=True))
        unknown = [v for v in uniq.tolist() if v not in lookup]
        if unknown:
            raise ValueError(
                f"{source} has pixel value(s) {unknown[:5]} that its legend does not list "
                f"(it lists {sorted(lookup)}); the map and its legend disagree."
            )
        return [lookup[v] for v in uniq.tolist()], inverse.reshape(np.shape(values))

    def colormap(self, nodata: int) -> dict[int, tuple[int, int, int, int]]:
        """A raster colour table: pixel value -> RGBA, ``nodata`` transparent."""
        colours = {v: self.rgba(c) for v, c in zip(self.raster_values, self.codes, strict=True)}
        return {nodata: (0, 0, 0, 0), **colours}

    # -- access -------------------------------------------------------------------------
    def __getitem__(self, item):  # type: ignore[override]
        return self._classes[item]

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, code: object) -> bool:
        try:
            return _normalise_code(code) in self._index
        except TypeError:
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassTable) and self._classes == other._classes

    def __hash__(self) -> int:
        return hash(self._classes)

    def __repr__(self) -> str:
        rows = ", ".join(f"{c.code}: {c.name}" for c in self._classes)
        return f"ClassTable({rows})"

    @property
    def codes(self) -> tuple:
        """The class codes, in table order."""
        return tuple(c.code for c in self._classes)

    @property
    def names(self) -> tuple[str, ...]:
        """The class names, in table order."""
        return tuple(c.name for c in self._classes)

    @property
    def colours(self) -> tuple[str, ...]:
        """The class colours (``"#rrggbb"``), in table order."""
        return tuple(c.colour for c in self._classes)

    def index_of(self, code: Hashable) -> int:
        """Position of ``code`` in the table (its encoded label 0..K-1)."""
        try:
            return self._index[_normalise_code(code)]
        except KeyError:
            raise KeyError(
                f"Class code {code!r} is not in the class table; known codes: {list(self.codes)}."
            ) from None

    def name_of(self, code: Hashable) -> str:
        """Name of the class with ``code``."""
        return self._classes[self.index_of(code)].name

    def colour_of(self, code: Hashable) -> str:
        """Colour (``"#rrggbb"``) of the class with ``code``."""
        return self._classes[self.index_of(code)].colour

    def subset(self, codes: Iterable[Hashable]) -> ClassTable:
        """A table with only ``codes``, keeping this table's order."""
        wanted = {_normalise_code(c) for c in codes}
        unknown = wanted - set(self.codes)
        if unknown:
            raise KeyError(
                f"Codes {sorted(map(str, unknown))} are not in the class table; "
                f"known codes: {list(self.codes)}."
            )
        keep = [c for c in self._classes if c.code in wanted]
        return ClassTable([c.code for c in keep], [c.name for c in keep], [c.colour for c in keep])

    def labels(self) -> list[str]:
        """``"code name"`` strings, for axis labels and legends."""
        return [f"{c.code} {c.name}" for c in self._classes]

    def rgba(self, code: Hashable) -> tuple[int, int, int, int]:
        """Colour of ``code`` as a 0-255 RGBA tuple (for raster colour tables)."""
        return (*bytes.fromhex(self.colour_of(code)[1:]), 255)


def _normalise_code(code: object) -> int | str:
    """Turn numpy / pandas scalars into plain ``int`` or ``str`` so that codes compare equal."""
    code = code.item() if hasattr(code, "item") else code  # numpy scalar
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    if isinstance(code, int | str) and not isinstance(code, bool):
        return code
    raise TypeError(
        f"Class codes must be integers or strings, got {code!r} ({type(code).__name__})."
    )


#: Official CORINE Land Cover level-3 colours, by code (as text).
_CORINE_COLOURS = {
    "111": "#e6004d", "112": "#ff0000", "121": "#cc4df2", "122": "#cc0000", "123": "#e6cccc",
    "124": "#e6cce6", "131": "#a600cc", "132": "#a64d00", "133": "#ff4dff", "141": "#ffa6ff",
    "142": "#ffe6ff", "211": "#ffffa8", "212": "#ffff00", "213": "#e6e600", "221": "#e68000",
    "222": "#f2a64d", "223": "#e6a600", "231": "#e6e64d", "241": "#ffe6a6", "242": "#ffe64d",
    "243": "#e6cc4d", "244": "#f2cca6", "311": "#80ff00", "312": "#00a600", "313": "#4dff00",
    "321": "#ccf24d", "322": "#a6ff80", "323": "#a6e64d", "324": "#a6f200", "331": "#e6e6e6",
    "332": "#cccccc", "333": "#ccffcc", "334": "#000000", "335": "#a6e6cc", "411": "#a6a6ff",
    "412": "#4d4dff", "421": "#ccccff", "422": "#e6e6ff", "423": "#a6a6e6", "511": "#00ccf2",
    "512": "#80f2e6", "521": "#00ffa6", "522": "#a6ffe6", "523": "#e6f2ff",
}  # fmt: skip

#: CORINE Land Cover classes used by the bundled, simulated landscape, with the
#: official CORINE colours.
_CORINE_CODES = [112, 211, 231, 311, 312, 321, 322, 324, 332, 512]
_CORINE_NAMES = [
    "Discontinuous urban fabric",
    "Non-irrigated arable land",
    "Pastures",
    "Broad-leaved forest",
    "Coniferous forest",
    "Natural grasslands",
    "Moors and heathland",
    "Transitional woodland-shrub",
    "Bare rocks",
    "Water bodies",
]
CORINE_CLASSES = ClassTable(
    _CORINE_CODES, _CORINE_NAMES, [_CORINE_COLOURS[str(c)] for c in _CORINE_CODES]
)
