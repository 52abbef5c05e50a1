"""Benchmark: the profile step of the ingestion bar (docs/architecture.md, quality bars) (read + validate + harmonise + profile of
1,000,000 records in <= 15 s) — the profiling alone, on canonical records already loaded.

For each scale, a fresh process builds canonical records like ``dj.load`` returns them
(``contracts.RecordModel`` columns and dtypes, six institutions of the trafficking case
study, each field present in 60-100 % of rows where the codebook records it, 1 % of rows
quarantined with harmonisation reasons) and times, median of ``--repeats``:

- **profile** (this project): ``profiles.recording_matrix`` (completeness and validity from
  the quarantine reasons) + ``profiles.gate_matrix`` + ``territorial.region_counts`` +
  ``territorial.gate_all`` (the territorial counts and rates with the disclosure gate);
- **naive baseline** in the same process: what a researcher would write without the
  library — one boolean mask per institution × field and per institution × region, and the
  reasons parsed row by row in a Python loop.

Peak resident memory (``ru_maxrss``) is that process's, data generation included.

    .venv/bin/python benchmarks/profile.py                 # 100k and 1M rows
    .venv/bin/python benchmarks/profile.py --rows 1000000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datajusta_lib.core import canon  # noqa: E402
from datajusta_lib.ingest import codebooks  # noqa: E402
from datajusta_lib.pages import recording_practices as profiles  # noqa: E402
from datajusta_lib.pages import territorial  # noqa: E402

CASE_STUDY = "trafficking"
RESULTS = ROOT / "benchmarks" / "results"


def make_records(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical records and a quarantine of 1 % of n rows (vectorised)."""
    rng = np.random.default_rng(seed)
    insts = codebooks.institutions(CASE_STUDY)
    flags = profiles.recording_flags(CASE_STUDY)
    inst = np.array(insts)[rng.integers(0, len(insts), n)]
    df = pd.DataFrame(
        {
            "institution": pd.array(inst, dtype="str"),
            "case_study": pd.array(np.full(n, CASE_STUDY), dtype="str"),
        }
    )
    df["record_id"] = pd.array(np.char.add("R", np.arange(n).astype(str)), dtype="str")
    start = pd.Timestamp("2012-01-01")
    df["event_date"] = start + pd.to_timedelta(rng.integers(0, 4000, n), unit="D")
    df["report_date"] = df["event_date"] + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    codes = np.array(canon.region_codes())
    pop = canon.regions()["population_census_2017"].to_numpy(float)
    df["region_code"] = pd.array(codes[rng.choice(len(codes), n, p=pop / pop.sum())], dtype="str")
    df["person_key"] = pd.array(np.char.add("k", rng.integers(0, n, n).astype(str)), dtype="str")
    for f in (
        "classification",
        "sex",
        "gender_identity",
        "age_band",
        "migrant_status",
        "indigenous_people",
        "disability",
        "perpetrator_type",
        "procedural_stage",
    ):
        vocab = np.array(canon.vocabulary(f, CASE_STUDY if f == "classification" else None))
        df[f] = pd.array(vocab[rng.integers(0, len(vocab), n)], dtype="str")
    df["nationality"] = pd.array(
        np.array(["CHL", "VEN", "PER"])[rng.integers(0, 3, n)], dtype="str"
    )
    df["age"] = pd.array(rng.integers(0, 90, n), dtype="Int64")
    # each institution fills a recorded field in 60-100 % of its rows, the others never
    for (i, f), rec in flags.set_index(["institution", "field"])["recorded"].items():
        rows = df["institution"].to_numpy() == i
        keep = rng.random(rows.sum()) < (rng.uniform(0.6, 1.0) if rec else 0.0)
        mask = np.zeros(n, dtype=bool)
        mask[np.flatnonzero(rows)[~keep]] = True
        df.loc[mask, f] = pd.NA if f != "event_date" and f != "report_date" else pd.NaT
    df["source_file"] = pd.array(
        np.char.add(df["institution"].to_numpy(dtype=str), ".csv"), dtype="str"
    )
    df["source_row"] = pd.array(np.arange(n) + 2, dtype="Int64")
    nq = max(1, n // 100)
    q = pd.DataFrame(
        {
            "institution": inst[:nq],
            "source_file": np.char.add(inst[:nq], ".csv"),
            "source_row": pd.array(np.arange(nq) + n + 2, dtype="Int64"),
            "rules": "unknown_category",
            "reasons": np.where(
                rng.random(nq) < 0.5,
                "SEXO (sex): unknown_category ('F/M')",
                "FECHA (event_date): date_in_the_future ('2063-12-06'); INGRESO (report_date), "
                "FECHA (event_date): report_date_before_event_date ('report 2019-12-06')",
            ),
        }
    )
    return df, q


def profile_step(records: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    matrix = profiles.recording_matrix(
        CASE_STUDY, records, profiles.quarantine_failures(quarantine)
    )
    profiles.gate_matrix(matrix, CASE_STUDY, "es")
    counts = territorial.region_counts(records)
    territorial.gate_all(counts, CASE_STUDY, "es")


def naive_step(records: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    """The loop a researcher would write: one mask per cell, reasons parsed row by row."""
    out = {}
    for inst in sorted(records["institution"].unique()):
        sub = records[records["institution"] == inst]
        for f in profiles.PROFILE_FIELDS:
            out[(inst, f)] = sub[f].notna().mean()
        for code in canon.region_codes():
            out[(inst, code)] = int((sub["region_code"] == code).sum())
    invalid = {}
    for inst, reasons in zip(quarantine["institution"], quarantine["reasons"], strict=True):
        for piece in reasons.split("; "):
            for f in re.findall(r"\(([a-z_]+)\)", piece.split(": ")[0]):
                invalid[(inst, f)] = invalid.get((inst, f), 0) + 1


def one_scale(n: int, repeats: int) -> dict:
    t0 = time.perf_counter()
    records, quarantine = make_records(n)
    made = time.perf_counter() - t0
    profile_step(records, quarantine)  # warm-up (imports, codebook cache)
    times = {"profile": [], "naive": []}
    for _ in range(repeats):
        for name, step in (("profile", profile_step), ("naive", naive_step)):
            t = time.perf_counter()
            step(records, quarantine)
            times[name].append(time.perf_counter() - t)
    return {
        "rows": n,
        "generate_s": round(made, 2),
        "profile_s": round(float(np.median(times["profile"])), 3),
        "naive_s": round(float(np.median(times["naive"])), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_scale(args.child, args.repeats)))
        return 0
    rows = []
    for n in args.rows:  # a fresh process per scale: clean peak memory
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--repeats", str(args.repeats)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| rows | profile (s) | naive loop (s) | speed-up | rows/s (profile) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['rows']:,} | {r['profile_s']:.3f} | {r['naive_s']:.3f} | "
            f"{r['naive_s'] / r['profile_s']:.1f}× | {r['rows'] / r['profile_s']:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        growth = (b["profile_s"] / a["profile_s"]) / (b["rows"] / a["rows"])
        print(
            f"\ntime growth per unit of rows from {a['rows']:,} to {b['rows']:,}: {growth:.2f} (1.00 = linear)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
