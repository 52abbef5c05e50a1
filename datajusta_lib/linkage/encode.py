"""The encoding kit an institution runs on its own raw export (docs/privacy.md).

An encoded file holds no direct identifier: the RUN or passport becomes a keyed hash
(HMAC-SHA256 under a secret the participating institutions share and the linkage unit never
sees), the name and the birth date become Bloom filters (Schnell, Bachteler & Reiher 2009)
whose bit positions come from HMAC-SHA256 under keys derived from the same secret, hardened
with randomised response (BLIP), and sex, nationality, region and age band become keyed
hashes. Each row keeps only its lineage (file name and row number) so that the institution,
and only the institution, can find it again.

Two hashings are available: ``random`` (default: k positions drawn from HMAC-SHA256 of the
token, so no two tokens' positions are related) and ``double`` (Schnell 2009:
``g_i = (h1 + i * h2) mod l`` with h1 = HMAC-SHA1, h2 = HMAC-MD5), kept for comparison with
the published construction and its tests.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from ..ingest import codebooks, harmonise, pseudonymise, readers
from .settings import linkage_settings

LINKAGE_KEY_ENV = "DATAJUSTA_LINKAGE_KEY"
LINKAGE_KEY_FILE_ENV = "DATAJUSTA_LINKAGE_KEY_FILE"
SYNTHETIC_ONLY_LINKAGE_KEY = b"datajusta-SYNTHETIC-ONLY-linkage-key--never-use-for-real-data"
HASH_HEX = 32  # 128-bit keyed hashes: no collision at national scale
QI_FIELDS = ("sex", "nationality", "region_code", "age_band")
QI_COLUMNS = {"sex": "sex_h", "nationality": "nationality_h", "region_code": "region_h"}
QI_COLUMNS["age_band"] = "age_band_h"


class EncodingError(ValueError):
    """An export cannot be encoded (names the file, row, column and rule)."""


# --------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------
def resolve_linkage_key(source: str = "private") -> bytes:
    """The participants' shared secret: ``$DATAJUSTA_LINKAGE_KEY``, the file named by
    ``$DATAJUSTA_LINKAGE_KEY_FILE``, else (synthetic data only) a public synthetic-only key."""
    env = os.environ.get(LINKAGE_KEY_ENV)
    if env:
        key = env.strip().encode("utf-8")
    elif os.environ.get(LINKAGE_KEY_FILE_ENV):
        key = Path(os.environ[LINKAGE_KEY_FILE_ENV]).read_bytes().strip()
    elif source == "synthetic":
        return SYNTHETIC_ONLY_LINKAGE_KEY
    else:
        raise pseudonymise.MissingKeyError(
            "No linkage key: the institutions taking part agree on one secret and each sets it "
            f"in ${LINKAGE_KEY_ENV} (or a file named by ${LINKAGE_KEY_FILE_ENV}) before encoding; "
            "the linkage unit never receives it."
        )
    if len(key) < pseudonymise.MIN_KEY_BYTES:
        raise pseudonymise.MissingKeyError(
            f"the linkage key is shorter than {pseudonymise.MIN_KEY_BYTES} bytes"
        )
    if source != "synthetic" and key == SYNTHETIC_ONLY_LINKAGE_KEY:
        raise pseudonymise.MissingKeyError("the public synthetic-only key cannot protect real data")
    return key


def field_key(secret: bytes, field: str) -> bytes:
    """A separate key per attribute, derived from the shared secret (HMAC as a KDF)."""
    return hmac.new(secret, f"datajusta-linkage-v1|{field}".encode(), hashlib.sha256).digest()


def keyed_hashes(values: pd.Series, secret: bytes, field: str) -> pd.Series:
    """HMAC-SHA256 (first 128 bits, hex) of each non-missing value; missing stays missing."""
    k = field_key(secret, field)
    s = pd.Series(values, dtype="object")
    uniq = pd.unique(s[s.notna()])
    table = {v: hmac.new(k, str(v).encode(), hashlib.sha256).hexdigest()[:HASH_HEX] for v in uniq}
    return s.map(table).astype("string")


# --------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------
_NON_LETTER = re.compile(r"[^A-Z]+")


def normalise_name(name) -> str | None:
    """Upper case, accents and punctuation removed, words sorted (order-free)."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return None
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().upper()
    words = sorted(w for w in _NON_LETTER.split(text) if w)
    return " ".join(words) or None


