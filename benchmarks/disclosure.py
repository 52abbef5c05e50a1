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

Then **a page of linked tables** (issue 14), shaped like a case-study page: a coverage table
of dated records per institution and, for each of 6 institutions, its volumes by year (15
years and an undated row, with the dated subtotal declared) and 6 distributions of its dated
records (16 categories), Poisson counts. Timed: gating every table on its own (no page: the
baseline), gating them on a page (each table suppressed against the earlier ones), and the
site-level joint check of the published tables (``linked.joint_findings``). The joint check
must find nothing; the script fails otherwise.

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
from datajusta_lib.gate import linked  # noqa: E402
from datajusta_lib.gate.publish import gate_counts, gate_estimates  # noqa: E402

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
    page = page_benchmark(rng, args)
    if page is None:
        return 1
    print(pd.DataFrame([page]).to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "disclosure.json").write_text(
        json.dumps({"k": args.k, "repeats": args.repeats, "results": rows, "page": page}, indent=1),
        encoding="utf-8",
    )
    return 0


def page_tables(rng) -> tuple[pd.DataFrame, list]:
    """The coverage table and, per institution, its volumes and distributions."""
    years = [str(y) for y in range(2011, 2026)]
    coverage, per_inst = [], []
    for i in range(6):
        inst = f"inst{i}"
        vol = pd.Series(rng.poisson(6.0, size=len(years)), index=years, name="n")
        dated = int(vol.sum())
        vol.loc["undated"] = int(rng.integers(1, 5))
        dists = []
        for _ in range(6):
            shares = rng.dirichlet(np.full(16, 0.7))
            dists.append(
                pd.Series(
                    rng.multinomial(dated, shares), index=[f"c{j}" for j in range(16)], name="n"
                )
            )
        coverage.append({"institution": inst, "records": dated})
        per_inst.append((inst, vol, dists))
    return pd.DataFrame(coverage), per_inst


def gate_page(coverage: pd.DataFrame, per_inst: list, k: int, on_page: bool) -> list:
    years = [str(y) for y in range(2011, 2026)]
    if on_page:
        linked.start_page()
    else:
        linked.stop_page()
    out = []
    cov = linked.Link("page_records", rows="institution", fixed={"dated": "yes"})
    out.append(
        (
            "coverage",
            "estimates",
            *gate_estimates(coverage, name="coverage", observed="records", k=k, link=cov),
        )
    )
    for inst, vol, dists in per_inst:
        link = linked.Link(
            "page_records",
            rows="period",
            fixed={"institution": inst},
            labels={"undated": {"dated": "no"}},
            groups=(({"dated": "yes"}, tuple(years)),),
        )
        g = gate_counts(vol, name=f"volumes_{inst}", k=k, link=link)
        out.append((g.name, "counts", g.table, g.gate))
        for d, s in enumerate(dists):
            link = linked.Link(
                "page_records", rows=f"dim{d}", fixed={"institution": inst, "dated": "yes"}
            )
            g = gate_counts(s, name=f"dim{d}_{inst}", k=k, link=link)
            out.append((g.name, "counts", g.table, g.gate))
    linked.stop_page()
    return out


def page_benchmark(rng, args) -> dict | None:
    coverage, per_inst = page_tables(rng)
    t_alone, _ = timed(lambda: gate_page(coverage, per_inst, args.k, False), args.repeats)
    t_page, tables = timed(lambda: gate_page(coverage, per_inst, args.k, True), args.repeats)
    parts = [
        linked.part_from_csv(name, kind, gate, frame.to_csv(index=False))
        for name, kind, frame, gate in tables
    ]
    t_check, findings = timed(lambda: linked.joint_findings(parts), args.repeats)
    if findings:
        print("page: the joint check found unprotected cells:", [f.message() for f in findings])
        return None
    hidden = sum(int(p.hidden.sum()) for p in parts)
    return {
        "page": f"{len(tables)} linked tables",
        "cells": sum(len(p.keys) for p in parts),
        "hidden": hidden,
        "gate_alone_s": round(t_alone, 3),
        "gate_on_page_s": round(t_page, 3),
        "ratio_page_over_alone": round(t_page / t_alone, 2),
        "site_joint_check_s": round(t_check, 3),
    }


if __name__ == "__main__":
    sys.exit(main())
