"""Harmonisation: institutional rows -> canonical records (contracts.RecordModel), or quarantine.

Driven only by the codebook. Every row read either enters the canonical table or goes to the
quarantine with its reasons; ``accepted + quarantined == read`` is checked on every call.
Identifiers are validated and replaced by keyed-hash person keys here; names are dropped
here; formula-like cells (``=HYPERLINK(...)``) are quarantined and escaped. The hot path is
vectorised: each column is factorised and only its distinct values are parsed, so a million
rows with a few thousand distinct dates cost a few thousand parses; per-row Python work is
done only for rejected rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core import canon, contracts
from . import at_rest, pseudonymise
from .codebooks import NAME_FIELD, Codebook, normalise_label
from .readers import LINEAGE, NOTE_COLUMNS, TYPED_DATE, RawTable, ReadInfo, read_export

FAILURE_COLUMNS = contracts.FAILURE_COLUMNS
QUARANTINE_META = [*LINEAGE, "rules", "reasons"]
AGE_BANDS = [
    (0, 13, "0-13"),
    (14, 17, "14-17"),
    (18, 29, "18-29"),
    (30, 44, "30-44"),
    (45, 59, "45-59"),
    (60, 200, "60+"),
]
_FORMULA_START = re.compile(r"^(\s*[=+\-@]|[\t\r])")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_TRAILING_TIME = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_FICTITIOUS_SERIAL = 60  # 1900-02-29 in Excel's calendar, a day that never existed
_OTHER_DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "dd-mm-yyyy": "%d-%m-%Y",
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd/mm/yy": "%d/%m/%y",
    "dd-mm-yy": "%d-%m-%y",
    "yyyy/mm/dd": "%Y/%m/%d",
}


@dataclass
class HarmoniseResult:
    """Canonical records, quarantined rows with reasons, every failure, and how files were read."""

    institution: str
    case_study: str
    records: pd.DataFrame
    quarantine: pd.DataFrame
    failures: pd.DataFrame
    reads: list[ReadInfo] = field(default_factory=list)
    n_read: int = 0

    @property
    def n_accepted(self) -> int:
        return len(self.records)

    @property
    def n_rejected(self) -> int:
        return len(self.quarantine)

    @property
    def n_lines(self) -> int | None:
        """Physical data lines of the files (below the header), counted from the raw text."""
        counts = [r.n_lines for r in self.reads]
        return None if any(c is None for c in counts) else sum(counts)

    @property
    def n_blank(self) -> int:
        return sum(r.n_blank for r in self.reads)

    @property
    def n_continuation(self) -> int:
        return sum(r.n_continuation for r in self.reads)

    @property
    def ok(self) -> bool:
        return self.n_rejected == 0

    @property
    def notes(self) -> pd.DataFrame:
        return pd.DataFrame([n for r in self.reads for n in r.notes], columns=NOTE_COLUMNS)

    @property
    def rejected_by_rule(self) -> pd.Series:
        """Rejected rows per rule (a row failing two rules counts under both)."""
        if self.quarantine.empty:
            return pd.Series(dtype="int64", name="rows")
        rules = self.quarantine["rules"].str.split("; ").explode()
        return rules.value_counts().rename("rows")

    def to_text(self, max_failures: int = 20) -> str:
        lines = [
            f"{self.institution} / {self.case_study}: {self.n_read} rows read, "
            f"{self.n_accepted} accepted, {self.n_rejected} rejected"
        ]
        for r in self.reads:
            lines.append(f"  {r.file}: {r.describe()}")
        notes = self.notes
        if not notes.empty:
            lines.append("notes:")
            for n in notes.itertuples(index=False):
                where = f", row {n.row}" if pd.notna(n.row) else ""
                lines.append(f"  {n.file}{where}: {n.rule}: {n.value}")
        if self.n_rejected:
            lines.append("rejected rows by rule:")
            for rule, n in self.rejected_by_rule.items():
                lines.append(f"  {n:>8}  {rule}")
            k = min(max_failures, len(self.failures))
            lines.append(f"first {k} of {len(self.failures)} failures:")
            for f in self.failures.head(k).itertuples(index=False):
                where = f"row {f.row}" if pd.notna(f.row) else "all rows"
                col = f.column if isinstance(f.column, str) else "(table)"
                lines.append(f"  {f.file}, {where}, column {col}: rule {f.rule}; value {f.value!r}")
        return "\n".join(lines)

    def write_quarantine(self, path) -> Path:
        """Write the quarantined rows (Parquet, or CSV when ``path`` ends in .csv)."""
        q = self.quarantine.astype({"source_row": "Int64"})
        # values are already formula-escaped and masked; the file is owner-only (at_rest)
        return at_rest.write_private(q, path)


# --------------------------------------------------------------------------------------
# per-column conversion on distinct values
# --------------------------------------------------------------------------------------
class _Failures:
    """Collects (position, column, rule, value) failures without per-row Python work."""

    def __init__(self):
        self.parts: list[pd.DataFrame] = []

    def add(self, positions: np.ndarray, column: str, rules, values) -> None:
        if len(positions):
            self.parts.append(
                pd.DataFrame({"_pos": positions, "column": column, "rule": rules, "value": values})
            )

    def table(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["_pos", "column", "rule", "value"])
        return pd.concat(self.parts, ignore_index=True)


def _arrow(s: pd.Series) -> pa.Array:
    return (
        pa.array(s.array)
        if isinstance(s.dtype, pd.StringDtype)
        else pa.array(s.astype("str").array)
    )


def _matches(s: pd.Series, pattern: str) -> np.ndarray:
    """Regex search with Arrow's RE2 kernel (pandas falls back to Python for some patterns)."""
    return pc.fill_null(pc.match_substring_regex(_arrow(s), pattern), False).to_numpy(
        zero_copy_only=False
    )


