"""How often does the interval cover the true total? Repeated draws from known populations.

Scenarios (each a population of known size N captured by four lists; our own simulation,
``datajusta_lib.mse.data.simulate``):

* ``independent``: homogeneous, independent lists — every assumption holds;
* ``referral``: institution A refers people to B (odds of being on B × 4 for those on A), a
  pairwise dependence the log-linear model can represent;
* ``heterogeneous``: some people are more visible to every institution (σ = 1 on the logit
  scale) — the assumption that fails most in practice, which no log-linear model of this kind
  corrects; expect undercoverage and underestimation;
* ``synthetic:<case_study>``: when ``data/synthetic/_truth/`` exists (``datajusta synth``),
  the project's synthetic institutions with perfect linkage (the true capture histories) and
  the true number of victims as N. One population, so one draw: covered or not.
* ``synthetic worlds:<case_study>``: the same on ``--worlds`` freshly generated synthetic
  worlds (seeds 1..N, scale 1): repeated draws of the project's own generative model. The
  number of victims is fixed by the model; who they are and which lists capture them vary.

    .venv/bin/python benchmarks/mse_coverage.py [--draws 200] [--n-boot 200] [--seed 1] [--worlds 20]
    .venv/bin/python benchmarks/mse_coverage.py --no-simulated --worlds 20   # the worlds only

Reports coverage, relative bias and median interval width per scenario and selection method;
raw numbers to benchmarks/results/mse_coverage.json (``mse_coverage_worlds.json`` with
``--no-simulated``). Not run in CI (minutes, not seconds).
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

from datajusta_lib.mse.estimator.data import simulate  # noqa: E402

from datajusta_lib.mse import estimator as mse  # noqa: E402
from datajusta_lib.pages import unrecorded_victims as rep  # noqa: E402

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


def _lcmcr_fields(table, n_true: int, seed: int, settings: dict) -> dict:
    """The latent-class estimate (``datajusta_lib.mse.lcmcr``) of one population."""
    res = mse.estimate(table, method="lcmcr", seed=seed, **settings)
    q = res.quantiles
    lo, hi = q[0.025], q[0.975]
    return {
        "lcmcr_converged": bool(res.converged),
        "lcmcr_rhat": res.rhat,
        "lcmcr_ess": res.ess_bulk,
        "lcmcr_median": q[0.5],  # kept even when not converged, for the record only
        "lcmcr_interval": (lo, hi),
        "lcmcr_covered": bool(lo <= n_true <= hi),
    }


def _truth_estimates(truth: Path, n_boot: int, seed: int, lcmcr: dict | None = None) -> list[dict]:
    """One estimate per case study from a generated world's ``_truth`` folder.

    ``<case>/capture_histories.parquet`` holds one row per fabricated person with one boolean
    column per institution: the true lists with perfect linkage.
    """
    rows = []
    for path in sorted(truth.glob("*/capture_histories.parquet")):
        hist = pd.read_parquet(path)
        case_study = path.parent.name
        # the population the pages estimate: victims only, on the eligible lists
        # (data/analysis/mse_lists.yaml), e.g. not the protest detention register
        persons = pd.read_parquet(
            path.parent / "persons.parquet", columns=["person_id", "is_victim"]
        )
        hist = hist[hist["person_id"].isin(persons.loc[persons["is_victim"], "person_id"])]
        population = rep._eligibility()[case_study].get("classification")
        if population:  # the population the page names (e.g. attempted, not completed, femicide)
            events = pd.read_parquet(
                path.parent / "events.parquet", columns=["person_id", "classification"]
            )
            named = events.loc[events["classification"].isin(population), "person_id"]
            hist = hist[hist["person_id"].isin(named)]
        excluded = set(rep._eligibility()[case_study].get("exclude") or {})
        lists = [c for c in hist.columns if c != "person_id" and c not in excluded]
        n_true = len(hist)
        table = hist[lists].astype(int).value_counts().rename("count").reset_index()
        table = table[table[lists].sum(axis=1) > 0]
        res = mse.estimate(table, n_boot=n_boot, seed=seed)
        extra = _lcmcr_fields(table, n_true, seed, lcmcr) if lcmcr is not None else {}
        rows.append(
            {
                **extra,
                "case_study": case_study,
                "ok": bool(res.ok),
                "true_total": n_true,
                "observed": res.n_observed,
                "total": res.total if res.ok else float("nan"),
                "interval": res.interval if res.ok else None,
                "model": res.model_terms,
                "covered": bool(res.ok and res.interval[0] <= n_true <= res.interval[1]),
            }
        )
    return rows


def synthetic_truth_rows(n_boot: int, seed: int) -> list[dict]:
    """Coverage on the project's generated synthetic truth (``datajusta synth``), if present:
    one population per case study, so one draw each."""
    from datajusta_lib.core.paths import synthetic_dir

    truth = Path(synthetic_dir()) / "_truth"
    rows = []
    for r in _truth_estimates(truth, n_boot, seed) if truth.exists() else []:
        n_true = r["true_total"]
        rows.append(
            {
                "scenario": f"synthetic:{r['case_study']}",
                "selection": "stepwise",
                "bootstrap": "nonparametric",
                "draws": 1,
                "n_boot": n_boot,
                "estimated": int(r["ok"]),
                "true_total": n_true,
                "observed": r["observed"],
                "total": r["total"],
                "interval": r["interval"],
                "model": r["model"],
                "coverage": float(r["covered"]),
                "relative_bias": (r["total"] - n_true) / n_true if r["ok"] else float("nan"),
            }
        )
    return rows


def synthetic_world_rows(
    worlds: int, n_boot: int, seed: int, lcmcr: dict | None = None
) -> list[dict]:
    """Coverage over ``worlds`` synthetic worlds drawn with seeds 1..worlds (scale 1, the
    default model): each world is generated afresh; the number of victims is set by the model,
    the victims and the lists that capture them vary between draws."""
    import tempfile

    from tqdm import tqdm

    from datajusta_lib.synthetic import generator as synthetic

    per_case: dict[str, list[dict]] = {}
    for world in tqdm(range(1, worlds + 1), desc="synthetic worlds", unit="world"):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "synthetic"
            synthetic.generate(seed=world, out=out)
            for r in _truth_estimates(out / "_truth", n_boot, seed + world, lcmcr):
                per_case.setdefault(r["case_study"], []).append(r)
                if lcmcr is not None:  # keep each world's result even if the run is cut short
                    (HERE / "results").mkdir(exist_ok=True)
                    with open(HERE / "results" / "mse_coverage_worlds_lcmcr.jsonl", "a") as fh:
                        fh.write(json.dumps({"world": world, **r}, default=str) + "\n")
    rows = []
    for case_study, rs in sorted(per_case.items()):
        ok = [r for r in rs if r["ok"]]
        bias = [(r["total"] - r["true_total"]) / r["true_total"] for r in ok]
        width = [(r["interval"][1] - r["interval"][0]) / r["true_total"] for r in ok]
        rows.append(
            {
                "scenario": f"synthetic worlds:{case_study}",
                "selection": "stepwise",
                "bootstrap": "nonparametric",
                "draws": len(rs),
                "n_boot": n_boot,
                "estimated": len(ok),
                "coverage": float(np.mean([r["covered"] for r in ok])) if ok else float("nan"),
                "relative_bias": float(np.mean(bias)) if ok else float("nan"),
                "median_width_share": float(np.median(width)) if ok else float("nan"),
                "true_totals": [r["true_total"] for r in rs],
                "estimates": [r["total"] for r in rs],
            }
        )
        if lcmcr is None:
            continue
        conv = [r for r in rs if r["lcmcr_converged"]]
        rows.append(
            {
                "scenario": f"synthetic worlds:{case_study}",
                "selection": "lcmcr",
                "bootstrap": "posterior",
                "draws": len(rs),
                "n_boot": 0,
                "estimated": len(conv),
                "coverage": float(np.mean([r["lcmcr_covered"] for r in conv]))
                if conv
                else float("nan"),
                "coverage_all_runs": float(np.mean([r["lcmcr_covered"] for r in rs])),
                "relative_bias": float(
                    np.mean([(r["lcmcr_median"] - r["true_total"]) / r["true_total"] for r in conv])
                )
                if conv
                else float("nan"),
                "median_width_share": float(
                    np.median(
                        [
                            (r["lcmcr_interval"][1] - r["lcmcr_interval"][0]) / r["true_total"]
                            for r in conv
                        ]
                    )
                )
                if conv
                else float("nan"),
                "true_totals": [r["true_total"] for r in rs],
                "estimates": [r["lcmcr_median"] for r in rs],
                "intervals": [r["lcmcr_interval"] for r in rs],
                "rhat": [r["lcmcr_rhat"] for r in rs],
                "settings": lcmcr,
            }
        )
    return rows


def run_lcmcr_scenario(name: str, kwargs: dict, draws: int, seed: int, settings: dict) -> dict:
    """Coverage of the LCMCR 95 % credible interval over simulated populations."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(draws):
        ch = simulate(N, PROBS, rng, **kwargs)
        rows.append(_lcmcr_fields(ch, N, seed * 100_000 + i, settings))
    conv = [r for r in rows if r["lcmcr_converged"]]
    return {
        "scenario": name,
        "selection": "lcmcr",
        "bootstrap": "posterior",
        "draws": draws,
        "n_boot": 0,
        "estimated": len(conv),
        "coverage": float(np.mean([r["lcmcr_covered"] for r in conv])) if conv else float("nan"),
        "coverage_all_runs": float(np.mean([r["lcmcr_covered"] for r in rows])),
        "relative_bias": float(np.mean([(r["lcmcr_median"] - N) / N for r in conv]))
        if conv
        else float("nan"),
        "median_width_share": float(
            np.median([(r["lcmcr_interval"][1] - r["lcmcr_interval"][0]) / N for r in conv])
        )
        if conv
        else float("nan"),
        "settings": settings,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--selections", default="main,stepwise")
    ap.add_argument("--bootstraps", default="nonparametric,parametric")
    ap.add_argument(
        "--worlds",
        type=int,
        default=20,
        help="synthetic worlds (seeds 1..N) to generate and estimate on; 0 to skip",
    )
    ap.add_argument(
        "--no-simulated", action="store_true", help="skip the simulated four-list scenarios"
    )
    ap.add_argument(
        "--lcmcr",
        action="store_true",
        help="also the Bayesian latent-class estimate (mse_lcmcr) on the worlds and scenarios",
    )
    ap.add_argument("--lcmcr-draws", type=int, default=20, help="simulated draws for LCMCR")
    ap.add_argument("--lcmcr-samples", type=int, default=2_500)
    ap.add_argument("--lcmcr-thinning", type=int, default=20)
    ap.add_argument("--lcmcr-burnin", type=int, default=10_000)
    ap.add_argument(
        "--no-loglinear-scenarios",
        action="store_true",
        help="simulated scenarios: LCMCR only (the log-linear rows are in the earlier run)",
    )
    args = ap.parse_args(argv)
    lc_settings = (
        {
            "samples": args.lcmcr_samples,
            "thinning": args.lcmcr_thinning,
            "burnin": args.lcmcr_burnin,
        }
        if args.lcmcr
        else None
    )
    t0 = time.perf_counter()
    rows = []
    for name, kwargs in SCENARIOS.items() if not args.no_simulated else ():
        if lc_settings is not None:
            rows.append(run_lcmcr_scenario(name, kwargs, args.lcmcr_draws, args.seed, lc_settings))
        if args.no_loglinear_scenarios:
            continue
        for selection in args.selections.split(","):
            for kind in args.bootstraps.split(","):
                rows.append(
                    run_scenario(name, kwargs, selection, args.draws, args.n_boot, args.seed, kind)
                )
    rows += synthetic_truth_rows(args.n_boot, args.seed)
    if args.worlds:
        rows += synthetic_world_rows(args.worlds, args.n_boot, args.seed, lc_settings)
    seconds = time.perf_counter() - t0
    (HERE / "results").mkdir(exist_ok=True)
    name = "mse_coverage_worlds.json" if args.no_simulated else "mse_coverage.json"
    if args.lcmcr:
        name = name.replace(".json", "_lcmcr.json")
    (HERE / "results" / name).write_text(
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
