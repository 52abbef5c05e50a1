"""Benchmark: read + validate + harmonise institutional exports at several scales.

Writes a large export that follows a codebook (every field drawn from the codebook's own
labels, valid RUNs, dates in the declared format, 1 % of rows deliberately bad so the
quarantine path is exercised), then times ``harmonise.harmonise_file`` on it in a fresh
process per scale and reports rows/s and peak resident memory (``ru_maxrss``). Uses the
project's synthetic generator when it offers a scalable writer; this stand-alone writer keeps
the benchmark independent of it.

    .venv/bin/python benchmarks/ingest.py                      # 10k, 100k, 1M rows
    .venv/bin/python benchmarks/ingest.py --rows 1000000 --institution FISCALIA --case-study protest_violence
    .venv/bin/python benchmarks/ingest.py --synthetic 5      # the generator's 17 exports at scale 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datajusta_lib.core import canon  # noqa: E402
from datajusta_lib.ingest import codebooks, pseudonymise, readers  # noqa: E402
from datajusta_lib.ingest.codebooks import NAME_FIELD  # noqa: E402


def make_export(
    cb: codebooks.Codebook, n: int, path: Path, seed: int = 1, bad_share: float = 0.01
) -> Path:
    """A realistic export of ``n`` rows for codebook ``cb`` (vectorised; labels from the codebook)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    cols[cb.record_id] = _record_ids(cb, n)
    start = pd.Timestamp(canon.canonical()["case_studies"][cb.case_study]["period"]["start"])
    days = rng.integers(0, 150 if cb.case_study == "protest_violence" else 3000, n)
    event = start + pd.to_timedelta(days, unit="D")
    report = event + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    for name, spec in cb.recorded.items():
        col = spec.original_name
        if name == "person_key":
            body = rng.integers(5_000_000, 28_000_000, n)
            if cb.identifier_kind == "RUN":
                dv = pseudonymise.run_check_digit(body)
                cols[col] = pd.Series(body).map("{:,}".format).str.replace(",", ".") + "-" + dv
            else:
                cols[col] = "P" + pd.Series(body).astype(str)
        elif name == NAME_FIELD:
            cols[col] = np.where(rng.random(n) < 0.5, "NOMBRE FICTICIO A", "NOMBRE FICTICIO B")
        elif spec.dtype == "date":
            d = event if name == "event_date" else report
            cols[col] = _format_dates(d, cb.date_format(name))
        elif spec.dtype == "integer":
            cols[col] = rng.integers(14, 80, n).astype(str)
        elif spec.dtype == "category":
            labels = np.array(list(spec.values))
            cols[col] = labels[rng.integers(0, len(labels), n)]
    for c in cb.extra_columns:
        cols[c] = np.full(n, "")
    df = pd.DataFrame(cols)
    bad = rng.random(n) < bad_share
    age = cb.specs.get("age")
    if age is not None and age.recorded:
        df.loc[bad, age.original_name] = "-4"
    df[cb.record_id] = df[cb.record_id].astype(str)
    if cb.export.format == "xlsx":
        raise SystemExit("the ingest benchmark writes CSV exports; pick a CSV institution")
    return readers.write_export(df, path, cb.export)


def _record_ids(cb: codebooks.Codebook, n: int) -> np.ndarray:
    k = pd.Series(np.arange(1, n + 1))
    samples = {
        "FISCALIA": lambda: (
            "19"
            + k.map("{:08d}".format)
            + "-"
            + pd.Series(pseudonymise.run_check_digit(k.to_numpy() + 1900000000))
        ),
    }
    if cb.institution in samples and cb.record_id_pattern and "\\d{10}" in cb.record_id_pattern:
        return samples[cb.institution]().to_numpy()
    return k.astype(str).to_numpy() if not cb.record_id_pattern else _generic_ids(cb, k)


