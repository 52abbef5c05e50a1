"""Compare our LCMCR sampler with the R reference (LCMCR 0.4.14) on the three reference data
sets, in one command. Not run in CI; skips clearly when R is absent.

    .venv/bin/python benchmarks/lcmcr_reference.py                       # reference settings
    .venv/bin/python benchmarks/lcmcr_reference.py --burnin 10000 --samples 2500 --thinning 20

For each data set (Kosovo, UK five lists, eye trauma): R with each ``--seeds`` seed (one chain
each, as ``data/reference/lcmcr_reference.csv`` was made), ours with as many chains, same
burn-in, draws and thinning; posterior quantiles, the Monte Carlo standard errors of ours
(from the ESS, Vehtari et al. 2021), bulk ESS of both (R's chains pooled as chains), seconds
(elapsed, same run) and whether every quantile of ours lies within 3 combined MCSE of the R
runs' mean (R's MCSE: |seed a − seed b| / 2). The stored reference rows are shown beside.
LCMCR is built once into ~/.cache/datajusta/r (outside the repository) from
shared/baselines/LCMCR_source.tar.gz. Raw numbers: benchmarks/results/lcmcr_reference.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _rbaselines import RUnavailable, lcmcr_library, rscript  # noqa: E402

from datajusta_lib.mse import estimator as mse  # noqa: E402
from datajusta_lib.mse import lcmcr as lc  # noqa: E402

REF = ROOT / "data" / "reference"
PROBS = (0.025, 0.5, 0.975)


def datasets() -> dict[str, tuple[pd.DataFrame, str]]:
    kos = pd.read_csv(REF / "kosovo_aggregate.csv").value_counts().rename("count").reset_index()
    uk = pd.read_csv(REF / "uk_modern_slavery_2013_five_lists.csv")
    eye = pd.read_csv(REF / "listado_victimas_historial_capturas.csv", index_col=0)
    eye = eye.dropna(subset=["Freq"]).rename(columns={"Freq": "count"}).astype(int)
    return {
        "kosovo": (kos, "kosovo_aggregate"),
        "uk5": (uk, "uk_modern_slavery"),
        "eye_trauma": (eye, "open-data/listado_victimas"),
    }


def run_r(table: pd.DataFrame, lib: Path, settings: dict, seeds: list[int]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        table.to_csv(path, index=False)
        cmd = [rscript(), str(HERE / "lcmcr_run.R"), str(path), str(lib)]
        cmd += [str(settings[k]) for k in ("K", "burnin", "samples", "thinning")]
        cmd += [str(s) for s in seeds]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def summarise(draws: np.ndarray) -> dict:
    q = np.quantile(draws, PROBS)
    return {
        "q2_5": float(q[0]),
        "median": float(q[1]),
        "q97_5": float(q[2]),
        "mean": float(draws.mean()),
        "ess_bulk": lc.ess_bulk(draws),
        "rhat": lc.split_rhat(draws),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burnin", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--thinning", type=int, default=100)
    ap.add_argument("--seeds", default="11,12", help="R seeds; ours runs as many chains")
    ap.add_argument("--only", default="", help="comma-separated subset of kosovo,uk5,eye_trauma")
    args = ap.parse_args(argv)
    try:
        lib = lcmcr_library()
    except RUnavailable as exc:
        print(f"skipped: {exc}")
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = {"K": 10, "burnin": args.burnin, "samples": args.samples}
    settings["thinning"] = args.thinning
    stored = pd.read_csv(REF / "lcmcr_reference.csv")
    rows = []
    tables = datasets()
    warm = mse.capture_histories(tables["eye_trauma"][0])
    lc.estimate_lcmcr(warm, seed=1, burnin=10, samples=10, thinning=1)  # compile, not timed
    for name, (table, key) in tables.items():
        if args.only and name not in args.only.split(","):
            continue
        r_runs = run_r(table, lib, settings, seeds)
        r_draws = np.vstack([np.asarray(r["N"], dtype=float) for r in r_runs])
        ch = mse.capture_histories(table)
        t0 = time.perf_counter()
        ours = lc.estimate_lcmcr(ch, seed=seeds[0], chains=len(seeds), **settings)
        ours_s = time.perf_counter() - t0
        r_sum = summarise(r_draws)
        o_sum = summarise(ours.draws)
        agree = {}
        for col, p in zip(("q2_5", "median", "q97_5"), PROBS, strict=True):
            per_seed = [float(np.quantile(d, p)) for d in r_draws]
            se_r = abs(per_seed[0] - per_seed[-1]) / 2 if len(per_seed) > 1 else 0.0
            se = float(np.hypot(ours.mcse[p], se_r))
            agree[col] = abs(o_sum[col] - float(np.mean(per_seed))) <= 3 * se
        rows.append(
            {
                "data": name,
                "n_observed": ch.n_observed,
                "r": r_sum
                | {
                    "seconds": sum(r["seconds"] for r in r_runs),
                    "per_seed_median": [float(np.median(d)) for d in r_draws],
                    "r_version": r_runs[0]["r_version"],
                },
                "ours": o_sum
                | {
                    "seconds": ours_s,
                    "mcse": {str(k): v for k, v in ours.mcse.items()},
                    "per_chain_median": ours.chain_medians,
                    "converged": ours.converged,
                },
                "stored": stored[stored["data"].str.startswith(key)].to_dict("records"),
                "within_3_mcse": agree,
            }
        )
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "settings": settings | {"seeds": seeds},
        "rows": rows,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "lcmcr_reference.json").write_text(json.dumps(result, indent=2))
    print(
        f"LCMCR, K = 10, a = b = 0.25, burn-in {args.burnin:,}, {args.samples:,} draws × "
        f"thinning {args.thinning} per chain; R seeds {seeds}, ours {len(seeds)} chains\n"
    )
    print("| data | run | 2.5 % | median | 97.5 % | mean | bulk ESS | R-hat | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for label, s in (("LCMCR 0.4.14 (R)", r["r"]), ("mse_lcmcr (ours)", r["ours"])):
            print(
                f"| {r['data']} | {label} | {s['q2_5']:,.0f} | {s['median']:,.0f} | "
                f"{s['q97_5']:,.0f} | {s['mean']:,.0f} | {s['ess_bulk']:,.0f} | "
                f"{s['rhat']:.3f} | {s['seconds']:.1f} |"
            )
        for s in r["stored"]:
            print(
                f"| {r['data']} | stored reference, seed {s['seed']} | {s['q2_5']:,.0f} | "
                f"{s['median']:,.0f} | {s['q97_5']:,.0f} | {s['mean']:,.0f} | | | |"
            )
    print()
    for r in rows:
        print(f"{r['data']}: ours within 3 combined MCSE of R: {r['within_3_mcse']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
