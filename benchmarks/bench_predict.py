"""Benchmark of windowed map prediction against the model alone.

Usage::

    python benchmarks/bench_predict.py --size 1000 [--features 5] [--n-jobs 1] [--aoa]

1. Builds (or reuses, from ``benchmarks/.cache/``) an N x N pixel stack of 26 int16
   layers (24 Landsat-like ``{band}_{season}`` layers, ``elevation`` and ``slope``),
   written window by window so that N x N x 26 values never sit in memory. The values
   follow a smooth, simulated landscape of 8 classes plus noise, with nodata: a
   "cloud" in the summer layers and scattered gaps in ``elevation``. A few thousand
   training pixels (with their latent class, 10 % of labels flipped) are drawn while
   the stack is written.
2. Trains a 100-tree random forest (``n_jobs=-1``) on those pixels, on all 26 layers or
   (``--features 5``) on five of them (fitted on a DataFrame, as in the tutorial).
3. In a fresh subprocess, times :func:`odse_tutorial.prediction.predict_map` (read,
   predict, write all 11 COG products) and records that process's peak RSS
   (``ru_maxrss``: imports, model and prediction; ``rss_before_prediction_mb`` is the
   part before the call).
4. In another fresh subprocess, loads the valid pixels into one float32 array (the
   baseline needs N * N * 26 * 4 bytes, ~940 MB at N = 3000, which is why it does not
   share a process with the engine) and times one ``model.predict_proba`` call on the
   whole array, with the same ``n_jobs`` (there the forest's own, over trees; in the
   engine, windows on threads and the forest single-threaded). ``--n-jobs`` defaults to
   ``predict_map``'s default (all the cores this process may use). The array is given as
   a plain array (feature-name warning silenced), so the model time has no DataFrame
   in it; the engine's DataFrame wrapping is part of its overhead.

5. With ``--aoa``: fits an :class:`odse_tutorial.applicability.AreaOfApplicability` on
   the training pixels (weights: the forest's feature importances; 5 shuffled folds)
   and, in a third fresh subprocess per repeat, times ``predict_map`` again with
   ``applicability=`` (the 11 products plus ``dissimilarity.tif`` and ``aoa.tif``).
   ``aoa_ratio`` is that time over ``engine_seconds`` (same run, same settings).

The last line printed is one JSON object: ``pixels``, ``features``, ``n_jobs`` and
``default_n_jobs``, ``engine_seconds`` and ``model_seconds`` (medians), ``overhead_ratio``
(the median of the engine / model ratios of paired runs), ``peak_rss_mb`` (the largest of
the engine processes), CPU seconds of both, the machine's ``cpus`` and ``load_average``.
Both are timed ``--repeat`` times (default 3), alternating, to share the machine's noise.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
BANDS = ("blue", "green", "red", "nir", "swir1", "swir2", "thermal", "ndvi")
SEASONS = ("winter", "spring", "summer")
FEATURES = [f"{band}_{season}" for season in SEASONS for band in BANDS] + ["elevation", "slope"]
FIVE = ["red_summer", "nir_summer", "swir1_summer", "ndvi_spring", "elevation"]  # --features 5
CODES = (112, 211, 231, 311, 312, 321, 332, 512)
NODATA = -32768
N_TRAIN = 5000  # training pixels, drawn evenly over the stack (a few lose to nodata)
BUILD_WINDOW = 512
PIXEL = 30.0

log = logging.getLogger("bench_predict")


# --------------------------------------------------------------------------------------
# The simulated stack
# --------------------------------------------------------------------------------------
def _smooth(rows: np.ndarray, cols: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A smooth random field in about [-1, 1], a sum of a few oriented waves."""
    rng = np.random.default_rng(seed)
    field = np.zeros(np.broadcast(rows, cols).shape)
    for _ in range(5):
        freq = rng.uniform(2, 12) / max(n, 1) * 2 * np.pi
        angle, phase = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        field += np.sin(freq * (np.cos(angle) * cols + np.sin(angle) * rows) + phase)
    return field / 2.5


