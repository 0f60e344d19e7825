"""Run every tutorial notebook the way a mybinder.org learner would: on one CPU.

``python benchmarks/bench_notebooks.py [--output-dir DIR] [--cpu 0]`` executes the
notebooks in order (each in a fresh process pinned to one CPU with ``taskset``, one
thread per numeric library), into sibling folders of ``DIR`` so that notebook 4 finds
the results of notebooks 1-3, as in ``make tutorial``. For each notebook it measures the
wall time and the peak resident memory of the largest process (the notebook's kernel).
The last line printed is one JSON object: per-notebook ``seconds`` and ``peak_rss_mb``,
``core_seconds`` (the four notebooks of the 2021 hands-on, 01-04) and ``total_seconds``
(every notebook, the validation lesson 05 and later ones included). Budget: each notebook
at most 90 s and 1 GB, the four core notebooks at most 5 minutes together.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from odse_tutorial.tutorial import find_notebooks

#: The four steps of the 2021 hands-on; later notebooks are lessons beyond them.
CORE = ("01_", "02_", "03_", "04_")
_RUN = "from odse_tutorial.tutorial import run_notebook; run_notebook({nb!r}, {out!r})"


def run_one(notebook: Path, output_dir: Path, cpu: int) -> dict[str, float]:
    """Execute one notebook in a child process pinned to ``cpu``; time it and its memory."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [sys.executable, "-c", _RUN.format(nb=str(notebook), out=str(output_dir))]
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=notebook.parent)
    # wait4 reports the largest resident set among the child and the processes it waited
    # for: the papermill driver and the notebook's kernel.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{notebook.name} failed; see its executed copy in {output_dir}")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="benchmarks/.cache/notebooks")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin the notebooks to")
    args = parser.parse_args()
    output_dir = Path(args.output_dir).resolve()
    shutil.rmtree(output_dir, ignore_errors=True)
    results = {}
    for notebook in find_notebooks():
        results[notebook.stem] = run_one(notebook, output_dir, args.cpu)
        print(notebook.stem, results[notebook.stem], flush=True)
    total = round(sum(r["seconds"] for r in results.values()), 1)
    core = round(sum(r["seconds"] for n, r in results.items() if n.startswith(CORE)), 1)
    print(json.dumps({"notebooks": results, "core_seconds": core, "total_seconds": total}))


if __name__ == "__main__":
    main()
