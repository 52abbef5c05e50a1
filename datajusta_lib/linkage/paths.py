"""Victims' paths through the institutions, from linked records (``data/linkage/paths.yaml``).

A linked person (a cluster) has records in several lists; each list stands for a step
(police, prosecutor, court, forensic examination, rights defence, victim support). The path is
the sequence of steps ordered by the first date each step recorded the person. From the paths
come the funnel (how many reach each step), where people stop, the time between steps, and
the flows between consecutive positions drawn as an alluvial chart. Every count goes through
the disclosure gate before it is shown (``dj.gate_counts``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from ..core.paths import data_dir

JOIN = ["institution", "source_file", "source_row"]


@cache
def path_settings() -> dict:
    with open(data_dir() / "linkage" / "paths.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def step_label(step: str, lang: str = "es") -> str:
    return path_settings()["labels"].get(step, {}).get(lang, step)


def linked_records(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """Canonical records with the cluster id of their linked person."""
    recs = records.copy()
    recs["source_file"] = recs["source_file"].map(lambda f: Path(str(f)).name)
    recs = recs.astype({"source_row": "int64"})
    cl = clusters[JOIN + ["cluster_id"]].astype({"source_row": "int64"})
    out = recs.merge(cl, on=JOIN, how="inner", validate="1:1")
    out.attrs = dict(records.attrs)
    return out


def person_steps(linked: pd.DataFrame, case_study: str) -> pd.DataFrame:
    """One row per (person, step): the first date the step recorded them."""
    cfg = path_settings()
    steps = cfg["case_studies"][case_study]
    df = linked[linked["institution"].isin(list(steps))].copy()
    df["step"] = df["institution"].map(steps)
    df["date"] = df["report_date"].fillna(df["event_date"])
    first = df.groupby(["cluster_id", "step"], as_index=False)["date"].min()
    court = df[(df["step"] == "prosecutor") & df["procedural_stage"].isin(cfg["court_stages"])]
    if len(court):
        c = court.groupby("cluster_id", as_index=False)["date"].min()
        c["step"], c["date"] = "court", c["date"] + pd.Timedelta(microseconds=1)  # after it
        c["date_known"] = False
        first = pd.concat([first.assign(date_known=True), c], ignore_index=True)
    else:
        first["date_known"] = True
    order = {s: i for i, s in enumerate(cfg["steps"])}
    first["rank"] = first["step"].map(order)
    return first.sort_values(["cluster_id", "date", "rank"]).reset_index(drop=True)


def paths(linked: pd.DataFrame, case_study: str) -> pd.DataFrame:
    """One row per person: path ('police > prosecutor > support'), first and last step,
    number of steps, and the person's profile from their first record (region, sex, age band,
    nationality)."""
    ps = person_steps(linked, case_study)
    g = ps.groupby("cluster_id")
    out = pd.DataFrame(
        {
            "path": g["step"].agg(" > ".join),
            "first_step": g["step"].first(),
            "last_step": g["step"].last(),
            "n_steps": g.size(),
        }
    )
    first_rec = (
        linked.assign(_d=linked["report_date"].fillna(linked["event_date"]))
        .sort_values("_d")
        .groupby("cluster_id")
        .first()
    )
    for c in ("region_code", "sex", "age_band", "nationality"):
        if c in first_rec:
            out[c] = first_rec[c].reindex(out.index)
    out["foreign"] = out["nationality"].notna() & (out["nationality"] != "CHL")
    return out.reset_index()


def funnel(person_paths: pd.DataFrame, case_study: str) -> pd.Series:
    """Persons whose path includes each step (steps in the configured order)."""
    steps = [
        s
        for s in path_settings()["steps"]
        if s in set(path_settings()["case_studies"][case_study].values()) | {"court"}
    ]
    has = {
        s: int(person_paths["path"].str.split(" > ").map(lambda p, s=s: s in p).sum())
        for s in steps
    }
    return pd.Series(has, name="persons")


def dropouts(person_paths: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Persons by the last step they reached (rows) and a profile column (columns)."""
    if by is None:
        return person_paths["last_step"].value_counts().rename("persons").to_frame()
    return pd.crosstab(person_paths["last_step"], person_paths[by].fillna("—"))


def times_between_steps(linked: pd.DataFrame, case_study: str) -> pd.DataFrame:
    """Days from one step to the next, for consecutive steps with known dates:
    persons, median and quartiles."""
    ps = person_steps(linked, case_study)
    ps = ps[ps["date_known"]]
    ps["next_step"] = ps.groupby("cluster_id")["step"].shift(-1)
    ps["next_date"] = ps.groupby("cluster_id")["date"].shift(-1)
    ps = ps.dropna(subset=["next_step"])
    ps["days"] = (ps["next_date"] - ps["date"]).dt.days
    g = ps.groupby(["step", "next_step"])["days"]
    out = pd.DataFrame(
        {
            "persons": g.size(),
            "median_days": g.median(),
            "q1_days": g.quantile(0.25),
            "q3_days": g.quantile(0.75),
        }
    ).reset_index()
    return out.sort_values("persons", ascending=False).reset_index(drop=True)


def flows(person_paths: pd.DataFrame, max_positions: int = 4) -> pd.Series:
    """Persons moving from the step at position i to the step at i+1 ('end' when the path
    stops), indexed 'i:from → i+1:to'."""
    rows = []
    for p in person_paths["path"]:
        s = p.split(" > ")[:max_positions]
        s = s + ["end"] if len(s) < max_positions else s
        for i in range(len(s) - 1):
            rows.append((i, s[i], s[i + 1]))
    df = pd.DataFrame(rows, columns=["position", "from", "to"])
    counts = df.value_counts().sort_index()
    counts.index = [f"{i + 1}:{a} → {i + 2}:{b}" for i, a, b in counts.index]
    return counts.rename("persons")


