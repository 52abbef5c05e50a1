"""Benchmark: ``dj.load`` of the three default synthetic case studies, cold and cached.

Issue 3's bar: the default synthetic data load through ``dj.load`` for all three case studies
in under 10 s. Each measurement runs in a fresh process (imports included, as a notebook's
first cell pays them) with ``DATAJUSTA_OUTPUTS`` pointing at a scratch folder, so the
harmonised-table cache (``outputs/cache/ingest/``) starts empty for the cold runs and full for
the cached ones. Baseline in the same run: the cached load (read the Parquet cache, no
reading, validation or harmonisation of the exports). Median of ``--repeat`` runs.

    .venv/bin/python benchmarks/load.py                # needs data/synthetic (make synth)
    .venv/bin/python benchmarks/load.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CASE_STUDIES = ("trafficking", "attempted_femicide", "protest_violence")


def child() -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    import warnings

    import datajusta_lib as dj

    rows = quarantined = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the quarantine warnings: counted below instead
        for cs in CASE_STUDIES:
            rows += len(dj.load(cs))
            quarantined += len(dj.quarantine(cs))
    print(
        json.dumps(
            {
                "wall_s": time.perf_counter() - t0,
                "cpu_s": time.process_time() - c0,
                "rows": rows,
                "quarantined": quarantined,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_once(outputs: Path) -> dict:
    env = {**os.environ, "DATAJUSTA_OUTPUTS": str(outputs)}
    out = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child()
        return 0
    if not (ROOT / "data" / "synthetic" / "metadata.json").exists():
        print("no synthetic data: run `make synth` first", file=sys.stderr)
        return 1
    cold, cached = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cold.append(run_once(Path(tmp)))  # empty cache
            cached.append(run_once(Path(tmp)))  # the cache the cold run wrote
    med = {
        name: {
            k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_rss_mib")
        }
        for name, runs in (("cold", cold), ("cached", cached))
    }
    rows = cold[0]["rows"]
    ratio = med["cold"]["wall_s"] / med["cached"]["wall_s"]
    print(
        f"dj.load of {', '.join(CASE_STUDIES)}: {rows:,} records, "
        f"{cold[0]['quarantined']:,} quarantined (median of {args.repeat})"
    )
    print("| run | wall | CPU | peak RSS |\n|---|---:|---:|---:|")
    for name in ("cold", "cached"):
        m = med[name]
        print(
            f"| {name} | {m['wall_s']:.1f} s | {m['cpu_s']:.1f} s | {m['peak_rss_mib']:.0f} MiB |"
        )
    print(
        f"cold / cached: {ratio:.1f}x; bar: cold under 10 s -> "
        f"{'met' if med['cold']['wall_s'] < 10 else 'NOT met'}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "load_average": os.getloadavg()[0],
                "rows": rows,
                "median": med,
                "runs": {"cold": cold, "cached": cached},
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
