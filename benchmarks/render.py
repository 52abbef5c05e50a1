"""Render benchmark: the loop a team lead would write by hand vs ``datajusta render``.

In one run, on the same machine and the same report list (docs/architecture.md, quality bars):

1. **naive**: for every page, sequentially, ``papermill NB OUT.ipynb -p ... -k datajusta`` then
   ``jupyter nbconvert --to html OUT.ipynb`` (two command-line tools, as documented by each);
2. **cold**: ``datajusta render`` with an empty cache (a new outputs folder);
3. **warm**: ``datajusta render`` again with nothing changed (median of ``--warm-repeats``);
4. **one notebook edited**: a markdown cell added to one notebook, ``datajusta render`` again
   (reports how many pages were re-rendered);
5. **cold, fresh kernels** (ablation, unless ``--no-ablation``): ``datajusta render
   --no-warm-kernels`` with an empty cache, to show what forking kernels from the pre-loaded
   zygote buys over starting each kernel from scratch;
6. **sweep** (unless ``--no-sweep``): ``datajusta report REPORT -p PARAM all --lang es`` (one
   page per value: 16 for ``region``) against the naive loop over the same parameter sets
   (``papermill`` then ``jupyter nbconvert`` per page, sequentially), each from an empty
   outputs folder. ``--sweep-only`` runs this row alone.

Notebooks are copied to a temporary folder with a report list pointing at the copies, so step 4
never edits the repository. Steps 1, 2 and 5 each start from an empty outputs folder (so the
library's own ingest cache starts empty for each). Every step runs as a subprocess and is timed by wall clock. Results
go to ``benchmarks/results/render.json``; the table is printed. Usage::

    .venv/bin/python benchmarks/render.py [--only GLOB] [--warm-repeats 3] [--no-ablation]
        [--sweep trafficking:region] [--no-sweep | --sweep-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datajusta_lib.site.plan import load_reports, plan_pages  # noqa: E402

BIN = Path(sys.executable).parent


def _run(cmd: list[str], env: dict, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc


def _copy_project(reports_file: Path, only: str | None, work: Path) -> Path:
    """Copies of the notebooks and a report list that points at them (restricted to ``only``)."""
    spec = yaml.safe_load(reports_file.read_text(encoding="utf-8"))
    chosen = {r.id for r in load_reports(reports_file) if not only or plan_pages([r], only=only)}
    entries = []
    for entry in spec["reports"]:
        if entry["id"] not in chosen:
            continue
        source = (reports_file.parent / entry["notebook"]).resolve()
        dest = work / "notebooks" / source.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        entries.append({**entry, "notebook": f"notebooks/{source.name}"})
    out = work / "reports.yaml"
    out.write_text(yaml.safe_dump({"reports": entries}, allow_unicode=True), encoding="utf-8")
    return out


def naive(pages, work: Path, env: dict) -> dict:
    """papermill then nbconvert per page, sequentially, as a team lead would script it. It gets
    its own empty outputs folder, as the cold render does: the library's ingest cache
    (outputs/cache/ingest) starts empty for both."""
    out_dir = work / "naive"
    out_dir.mkdir(parents=True)
    env = dict(env, DATAJUSTA_OUTPUTS=str(work / "naive-outputs"))
    total, failed = 0.0, []
    for page in pages:
        executed = out_dir / f"{page.lang}-{page.slug}.ipynb"
        cmd = [str(BIN / "papermill"), str(page.report.notebook), str(executed), "-k", "datajusta"]
        for name, value in page.parameters.items():
            # -r: a raw string (-p would read region "05" as the number 5)
            cmd += ["-r" if isinstance(value, str) else "-p", name, str(value)]
        seconds, proc = _run(cmd, env, ROOT)
        total += seconds
        if proc.returncode != 0:
            failed.append(page.relpath)
            continue
        seconds, proc = _run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)], env, ROOT
        )
        total += seconds
        if proc.returncode != 0:
            failed.append(page.relpath)
    return {"seconds": total, "pages": len(pages), "failed": failed}


def ours(reports: Path, outputs: Path, env: dict, *extra: str) -> dict:
    env = dict(env, DATAJUSTA_OUTPUTS=str(outputs))
    cmd = [str(BIN / "datajusta"), "render", "--reports", str(reports), *extra]
    seconds, proc = _run(cmd, env, ROOT)
    manifest = outputs / "site" / "manifest.json"
    pages = json.loads(manifest.read_text())["pages"] if manifest.is_file() else []
    status = [p["status"] for p in pages]
    return {
        "seconds": seconds,
        "exit_code": proc.returncode,
        "up_to_date": "Site is up to date" in proc.stdout,
        "rendered": status.count("rendered") if "Site is up to date" not in proc.stdout else 0,
        "reused": status.count("reused"),
        "failed": status.count("failed") + status.count("not_rendered"),
        "tail": proc.stdout.strip().splitlines()[-1:] + proc.stderr.strip().splitlines()[-3:],
    }


def sweep(spec: str, work: Path, env: dict) -> dict:
    """``datajusta report REPORT -p PARAM all --lang es`` vs the naive loop over the same
    parameter sets, each from an empty outputs folder (the library's ingest cache included)."""
    from datajusta_lib.site import report as render_report

    report, _, param = spec.partition(":")
    plan = render_report.plan(report, [(param, "all")], lang="es", out=work / "sweep-site")
    pages = plan.pages
    naive_pages = naive(pages, work / "sweep-naive-work", env) if pages else {}
    cmd = [str(BIN / "datajusta"), "report", report, "-p", param, "all", "--lang", "es"]
    cmd += ["--out", str(work / "sweep-site")]
    seconds, proc = _run(cmd, dict(env, DATAJUSTA_OUTPUTS=str(work / "sweep-outputs")), ROOT)
    manifest = work / "sweep-site" / "manifest.json"
    status = (
        [p["status"] for p in json.loads(manifest.read_text())["pages"]]
        if manifest.is_file()
        else []
    )
    return {
        "report": report,
        "parameter": param,
        "pages": len(pages),
        "naive": naive_pages,
        "ours": {
            "seconds": seconds,
            "exit_code": proc.returncode,
            "rendered": status.count("rendered"),
            "failed": len(pages) - status.count("rendered"),
            "tail": proc.stdout.strip().splitlines()[-3:] + proc.stderr.strip().splitlines()[-3:],
        },
        "command": " ".join(cmd[1:-2]),
    }


def edit_one_notebook(reports: Path) -> str:
    entry = yaml.safe_load(reports.read_text())["reports"][0]
    path = reports.parent / entry["notebook"]
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("<!-- benchmark: edited -->"))
    nbformat.write(nb, path)
    return entry["id"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=Path, default=ROOT / "reports.yaml")
    ap.add_argument("--only", help="glob on report ids or page names (default: every report)")
    ap.add_argument("--warm-repeats", type=int, default=3)
    ap.add_argument("--no-ablation", action="store_true", help="skip the fresh-kernels cold run")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument(
        "--sweep", default="trafficking:region", help="REPORT:PARAM of the sweep row (PARAM all)"
    )
    ap.add_argument("--no-sweep", action="store_true", help="skip the sweep row")
    ap.add_argument("--sweep-only", action="store_true", help="run the sweep row alone")
    args = ap.parse_args(argv)
    if args.sweep_only:
        return sweep_main(args, argv)

    work = Path(tempfile.mkdtemp(prefix="dj-bench-render-"))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", CI="true")
    reports = _copy_project(args.reports.resolve(), args.only, work)
    pages = plan_pages(load_reports(reports))
    print(
        f"{len(pages)} pages from {reports} on {os.cpu_count()} CPUs; work folder {work}",
        flush=True,
    )
    load = [os.getloadavg()[0]]
    try:
        result = {"naive": naive(pages, work, env)}
        print(f"naive loop: {result['naive']['seconds']:.1f} s", flush=True)
        load.append(os.getloadavg()[0])
        result["cold"] = ours(reports, work / "out", env)
        print(f"cold: {result['cold']['seconds']:.1f} s", flush=True)
        warm = [ours(reports, work / "out", env) for _ in range(args.warm_repeats)]
        result["warm"] = {**warm[-1], "seconds": statistics.median(w["seconds"] for w in warm),
                          "all_seconds": [round(w["seconds"], 3) for w in warm]}  # fmt: skip
        edited = edit_one_notebook(reports)
        result["edit_one"] = {**ours(reports, work / "out", env), "report": edited}
        if not args.no_ablation:
            result["cold_fresh_kernels"] = ours(
                reports, work / "out-fresh", env, "--no-warm-kernels"
            )
        if not args.no_sweep:
            result["sweep"] = sweep(args.sweep, work, env)
        load.append(os.getloadavg()[0])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    n, cold = result["naive"]["seconds"], result["cold"]["seconds"]
    result["ratios"] = {
        "naive_over_cold": n / cold,
        "warm_over_cold_percent": 100 * result["warm"]["seconds"] / cold,
    }
    if "cold_fresh_kernels" in result:
        result["ratios"]["fresh_kernels_over_warm_kernels"] = (
            result["cold_fresh_kernels"]["seconds"] / cold
        )
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1min": load,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    result["pages"] = len(pages)
    result["command"] = "python benchmarks/render.py " + " ".join(argv or sys.argv[1:])

    rows = [
        ("naive loop (papermill + nbconvert CLIs, sequential)", result["naive"]),
        ("datajusta render, cold", result["cold"]),
        (f"datajusta render, warm (median of {args.warm_repeats})", result["warm"]),
        (f"datajusta render, notebook of '{edited}' edited", result["edit_one"]),
    ]
    if "cold_fresh_kernels" in result:
        rows.append(("datajusta render --no-warm-kernels, cold", result["cold_fresh_kernels"]))
    print(f"\n{'step':<58} {'seconds':>8}  pages rendered / reused / failed")
    for name, r in rows:
        counts = (
            f"{r['pages'] - len(r['failed'])} / 0 / {len(r['failed'])}"
            if "pages" in r
            else f"{r['rendered']} / {r['reused']} / {r['failed']}"
        )
        print(f"{name:<58} {r['seconds']:8.2f}  {counts}")
    ratios = result["ratios"]
    print(f"\ncold is {ratios['naive_over_cold']:.1f}x faster than the naive loop (bar: >= 3x)")
    print(f"warm takes {ratios['warm_over_cold_percent']:.2f} % of cold (bar: <= 2 %)")
    if "fresh_kernels_over_warm_kernels" in ratios:
        print(
            f"fresh kernels instead of forked ones: {ratios['fresh_kernels_over_warm_kernels']:.2f}x the cold time"
        )
    print(f"1-min load average before/during/after: {', '.join(f'{x:.1f}' for x in load)}")
    if "sweep" in result:
        print_sweep(result["sweep"])
    if result["naive"]["failed"] or result["cold"]["failed"]:
        print("WARNING: some pages failed; the comparison is only fair when every page renders")
    out = ROOT / "benchmarks" / "results" / "render.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"results: {out}")
    ok = not result["naive"]["failed"] and result["cold"]["exit_code"] == 0
    return 0 if ok else 1


