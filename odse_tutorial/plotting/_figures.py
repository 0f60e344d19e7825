"""Axes, legends and the qualitative palette shared by all figures of the package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

_QUALITATIVE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#d55e00",
    "#56b4e9",
    "#cc79a7",
    "#f0e442",
    "#7f7f7f",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#1f77b4",
)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 5.0)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _legend_right(ax: Axes, handles: Sequence[Any], title: str, **kwargs: Any) -> None:
    if ax.get_aspect() == 1.0:
        # A map shrinks to its aspect inside the space layout gives it; keep it at the
        # left of that space so that the legend stays next to it, inside the figure.
        ax.set_anchor("W")
    ax.legend(
        handles=handles,
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        alignment="left",
        **kwargs,
    )


def _share_bars(ax: Axes, x: ArrayLike, share: pd.Series, width: float, what: str) -> Axes:
    """Grey bars of the share (%) in each bin on a twin axis, behind the lines of ``ax``."""
    hist = ax.twinx()
    hist.bar(x, share, width=width, color="#d9d9d9", label=f"{what} (right axis)")
    hist.set_ylim(0, max(float(share.max()) * 3, 1.0))
    hist.set_ylabel(f"{what} (%)", color="#777777")
    hist.tick_params(axis="y", colors="#777777")
    hist.spines["right"].set_visible(True)
    ax.set_zorder(hist.get_zorder() + 1)
    ax.patch.set_visible(False)
    return hist


def _bin_table(edges: NDArray[np.float64], **columns: Any) -> pd.DataFrame:
    """One row per bin: ``lower`` and ``upper`` (from ``edges``), then ``columns``."""
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], **columns})
