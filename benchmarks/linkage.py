"""Benchmark: link two 100,000-record encoded lists (issue 15's bar: F1 >= 0.95 in <= 60 s on
2 cores), against two naive baselines in the same run.

The lists are built like the synthetic world's registers (names from invented syllables,
RUNs in the unassigned 40-49 million range, birth and event dates), then each is *encoded*
as an institution would (keyed hashes, Bloom filters with BLIP): list B holds 70,000 of list
A's persons with register errors (a typo in the name in 8 %, no RUN in 20 %, a birth date
with day and month swapped in 1 % or missing in 6 %, an event date recorded a few days
later) and 30,000 other persons. Timed, each on the same encodings:

- **splink**: the project's linkage (``datajusta_lib.linkage.link.link``, link_only,
  DuckDB, the settings of ``data/linkage/settings.yaml``: training + prediction + clusters);
- **exact keyed-hash join**: today's linkage, a pandas merge on the identifier hash;
- **pandas on the same blocks**: the candidate pairs of the same blocking rules, built with
  pandas merges, Dice similarities computed with numpy on every pair, and a fixed rule
  (identifier equal, or name Dice >= 0.75 and birth date equal or birth Dice >= 0.45).

Encoding time is reported apart (each institution pays it once, on its own machine).

    .venv/bin/python benchmarks/linkage.py               # 100,000 + 100,000 records
    .venv/bin/python benchmarks/linkage.py --n 20000     # a quicker check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
KEY = b"benchmark-only-key-not-a-secret-0123456789"


def make_lists(n: int, seed: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    from datajusta_lib.synthetic.formats import typo
    from datajusta_lib.synthetic.population import draw_names, run_check_digit

    rng = np.random.default_rng(seed)
    n_persons = int(n * 1.3)
    female = rng.random(n_persons) < 0.5
    given, s1, s2 = draw_names(rng, female)
    names = np.char.upper(
        np.asarray(given, dtype=str)
        + " "
        + np.asarray(s1, dtype=str)
        + " "
        + np.asarray(s2, dtype=str)
    ).astype(object)
    run = rng.choice(np.arange(40_000_000, 50_000_000), size=n_persons, replace=False)
    ident = np.array(
        [f"RUN:{r}{d}" for r, d in zip(run, run_check_digit(run), strict=True)], dtype=object
    )
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n_persons).astype(
        "timedelta64[D]"
    )
    event = np.datetime64("2019-01-01") + rng.integers(0, 365 * 5, n_persons).astype(
        "timedelta64[D]"
    )
    sex = np.where(female, "female", "male").astype(object)
    region = rng.choice([f"{i:02d}" for i in range(1, 17)], size=n_persons).astype(object)
    persons = pd.DataFrame(
        {
            "person": np.arange(n_persons),
            "identifier": ident,
            "name": names,
            "birth_date": birth,
            "event_date": event,
            "sex": sex,
            "region_code": region,
        }
    )
    a = persons.iloc[:n].copy()
    both = rng.choice(n, size=int(n * 0.7), replace=False)
    b = pd.concat([persons.iloc[both], persons.iloc[n:n_persons]], ignore_index=True)
    b = b.iloc[:n].copy().reset_index(drop=True)
    m = len(b)
    hit = rng.random(m) < 0.08
    b.loc[hit, "name"] = [typo(rng, s) for s in b.loc[hit, "name"]]
    b.loc[rng.random(m) < 0.20, "identifier"] = None
    bd = b["birth_date"].to_numpy().astype("datetime64[D]")
    sw = rng.random(m) < 0.01
    d = pd.DatetimeIndex(bd)
    ok = sw & (d.day <= 12) & (d.day != d.month)
    b.loc[ok, "birth_date"] = pd.to_datetime(
        {"year": d.year[ok], "month": d.day[ok], "day": d.month[ok]}
    )
    b.loc[rng.random(m) < 0.06, "birth_date"] = pd.NaT
    b["event_date"] = b["event_date"] + pd.to_timedelta(rng.integers(0, 4, m), unit="D")
    a["institution"], b["institution"] = "LIST_A", "LIST_B"
    return a.reset_index(drop=True), b


def f1(pred_pairs: set, true_pairs: set) -> dict:
    tp = len(pred_pairs & true_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(true_pairs) if true_pairs else 1.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "predicted_pairs": len(pred_pairs),
    }


def pandas_same_blocks(enc: pd.DataFrame, settings: dict) -> set:
    from datajusta_lib.linkage import encode as E
    from datajusta_lib.linkage import link as L

    data = L.add_lsh(enc, settings)
    data["uid"] = np.arange(len(data))
    a, b = data[data["institution"] == "LIST_A"], data[data["institution"] == "LIST_B"]
    keys = ["id_hash", "birth_hash"] + [c for c in data.columns if c.startswith("name_lsh_")]
    cand = []
    for k in keys:
        m = a[["uid", k]].dropna().merge(b[["uid", k]].dropna(), on=k, suffixes=("_l", "_r"))
        cand.append(m[["uid_l", "uid_r"]])
    pairs = pd.concat(cand).drop_duplicates()
    il, ir = pairs["uid_l"].to_numpy(), pairs["uid_r"].to_numpy()
    nw = L._words(data, "name_bf")
    bw = L._words(data, "birth_bf")
    names = data[nw].to_numpy(dtype="<i8")
    births = data[bw].to_numpy(dtype="<i8")
    name_d = E.dice_words(names[il], names[ir])
    birth_d = E.dice_words(births[il], births[ir])
    idh = data["id_hash"].fillna("").astype(str).to_numpy()
    bh = data["birth_hash"].fillna("").astype(str).to_numpy()
    same_id = (idh[il] != "") & (idh[il] == idh[ir])
    same_birth = (bh[il] != "") & (bh[il] == bh[ir])
    match = same_id | ((name_d >= 0.75) & (same_birth | (birth_d >= 0.45)))
    return set(zip(il[match].tolist(), ir[match].tolist(), strict=True)), len(pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="records per list")
    ap.add_argument("--out", type=Path, default=RESULTS / "linkage.json")
    args = ap.parse_args()
    from datajusta_lib.linkage import encode as E
    from datajusta_lib.linkage import link as L
    from datajusta_lib.linkage.settings import linkage_settings

    settings = linkage_settings()
    a, b = make_lists(args.n)
    t0 = time.perf_counter()
    enc = pd.concat(
        [
            E.encode_table(a.drop(columns="person"), KEY, settings, seed=1),
            E.encode_table(b.drop(columns="person"), KEY, settings, seed=2),
        ],
        ignore_index=True,
    )
    encode_s = time.perf_counter() - t0
    person = np.concatenate([a["person"].to_numpy(), b["person"].to_numpy()])
    n_a = len(a)
    pos_b = {p: i for i, p in enumerate(b["person"].to_numpy())}
    truth = {(i, n_a + pos_b[p]) for i, p in enumerate(a["person"].to_numpy()) if p in pos_b}

    results = {}
    t0 = time.perf_counter()
    res = L.link(enc, link_type="link_only", case_study=None)
    secs = time.perf_counter() - t0
    cl = res.clusters.set_index("unique_id")["cluster_id"]
    pairs = res.pairs[res.pairs["match_probability"] >= res.threshold]
    pred = {
        (min(x, y), max(x, y))
        for x, y in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)
    }
    results["splink (DuckDB)"] = {"seconds": secs, **f1(pred, truth), "clusters": int(cl.nunique())}

    t0 = time.perf_counter()
    ea = enc.iloc[:n_a].assign(uid=np.arange(n_a)).dropna(subset=["id_hash"])
    eb = enc.iloc[n_a:].assign(uid=np.arange(n_a, len(enc))).dropna(subset=["id_hash"])
    j = ea[["uid", "id_hash"]].merge(eb[["uid", "id_hash"]], on="id_hash")
    pred = set(zip(j["uid_x"].tolist(), j["uid_y"].tolist(), strict=True))
    results["exact keyed-hash join (pandas)"] = {
        "seconds": time.perf_counter() - t0,
        **f1(pred, truth),
    }

    t0 = time.perf_counter()
    pred, n_cand = pandas_same_blocks(enc, settings)
    results["pandas, same blocks, fixed rule"] = {
        "seconds": time.perf_counter() - t0,
        **f1(pred, truth),
        "candidate_pairs": n_cand,
    }
    report = {
        "records_per_list": args.n,
        "true_pairs": len(truth),
        "encode_seconds_both_lists": encode_s,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "splink": __import__("splink").__version__,
        "duckdb": __import__("duckdb").__version__,
        "results": results,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(
        f"{args.n:,} + {args.n:,} records, {len(truth):,} true pairs; encoding both lists {encode_s:.1f} s"
    )
    for k, v in results.items():
        print(
            f"  {k:34s} {v['seconds']:7.1f} s  precision {v['precision']:.4f}  recall {v['recall']:.4f}  F1 {v['f1']:.4f}"
        )
    assert person is not None


if __name__ == "__main__":
    main()