def print_sweep(r: dict) -> None:
    n, o = r["naive"], r["ours"]
    print(f"\nsweep: {r['pages']} pages of {r['report']}, one per {r['parameter']} (es)")
    print(f"{'step':<58} {'seconds':>8}  pages rendered / failed")
    naive_name = "naive loop over the same sets (papermill + nbconvert)"
    print(
        f"{naive_name:<58} {n['seconds']:8.2f}  {n['pages'] - len(n['failed'])} / {len(n['failed'])}"
    )
    print(f"{'datajusta ' + r['command']:<58} {o['seconds']:8.2f}  {o['rendered']} / {o['failed']}")
    print(f"the sweep is {n['seconds'] / o['seconds']:.1f}x faster than the naive loop")


def sweep_main(args, argv) -> int:
    work = Path(tempfile.mkdtemp(prefix="dj-bench-sweep-"))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", CI="true")
    load = [os.getloadavg()[0]]
    try:
        result = sweep(args.sweep, work, env)
        load.append(os.getloadavg()[0])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result["ratio_naive_over_sweep"] = result["naive"]["seconds"] / result["ours"]["seconds"]
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1min": load,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    result["benchmark_command"] = "python benchmarks/render.py " + " ".join(argv or sys.argv[1:])
    print_sweep(result)
    print(f"1-min load average before/after: {', '.join(f'{x:.1f}' for x in load)}")
    out = ROOT / "benchmarks" / "results" / "render_sweep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"results: {out}")
    ok = not result["naive"]["failed"] and result["ours"]["exit_code"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
