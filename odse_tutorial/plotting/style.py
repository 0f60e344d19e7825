"""The tutorial's matplotlib style."""

from __future__ import annotations

from importlib import resources

import matplotlib.pyplot as plt

__all__ = ["use_style"]


def use_style() -> None:
    """Apply the tutorial's matplotlib style (``odse_tutorial/odse.mplstyle``).

    Clean axes, readable fonts, a colour-blind friendly colour cycle (Okabe-Ito),
    nearest-neighbour image interpolation and 100 dpi figures, so that executed
    notebooks stay small.

    Examples
    --------
    >>> use_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.dpi"]
    100.0
    """
    with resources.as_file(resources.files("odse_tutorial") / "odse.mplstyle") as path:
        plt.style.use(path)