def _formula_like(stripped: pd.Series, raw: pd.Series) -> np.ndarray:
    starts = _matches(raw, _FORMULA_START.pattern)
    if not starts.any():
        return starts
    return starts & ~_matches(stripped, _NUMBER.pattern)


def escape_formula(value: str) -> str:
    """Make a formula-like value inert for spreadsheets (OWASP CSV-injection advice)."""
    return "'" + value


def _parse_date(value: str, fmt: str) -> datetime | None:
    if fmt == "excel_serial":
        try:
            serial = float(value.replace(",", "."))
        except ValueError:
            return None
        if not 1 <= serial < 2958466 or int(serial) == EXCEL_FICTITIOUS_SERIAL:
            return None
        # Excel counts 1900 as a leap year (after Lotus 1-2-3): serial 60 is the fictitious
        # 1900-02-29 and serials 1-59 are one day later than days since 1899-12-30
        epoch = EXCEL_EPOCH if serial > EXCEL_FICTITIOUS_SERIAL else EXCEL_EPOCH + timedelta(1)
        return epoch + timedelta(days=int(serial))
    if fmt == "iso":
        fmt = "%Y-%m-%d"
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def _date_values(uniq: list[str], fmt: str) -> tuple[list, list]:
    """(datetime or None, rule or None) per distinct value. Never guesses: a value in another
    format is named as such, not converted (``03-04-2020`` is two dates)."""
    out, rules = [], []
    for v in uniq:
        parsed, rule = None, None
        if TYPED_DATE.match(v):
            parsed = datetime.fromisoformat(v)
        else:
            text = _TRAILING_TIME.sub("", v)
            parsed = _parse_date(text, fmt)
            if parsed is None:
                other = [
                    name
                    for name, f in _OTHER_DATE_FORMATS.items()
                    if f != fmt and _parse_date(text, f) is not None
                ]
                if fmt != "excel_serial" and re.fullmatch(r"\d{4,5}([.,]\d+)?", text):
                    other.append("excel_serial")
                rule = (
                    f"date_not_in_declared_format ({fmt}; looks like {other[0]})"
                    if other
                    else f"invalid_date (expected {fmt})"
                )
                if fmt == "excel_serial" and re.fullmatch(r"0*60([.,]\d+)?", text):
                    rule = "invalid_date (Excel serial 60 is 1900-02-29, a day that never existed)"
        out.append(parsed)
        rules.append(rule)
    return out, rules


def _integer_values(uniq: list[str], decimal: str) -> tuple[list, list]:
    out, rules = [], []
    for v in uniq:
        m = re.fullmatch(r"([+-]?\d+)(?:([.,])(\d+))?", v)
        value, rule = None, None
        if m is None:
            rule = "not_a_number"
        elif m.group(2) and m.group(2) != decimal:
            rule = f"wrong_decimal_separator (expected '{decimal}')"
        elif m.group(3) and set(m.group(3)) != {"0"}:
            rule = "not_an_integer"
        else:
            value = int(m.group(1))
        out.append(value)
        rules.append(rule)
    return out, rules


def _str_array(values) -> pd.api.extensions.ExtensionArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


