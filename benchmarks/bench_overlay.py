"""Time loading the bundled dataset and overlaying all its samples.

``python benchmarks/bench_overlay.py [--repeat 5]`` prints, as its last line, one JSON
object: ``load_seconds`` (open the dataset and read the samples), ``overlay_seconds``
(best and median of the repeats), ``samples``, ``kept``, ``files_bytes``, and the
sample counts per tile and year.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from odse_tutorial.datasets import load_dataset
from odse_tutorial.overlay import overlay_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    dataset = load_dataset()
    samples = dataset.samples
    load_seconds = time.perf_counter() - start

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        table, report = overlay_samples(dataset, samples)
        times.append(time.perf_counter() - start)

    folder = dataset.samples_path.parent
    counts = dataset.summary()
    result = {
        "load_seconds": round(load_seconds, 3),
        "overlay_seconds_first": round(times[0], 3),
        "overlay_seconds_median": round(statistics.median(times), 3),
        "samples": len(samples),
        "kept": len(table),
        "dropped_nodata": len(report.nodata),
        "files_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "samples_per_tile_year": {f"{t}/{y}": int(n) for (t, y), n in counts.sum(axis=1).items()},
        "samples_per_class": {str(k): int(v) for k, v in counts.sum(axis=0).items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