def _generic_ids(cb: codebooks.Codebook, k: pd.Series) -> np.ndarray:
    import re

    pat = cb.record_id_pattern
    prefix = re.match(r"\^([A-Z\-]*)", pat).group(1)
    return (prefix + k.map("{:07d}".format)).to_numpy()


def _format_dates(d: pd.DatetimeIndex, fmt: str) -> np.ndarray:
    if fmt == "iso":
        return d.strftime("%Y-%m-%d").to_numpy()
    if fmt == "excel_serial":
        return ((d - pd.Timestamp("1899-12-30")).days).astype(str).to_numpy()
    return d.strftime(fmt).to_numpy()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(path: Path, institution: str, case_study: str) -> dict:
    """Time read + harmonise (which validates against the RecordModel contract) in this process."""
    from datajusta_lib.ingest import harmonise

    cb = codebooks.get(institution, case_study)
    c0, t0 = _cpu(), time.perf_counter()
    raw = readers.read_export(path, cb)
    t1 = time.perf_counter()
    result = harmonise.harmonise_raw(raw, cb, pseudonymise.SYNTHETIC_ONLY_PUBLIC_KEY)
    t2, c2 = time.perf_counter(), _cpu()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": result.n_read,
        "accepted": result.n_accepted,
        "rejected": result.n_rejected,
        "read_s": round(t1 - t0, 2),
        "harmonise_validate_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "cpu_s": round(c2 - c0, 2),
        "rows_per_s": int(result.n_read / (t2 - t0)),
        "peak_rss_mib": int(peak_kib / 1024),
        "file_mib": round(path.stat().st_size / 2**20, 1),
    }


def run_naive(path: Path, institution: str, case_study: str) -> dict:
    """The baseline a researcher would write: pandas.read_csv, then a Python loop per row
    (python-stdnum for the RUN, hmac for the key, dict look-ups, strptime), same rules."""
    import hashlib
    import hmac
    from datetime import datetime

    from stdnum.cl import rut

    cb = codebooks.get(institution, case_study)
    key = pseudonymise.SYNTHETIC_ONLY_PUBLIC_KEY
    c0, t0 = _cpu(), time.perf_counter()
    df = pd.read_csv(
        path, sep=cb.export.delimiter, encoding=cb.export.encoding, dtype=str, keep_default_na=False
    )
    maps = {
        k: {lab.upper(): v for lab, v in s.values.items()}
        for k, s in cb.recorded.items()
        if s.values
    }
    accepted, rejected = [], 0
    for row in df.to_dict("records"):
        out, ok = {}, True
        for name, spec in cb.recorded.items():
            v = row[spec.original_name].strip()
            if v in cb.missing_tokens:
                out[name] = None
            elif name == "person_key":
                ok &= rut.is_valid(v)
                out[name] = hmac.new(
                    key, ("RUN:" + rut.compact(v)).encode(), hashlib.sha256
                ).hexdigest()
            elif spec.dtype == "category":
                ok &= v.upper() in maps[name]
                out[name] = maps[name].get(v.upper())
            elif spec.dtype == "date":
                try:
                    out[name] = datetime.strptime(v, cb.date_format(name))
                except ValueError:
                    ok = False
            elif spec.dtype == "integer":
                ok &= v.lstrip("-").isdigit() and 0 <= int(v) <= 110
        if ok:
            accepted.append(out)
        else:
            rejected += 1
    records = pd.DataFrame(accepted)
    t1, c1 = time.perf_counter(), _cpu()
    return {
        "rows": len(df),
        "accepted": len(records),
        "rejected": rejected,
        "total_s": round(t1 - t0, 2),
        "cpu_s": round(c1 - c0, 2),
        "rows_per_s": int(len(df) / (t1 - t0)),
    }


