"""Benchmark: multiple systems estimate + 1,000 bootstrap replicates, Python vs R, same run.

The task: the stepwise estimate (threshold 0.02) on the UK 2013 five-list data, then a BCa
interval from ``--n-boot`` nonparametric replicates that each repeat the model selection,
plus the jackknife for the acceleration — what SparseMSE's ``estimatepopulation`` does.

Baseline: SparseMSE 2.0.1's own routines (``estimatepopulation.0`` and ``estimatepopulation``
from its ``R/routines.R``, sourced with lpSolve by ``benchmarks/mse_sparsemse.R``; the package
itself needs Rcapture, which Debian does not package), unpacked from
``shared/baselines/SparseMSE_source.tar.gz`` outside the repository, run with ``Rscript`` in
the same session. ``--port`` runs the earlier R port ``benchmarks/mse_baseline.R`` instead.
Without Rscript the R rows are skipped and said.

LCMCR rows: the Bayesian latent-class sampler, ours (``datajusta_lib.mse.lcmcr``) against the
reference LCMCR 0.4.14 (C++/GSL, built from ``shared/baselines/LCMCR_source.tar.gz``) with the
same sweeps: ``--lcmcr-chains`` chains (R: one run per seed) of burn-in + draws × thinning on
each of ``--lcmcr-data``; elapsed seconds, bulk ESS of N (split-R-hat machinery of Vehtari et
al. 2021 on both sets of draws) and seconds per 1,000 effective draws.

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
sys.path.insert(0, str(HERE))

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


def run_r(data: Path, n_boot: int, seed: int, port: bool = False) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    if port:
        cmd = [rscript, str(HERE / "mse_baseline.R"), str(data), str(n_boot), str(seed), "0.02"]
    else:
        from _rbaselines import RUnavailable, sparsemse_routines

        try:
            routines = sparsemse_routines()
        except RUnavailable:
            return None
        cmd = [rscript, str(HERE / "mse_sparsemse.R"), str(data), str(n_boot), str(seed)]
        cmd += ["0.02", str(routines)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_lcmcr(names: list[str], chains: int, burnin: int, samples: int, thinning: int, seed: int):
    """Same sweeps in R (one run per seed) and ours (``chains`` chains); None without R."""
    import numpy as np
    from _rbaselines import RUnavailable, lcmcr_library
    from lcmcr_reference import datasets
    from lcmcr_reference import run_r as run_lcmcr_r

    from datajusta_lib.mse import lcmcr as lc

    try:
        lib = lcmcr_library()
    except RUnavailable:
        lib = None
    settings = {"K": 10, "burnin": burnin, "samples": samples, "thinning": thinning}
    tables = datasets()
    rows = []
    lc.estimate_lcmcr(
        mse.capture_histories(tables["eye_trauma"][0]), seed=1, burnin=10, samples=10, thinning=1
    )  # warm-up: numba compilation is not timed
    for name in names:
        table = tables[name][0]
        row = {"data": name, "sweeps_per_chain": burnin + samples * thinning, "chains": chains}
        t0 = time.perf_counter()
        ours = lc.estimate_lcmcr(mse.capture_histories(table), seed=seed, chains=chains, **settings)
        row["ours"] = {
            "seconds": time.perf_counter() - t0,
            "ess_bulk": ours.ess_bulk,
            "rhat": ours.rhat,
            "median": float(np.median(ours.draws)),
        }
        if lib is not None:
            runs = run_lcmcr_r(table, lib, settings, [seed + c for c in range(chains)])
            draws = np.vstack([np.asarray(r["N"], dtype=float) for r in runs])
            row["r"] = {
                "seconds": sum(r["seconds"] for r in runs),
                "ess_bulk": lc.ess_bulk(draws),
                "rhat": lc.split_rhat(draws),
                "median": float(np.median(draws)),
            }
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3, help="Python runs (median reported)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-r", action="store_true", help="skip the R baseline")
    ap.add_argument("--port", action="store_true", help="R baseline: the port, not SparseMSE")
    ap.add_argument("--lcmcr-data", default="kosovo,uk5", help="'' to skip the LCMCR rows")
    ap.add_argument("--lcmcr-chains", type=int, default=4)
    ap.add_argument("--lcmcr-burnin", type=int, default=10_000)
    ap.add_argument("--lcmcr-samples", type=int, default=2_500)
    ap.add_argument("--lcmcr-thinning", type=int, default=20)
    ap.add_argument(
        "--lcmcr-only", action="store_true", help="only the LCMCR rows (no SparseMSE, no bootstrap)"
    )
    args = ap.parse_args(argv)
    if args.lcmcr_only:
        rows = run_lcmcr(
            args.lcmcr_data.split(","),
            args.lcmcr_chains,
            args.lcmcr_burnin,
            args.lcmcr_samples,
            args.lcmcr_thinning,
            args.seed,
        )
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "mse_lcmcr.json").write_text(json.dumps(rows, indent=2))
        _print_lcmcr(rows, args)
        return 0

    table = pd.read_csv(args.data)
    py = run_python(table, args.n_boot, args.seed, args.repeats)
    r = None if args.no_r else run_r(args.data, args.n_boot, args.seed, args.port)
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
    if args.lcmcr_data:
        result["lcmcr"] = run_lcmcr(
            args.lcmcr_data.split(","),
            args.lcmcr_chains,
            args.lcmcr_burnin,
            args.lcmcr_samples,
            args.lcmcr_thinning,
            args.seed,
        )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "mse.json").write_text(json.dumps(result, indent=2))
    baseline = "R port of SparseMSE" if args.port else "SparseMSE 2.0.1 routines (R)"

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
            + ("--no-r" if args.no_r else "Rscript or SparseMSE source not found")
            + ") | | | |"
        )
        _print_lcmcr(result.get("lcmcr"), args)
        return 0
    print(
        f"| {baseline} | {r['estimate']:,.2f} | {r['lower']:,.0f}–"
        f"{r['upper']:,.0f} | {r['seconds_estimate']:.3f} | {r['seconds_total']:.2f} |"
    )
    _print_lcmcr(result.get("lcmcr"), args)
    print(
        f"\nsame point estimate: {result['same_estimate']}; speed-up with bootstrap: "
        f"{result['speedup_total']:.1f}×; estimate only: {result['speedup_estimate']:.1f}×"
    )
    return 0 if result["same_estimate"] else 1


def _print_lcmcr(rows, args) -> None:
    if not rows:
        return
    print(
        f"\nLCMCR (K = 10), {args.lcmcr_chains} chains × ({args.lcmcr_burnin:,} burn-in + "
        f"{args.lcmcr_samples:,} draws × {args.lcmcr_thinning}) sweeps, same run\n"
    )
    print(
        "| data | implementation | seconds | bulk ESS of N | R-hat | median N | "
        "s per 1,000 effective draws | ratio R / ours |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        per = {}
        for key, label in (("r", "LCMCR 0.4.14 (R, C++)"), ("ours", "mse_lcmcr (numba)")):
            x = row.get(key)
            if x is None:
                print(f"| {row['data']} | {label} | not run (R or LCMCR missing) | | | | | |")
                continue
            per[key] = 1000 * x["seconds"] / x["ess_bulk"]
            ratio = ""
            if key == "ours" and "r" in per:
                ratio = f"{row['r']['seconds'] / x['seconds']:.2f}× time, "
                ratio += f"{per['r'] / per['ours']:.2f}× per ESS"
            print(
                f"| {row['data']} | {label} | {x['seconds']:.2f} | {x['ess_bulk']:,.0f} | "
                f"{x['rhat']:.3f} | {x['median']:,.0f} | {per[key]:.2f} | {ratio} |"
            )


if __name__ == "__main__":
    sys.exit(main())
