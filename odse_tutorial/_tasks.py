"""One ``dask.distributed`` task per tile-year: submit, follow, name the failures.

The one owner of the scale-out idea, shared by :func:`odse_tutorial.prediction.predict_maps`
and :func:`odse_tutorial.overlay.overlay_samples`. ``distributed`` is imported only when a
client is given, so the package imports without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from tqdm.auto import tqdm


def run_tile_years(
    client: Any,
    function: Callable[..., Any],
    calls: Mapping[tuple[Any, Any], Mapping[str, Any]],
    *,
    shared: Mapping[str, Any],
    desc: str = "Tiles and years",
    progress: bool = True,
    advice: str = "",
) -> list[Any]:
    """Run ``function(**calls[tile, year], **shared)`` as one task per tile-year.

    Parameters
    ----------
    client : dask.distributed.Client or "current"
        The cluster (``"current"``: the client made last in this process).
    function : callable
        What each task runs; it must be importable on the workers.
    calls : mapping of (tile, year) to dict
        The keyword arguments of each task.
    shared : dict
        Keyword arguments common to all tasks, sent to the workers once (scattered); they
        replace those of the same name in ``calls``.
    desc : str
        Label of the progress bar, which follows finished tasks.
    progress : bool, default True
        Show the progress bar.
    advice : str
        Appended to the error message (what the failure left behind, what to do).

    Returns
    -------
    list
        The tasks' results, in the order of ``calls``.

    Raises
    ------
    RuntimeError
        After all tasks finished, when some failed: one message naming each failed tile,
        year and cause.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, dashboard_address=None) as client:
    ...     run_tile_years(client, round, {("t", 2000): {"number": 2.567}, ("t", 2001):
    ...                    {"number": 3.14159}}, shared={"ndigits": 2}, progress=False)
    [2.57, 3.14]
    """
    from distributed import Client, as_completed

    client = Client.current() if client == "current" else client
    scattered = dict(zip(shared, client.scatter(list(shared.values()), hash=False), strict=True))
    futures = {
        client.submit(function, **{**kwargs, **scattered},
                      key=f"{function.__name__}-{tile}-{year}-{os.urandom(4).hex()}"): (tile, year)
        for (tile, year), kwargs in calls.items()
    }  # fmt: skip
    failed = [  # an error dask cannot pickle (rasterio's) comes as Exception(repr(error))
        f"tile {futures[f][0]}, year {futures[f][1]}: "
        f"{e if type(e := f.exception()) is Exception else repr(e)}"
        for f in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="tile-year",
                      disable=not progress)
        if f.status == "error"
    ]  # fmt: skip
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(futures)} tile-year(s) failed: {'; '.join(failed)}. {advice}"
        )
    return client.gather(list(futures))