def _child(mode: str, path: Path, cb: codebooks.Codebook) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), cb.institution, cb.case_study],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_synthetic(folder: Path) -> dict:
    """Time read + harmonise of every export the synthetic generator wrote under ``folder``."""
    from datajusta_lib.ingest import harmonise

    c0, t0 = _cpu(), time.perf_counter()
    rows = accepted = files = 0
    for cb in codebooks.all_codebooks():
        paths = sorted((folder / cb.case_study / cb.institution).glob(cb.export.filename))
        if paths:
            r = harmonise.harmonise_files(paths, cb, pseudonymise.SYNTHETIC_ONLY_PUBLIC_KEY)
            rows, accepted, files = rows + r.n_read, accepted + r.n_accepted, files + len(paths)
    t1, c1 = time.perf_counter(), _cpu()
    return {
        "files": files,
        "rows": rows,
        "accepted": accepted,
        "total_s": round(t1 - t0, 2),
        "cpu_s": round(c1 - c0, 2),
        "rows_per_s": int(rows / (t1 - t0)),
        "peak_rss_mib": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def synthetic_mode(scale: float) -> None:
    """The project's own generator at ``scale``: all 17 exports (CSV and XLSX) of the three
    case studies, harmonised in a fresh process."""
    from datajusta_lib import synthetic

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synthetic"
        t = time.perf_counter()
        synthetic.generate(scale=scale, out=out)
        print(f"generated scale {scale} in {time.perf_counter() - t:.1f} s (not timed below)")
        r = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--child", "synthetic", str(out), "-", "-"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    print(
        f"{r['files']} exports, {r['rows']:,} rows ({r['accepted']:,} accepted): "
        f"{r['total_s']} s wall, {r['cpu_s']} s CPU, {r['rows_per_s']:,} rows/s, "
        f"peak {r['peak_rss_mib']} MiB; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument(
        "--baseline-rows",
        type=int,
        default=100_000,
        help="run the naive per-row baseline at scales up to this many rows",
    )
    ap.add_argument("--institution", default="FISCALIA")
    ap.add_argument("--case-study", default="protest_violence")
    ap.add_argument(
        "--synthetic",
        type=float,
        metavar="SCALE",
        help="instead: generate the project's synthetic data at SCALE and harmonise all of it",
    )
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, path, inst, cs = args.child
        if mode == "synthetic":
            print(json.dumps(run_synthetic(Path(path))))
            return
        fn = run_one if mode == "fast" else run_naive
        print(json.dumps(fn(Path(path), inst, cs)))
        return
    if args.synthetic:
        synthetic_mode(args.synthetic)
        return
    cb = codebooks.get(args.institution, args.case_study)
    print(
        f"{cb.institution} / {cb.case_study}: {cb.export.format}, {cb.export.encoding}, "
        f"delimiter {cb.export.delimiter!r}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'rows':>9} {'MiB':>6} {'read s':>7} {'harm+val s':>10} {'total s':>8} {'cpu s':>6} "
        f"{'rows/s':>8} {'peak MiB':>8} {'rejected':>8} {'naive s':>8} {'speed-up':>8}"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            path = make_export(cb, n, Path(tmp) / f"export_{n}{Path(cb.export.filename).suffix}")
            r = _child("fast", path, cb)
            naive, ratio = "", ""
            if n <= args.baseline_rows:
                b = _child("naive", path, cb)
                assert b["rejected"] == r["rejected"], (b, r)
                naive, ratio = f"{b['total_s']}", f"{b['total_s'] / r['total_s']:.1f}x"
            print(
                f"{r['rows']:>9} {r['file_mib']:>6} {r['read_s']:>7} {r['harmonise_validate_s']:>10} "
                f"{r['total_s']:>8} {r['cpu_s']:>6} {r['rows_per_s']:>8} {r['peak_rss_mib']:>8} "
                f"{r['rejected']:>8} {naive:>8} {ratio:>8}"
            )
            results.append({**r, "naive_total_s": float(naive) if naive else None})
            path.unlink()
    out = ROOT / "benchmarks" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"institution": cb.institution, "case_study": cb.case_study}
    meta["load_average_after"] = os.getloadavg()[0]
    out.write_text(json.dumps({**meta, "results": results}, indent=1), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
