"""How values are written down: dates, RUNs, names, labels, record ids and extra columns.

Vectorised helpers for :mod:`.synthetic_recording`: each takes numpy arrays (one value per
exported row) and returns the text cells an institution would write.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from ..core import canon
from .population import draw_cat, run_check_digit

EXCEL_EPOCH = np.datetime64("1899-12-30")


def zfill(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded text of integers (numpy's zfill fails on empty arrays)."""
    values = np.asarray(values)
    return np.char.zfill(values.astype(str), width) if values.size else values.astype(str)


def format_dates(dates: np.ndarray, fmt: str) -> np.ndarray:
    """Vectorised strftime for the codebook formats (%d %m %Y %y, 'iso', 'excel_serial')."""
    d = np.asarray(dates).astype("datetime64[D]")
    if fmt == "excel_serial":
        return (d - EXCEL_EPOCH).astype(np.int64).astype(str).astype(object)
    if fmt == "iso":
        fmt = "%Y-%m-%d"
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    parts = {
        "%Y": zfill(y.astype(str), 4),
        "%y": zfill((y % 100).astype(str), 2),
        "%m": zfill(m.astype(str), 2),
        "%d": zfill(day.astype(str), 2),
    }
    out = np.full(len(d), "", dtype=object)
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in parts:
            out = out + parts[tok].astype(object)
            i += 2
        else:
            out = out + fmt[i]
            i += 1
    return out