def _landscape(rows: np.ndarray, cols: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Latent class index (0..7) and elevation of pixels; depends only on (row, col)."""
    elevation = 400 + 350 * _smooth(rows, cols, n, 1)
    wet = _smooth(rows, cols, n, 2)
    human = _smooth(rows, cols, n, 3)
    cls = np.full(elevation.shape, 3)  # broad-leaved forest
    cls = np.where(elevation > 600, 4, cls)  # coniferous
    cls = np.where(elevation > 700, 6, cls)  # bare rock
    cls = np.where((elevation < 600) & (human > 0.3), 1, cls)  # arable
    cls = np.where((elevation < 550) & (human > 0.7), 0, cls)  # urban
    cls = np.where((cls == 3) & (wet > 0.4), 2, cls)  # pastures
    cls = np.where((cls == 4) & (wet < -0.5), 5, cls)  # grassland
    cls = np.where(wet > 0.85, 7, cls)  # water
    return cls, elevation


_MEANS = np.random.default_rng(42).uniform(500, 4000, (len(CODES), len(BANDS), len(SEASONS)))


def _features(rows: np.ndarray, cols: np.ndarray, n: int, rng: np.random.Generator):
    """Feature values (pixels x 26, float) and latent class of pixels at (rows, cols)."""
    cls, elevation = _landscape(rows, cols, n)
    m = cls.size
    out = np.empty((m, len(FEATURES)), dtype=np.float64)
    j = 0
    for s in range(len(SEASONS)):
        for b in range(len(BANDS)):
            out[:, j] = _MEANS[cls.ravel(), b, s] + rng.normal(0, 350, m)
            j += 1
    out[:, j] = elevation.ravel() + rng.normal(0, 5, m)
    grad = np.hypot(*np.gradient(elevation)) if min(elevation.shape) > 1 else 0 * elevation
    out[:, j + 1] = np.ravel(grad) * 10 + np.abs(rng.normal(0, 20, m))
    return out, cls.ravel()


def _nodata_masks(rows: np.ndarray, cols: np.ndarray, n: int, rng: np.random.Generator):
    cloud = np.hypot(rows - 0.3 * n, cols - 0.6 * n) < 0.08 * n  # summer layers
    gaps = rng.random(rows.shape) < 0.005  # elevation
    return cloud.ravel(), gaps.ravel()


def build_stack(n: int, folder: Path) -> dict:
    """Write the N x N stack window by window; return its manifest."""
    import rasterio
    from affine import Affine

    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log.info("Building a %d x %d x %d stack in %s", n, n, len(FEATURES), folder)
    transform = Affine(PIXEL, 0, 4_000_000, 0, -PIXEL, 3_000_000)
    profile = dict(
        driver="GTiff", width=n, height=n, count=1, dtype="int16", nodata=NODATA,
        crs="EPSG:3035", transform=transform, tiled=True, blockxsize=256, blockysize=256,
        compress="DEFLATE",
    )  # fmt: skip
    paths = {name: folder / f"{name}.tif" for name in FEATURES}
    rng = np.random.default_rng(0)
    train_x, train_y = [], []
    summer = [j for j, name in enumerate(FEATURES) if name.endswith("_summer")]
    elev = FEATURES.index("elevation")
    with contextlib.ExitStack() as stack:
        dsts = [stack.enter_context(rasterio.open(p, "w", **profile)) for p in paths.values()]
        for row in range(0, n, BUILD_WINDOW):
            for col in range(0, n, BUILD_WINDOW):
                h, w = min(BUILD_WINDOW, n - row), min(BUILD_WINDOW, n - col)
                rows, cols = np.mgrid[row : row + h, col : col + w]
                values, cls = _features(rows, cols, n, rng)
                values = np.clip(np.rint(values), -32000, 32000)
                cloud, gaps = _nodata_masks(rows, cols, n, rng)
                valid = ~cloud & ~gaps
                pick = rng.choice(h * w, size=max(1, round(N_TRAIN * h * w / n**2)), replace=False)
                pick = pick[valid[pick]]
                train_x.append(values[pick].astype(np.float32))
                train_y.append(cls[pick])
                values[np.ix_(cloud, summer)] = NODATA
                values[gaps, elev] = NODATA
                window = rasterio.windows.Window(col, row, w, h)
                for j, dst in enumerate(dsts):
                    dst.write(values[:, j].reshape(h, w).astype("int16"), 1, window=window)
    x = np.concatenate(train_x)
    y = np.asarray(CODES)[np.concatenate(train_y)]
    flip = rng.random(len(y)) < 0.10
    y[flip] = rng.choice(CODES, flip.sum())
    np.savez(folder / "training.npz", x=x, y=y)
    manifest = {"size": n, "layers": {k: str(v) for k, v in paths.items()}, "n_train": len(y)}
    manifest_path.write_text(json.dumps(manifest))  # written last: marks the stack complete
    return manifest


def _names(features: int) -> list[str]:
    return FEATURES if features == len(FEATURES) else FIVE


def train_model(folder: Path, features: int) -> Path:
    import joblib
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    path = folder / f"model_{features}.joblib"
    if path.exists():
        return path
    data = np.load(folder / "training.npz")
    frame = pd.DataFrame(data["x"], columns=FEATURES)[_names(features)]
    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1)
    t0 = time.perf_counter()
    model.fit(frame, data["y"])
    log.info("Trained on %d pixels in %.1f s", len(frame), time.perf_counter() - t0)
    joblib.dump(model, path)
    return path


# --------------------------------------------------------------------------------------
# The two measured runs (each in its own process)
# --------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def train_aoa(folder: Path, features: int) -> None:
    import joblib
    import pandas as pd
    from sklearn.model_selection import KFold

    from odse_tutorial.applicability import AreaOfApplicability

    path = folder / "aoa.joblib"  # refitted every run: its search index is private state
    data = np.load(folder / "training.npz")
    model = joblib.load(folder / f"model_{features}.joblib")
    aoa = AreaOfApplicability(
        weights=model.feature_importances_, cv=KFold(5, shuffle=True, random_state=0)
    )
    t0 = time.perf_counter()
    aoa.fit(pd.DataFrame(data["x"], columns=FEATURES)[_names(features)])
    log.info("Fitted the AOA in %.1f s (threshold %.3f)", time.perf_counter() - t0, aoa.threshold_)
    joblib.dump(aoa, path)


def run_engine(folder: Path, args: argparse.Namespace, aoa: bool = False) -> dict:
    import joblib

    from odse_tutorial.prediction import predict_map

    manifest = json.loads((folder / "manifest.json").read_text())
    model = joblib.load(folder / f"model_{args.features}.joblib")  # n_jobs=-1, as trained
    applicability = joblib.load(folder / "aoa.joblib") if aoa else None
    out = folder / f"maps_{args.features}_j{args.n_jobs}{'_aoa' if aoa else ''}"
    shutil.rmtree(out, ignore_errors=True)
    layers = {name: manifest["layers"][name] for name in _names(args.features)}
    rss_before = _peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    maps = predict_map(
        model, layers, out, window_size=args.window_size, n_jobs=args.n_jobs, progress=False,
        applicability=applicability,
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = sum(p.stat().st_size for p in maps.values())
    return {
        "engine_seconds": seconds,
        "engine_cpu_seconds": cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_prediction_mb": rss_before,
        "output_mb": size / 2**20,
        "products": len(maps),
    }


def run_model(folder: Path, features: int, n_jobs: int) -> dict:
    import joblib
    import rasterio

    manifest = json.loads((folder / "manifest.json").read_text())
    model = joblib.load(folder / f"model_{features}.joblib")
    model.n_jobs = n_jobs
    paths = [manifest["layers"][name] for name in _names(features)]
    with contextlib.ExitStack() as stack:
        srcs = [stack.enter_context(rasterio.open(p)) for p in paths]
        n = srcs[0].width
        windows = [w for _, w in srcs[0].block_windows(1)]
        valid = np.ones((n, n), dtype=bool)
        for src in srcs:
            for window in windows:
                r, c = window.toslices()
                valid[r, c] &= src.read(1, window=window) != src.nodata
        X = np.empty((int(valid.sum()), len(paths)), dtype=np.float32)
        for j, src in enumerate(srcs):  # fill column by column, in row-major pixel order
            for row in range(0, n, 256):
                h = min(256, n - row)
                band = src.read(1, window=rasterio.windows.Window(0, row, n, h))
                mask = valid[row : row + h]
                start = int(valid[:row].sum())
                X[start : start + int(mask.sum()), j] = band[mask]
    del valid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fitted on a frame, given an array: the pure model cost
        t0, c0 = time.perf_counter(), time.process_time()
        model.predict_proba(X)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "model_seconds": seconds,
        "model_cpu_seconds": cpu,
        "valid_pixels": int(X.shape[0]),
        "baseline_peak_rss_mb": _peak_rss_mb(),
    }


def _subprocess(kind: str, args: argparse.Namespace, folder: Path, n_jobs: int | None) -> dict:
    cmd = [
        sys.executable, __file__, "--size", str(args.size), "--window-size", str(args.window_size),
        "--features", str(args.features), "--_worker", kind, "--_folder", str(folder),
    ] + ([] if n_jobs is None else ["--n-jobs", str(n_jobs)])  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _default_n_jobs() -> int:
    """What ``predict_map(n_jobs=None)`` resolves to on this machine."""
    from odse_tutorial import prediction

    return prediction._resolve_n_jobs(None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, required=True, help="raster side N in pixels")
    parser.add_argument("--features", type=int, choices=[5, 26], default=26)
    parser.add_argument("--n-jobs", type=int, help="default: predict_map's (all usable cores)")
    parser.add_argument("--window-size", type=int, help="default: predict_map's")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (medians)")
    parser.add_argument("--aoa", action="store_true", help="also time the DI and AOA products")
    parser.add_argument(
        "--_worker", choices=["engine", "engine_aoa", "model"], help=argparse.SUPPRESS
    )
    parser.add_argument("--_folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._worker:
        folder = Path(args._folder)
        if args._worker.startswith("engine"):
            result = run_engine(folder, args, args._worker == "engine_aoa")
        else:
            result = run_model(folder, args.features, args.n_jobs)
        print(json.dumps(result))
        return

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.window_size is None:
        from odse_tutorial.prediction import predict_map

        args.window_size = inspect.signature(predict_map).parameters["window_size"].default
    folder = CACHE / f"stack_{args.size}"
    manifest = build_stack(args.size, folder)
    train_model(folder, args.features)
    if args.aoa:
        train_aoa(folder, args.features)
    default = _default_n_jobs()
    n_jobs = default if args.n_jobs is None else args.n_jobs
    engine, model, with_aoa = [], [], []
    for i in range(args.repeat):
        engine.append(_subprocess("engine", args, folder, args.n_jobs))
        if args.aoa:
            with_aoa.append(_subprocess("engine_aoa", args, folder, args.n_jobs))
            log.info("run %d: engine with DI and AOA %.2f s", i + 1, with_aoa[-1]["engine_seconds"])
        model.append(_subprocess("model", args, folder, n_jobs))
        log.info("run %d: engine %.2f s, model %.2f s", i + 1, engine[-1]["engine_seconds"],
                 model[-1]["model_seconds"])  # fmt: skip
    import sklearn

    def median(runs: list[dict], key: str) -> float:
        return float(np.median([r[key] for r in runs]))

    def ratio(a: list[dict], b: list[dict], key: str, other: str | None = None) -> float:
        return float(np.median([x[key] / y[other or key] for x, y in zip(a, b, strict=True)]))

    result = {
        "pixels": args.size**2,
        "features": args.features,
        "classes": len(CODES),
        "n_jobs": n_jobs,
        "default_n_jobs": default,
        "window_size": args.window_size,
        "engine_seconds": median(engine, "engine_seconds"),
        "model_seconds": median(model, "model_seconds"),
        "overhead_ratio": ratio(engine, model, "engine_seconds", "model_seconds"),
        # CPU seconds: less disturbed by other processes on a shared machine
        "cpu_ratio": ratio(engine, model, "engine_cpu_seconds", "model_cpu_seconds"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in engine),
        "rss_before_prediction_mb": median(engine, "rss_before_prediction_mb"),
        "baseline_peak_rss_mb": max(r["baseline_peak_rss_mb"] for r in model),
        "output_mb": engine[0]["output_mb"],
        "products": engine[0]["products"],
        "valid_pixels": model[0]["valid_pixels"],
        "repeat": args.repeat,
        "n_train": manifest["n_train"],
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
    }
    if args.aoa:
        result |= {
            "aoa_engine_seconds": median(with_aoa, "engine_seconds"),
            "aoa_peak_rss_mb": max(r["peak_rss_mb"] for r in with_aoa),
            "aoa_ratio": ratio(with_aoa, engine, "engine_seconds"),
            "aoa_cpu_ratio": ratio(with_aoa, engine, "engine_cpu_seconds"),
        }
    result = {
        k: (round(v, 3) if isinstance(v, float) and math.isfinite(v) else v)
        for k, v in result.items()
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
