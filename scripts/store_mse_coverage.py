"""Store the coverage of the "unrecorded victims" intervals over repeated synthetic worlds as
data the pages read (``data/analysis/mse_coverage.yaml``), from the benchmark's raw results.

    .venv/bin/python benchmarks/mse_coverage.py --no-simulated --worlds 50
    .venv/bin/python scripts/store_mse_coverage.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python benchmarks/mse_coverage.py --no-simulated --worlds {worlds}"


def main() -> int:
    raw = json.loads((ROOT / "benchmarks/results/mse_coverage_worlds.json").read_text())
    rows = [r for r in raw["rows"] if r["scenario"].startswith("synthetic worlds:")]
    if not rows:
        raise SystemExit("no 'synthetic worlds' rows: run the benchmark with --worlds N")
    worlds = max(r["draws"] for r in rows)
    out = {
        "date": raw["date"],
        "worlds": worlds,
        "command": COMMAND.format(worlds=worlds),
        "n_boot": rows[0]["n_boot"],
        "selection": rows[0]["selection"],
        "interval": "95 % BCa bootstrap",
        "population": "victims of the population each page names (data/analysis/mse_lists.yaml)",
        "case_studies": {
            r["scenario"].split(":", 1)[1]: {
                "true_victims": int(round(sum(r["true_totals"]) / len(r["true_totals"]))),
                "estimated": r["estimated"],
                "coverage": round(r["coverage"], 3),
                "mean_relative_bias": round(r["relative_bias"], 3),
                "median_width_share": round(r["median_width_share"], 3),
            }
            for r in rows
        },
    }
    dest = ROOT / "data/analysis/mse_coverage.yaml"
    header = (
        "# Coverage of the 95 % interval of the 'unrecorded victims' estimate over repeated\n"
        "# synthetic worlds (each drawn afresh from the generator's model), shown on the pages\n"
        "# beside the estimate. Written by scripts/store_mse_coverage.py; see docs/benchmarks.md.\n"
    )
    dest.write_text(header + yaml.safe_dump(out, sort_keys=False, allow_unicode=True))
    print(f"{dest}: {worlds} worlds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
