"""How often does the interval cover the true total? Repeated draws from known populations.

Scenarios (each a population of known size N captured by four lists; our own simulation,
``datajusta_lib.mse_data.simulate``):

* ``independent``: homogeneous, independent lists — every assumption holds;
* ``referral``: institution A refers people to B (odds of being on B × 4 for those on A), a
  pairwise dependence the log-linear model can represent;
* ``heterogeneous``: some people are more visible to every institution (σ = 1 on the logit
  scale) — the assumption that fails most in practice, which no log-linear model of this kind
  corrects; expect undercoverage and underestimation;
* ``synthetic:<case_study>``: when ``data/synthetic/_truth/`` exists (``datajusta synth``),
  the project's synthetic institutions with perfect linkage (the true capture histories) and
  the true number of victims as N. One population, so one draw: covered or not.

    .venv/bin/python benchmarks/mse_coverage.py [--draws 200] [--n-boot 200] [--seed 1]

Reports coverage, relative bias and median interval width per scenario and selection method;
raw numbers to benchmarks/results/mse_coverage.json. Not run in CI (minutes, not seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from datajusta_lib import mse  # noqa: E402
from datajusta_lib import mse_report as rep  # noqa: E402
from datajusta_lib.mse_data import simulate  # noqa: E402

N = 2000
PROBS = [0.15, 0.25, 0.2, 0.1]
SCENARIOS = {
    "independent": {},
    "referral": {"referrals": {(0, 1): 4.0}},
    "heterogeneous": {"heterogeneity": 1.0},
}


def run_scenario(
    name: str, kwargs: dict, selection: str, draws: int, n_boot: int, seed: int, kind: str
):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(draws):
        ch = simulate(N, PROBS, rng, **kwargs)
        res = mse.estimate(
            ch, selection=selection, n_boot=n_boot, seed=seed * 100_000 + i, bootstrap=kind
        )
        if not res.ok:
            rows.append({"ok": False})
            continue
        lo, hi = res.interval
        rows.append({"ok": True, "total": res.total, "lo": lo, "hi": hi, "covered": lo <= N <= hi})
    df = pd.DataFrame(rows)
    ok = df[df["ok"]]
    return {
        "scenario": name,
        "selection": selection,
        "bootstrap": kind,
        "draws": draws,
        "n_boot": n_boot,
        "estimated": int(len(ok)),
        "coverage": float(ok["covered"].mean()) if len(ok) else float("nan"),
        "relative_bias": float((ok["total"].mean() - N) / N) if len(ok) else float("nan"),
        "median_width_share": float(((ok["hi"] - ok["lo"]) / N).median())
        if len(ok)
        else float("nan"),
    }


def synthetic_truth_rows(n_boot: int, seed: int) -> list[dict]:
    """Coverage on the project's synthetic truth, if generated (one population per case).

    ``_truth/<case>/capture_histories.parquet`` holds one row per fabricated victim with one
    boolean column per institution: the true lists with perfect linkage, and N = its rows.
    """
    from datajusta_lib.paths import synthetic_dir

    truth = Path(synthetic_dir()) / "_truth"
    rows = []
    for path in sorted(truth.glob("*/capture_histories.parquet")) if truth.exists() else []:
        hist = pd.read_parquet(path)
        case_study = path.parent.name
        # the population the pages estimate: victims only, on the eligible lists
        # (data/analysis/mse_lists.yaml), e.g. not the protest detention register
        persons = pd.read_parquet(
            path.parent / "persons.parquet", columns=["person_id", "is_victim"]
        )
        hist = hist[hist["person_id"].isin(persons.loc[persons["is_victim"], "person_id"])]
        excluded = set(rep._eligibility()[case_study].get("exclude") or {})
        lists = [c for c in hist.columns if c != "person_id" and c not in excluded]
        n_true = len(hist)
        table = hist[lists].astype(int).value_counts().rename("count").reset_index()
        table = table[table[lists].sum(axis=1) > 0]
        res = mse.estimate(table, n_boot=n_boot, seed=seed)
        rows.append(
            {
                "scenario": f"synthetic:{path.parent.name}",
                "selection": "stepwise",
                "bootstrap": "nonparametric",
                "draws": 1,
                "n_boot": n_boot,
                "estimated": int(res.ok),
                "true_total": n_true,
                "observed": res.n_observed,
                "total": res.total,
                "interval": res.interval,
                "model": res.model_terms,
                "coverage": float(res.ok and res.interval[0] <= n_true <= res.interval[1]),
                "relative_bias": (res.total - n_true) / n_true if res.ok else float("nan"),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--selections", default="main,stepwise")
    ap.add_argument("--bootstraps", default="nonparametric,parametric")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    for name, kwargs in SCENARIOS.items():
        for selection in args.selections.split(","):
            for kind in args.bootstraps.split(","):
                rows.append(
                    run_scenario(name, kwargs, selection, args.draws, args.n_boot, args.seed, kind)
                )
    rows += synthetic_truth_rows(args.n_boot, args.seed)
    seconds = time.perf_counter() - t0
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "mse_coverage.json").write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "N": N,
                "capture_probs": PROBS,
                "seconds": seconds,
                "rows": rows,
            },
            indent=2,
            default=str,
        )
    )
    print(
        f"Coverage of 95% BCa intervals, N = {N}, lists p = {PROBS}, "
        f"{args.draws} draws × {args.n_boot} replicates ({seconds:.0f} s)\n"
    )
    print(
        "| scenario | selection | bootstrap | estimated | coverage | relative bias | "
        "median width / N |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        width = r.get("median_width_share", float("nan"))
        print(
            f"| {r['scenario']} | {r['selection']} | {r['bootstrap']} | "
            f"{r['estimated']}/{r['draws']} | "
            f"{r['coverage']:.3f} | {r['relative_bias']:+.3f} | {width:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