@dataclass
class _Column:
    """One raw column factorised: its distinct values (``u``), their trimmed text, which are
    missing or formula-like, and the codes that take them back to rows (None: identity)."""

    codes: np.ndarray | None
    u: pd.Series
    stripped: pd.Series
    missing: np.ndarray
    formula: np.ndarray

    def expand(self, values):
        """Values per distinct value -> values per row."""
        return values if self.codes is None else values.take(self.codes)

    def no_rules(self) -> np.ndarray:
        return np.full(len(self.u), None, dtype=object)

    def readable(self) -> np.ndarray:
        """Positions of the distinct values that are neither missing nor formula-like."""
        return np.flatnonzero(~(self.missing | self.formula))


class _Converter:
    """Turns raw text columns into canonical columns, recording failures in ``fails``.

    Parsing, mapping and checks run on each column's distinct values; failures are shown
    with identifiers masked and formulas escaped.
    """

    def __init__(self, raw: pd.DataFrame, cb: Codebook, key: bytes, fails: _Failures):
        self.raw, self.cb, self.key, self.fails = raw, cb, key, fails
        tokens = {normalise_label(t) for t in cb.missing_tokens} | {""}
        self.token_set = pa.array(sorted(t.lower() for t in tokens), type=pa.large_string())

    @cached_property
    def own_names(self):
        """The file's own names (at_rest.file_names), built only when a failure is shown."""
        return at_rest.file_names(self.raw, self.cb)

    def factor(self, col: str, distinct: bool = True) -> _Column:
        """Factorise a column; for columns whose values are nearly all distinct (ids) the
        codes are the identity (None)."""
        if distinct:
            codes, uniq = pd.factorize(self.raw[col], use_na_sentinel=False)
            u = pd.Series(uniq, dtype="str")
        else:
            codes, u = None, self.raw[col].reset_index(drop=True).astype("str")
        arr = pc.utf8_trim_whitespace(_arrow(u))
        stripped = arr.to_pandas()
        missing = pc.is_in(pc.utf8_lower(arr), value_set=self.token_set).to_numpy(
            zero_copy_only=False
        )
        formula = _formula_like(stripped, u) & ~missing
        return _Column(codes, u, stripped, missing, formula)

    def report(self, col_label: str, column: _Column, urules: np.ndarray, shown) -> None:
        """Record failures for the rows whose distinct value failed; ``shown(i)`` is the value
        to show for distinct values ``i`` (masked identifiers, escaped formulas)."""
        bad_u = np.flatnonzero(pd.notna(urules))
        if len(bad_u) == 0:
            return
        codes = column.codes
        if codes is None:
            self.fails.add(bad_u, col_label, urules[bad_u], shown(bad_u))
            return
        flag = np.zeros(len(urules), dtype=bool)
        flag[bad_u] = True
        pos = np.flatnonzero(flag[codes])
        ushown = np.full(len(urules), None, dtype=object)
        ushown[bad_u] = shown(bad_u)
        self.fails.add(pos, col_label, urules[codes[pos]], ushown[codes[pos]])

    def plain_shown(self, column: _Column):
        """How a failing value is shown: formulas escaped, and a RUN, e-mail or name typed
        into the wrong column masked."""

        def show(idx):
            out = column.stripped.iloc[idx].to_numpy(dtype=object)
            f = column.formula[idx]
            out[f] = [escape_formula(v) for v in out[f]]
            return at_rest.mask_array(out, self.own_names)

        return show

    def record_id(self):
        rid_col = self.cb.record_id
        column = self.factor(rid_col, distinct=False)
        urules = column.no_rules()
        if self.cb.record_id_pattern:
            bad = ~_matches(column.stripped, f"^(?:{self.cb.record_id_pattern})$")
            urules[bad] = f"record_id_format (expected {self.cb.record_id_pattern})"
        urules[column.formula] = "formula_like_content"
        urules[column.missing] = "missing_record_id"
        self.report(f"{rid_col} (record_id)", column, urules, self.plain_shown(column))
        return column.expand(column.stripped.array)

    def field(self, name: str, spec) -> dict:
        """The canonical column(s) of one recorded field, its failures reported."""
        column = self.factor(spec.original_name, distinct=spec.dtype != "identifier")
        show = self.plain_shown(column)
        if spec.dtype == "identifier":
            out, urules = self._identifier(name, column)
            show = _masked_identifier_shown(column)
        elif spec.dtype == "category":
            out, urules = _category(name, spec, column)
        elif spec.dtype == "date":
            out, urules = _date(name, column, self.cb.date_format(name))
        elif spec.dtype == "integer":
            out, urules = _integer(name, column, self.cb.export.decimal)
        else:  # string / boolean: kept as text
            out = {name: column.stripped.where(~column.missing).array.take(column.codes)}
            urules = column.no_rules()
        if column.formula.any():
            urules[column.formula] = "formula_like_content"
        self.report(f"{spec.original_name} ({name})", column, urules, show)
        return out

    def _identifier(self, name: str, column: _Column) -> tuple[dict, np.ndarray]:
        """Validated identifiers -> keyed-hash person keys (formula-like ones give none)."""
        present = column.stripped.where(~column.missing)
        if self.cb.identifier_kind == "RUN":
            normal, rules = pseudonymise.normalise_run(present)
        else:
            normal, rules = pseudonymise.normalise_passport(present)
        urules = rules.to_numpy(dtype=object, na_value=None)
        normal = normal.where(~column.formula)
        keys = pseudonymise.person_keys(normal, self.cb.identifier_kind, self.key)
        return {name: column.expand(keys.array)}, urules


