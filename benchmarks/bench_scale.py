"""Benchmark of map production scaled out on dask.distributed: serial, 1 and 2 workers.

Usage::

    python benchmarks/bench_scale.py [--size 512] [--tile-years 8] [--repeat 1] [--malloc-trim]

1. Builds (or reuses) the simulated N x N x 26 stack and the 100-tree forest of
   ``bench_predict.py`` (in ``benchmarks/.cache/``).
2. A dataset of ``--tile-years`` tile-years (4 tiles x 2 years, ...) whose layers are
   all that stack: every task is the same amount of work.
3. Times ``predict_maps`` (window threads: 1) three ways, each into a fresh folder:
   in this process (``serial_seconds``); on a ``LocalCluster`` of 1 worker process with
   1 thread (``workers_1_seconds``); on one of 2 such workers (``workers_2_seconds``).
   The clusters are started, and the package imported on their workers, before the
   clock starts: the times are of map production (scattering the model included), not of
   starting Python processes. Every run's files are checked to be byte-identical.

Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (config
``distributed.nanny.pre-spawn-environ``): glibc then hands every large freed array back
to the operating system, and map production, which allocates and frees window-sized
arrays all the time, spends about a third more time (system time of page faults) on a
worker than in a plain process. The benchmark unsets it, as a map production cluster
should when memory is not tight; ``--malloc-trim`` keeps dask's default, to measure it.

The last line printed is one JSON object with those three times, ``efficiency_2``
(= workers_1 / (2 x workers_2); 1.0 is perfect scaling), ``overhead_1`` (= workers_1 /
serial), the machine's CPU count and its load average before and after (other work on
the machine disturbs the numbers). Targets: efficiency_2 >= 0.8, overhead_1 <= 1.15.
"""

from __future__ import annotations

import argparse
import json
import logging
import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one thread per worker, also in the serial run

import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_predict  # noqa: E402

log = logging.getLogger("bench_scale")


class StackDataset:
    """``tile_years`` tile-years, all reading the same layers (the same work each)."""

    def __init__(self, layers: dict, tile_years: int):
        from odse_tutorial.classes import ClassTable

        self._layers = layers
        self.years = (2000, 2001)
        self.tiles = tuple(f"t{i}" for i in range(-(-tile_years // len(self.years))))
        self.classes = ClassTable(list(bench_predict.CODES))

    def layers(self, tile: str, year: int) -> dict:
        return dict(self._layers)


def _timed(model, dataset, out: Path, client=None) -> float:
    from odse_tutorial.prediction import predict_maps

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    predict_maps(model, dataset, out, n_jobs=1, progress=False, client=client)
    return time.perf_counter() - start


def _files(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.tif"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="raster side N in pixels")
    parser.add_argument("--tile-years", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each (fastest kept)")
    parser.add_argument("--malloc-trim", action="store_true", help="keep dask's malloc trimming")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("distributed").setLevel(logging.WARNING)

    import dask
    import distributed
    import joblib
    from distributed import Client, LocalCluster

    if not args.malloc_trim:
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})

    folder = bench_predict.CACHE / f"stack_{args.size}"
    manifest = bench_predict.build_stack(args.size, folder)
    model = joblib.load(bench_predict.train_model(folder))
    dataset = StackDataset(manifest["layers"], args.tile_years)
    n_tasks = len(dataset.tiles) * len(dataset.years)
    out = folder / "scale"
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"serial": [], "workers_1": [], "workers_2": []}
    for _ in range(args.repeat):
        times["serial"].append(_timed(model, dataset, out / "serial"))
        log.info("serial: %.1f s for %d tile-years", times["serial"][-1], n_tasks)
    reference = _files(out / "serial")
    for workers in (1, 2):
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            client.run(lambda: __import__("odse_tutorial.prediction"))  # warm the workers
            for _ in range(args.repeat):
                name = f"workers_{workers}"
                times[name].append(_timed(model, dataset, out / name, client))
                log.info("%d worker(s): %.1f s", workers, times[name][-1])
                if _files(out / name) != reference:
                    raise AssertionError(f"{name}: maps differ from the serial maps")
    best = {name: min(values) for name, values in times.items()}
    result = {
        "tile_years": n_tasks,
        "pixels_per_tile_year": args.size**2,
        "features": len(bench_predict.FEATURES),
        "serial_seconds": round(best["serial"], 2),
        "workers_1_seconds": round(best["workers_1"], 2),
        "workers_2_seconds": round(best["workers_2"], 2),
        "efficiency_2": round(best["workers_1"] / (2 * best["workers_2"]), 3),
        "overhead_1": round(best["workers_1"] / best["serial"], 3),
        "identical_to_serial": True,
        "malloc_trim": args.malloc_trim,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "distributed": distributed.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