def format_runs(body: np.ndarray, dv: np.ndarray, style: str) -> np.ndarray:
    """RUNs as an institution writes them: dotted 12.345.678-5, dash 12345678-5, compact."""
    body = np.asarray(body, dtype=np.int64)
    dv = np.asarray(dv, dtype=object)
    plain = body.astype(str).astype(object)
    if style == "compact":
        return plain + dv
    if style == "dash":
        return plain + "-" + dv
    if style == "dotted":
        millions, rest = body // 1_000_000, body % 1_000_000
        return (
            millions.astype(str).astype(object)
            + "."
            + zfill((rest // 1000).astype(str), 3).astype(object)
            + "."
            + zfill((rest % 1000).astype(str), 3).astype(object)
            + "-"
            + dv
        )
    raise ValueError(f"unknown run_format {style!r}")


def name_text(given, s1, s2, style: dict) -> np.ndarray:
    given, s1, s2 = (np.asarray(x, dtype=object) for x in (given, s1, s2))
    if style.get("order") == "surname_first":
        text = s1 + " " + s2 + " " + given
    else:
        text = given + " " + s1 + " " + s2
    if style.get("case", "upper") == "upper":
        return np.char.upper(text.astype(str)).astype(object)
    return text


def typo(rng: np.random.Generator, name: str) -> str:
    """One keyboard-style error: substitution, deletion, transposition or doubled letter."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 3:
        return name
    i = letters[int(rng.integers(1, len(letters)))]
    kind = int(rng.integers(0, 4))
    if kind == 0:
        new = string.ascii_lowercase[int(rng.integers(0, 26))]
        return name[:i] + (new.upper() if name[i].isupper() else new) + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2 and i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i] + name[i:]


def label_choice(rng, canonical: np.ndarray, values: dict, rules: dict, cols: dict) -> np.ndarray:
    """Invert a category mapping: each canonical value becomes one of the labels mapped to it.

    Several labels for one value are sub-units or variants: picked uniformly, unless the model
    restricts a label to a period (``from``/``until``), to rows matching ``where``, or weights
    it. A value with no label of its own gets a label mapped to null, or stays missing (None).
    """
    by_value: dict = {}
    for label, value in values.items():
        by_value.setdefault(value, []).append(label)
    out = np.full(len(canonical), None, dtype=object)
    dates = cols["event_date"]
    codes, uniques = pd.factorize(pd.Series(canonical, dtype=object), use_na_sentinel=True)
    for k, value in enumerate(uniques):
        idx = np.flatnonzero(codes == k)
        labels = by_value.get(value) or by_value.get(None)
        if not labels:
            continue
        weights = np.ones((len(idx), len(labels)))
        for j, label in enumerate(labels):
            rule = rules.get(label) or {}
            w = np.full(len(idx), float(rule.get("weight", 1.0)))
            if "from" in rule:
                w[dates[idx] < np.datetime64(rule["from"])] = 0
            if "until" in rule:
                w[dates[idx] >= np.datetime64(rule["until"])] = 0
            for col, allowed in (rule.get("where") or {}).items():
                w[~np.isin(cols[col][idx], allowed)] = 0
            weights[:, j] = w
        weights[weights.sum(axis=1) == 0] = 1.0  # no rule applies: any label of the value
        cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        pick = (rng.random(len(idx))[:, None] > cum).sum(axis=1)
        out[idx] = np.asarray(labels, dtype=object)[np.minimum(pick, len(labels) - 1)]
    return out


# --------------------------------------------------------------------------------------
# templates: record ids and generated extra columns
# --------------------------------------------------------------------------------------
def render_template(template: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``"{ruc}/{offence}"``-style templates over arrays; ``{seq:06}`` zero-pads integers."""
    out = np.full(n, "", dtype=object)
    for literal, name, spec, _ in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if name is None:
            continue
        if name not in values:
            raise KeyError(
                f"template {template!r}: unknown field {{{name}}}; known: {sorted(values)}"
            )
        v = np.asarray(values[name])
        if np.issubdtype(v.dtype, np.integer) and spec:
            v = zfill(v.astype(str), int(spec.lstrip("0") or 0))
        out = out + v.astype(str).astype(object)
    return out


def ruc_numbers(rng, key: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Fiscalía-style RUC per case key: two-digit year, eight-digit number, check digit."""
    codes, uniques = pd.factorize(key)
    first = np.full(len(uniques), len(key), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(key)))
    yy = year[first] % 100
    number = np.zeros(len(uniques), dtype=np.int64)
    for y in np.unique(yy):
        sel = np.flatnonzero(yy == y)
        number[sel] = 100_000 + np.cumsum(rng.integers(1, 40, size=len(sel)))
    body = yy * 100_000_000 + number
    ruc = zfill(body.astype(str), 10).astype(object) + "-" + run_check_digit(body).astype(object)
    return ruc[codes]


def template_values(cols: dict, rng, key: np.ndarray, year: np.ndarray) -> dict:
    """What record-id and extra-column templates may use, one value per row."""
    n = len(key)
    region = cols["region_recorded"].astype(str)
    names = dict(zip(canon.regions()["code"], canon.regions()["name"], strict=True))
    in_case = pd.Series(key).groupby(key).cumcount().to_numpy() + 1  # row within its case
    return {
        "seq": np.arange(1, n + 1),
        "seq_in_year": pd.Series(year).groupby(year).cumcount().to_numpy() + 1,
        "year": year,
        "yy": year % 100,
        "region": region,
        "region_int": np.char.lstrip(region, "0"),
        "region_label": pd.Series(region).map(names).fillna("").to_numpy(dtype=object),
        "case": pd.factorize(key)[0] + 1,
        "in_case": in_case,
        "offence": in_case,
        "victim": in_case,
        "ruc": ruc_numbers(rng, key, year),
        "unit": rng.integers(1, 31, size=n),
    }


def extra_column(rng, spec: dict, cols: dict, tvalues: dict, n: int) -> tuple[np.ndarray, bool]:
    """(cells, numeric) for one extra column described in the model."""
    if "choice" in spec:
        return np.asarray(draw_cat(rng, n, spec["choice"]), dtype=object), False
    if "template" in spec:
        return render_template(spec["template"], tvalues, n), False
    if spec.get("region_label"):
        return tvalues["region_label"].copy(), False
    if "where" in spec:  # yes/no from the truth, right with probability `agree`
        truth = np.ones(n, dtype=bool)
        for c, allowed in spec["where"].items():
            truth &= np.isin(cols[c], allowed)
        agree = rng.random(n) < float(spec.get("agree", 1.0))
        return np.where(agree == truth, spec["label_true"], spec["label_false"]).astype(
            object
        ), False
    if spec.get("time"):
        hh = zfill(rng.integers(0, 24, n).astype(str), 2)
        mm = zfill(rng.integers(0, 60, n).astype(str), 2)
        return np.char.add(np.char.add(hh, ":"), mm).astype(object), False
    if "integer" in spec:
        lo, hi = spec["integer"]
        return rng.integers(lo, hi + 1, size=n).astype(str).astype(object), True
    if spec.get("case_victims"):
        return cols["case_victims"].astype(str).astype(object), True
    if "from" in spec:
        mapped = pd.Series(cols[spec["from"]], dtype=object).map(spec["map"]).fillna("")
        return mapped.to_numpy(dtype=object), False
    if "birth_date" in spec:  # for linkage: its own stream, so no other column changes
        sub = rng.spawn(1)[0]
        born = np.asarray(cols["birth_date"]).astype("datetime64[D]")
        swap = sub.random(n) < float(spec.get("swap", 0.0))
        day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
        month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
        year = born.astype("datetime64[Y]").astype(np.int64) + 1970
        swap &= (day <= 12) & (day != month)  # day and month typed the other way round
        swapped = np.array(
            [
                f"{y:04d}-{d:02d}-{m:02d}"
                for y, m, d in zip(year[swap], month[swap], day[swap], strict=True)
            ],
            dtype="datetime64[D]",
        )
        born = born.copy()
        born[swap] = swapped
        cells = format_dates(born, spec["birth_date"])
        cells[sub.random(n) < float(spec.get("missing", 0.0))] = ""
        return cells, False
    raise ValueError(f"unknown extra column generator: {spec}")
