"""Benchmark: the disclosure gate on tables of counts (``gate_counts``).

For each table shape, counts are drawn from a Poisson distribution with a small mean (so that
many cells are small, as in regional tables of rare events) and, median of ``--repeats``:

- **gate**: ``gate_counts`` end to end — primary and complementary suppression and the
  protection check (groups of cells pushed up and down together certify most cells; exact
  per-cell LPs only for the rest);
- **naive baseline** in the same process: the same suppression pattern verified the obvious
  way, two LPs (lowest and highest value) per hidden cell (``feasible_intervals``);
- **reader-side check**: ``check_counts_csv`` on the published CSV, as the site check runs it.

Both verifications must agree (every hidden cell protected); the script fails otherwise.

    .venv/bin/python benchmarks/disclosure.py
    .venv/bin/python benchmarks/disclosure.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datajusta_lib.gate import disclosure as dc  # noqa: E402
from datajusta_lib.gate.publish import gate_counts  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CASES = [  # (rows, columns, Poisson mean): region x institution, region x year, region x month
    (16, 6, 4.0),
    (16, 15, 2.0),
    (16, 24, 3.0),
]


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(2019)
    rows = []
    for r, c, mean in CASES:
        frame = pd.DataFrame(rng.poisson(mean, size=(r, c)))
        t_gate, g = timed(
            lambda frame=frame: gate_counts(frame, name="bench", k=args.k), args.repeats
        )
        hidden = g.result.suppressed

        def naive(g=g, hidden=hidden):
            lo, hi = g.result.intervals()
            return all(
                dc.cell_protected(
                    lo[i], hi[i], args.k, g.result.values[i], bool(g.result.primary[i])
                )
                for i in np.flatnonzero(hidden)
            )

        t_naive, naive_ok = timed(naive, args.repeats)
        t_check, problems = timed(
            lambda g=g: dc.check_counts_csv(g.csv, g.gate, k=args.k), args.repeats
        )
        if not naive_ok or problems:
            print(f"{r}x{c}: verifications disagree: naive={naive_ok}, problems={problems}")
            return 1
        rows.append(
            {
                "shape": f"{r} x {c}",
                "mean": mean,
                "cells": int(hidden.size),
                "hidden_primary": int(g.result.primary.sum()),
                "hidden_secondary": int(g.result.secondary.sum()),
                "gate_s": round(t_gate, 3),
                "naive_verification_s": round(t_naive, 3),
                "ratio_naive_over_gate": round(t_naive / t_gate, 1),
                "reader_check_s": round(t_check, 3),
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "disclosure.json").write_text(
        json.dumps({"k": args.k, "repeats": args.repeats, "results": rows}, indent=1),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