def _masked_identifier_shown(column: _Column):
    def show(idx):
        return pseudonymise.mask_identifier(column.stripped.iloc[idx]).to_numpy(
            dtype=object, na_value=None
        )

    return show


def _category(name: str, spec, column: _Column) -> tuple[dict, np.ndarray]:
    """Labels -> canonical values through the codebook; classification also keeps the label
    as the institution spelled it."""
    lookup, spelled = spec.lookup(), spec.spelled()
    urules = column.no_rules()
    vals = np.full(len(column.u), None, dtype=object)
    recorded_label = np.full(len(column.u), None, dtype=object)
    for i, v in enumerate(column.stripped):
        if column.missing[i] or column.formula[i]:
            continue
        k = normalise_label(v)
        if k in lookup:
            vals[i] = lookup[k]
            recorded_label[i] = spelled[k]
        else:
            urules[i] = "unknown_category"
    out = {name: _str_array(vals).take(column.codes)}
    if name == "classification":
        out["classification_recorded"] = _str_array(recorded_label).take(column.codes)
    return out, urules


def _date(name: str, column: _Column, fmt: str) -> tuple[dict, np.ndarray]:
    urules = column.no_rules()
    idx = column.readable()
    parsed, rules = _date_values([column.stripped.iat[i] for i in idx], fmt)
    vals = np.full(len(column.u), np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(idx):
        vals[idx] = np.array(
            [np.datetime64(p) if p else np.datetime64("NaT") for p in parsed],
            dtype="datetime64[ns]",
        )
        urules[idx] = np.array(rules, dtype=object)
    return {name: vals[column.codes]}, urules


def _integer(name: str, column: _Column, decimal: str) -> tuple[dict, np.ndarray]:
    urules = column.no_rules()
    idx = column.readable()
    vals = np.zeros(len(column.u), dtype=np.int64)
    has = np.zeros(len(column.u), dtype=bool)
    out, rules = _integer_values([column.stripped.iat[i] for i in idx], decimal)
    for j, i in enumerate(idx):
        if out[j] is not None:
            vals[i], has[i] = out[j], True
        urules[i] = rules[j]
    codes = column.codes
    return {name: pd.arrays.IntegerArray(vals[codes], ~has[codes])}, urules


def _convert(raw: pd.DataFrame, cb: Codebook, key: bytes, fails: _Failures) -> dict:
    """Canonical columns (pandas arrays aligned with ``raw``) from the raw text columns.

    Each column is factorised; parsing, mapping and checks run on its distinct values and the
    results are taken back to rows with one vectorised ``take``.
    """
    conv = _Converter(raw, cb, key, fails)
    cols: dict[str, object] = {"record_id": conv.record_id()}
    for name, spec in cb.recorded.items():
        if name == NAME_FIELD:
            continue  # names are never read beyond the raw row
        cols.update(conv.field(name, spec))
    return cols


def _age_bounds() -> tuple[int, int]:
    """The contract's own bounds for age, so the pre-check and the contract cannot drift."""
    lo, hi = 0, 200
    for check in contracts.RecordModel.to_schema().columns["age"].checks:
        lo = check.statistics.get("min_value", lo)
        hi = check.statistics.get("max_value", hi)
    return lo, hi


def _range_checks(cols: dict, cb: Codebook, fails: _Failures) -> None:
    """The contract's row rules on ranges and dates, vectorised over all rows with clearer
    names, so that the (slower, authoritative) contract pass normally finds nothing left."""
    label = {k: f"{s.original_name} ({k})" for k, s in cb.recorded.items()}
    if "age" in cols:
        lo, hi = _age_bounds()
        age = pd.Series(cols["age"])
        bad = ((age < lo) | (age > hi)).fillna(False).to_numpy(dtype=bool)
        pos = np.flatnonzero(bad)
        fails.add(
            pos,
            label["age"],
            f"age_out_of_range ({lo}-{hi})",
            age.iloc[pos].astype(object).to_numpy(),
        )
    today = np.datetime64(pd.Timestamp.now().normalize() + pd.Timedelta(days=1), "ns")
    for name in ("event_date", "report_date"):
        if name in cols:
            d = cols[name]
            pos = np.flatnonzero(d >= today)
            fails.add(
                pos,
                label[name],
                "date_in_the_future",
                pd.DatetimeIndex(d[pos]).strftime("%Y-%m-%d").to_numpy(),
            )
    if "event_date" in cols:
        since = np.datetime64(pd.Timestamp(canon.in_law_since(cb.case_study)), "ns")
        d = cols["event_date"]
        pos = np.flatnonzero(d < since)
        fails.add(
            pos,
            label["event_date"],
            f"event_date_before_offence_existed_in_law (in law since {canon.in_law_since(cb.case_study)})",
            pd.DatetimeIndex(d[pos]).strftime("%Y-%m-%d").to_numpy(),
        )
    for name, (lo, hi) in canon.plausible_dates(cb.case_study).items():
        if name not in cols:
            continue
        d = cols[name]
        out = np.zeros(len(d), dtype=bool)
        if lo is not None:
            out |= d < np.datetime64(pd.Timestamp(lo), "ns")
        if hi is not None:
            out |= d > np.datetime64(pd.Timestamp(hi), "ns")
        pos = np.flatnonzero(out)  # NaT compares False
        fails.add(
            pos,
            label[name],
            f"date_outside_plausible_range ({cb.case_study}: {lo or '...'} to {hi or '...'})",
            pd.DatetimeIndex(d[pos]).strftime("%Y-%m-%d").to_numpy(),
        )
    if "event_date" in cols and "report_date" in cols:
        e, r = cols["event_date"], cols["report_date"]
        pos = np.flatnonzero(r < e)  # NaT compares False
        fails.add(
            pos,
            f"{label['report_date']}, {label['event_date']}",
            "report_date_before_event_date",
            [
                f"report {a}, event {b}"
                for a, b in zip(
                    pd.DatetimeIndex(r[pos]).strftime("%Y-%m-%d"),
                    pd.DatetimeIndex(e[pos]).strftime("%Y-%m-%d"),
                    strict=True,
                )
            ],
        )


def _age_band(age: pd.arrays.IntegerArray) -> np.ndarray:
    a = pd.Series(age)
    out = np.full(len(a), None, dtype=object)
    for lo, hi, band in AGE_BANDS:
        out[((a >= lo) & (a <= hi)).fillna(False).to_numpy(dtype=bool)] = band
    return out


def _duplicates(raw: pd.DataFrame, cb: Codebook, rid: np.ndarray, fails: _Failures) -> None:
    """Same record id twice: exact copies keep the first; conflicting rows all go to quarantine."""
    s = pd.Series(rid)
    dup = s.duplicated(keep=False).to_numpy() & pd.notna(rid) & (s != "").to_numpy()
    if not dup.any():
        return
    mapped = [
        c for c in cb.columns() if c in raw.columns and cb.columns()[c] not in ("extra", NAME_FIELD)
    ]
    pos = np.flatnonzero(dup)
    h = pd.util.hash_pandas_object(raw.iloc[pos][mapped], index=False).to_numpy()
    g = pd.DataFrame(
        {"rid": rid[pos], "h": h, "pos": pos, "row": raw["source_row"].to_numpy()[pos]}
    )
    exact = g.groupby("rid")["h"].transform("nunique").to_numpy() == 1
    first = g.groupby("rid")["pos"].transform("min").to_numpy()
    first_row = g.groupby("rid")["row"].transform("min").to_numpy()
    later_copy = exact & (g["pos"].to_numpy() != first)
    rows_of = g.groupby("rid")["row"].agg(lambda r: ", ".join(map(str, r)))
    conflict = ~exact
    label = f"{cb.record_id} (record_id)"
    fails.add(
        pos[later_copy],
        label,
        "exact_duplicate_row",
        [
            f"{r} (same as row {f})"
            for r, f in zip(g["rid"][later_copy], first_row[later_copy], strict=True)
        ],
    )
    fails.add(
        pos[conflict],
        label,
        "duplicate_record_id",
        [f"{r} (rows {rows_of[r]})" for r in g["rid"][conflict]],
    )


def _quarantine_frame(
    raw: pd.DataFrame, cb: Codebook, positions: np.ndarray, fails: pd.DataFrame
) -> pd.DataFrame:
    """Rejected rows: lineage, the institution's mapped columns (identifiers masked, formulas
    escaped, names and free-text extras dropped), the rules and readable reasons."""
    roles = cb.columns()
    keep = [c for c in raw.columns if c in roles and roles[c] not in ("extra", NAME_FIELD)]
    q = raw.iloc[positions][LINEAGE + keep].copy()
    own_names = at_rest.file_names(raw, cb)
    for c in keep:
        if roles[c] == "person_key":
            q[c] = pseudonymise.mask_identifier(q[c]).astype("str")
        else:
            vals = q[c].astype("str")
            hit = vals.str.match(_FORMULA_START.pattern).fillna(
                False
            ) & ~vals.str.strip().str.fullmatch(_NUMBER.pattern).fillna(False)
            q[c] = at_rest.mask_series(vals.where(~hit, "'" + vals), own_names)
    text = pd.Series(
        [
            f"{c}: {r} ({v!r})"
            for c, r, v in zip(fails["column"], fails["rule"], fails["value"], strict=True)
        ],
        index=fails.index,
    )
    short = fails["rule"].str.split(" (", n=1, regex=False).str[0]
    pos_key = fails["_pos"].to_numpy(dtype=np.int64)
    reasons = _join_by(text, pos_key)
    rules = _join_by(short, pos_key, unique=True)
    q["rules"] = rules.reindex(positions).to_numpy()
    q["reasons"] = reasons.reindex(positions).to_numpy()
    return q.reset_index(drop=True)


def _join_by(values: pd.Series, keys: np.ndarray, unique: bool = False) -> pd.Series:
    """'; '-joined values per key; most rejected rows fail once, so only the rest are grouped."""
    vals = pd.Series(values.to_numpy(dtype=object), index=keys)
    many = vals.index.duplicated(keep=False)
    out = vals[~many]
    if many.any():
        join = (lambda r: "; ".join(dict.fromkeys(r))) if unique else "; ".join
        out = pd.concat([out, vals[many].groupby(level=0, sort=False).agg(join)])
    return out


def _empty_records() -> pd.DataFrame:
    schema = contracts.RecordModel.to_schema()
    df = pd.DataFrame({c: pd.Series(dtype=str(col.dtype)) for c, col in schema.columns.items()})
    df["source_sheet"] = pd.Series(dtype="str")
    return df


def harmonise_raw(raw_table: RawTable, cb: Codebook, key: bytes) -> HarmoniseResult:
    """Harmonise one file already read."""
    raw = raw_table.frame
    info = raw_table.info
    present = [c for c in raw.columns if c not in LINEAGE]
    if NAME_FIELD in cb.recorded and cb.specs[NAME_FIELD].original_name not in present:
        info.note("name_column_absent", cb.specs[NAME_FIELD].original_name)
    if raw_table.n_read == 0:
        info.note("file_has_no_rows", "the file has a header but no data rows")
        return _finish(cb, _empty_records(), _empty_quarantine(), _empty_failures(), raw_table)
    table_failures = _table_failures(present, cb)
    if table_failures:
        return _reject_whole_file(raw_table, cb, table_failures)

    fails = _Failures()
    cols = _convert(raw, cb, key, fails)
    _range_checks(cols, cb, fails)
    _duplicates(raw, cb, cols["record_id"], fails)
    bad = np.zeros(len(raw), dtype=bool)
    bad[fails.table()["_pos"].to_numpy(dtype=np.int64)] = True
    good = np.flatnonzero(~bad)  # rows that survived conversion
    frame = _canonical_frame(raw, cb, cols, good, info.file)
    accepted = _contract_check(frame, raw, cb, good, fails, info.file)
    return _result(raw_table, cb, accepted, fails)


def _table_failures(present: list[str], cb: Codebook) -> list[dict]:
    """Problems of the whole file: a required column missing, a column the codebook lacks."""
    roles = cb.columns()
    missing_cols = [c for c in cb.required_columns() if c not in present]
    unknown_cols = [c for c in present if c not in roles]
    return [
        {"column": c, "rule": "missing_required_column", "value": None} for c in missing_cols
    ] + [
        {
            "column": c,
            "rule": "unknown_column",
            "value": "not in the codebook (fields or extra_columns)",
        }
        for c in unknown_cols
    ]


def _reject_whole_file(
    raw_table: RawTable, cb: Codebook, table_failures: list[dict]
) -> HarmoniseResult:
    """A file whose columns do not fit the codebook: every row goes to quarantine."""
    raw = raw_table.frame
    n_parsed = len(raw)
    fails = _Failures()
    pos = np.arange(n_parsed)
    for tf in table_failures:
        fails.add(pos, tf["column"], tf["rule"], [tf["value"]] * n_parsed)
    ft = fails.table()
    quarantine = _quarantine_frame(raw, cb, pos, ft) if n_parsed else _empty_quarantine()
    failures = pd.DataFrame(
        [{"file": raw_table.info.file, "row": None, **tf} for tf in table_failures],
        columns=FAILURE_COLUMNS,
    )
    return _finish(cb, _empty_records(), quarantine, failures, raw_table)


def _canonical_frame(
    raw: pd.DataFrame, cb: Codebook, cols: dict, good: np.ndarray, file: str
) -> pd.DataFrame:
    """The contract's columns for the rows at positions ``good``, indexed by those positions
    (to map contract failures back to rows)."""
    n_parsed = len(raw)
    all_good = len(good) == n_parsed  # clean files skip one copy of every column
    constants = {"institution": cb.institution, "case_study": cb.case_study}
    frame = pd.DataFrame(index=pd.RangeIndex(len(good)))
    for c in contracts.RECORD_COLUMNS:
        if c in ("institution", "case_study"):
            frame[c] = pd.Series(constants[c], index=frame.index, dtype="str")
        elif c == "source_file":
            frame[c] = pd.Series(file, index=frame.index, dtype="str")  # one file per call
        elif c == "source_row":
            frame[c] = raw[c].to_numpy()[good]
        elif c in cols:
            frame[c] = cols[c] if all_good else cols[c][good]
        elif c == "age_band" and "age" in cols:
            frame[c] = _str_array(_age_band(cols["age"][good]))
        elif c in ("event_date", "report_date"):
            frame[c] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        elif c == "age":
            frame[c] = pd.array([pd.NA] * len(good), dtype="Int64")
        else:
            frame[c] = pd.Series(np.nan, index=frame.index, dtype="str")
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].astype("str")
    frame["source_row"] = frame["source_row"].astype("Int64")
    sheet = raw["source_sheet"].iloc[0] if n_parsed else None
    frame["source_sheet"] = pd.Series(
        sheet if isinstance(sheet, str) else np.nan, index=frame.index, dtype="str"
    )
    frame.index = good
    return frame