def bigrams(text: str | None) -> set[str]:
    """Padded bigrams of each word: 'ANA' -> {'_A', 'AN', 'NA', 'A_'} (Schnell 2009)."""
    if not text:
        return set()
    out: set[str] = set()
    for w in text.split(" "):
        p = f"_{w}_"
        out.update(p[i : i + 2] for i in range(len(p) - 1))
    return out


def date_tokens(d) -> set[str]:
    """Year, month, day, and the unordered day-month pair (a swap keeps Y and DM)."""
    if d is None or pd.isna(d):
        return set()
    d = pd.Timestamp(d)
    lo, hi = sorted((d.day, d.month))
    return {f"Y{d.year:04d}", f"M{d.month:02d}", f"D{d.day:02d}", f"DM{lo:02d}-{hi:02d}"}


def dice_of_sets(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if (a or b) else 0.0


# --------------------------------------------------------------------------------------
# Bloom filters
# --------------------------------------------------------------------------------------
class BloomEncoder:
    """Token -> k bit positions in an ``bits``-bit filter, keyed; filters as Python ints."""

    def __init__(self, secret: bytes, field: str, bits: int, k: int, hashing: str = "random"):
        if bits % 64 or not 64 <= bits <= 65536:
            raise ValueError(f"{field}: bits must be a multiple of 64 in 64..65536, not {bits}")
        if hashing not in ("random", "double"):
            raise ValueError(f"{field}: hashing must be 'random' or 'double', not {hashing!r}")
        self.bits, self.k, self.hashing = bits, k, hashing
        self._key = field_key(secret, field)
        self._key2 = field_key(secret, field + "|h2")
        self._masks: dict[str, int] = {}

    def positions(self, token: str) -> list[int]:
        t = token.encode()
        if self.hashing == "double":
            h1 = int.from_bytes(hmac.new(self._key, t, hashlib.sha1).digest(), "big")
            h2 = int.from_bytes(hmac.new(self._key2, t, hashlib.md5).digest(), "big")
            return [(h1 + i * h2) % self.bits for i in range(self.k)]
        out: list[int] = []
        block = 0
        while len(out) < self.k:
            d = hmac.new(self._key, t + block.to_bytes(2, "big"), hashlib.sha256).digest()
            out += [int.from_bytes(d[j : j + 4], "big") % self.bits for j in range(0, 32, 4)]
            block += 1
        return out[: self.k]

    def mask(self, token: str) -> int:
        m = self._masks.get(token)
        if m is None:
            m = 0
            for p in self.positions(token):
                m |= 1 << p
            self._masks[token] = m
        return m

    def encode(self, tokens) -> int:
        m = 0
        for t in tokens:
            m |= self.mask(t)
        return m

    def words(self, filters: list[int]) -> np.ndarray:
        """(n, bits/64) int64 words, little-endian bit order within the filter."""
        nbytes = self.bits // 8
        buf = b"".join(f.to_bytes(nbytes, "little") for f in filters)
        return np.frombuffer(buf, dtype="<i8").reshape(len(filters), self.bits // 64).copy()


def _encode_distinct(be: BloomEncoder, values: pd.Series, tokens) -> np.ndarray:
    """Filters of each value, computed once per distinct value (missing: an empty filter)."""
    codes, uniq = pd.factorize(pd.Series(values, dtype=object).reset_index(drop=True))
    table = be.words([be.encode(tokens(v)) for v in uniq] + [0])
    return table[np.where(codes < 0, len(uniq), codes)]


def blip(words: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Flip every bit with probability p (randomised response), chunk by chunk."""
    if p <= 0 or not len(words):
        return words
    out = words.copy()
    step = 8192
    for s in range(0, len(out), step):
        chunk = out[s : s + step]
        flips = rng.random((len(chunk), chunk.shape[1] * 64), dtype=np.float32) < p
        chunk ^= np.packbits(flips, axis=1, bitorder="little").view("<i8")
    return out


def popcount(words: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words.view(np.uint64)).sum(axis=1).astype(np.int32)


def dice_words(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice similarity of row-aligned filters given as int64 words."""
    inter = np.bitwise_count((a & b).view(np.uint64)).sum(axis=1)
    tot = popcount(a) + popcount(b)
    return np.where(tot > 0, 2 * inter / np.maximum(tot, 1), 0.0)


def filter_columns(prefix: str, bits: int) -> list[str]:
    return [f"{prefix}_{i}" for i in range(bits // 64)]


# --------------------------------------------------------------------------------------
# the encoding of a table of raw identity fields
# --------------------------------------------------------------------------------------
DATE_FIELDS = {"birth_date": "birth", "event_date": "event"}


def _encode_date(out, table, field, prefix, secret, enc, rng) -> None:
    """<prefix>_hash (exact date), <prefix>_bf_* (Bloom filter of its parts), <prefix>_pop."""
    n = len(table)
    days = (
        pd.to_datetime(table[field], errors="coerce").reset_index(drop=True)
        if field in table
        else pd.Series(pd.NaT, index=range(n))
    )
    iso = days.dt.strftime("%Y-%m-%d").where(days.notna(), None)
    out[f"{prefix}_hash"] = keyed_hashes(iso, secret, field)
    spec = enc.get(field) or enc["birth_date"]
    be = BloomEncoder(secret, field, int(spec["bits"]), int(spec["k"]), spec["hashing"])
    words = blip(
        _encode_distinct(be, iso, lambda v: date_tokens(pd.Timestamp(v))), float(enc["blip"]), rng
    )
    has = days.notna().to_numpy()
    words[~has] = 0
    for i, c in enumerate(filter_columns(f"{prefix}_bf", be.bits)):
        out[c] = words[:, i]
    out[f"{prefix}_pop"] = pd.array(np.where(has, popcount(words), 0), dtype="Int32")
    out.loc[~has, f"{prefix}_pop"] = pd.NA


def encode_table(
    table: pd.DataFrame,
    secret: bytes,
    settings: dict | None = None,
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Encode identity fields. ``table`` columns (all optional except none): ``identifier``
    (normalised, ``RUN:...``/``PASSPORT:...``), ``name``, ``birth_date`` (datetime), and the
    canonical ``sex``, ``nationality``, ``region_code``, ``age_band``; any other column
    (lineage) is kept as it is. Returns the encoded columns and the lineage only."""
    enc = (settings or linkage_settings())["encoding"]
    rng = np.random.default_rng(seed)  # BLIP noise: fresh unless a seed is given
    n = len(table)
    identity = {"identifier", "name", *DATE_FIELDS, *QI_FIELDS}
    out = {c: table[c].to_numpy() for c in table.columns if c not in identity}
    out = pd.DataFrame(out, index=range(n))
    ident = table["identifier"] if "identifier" in table else pd.Series([None] * n)
    out["id_hash"] = keyed_hashes(ident.reset_index(drop=True), secret, "identifier")

    names = table["name"] if "name" in table else pd.Series([None] * n)
    norm = [normalise_name(v) for v in names]
    spec = enc["name"]
    be = BloomEncoder(secret, "name", int(spec["bits"]), int(spec["k"]), spec["hashing"])
    words = blip(
        _encode_distinct(be, pd.Series(norm, dtype=object), bigrams), float(enc["blip"]), rng
    )
    has = np.array([t is not None for t in norm])
    words[~has] = 0
    for i, c in enumerate(filter_columns("name_bf", be.bits)):
        out[c] = words[:, i]
    out["name_pop"] = pd.array(np.where(has, popcount(words), 0), dtype="Int32")
    out.loc[~has, "name_pop"] = pd.NA

    for field, prefix in DATE_FIELDS.items():
        _encode_date(out, table, field, prefix, secret, enc, rng)

    for f in QI_FIELDS:
        vals = table[f].reset_index(drop=True) if f in table else pd.Series([None] * n)
        vals = vals.astype("object").where(vals.notna(), None)
        out[QI_COLUMNS[f]] = keyed_hashes(
            vals.map(lambda v, f=f: None if v is None else f"{f}:{v}"), secret, f
        )
    return out


# --------------------------------------------------------------------------------------
# an institution's export
# --------------------------------------------------------------------------------------
def _parse_dates(values: pd.Series, fmt: str, file: str, column: str) -> pd.Series:
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    return parsed.where(text.notna() & (text != ""), pd.NaT)


def _blank_missing(cells: pd.Series, cb) -> pd.Series:
    """The codebook's missing tokens ('S/I', 'SIN INFORMACION'...) and blanks become missing."""
    tokens = {str(x).strip().lower() for x in cb.missing_tokens}
    s = pd.Series(cells, dtype="object").reset_index(drop=True)
    text = s.map(lambda v: None if v is None or pd.isna(v) else str(v).strip())
    return text.where(~text.map(lambda v: v is None or v == "" or v.lower() in tokens), None)


def identity_table(path, institution: str, case_study: str, settings: dict | None = None):
    """Raw identity fields of one export, one row per accepted row, with lineage.

    Canonical quasi-identifiers come from the project's harmoniser (the same rows the
    quarantine accepts); the identifier, the name and the birth date from the raw cells."""
    settings = settings or linkage_settings()
    cb = codebooks.get(institution, case_study)
    path = Path(path)
    raw = readers.read_export(path, cb)
    # the harmoniser's own person key is not used: any key will do
    result = harmonise.harmonise_raw(raw, cb, b"linkage-encoder-discards-this-key")
    acc = result.records
    frame = raw.frame.set_index("source_row")
    rows = acc["source_row"].to_numpy()
    table = pd.DataFrame(
        {
            "institution": institution,
            "source_file": path.name,
            "source_row": rows,
        }
    )
    for f in (*QI_FIELDS, "event_date"):
        table[f] = acc[f].to_numpy() if f in acc else None
    recorded = cb.recorded
    if "person_key" in recorded:
        col = recorded["person_key"].original_name
        cells = _blank_missing(frame.loc[rows, col], cb)
        norm, _ = (
            pseudonymise.normalise_run(cells)
            if cb.identifier_kind == "RUN"
            else pseudonymise.normalise_passport(cells)
        )
        prefix = "RUN:" if cb.identifier_kind == "RUN" else "PASSPORT:"
        table["identifier"] = (prefix + norm.astype("object")).where(norm.notna(), None)
    if codebooks.NAME_FIELD in recorded:
        col = recorded[codebooks.NAME_FIELD].original_name
        table["name"] = _blank_missing(frame.loc[rows, col], cb).to_numpy(dtype=object)
    spec = (settings.get("birth_date_columns") or {}).get(case_study, {}).get(institution)
    if spec:
        if spec["column"] not in frame.columns:
            raise EncodingError(
                f"{path}: no column {spec['column']!r} (birth date of {institution}, "
                "data/linkage/settings.yaml birth_date_columns)"
            )
        cells = _blank_missing(frame.loc[rows, spec["column"]], cb)
        table["birth_date"] = _parse_dates(cells, spec["format"], str(path), spec["column"])
    return table


def held_identifiers(table: pd.DataFrame) -> str:
    """Which identity fields an institution's export carries ('identifier+name+birth_date')."""
    held = [c for c in ("identifier", "name", "birth_date") if c in table]
    return "+".join(held) if held else "none"


def encode_export(
    path,
    institution: str,
    case_study: str,
    *,
    key: bytes,
    settings: dict | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """The encoded table of one export (what the institution hands over)."""
    settings = settings or linkage_settings()
    table = identity_table(path, institution, case_study, settings)
    out = encode_table(table, key, settings, seed=seed)
    out.insert(1, "case_study", case_study)
    out.insert(2, "identifiers_held", held_identifiers(table))
    out.attrs["key_fingerprint"] = key_fingerprint(key)
    return out


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, b"datajusta linkage key fingerprint v1", hashlib.sha256).hexdigest()[:16]


def write_encoded(df: pd.DataFrame, path, *, synthetic: bool) -> Path:
    """Write an encoded table as Parquet with provenance in its metadata."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    meta = {
        "datajusta_linkage": json.dumps(
            {
                "encoding_version": linkage_settings()["encoding"]["version"],
                "key_fingerprint": df.attrs.get("key_fingerprint"),
                "synthetic": synthetic,
            }
        )
    }
    tbl = tbl.replace_schema_metadata({**(tbl.schema.metadata or {}), **meta})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(tbl, tmp)
    os.replace(tmp, path)
    return path
