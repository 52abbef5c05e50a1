"""Benchmark: multiple systems estimate + 1,000 bootstrap replicates, Python vs R, same run.

The task: the stepwise estimate (threshold 0.02) on the UK 2013 five-list data, then a BCa
interval from ``--n-boot`` nonparametric replicates that each repeat the model selection,
plus the jackknife for the acceleration — what SparseMSE's ``estimatepopulation`` does.

Baseline: ``benchmarks/mse_baseline.R``, the same algorithm in R structured as SparseMSE 2.0.1
(``glm`` fits, the lpSolve existence check for every candidate at every step), run with
``Rscript`` in the same session. SparseMSE and Rcapture themselves cannot be installed here
(Debian packages neither; CRAN is unreachable). Without Rscript the R row is skipped and said.

    .venv/bin/python benchmarks/mse.py [--n-boot 1000] [--repeats 3] [--seed 1234]

Prints a Markdown table; raw numbers go to benchmarks/results/mse.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from datajusta_lib.mse import estimator as mse  # noqa: E402

DATA = ROOT / "data" / "reference" / "uk_modern_slavery_2013_five_lists.csv"


def run_python(table: pd.DataFrame, n_boot: int, seed: int, repeats: int) -> dict:
    mse.estimate(table, n_boot=10, seed=seed)  # warm-up: imports (statsmodels) are not timed
    est_times, all_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        point = mse.estimate(table, n_boot=0)
        t1 = time.perf_counter()
        res = mse.estimate(table, n_boot=n_boot, seed=seed)
        t2 = time.perf_counter()
        est_times.append(t1 - t0)
        all_times.append(t2 - t1)
    return {
        "estimate": point.total,
        "lower": res.interval[0],
        "upper": res.interval[1],
        "model": res.model_terms,
        "failed_replicates": res.bootstrap.n_failed,
        "seconds_estimate": statistics.median(est_times),
        "seconds_total": statistics.median(all_times),
        "repeats": repeats,
    }


def run_r(data: Path, n_boot: int, seed: int) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    out = subprocess.run(
        [rscript, str(HERE / "mse_baseline.R"), str(data), str(n_boot), str(seed), "0.02"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3, help="Python runs (median reported)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-r", action="store_true", help="skip the R baseline")
    args = ap.parse_args(argv)

    table = pd.read_csv(args.data)
    py = run_python(table, args.n_boot, args.seed, args.repeats)
    r = None if args.no_r else run_r(args.data, args.n_boot, args.seed)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_version()}, {platform.platform()}",
        "data": str(args.data.name),
        "n_boot": args.n_boot,
        "python": py,
        "r": r,
    }
    if r is not None:
        result["same_estimate"] = abs(r["estimate"] - py["estimate"]) <= 1e-6 * py["estimate"]
        result["speedup_total"] = r["seconds_total"] / py["seconds_total"]
        result["speedup_estimate"] = r["seconds_estimate"] / py["seconds_estimate"]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "mse.json").write_text(json.dumps(result, indent=2))

    print(f"MSE benchmark — {result['data']}, stepwise p < 0.02, {args.n_boot} replicates, BCa\n")
    print(
        "| implementation | estimate | 95% BCa interval | estimate only (s) | "
        f"estimate + {args.n_boot} replicates + jackknife (s) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| datajusta_lib.mse (Python) | {py['estimate']:,.2f} | {py['lower']:,.0f}–"
        f"{py['upper']:,.0f} | {py['seconds_estimate']:.3f} | {py['seconds_total']:.2f} |"
    )
    if r is None:
        print(
            "| R baseline | not run ("
            + ("--no-r" if args.no_r else "Rscript not found")
            + ") | | | |"
        )
        return 0
    print(
        f"| R baseline (SparseMSE structure) | {r['estimate']:,.2f} | {r['lower']:,.0f}–"
        f"{r['upper']:,.0f} | {r['seconds_estimate']:.3f} | {r['seconds_total']:.2f} |"
    )
    print(
        f"\nsame point estimate: {result['same_estimate']}; speed-up with bootstrap: "
        f"{result['speedup_total']:.1f}×; estimate only: {result['speedup_estimate']:.1f}×"
    )
    return 0 if result["same_estimate"] else 1


if __name__ == "__main__":
    sys.exit(main())
