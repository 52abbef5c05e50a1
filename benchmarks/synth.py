"""Benchmark: synthetic data generation time and peak memory at several scales.

Each scale runs ``synthetic.generate`` in a fresh process (all three case studies, exports +
truth + metadata) and reports wall and CPU time, records, records/s and peak resident memory
(``ru_maxrss``). Scales: 1, 10, 100 and the one that gives about 1,000,000 records (derived
from the scale-1 count in the same run). Two baselines measured in the same run:

- linearity: CPU seconds per 100,000 records at each scale, relative to scale 10;
- the workbook writer: the data rows of the largest XLSX export written cell by cell with
  openpyxl's write-only mode (what the generator did before) against the vectorised writer.

    .venv/bin/python benchmarks/synth.py                    # 1, 10, 100 and ~1M records
    .venv/bin/python benchmarks/synth.py --scales 1 10      # a quicker run
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from datajusta_lib import synthetic
res = synthetic.generate(seed={seed}, scale={scale}, out={out!r})
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
size = sum(p.stat().st_size for p in res.out.rglob("*") if p.is_file() and "_truth" not in p.parts)
print(json.dumps({{"scale": {scale}, "records": res.n_records, "wall_s": wall,
                  "generate_s": res.seconds, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": ru.ru_maxrss / 1024, "export_mb": size / 2**20}}))
"""


def run_scale(scale: float, seed: int, workdir: Path) -> dict:
    out = workdir / f"scale_{scale:g}" / "synthetic"
    code = CHILD.format(seed=seed, scale=scale, out=str(out))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"scale {scale} failed:\n{proc.stderr[-3000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["out"] = str(out)
    return row


def xlsx_baseline(out: Path) -> dict:
    """The largest workbook's data rows: vectorised writer vs openpyxl cell by cell."""
    from openpyxl import Workbook

    from datajusta_lib.ingest import codebooks, readers
    from datajusta_lib.synthetic.export import _sheet_rows

    path = max(out.rglob("*.xlsx"), key=lambda p: p.stat().st_size)
    cs, inst = path.parts[-3], path.parts[-2]
    cb = codebooks.get(inst, cs)
    table = readers.read_export(path, cb).frame.drop(
        columns=["source_file", "source_sheet", "source_row"]
    )
    numeric = [c for c in table.columns if table[c].str.fullmatch(r"\d+").mean() > 0.5]

    t = time.perf_counter()
    for _ in _sheet_rows(table, numeric, first_row=cb.export.header_row + 1):
        pass
    ours = time.perf_counter() - t

    t = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    is_num = [c in numeric for c in table.columns]
    for values in table.itertuples(index=False, name=None):
        ws.append(
            [
                None if v == "" else int(v) if n and v.isdigit() else v
                for v, n in zip(values, is_num, strict=True)
            ]
        )
    wb.save(io.BytesIO())
    theirs = time.perf_counter() - t
    return {
        "file": f"{cs}/{inst}/{path.name}",
        "rows": len(table),
        "cells": table.size,
        "vectorised_s": ours,
        "openpyxl_s": theirs,
        "speedup": theirs / ours,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--scales",
        type=float,
        nargs="*",
        default=[1, 10, 100],
        help="scales to run; the ~1M-record scale is added unless --no-million",
    )
    ap.add_argument("--no-million", action="store_true")
    ap.add_argument("--seed", type=int, default=2019)
    args = ap.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp:
        work = Path(tmp)
        scales = list(dict.fromkeys([1.0, *args.scales]))
        first = run_scale(scales[0], args.seed, work)
        rows.append(first)
        if not args.no_million:
            million = math.ceil(1_000_000 / (first["records"] / first["scale"]) * 10) / 10
            scales.append(million)
        for scale in sorted(scales[1:]):
            print(f"scale {scale:g} ...", flush=True)
            rows.append(run_scale(scale, args.seed, work))
        ref = next((r for r in rows if r["scale"] == 10), rows[0])
        for r in rows:
            r["cpu_s_per_100k"] = r["cpu_s"] / r["records"] * 1e5
            r["vs_scale_10"] = r["cpu_s_per_100k"] / (ref["cpu_s"] / ref["records"] * 1e5)
        biggest = max(rows, key=lambda r: r["records"] if r["records"] < 2_000_000 else 0)
        baseline = xlsx_baseline(Path(biggest["out"]))

    print(
        "\n| scale | records | wall (s) | CPU (s) | records/s (CPU) | CPU s per 100k | vs scale 10 | peak RSS (MB) | exports (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: r["scale"]):
        print(
            f"| {r['scale']:g} | {r['records']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['records'] / r['cpu_s']:,.0f} | {r['cpu_s_per_100k']:.2f} | {r['vs_scale_10']:.2f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['export_mb']:,.0f} |"
        )
    print(
        f"\nworkbook rows ({baseline['file']}, {baseline['rows']:,} rows, {baseline['cells']:,} cells): "
        f"vectorised {baseline['vectorised_s']:.2f} s, openpyxl cell by cell {baseline['openpyxl_s']:.2f} s, "
        f"{baseline['speedup']:.1f}x"
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"synth-{stamp}.json").write_text(
        json.dumps({"scales": rows, "xlsx": baseline}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