def _contract_check(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    cb: Codebook,
    good: np.ndarray,
    fails: _Failures,
    file: str,
) -> pd.DataFrame:
    """The (authoritative) contract on the converted rows: returns the accepted rows and adds
    the contract's failures, with the institution's column names, to ``fails``."""
    if not len(frame):
        return frame
    report = contracts.validate(frame, contracts.RecordModel, source=file)
    rejected_pos = report.rejected.index.to_numpy()
    if len(rejected_pos):
        rf = report.failures.copy()
        row_to_pos = pd.Series(good, index=raw["source_row"].to_numpy()[good])
        orig = {k: f"{s.original_name} ({k})" for k, s in cb.recorded.items()}
        rf["column"] = rf["column"].map(
            lambda c: ", ".join(orig.get(x, x) for x in c.split(",")) if isinstance(c, str) else c
        )
        whole = rf["row"].isna()  # a rule on the whole table fails every rejected row
        parts = [rf[~whole].assign(_pos=rf.loc[~whole, "row"].map(row_to_pos).to_numpy())]
        if whole.any():
            parts += [rf[whole].assign(_pos=p) for p in rejected_pos]
        contract_fails = pd.concat(parts, ignore_index=True)
        fails.parts.append(contract_fails[["_pos", "column", "rule", "value"]])
    return report.accepted