def plot_alluvial(visible_flows: pd.Series, lang: str = "es", title: str | None = None):
    """An alluvial chart of the flows that passed the gate (suppressed flows are not drawn).

    ``visible_flows``: counts indexed 'i:from → j:to' (NaN or missing = suppressed)."""
    import matplotlib.pyplot as plt

    parsed = _parse_flows(visible_flows)
    steps = path_settings()["steps"] + ["end"]
    cols = sorted({p[0] for p in parsed} | {p[2] for p in parsed})
    size = _node_sizes(parsed, cols[0] if cols else None)
    total = max(sum(n for (c, _), n in size.items() if c == col) for col in cols) or 1
    gap = total * 0.04
    y0 = _node_tops(size, cols, steps, gap)
    palette = plt.get_cmap("tab10")
    color = {s: palette(k % 10) for k, s in enumerate(steps)}
    color["end"] = (0.8, 0.8, 0.8, 1.0)
    fig, ax = plt.subplots(figsize=(9, 5))
    w = 0.12
    _draw_ribbons(ax, parsed, y0, steps, color, w)
    for (col, s), y in y0.items():
        h = size[(col, s)]
        ax.add_patch(plt.Rectangle((col - w / 2, y), w, h, color=color[s]))
        ax.text(col + w / 2 + 0.02, y + h / 2, f"{step_label(s, lang)}", va="center", fontsize=8)
    ax.set_xlim(cols[0] - 0.3, cols[-1] + 0.8)
    ax.set_ylim(-gap, max(y0[k] + size[k] for k in y0) + gap)
    ax.invert_yaxis()
    ax.set_xticks(cols)
    word = "Paso" if lang == "es" else "Step"
    ax.set_xticklabels([f"{word} {c}" for c in cols])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _parse_flows(visible_flows: pd.Series) -> list[tuple[int, str, int, str, float]]:
    """(from position, from step, to position, to step, persons) of each flow shown (> 0)."""
    v = pd.to_numeric(visible_flows, errors="coerce").dropna()
    v = v[v > 0]
    parsed = []
    for idx, n in v.items():
        a, b = idx.split(" → ")
        (i, s), (j, t) = a.split(":", 1), b.split(":", 1)
        parsed.append((int(i), s, int(j), t, float(n)))
    return parsed


def _node_sizes(parsed: list, first_col: int | None) -> dict[tuple[int, str], float]:
    """Height of each (position, step) node: its in-flow, or its out-flow in the first column."""
    size: dict[tuple[int, str], float] = {}
    for i, s, j, t, n in parsed:
        size[(i, s)] = size.get((i, s), 0)
        size[(j, t)] = size.get((j, t), 0) + n
    for i, s, _j, _t, n in parsed:
        if i == first_col:
            size[(i, s)] += n
    return size


def _node_tops(size: dict, cols: list[int], steps: list[str], gap: float) -> dict:
    """Where each drawn node starts: stacked in the order of the steps, ``gap`` apart."""
    y0: dict[tuple[int, str], float] = {}
    for col in cols:
        y = 0.0
        for s in steps:
            if (col, s) in size and size[(col, s)] > 0:
                y0[(col, s)] = y
                y += size[(col, s)] + gap
    return y0


def _draw_ribbons(ax, parsed: list, y0: dict, steps: list[str], color: dict, w: float) -> None:
    """One ribbon per flow, stacked at both ends in the order of the steps."""
    from matplotlib.patches import PathPatch

    out_off = {k: 0.0 for k in y0}
    in_off = {k: 0.0 for k in y0}
    for i, s, j, t, n in sorted(parsed, key=lambda p: (p[0], steps.index(p[1]), steps.index(p[3]))):
        ya = y0[(i, s)] + out_off[(i, s)]
        yb = y0[(j, t)] + in_off[(j, t)]
        out_off[(i, s)] += n
        in_off[(j, t)] += n
        ribbon = _ribbon(i + w / 2, j - w / 2, ya, yb, n)
        ax.add_patch(PathPatch(ribbon, facecolor=color[s], alpha=0.35, lw=0))


def _ribbon(xa: float, xb: float, ya: float, yb: float, n: float):
    """A band ``n`` thick from (xa, ya) to (xb, yb), its edges Bézier curves."""
    from matplotlib.path import Path as MPath

    xm = (xa + xb) / 2
    verts = [
        (xa, ya),
        (xm, ya),
        (xm, yb),
        (xb, yb),
        (xb, yb + n),
        (xm, yb + n),
        (xm, ya + n),
        (xa, ya + n),
        (xa, ya),
    ]
    codes = [
        MPath.MOVETO,
        MPath.CURVE4,
        MPath.CURVE4,
        MPath.CURVE4,
        MPath.LINETO,
        MPath.CURVE4,
        MPath.CURVE4,
        MPath.CURVE4,
        MPath.CLOSEPOLY,
    ]
    return MPath(verts, codes)


def alt_text(person_paths: pd.DataFrame, visible_flows: pd.Series, lang: str = "es") -> str:
    v = pd.to_numeric(visible_flows, errors="coerce").dropna().sort_values(ascending=False)
    top = "; ".join(
        f"{' → '.join(step_label(x.split(':', 1)[1], lang) for x in k.split(' → '))}: {int(n):,}"
        for k, n in v.head(4).items()
    )
    if lang == "es":
        return (
            f"Diagrama aluvial de los pasos institucionales de las personas enlazadas. "
            f"Flujos mayores: {top}."
        )
    return f"Alluvial chart of the institutional steps of linked persons. Largest flows: {top}."
