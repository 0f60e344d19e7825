"""ipywidgets explorers that also run headless (papermill, CI).

:func:`map_explorer` browses the maps written by
:func:`odse_tutorial.prediction.predict_maps`: pick a tile, a year, a product and (for
per-class products) a class, and the figure below redraws. It draws each figure into
a PNG held by an :class:`ipywidgets.Output`, so nothing depends on a live front end:
built without a browser (papermill), the explorer renders its first figure once, and
it also offers that figure as a static ``image/png`` next to the widget, which is what
a notebook viewer without widget support shows.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from odse_tutorial.classes import ClassTable
from odse_tutorial.plotting.maps import _drawer, _truth_lookup
from odse_tutorial.prediction import MapCatalogue

__all__ = ["map_explorer"]

logger = logging.getLogger(__name__)

#: Products the explorer can show, in menu order, with their menu labels.
_PRODUCTS = {
    "dominant_class": "Dominant class",
    "probability": "Probability of a class",
    "dominant_probability": "Probability of the dominant class",
    "uncertainty": "Uncertainty",
    "truth": "Reference land cover (truth)",
    "errors": "Errors (map ≠ reference)",
    "dissimilarity": "Dissimilarity index (DI)",
    "aoa": "Area of applicability",
}
#: Saved with the notebook, so that a reopened explorer without a kernel says why it is dead.
_CAPTION = (
    '<span style="color: #666; font-size: 0.85em">Controls do nothing? The kernel that drew '
    "this map has stopped: run the notebook's cells again (Run &gt; Run All Cells).</span>"
)


def _figure_png(draw: Callable[[Axes], Any], figsize: tuple[float, float]) -> str:
    """Draw on a new figure (outside pyplot, so nothing lingers) and return base64 PNG.

    The image keeps the figure's size whatever it shows (no tight bounding box): the
    explorer does not jump when a title or a legend changes.
    """
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    try:
        draw(fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", facecolor="white", bbox_inches=fig.bbox_inches)
    finally:
        fig.clear()
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class _MapExplorer(widgets.VBox):
    """An explorer of predicted maps; build it with :func:`map_explorer`.

    Attributes
    ----------
    tile, year, product, class_code : ipywidgets widgets
        The controls (a dropdown, a selection slider and two dropdowns).
    output : ipywidgets.Output
        Holds the current figure as a PNG (``output.outputs``).
    redraws : int
        How many figures have been drawn (the first when built).
    """

    def __init__(
        self,
        maps: MapCatalogue,
        classes: ClassTable | None = None,
        *,
        truth: Any = None,
        product: str = "dominant_class",
        tile: str | None = None,
        year: int | None = None,
        figsize: tuple[float, float] = (9.0, 5.5),
    ) -> None:
        if not isinstance(maps, MapCatalogue):
            raise TypeError(
                f"maps must be the MapCatalogue returned by predict_maps, got {type(maps).__name__}."
            )
        if not (maps.tiles and maps.years):
            raise ValueError("maps is empty: no map to explore. Run predict_maps first.")
        self.maps = maps
        self.truth_path = _truth_lookup(truth)
        self.figsize = figsize
        self.redraws = 0
        self._png: str | None = None
        self.classes = classes if classes is not None else maps.classes
        present = set(maps.products) | ({"truth", "errors"} if self.truth_path else set())
        products = {key: label for key, label in _PRODUCTS.items() if key in present}
        if product not in products:
            raise ValueError(
                f"Unknown product {product!r}; these maps offer {list(products)}"
                + ("" if truth is not None else " (pass truth= for 'truth' and 'errors')")
                + "."
            )
        tiles, years = list(maps.tiles), sorted(maps.years)
        self.tile = widgets.Dropdown(options=tiles, value=_pick(tile, tiles, "tile"), description="Tile")  # fmt: skip
        self.year = widgets.SelectionSlider(options=years, value=_pick(year, years, "year"),
                                            description="Year", continuous_update=False)  # fmt: skip
        self.product = widgets.Dropdown(options=[(label, key) for key, label in products.items()],
                                        value=product, description="Product")  # fmt: skip
        labels = zip(maps.classes.labels(), maps.classes.codes, strict=True)
        self.class_code = widgets.Dropdown(options=list(labels), description="Class")
        self.output = widgets.Output()
        for control in (self.tile, self.year, self.product, self.class_code):
            control.observe(self._on_change, names="value")
        rows = [widgets.HBox([self.tile, self.year]), widgets.HBox([self.product, self.class_code])]
        super().__init__([*rows, self.output, widgets.HTML(_CAPTION)])
        self.redraw()

    # -- drawing -------------------------------------------------------------------------
    def _drawer(self) -> Callable[[Axes], Any]:
        """A function that draws the current selection, or raises LookupError."""
        tile, year = self.tile.value, self.year.value
        return _drawer(self.maps, tile, year, self.product.value, code=self.class_code.value,
                       lookup=self.truth_path, classes=self.classes)  # fmt: skip

    def redraw(self) -> None:
        """Draw the current selection into :attr:`output` (replacing the last figure)."""
        self.class_code.disabled = self.product.value != "probability"
        try:
            self._png = _figure_png(self._drawer(), self.figsize)
            data = {"image/png": self._png, "text/plain": "<Figure>"}
            output = {"output_type": "display_data", "data": data, "metadata": {}}
        except LookupError as err:
            self._png = None
            output = {"output_type": "stream", "name": "stdout", "text": f"{err}\n"}
        self.output.outputs = (output,)
        self.redraws += 1
        logger.debug("Map explorer redraw %d", self.redraws)

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if change["owner"] is self.class_code and self.product.value != "probability":
            return  # the class does not change what is shown
        self.redraw()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The widget where a front end shows widgets; the current figure as a static
        # image where it does not (an executed notebook on GitHub, nbviewer without state).
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        if self._png is not None:
            bundle["image/png"] = self._png
        return bundle


def _pick(value: Any, options: list, label: str) -> Any:
    if value is None:
        return options[-1] if label == "year" else options[0]
    value = int(value) if label == "year" else str(value)
    if value not in options:
        raise ValueError(f"Unknown {label} {value!r}; the maps have {label}s {options}.")
    return value


def map_explorer(
    maps: MapCatalogue, classes: ClassTable | None = None, **options: Any
) -> _MapExplorer:
    """An interactive explorer of predicted maps: tile, year, product and class.

    The figure redraws when a control changes. The explorer draws its first figure
    when built, so it also works headless (papermill): the executed notebook shows
    that figure as a static image. A caption under the figure says to run the cells
    again when the controls do nothing (a saved notebook reopened without its kernel).

    Parameters
    ----------
    maps : MapCatalogue
        The maps returned by :func:`odse_tutorial.prediction.predict_maps`.
    classes : ClassTable, optional
        Names and colours; defaults to ``maps.classes``.
    **options
        Keywords ``truth``, ``product``, ``tile``, ``year`` (below) and ``figsize``.
    truth : Dataset, optional
        Reference maps: a Dataset with truth maps (the simulated data). Adds the products
        "Reference land cover" and "Errors". A Dataset without truth maps counts as none.
    product : str, default "dominant_class"
        The product shown first: ``"dominant_class"``, ``"probability"``,
        ``"dominant_probability"``, ``"uncertainty"``, ``"truth"`` or ``"errors"``.
    tile, year : optional
        The tile and year shown first (default: the first tile, the last year).

    Returns
    -------
    ipywidgets.VBox
        An :class:`ipywidgets.VBox`; display it (last line of a cell).

    Raises
    ------
    TypeError
        ``maps`` is not a :class:`~odse_tutorial.prediction.MapCatalogue`.
    ValueError
        Empty ``maps``, or an unknown product, tile or year.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> from odse_tutorial.datasets import load_dataset
    >>> data = load_dataset()  # a reference map stands in for a predicted one
    >>> maps = MapCatalogue(pathlib.Path(tempfile.mkdtemp()), ("9529",), (2018,),
    ...                     data.classes, ("dominant_class",))
    >>> maps.path("9529", 2018, "dominant_class").parent.mkdir(parents=True)
    >>> _ = shutil.copy(data.truth("9529", 2018), maps.path("9529", 2018, "dominant_class"))
    >>> explorer = map_explorer(maps, data.classes)
    >>> explorer.redraws, explorer.output.outputs[0]["output_type"]
    (1, 'display_data')
    """
    return _MapExplorer(maps, classes, **options)