def _result(
    raw_table: RawTable, cb: Codebook, accepted: pd.DataFrame, fails: _Failures
) -> HarmoniseResult:
    """Accepted records, and every row with a failure in quarantine with its reasons."""
    raw = raw_table.frame
    ft = fails.table()
    rejected_positions = np.unique(ft["_pos"].to_numpy(dtype=np.int64))
    quarantine = (
        _quarantine_frame(raw, cb, rejected_positions, ft)
        if len(rejected_positions)
        else _empty_quarantine()
    )
    failures = (
        ft.assign(
            file=raw_table.info.file,
            row=raw["source_row"].to_numpy()[ft["_pos"].to_numpy(dtype=np.int64)],
        )
        .sort_values(["row", "column"], kind="stable")[FAILURE_COLUMNS]
        .reset_index(drop=True)
    )
    records = accepted.reset_index(drop=True)
    return _finish(cb, records, quarantine, failures, raw_table)


def _empty_failures() -> pd.DataFrame:
    return pd.DataFrame(columns=FAILURE_COLUMNS)


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="Int64" if c == "source_row" else "str") for c in QUARANTINE_META}
    )


def _finish(cb, records, quarantine, failures, raw_table: RawTable) -> HarmoniseResult:
    """Add the rows the reader could not split, and check that nothing was lost."""
    un = raw_table.unparsed
    if len(un):
        uq = un.assign(
            rules=un["rule"],
            reasons=[f"(row): {r} ({v!r})" for r, v in zip(un["rule"], un["value"], strict=True)],
        )
        quarantine = pd.concat([quarantine, uq[QUARANTINE_META]], ignore_index=True)
        failures = pd.concat(
            [
                failures,
                pd.DataFrame(
                    {
                        "file": un["source_file"],
                        "row": un["source_row"].astype(object),
                        "column": None,
                        "rule": un["rule"],
                        "value": un["value"],
                    }
                ),
            ],
            ignore_index=True,
        )
    result = HarmoniseResult(
        institution=cb.institution,
        case_study=cb.case_study,
        records=records,
        quarantine=quarantine,
        failures=failures,
        reads=[raw_table.info],
        n_read=raw_table.n_read,
    )
    if result.n_accepted + result.n_rejected != result.n_read:  # an internal invariant
        raise AssertionError(
            f"{raw_table.info.file}: {result.n_read} rows read but {result.n_accepted} accepted "
            f"+ {result.n_rejected} rejected"
        )
    return result


def combine(results: list[HarmoniseResult], cb: Codebook) -> HarmoniseResult:
    """Several files of one institution: concatenate, then reject record ids repeated across files."""
    if len(results) == 1:
        return results[0]
    records = pd.concat([r.records for r in results], ignore_index=True)
    quarantine = pd.concat([r.quarantine for r in results], ignore_index=True)
    failures = pd.concat([r.failures for r in results], ignore_index=True)
    dup = records["record_id"].duplicated(keep=False)
    if dup.any():
        moved = records[dup]
        label = f"{cb.record_id} (record_id)"
        files = moved.groupby("record_id")["source_file"].agg(
            lambda f: ", ".join(sorted(set(map(str, f))))
        )
        extra_fail = pd.DataFrame(
            {
                "file": moved["source_file"],
                "row": moved["source_row"].astype(object),
                "column": label,
                "rule": "duplicate_record_id_across_files",
                "value": [f"{r} (in {files[r]})" for r in moved["record_id"]],
            }
        )
        extra_q = pd.DataFrame(
            {
                "source_file": moved["source_file"],
                "source_sheet": moved["source_sheet"],
                "source_row": moved["source_row"],
                cb.record_id: moved["record_id"],
                "rules": "duplicate_record_id_across_files",
                "reasons": [
                    f"{label}: duplicate_record_id_across_files ({v!r})"
                    for v in extra_fail["value"]
                ],
            }
        )
        records = records[~dup].reset_index(drop=True)
        quarantine = pd.concat([quarantine, extra_q], ignore_index=True)
        failures = pd.concat([failures, extra_fail], ignore_index=True)
    return HarmoniseResult(
        institution=cb.institution,
        case_study=cb.case_study,
        records=records,
        quarantine=quarantine,
        failures=failures,
        reads=[i for r in results for i in r.reads],
        n_read=sum(r.n_read for r in results),
    )


def harmonise_file(path, cb: Codebook, key: bytes) -> HarmoniseResult:
    """Read and harmonise one export (raises readers.ReadError if it cannot be read at all)."""
    return harmonise_raw(read_export(path, cb), cb, key)


def harmonise_files(paths, cb: Codebook, key: bytes) -> HarmoniseResult:
    """Read and harmonise every file of one institution (e.g. yearly exports)."""
    return combine([harmonise_file(p, cb, key) for p in paths], cb)
