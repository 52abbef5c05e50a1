"""Keyed-hash person keys: direct identifiers never leave ingestion.

``person_key = HMAC-SHA256(key, "<KIND>:<normalised identifier>")`` in lower-case hex, KIND
being ``RUN`` or ``PASSPORT``. The same identifier and key always give the same person key,
so records link across institutions; without the key the hash cannot be reversed by trying
every RUN (there are only ~10^8 of them, which is why a plain hash would not do).

Key lookup, first found wins: ``DATAJUSTA_KEY`` (the key text itself), the file named by
``DATAJUSTA_KEY_FILE``, ``~/.config/datajusta/key``. With no key, synthetic data use
:data:`SYNTHETIC_ONLY_PUBLIC_KEY` (the data are fabricated; nothing is protected by it) and
private data are refused. The key is never written anywhere: outputs carry only
:func:`key_fingerprint`.

RUN validation and hashing are vectorised (numpy for the modulo-11 check digit, DuckDB for
SHA-256 over the distinct identifiers); ``stdnum.cl.rut`` is the reference the tests compare
against and explains each rejected RUN.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import exceptions as stdnum_exceptions
from stdnum.cl import rut as stdnum_rut

SYNTHETIC_ONLY_PUBLIC_KEY = b"datajusta-SYNTHETIC-ONLY-public-key--never-use-for-real-data"
KEY_ENV = "DATAJUSTA_KEY"
KEY_FILE_ENV = "DATAJUSTA_KEY_FILE"
MIN_KEY_BYTES = 16


class MissingKeyError(RuntimeError):
    """No pseudonymisation key is set for private data."""


def default_key_file() -> Path:
    return Path.home() / ".config" / "datajusta" / "key"


def resolve_key(source: str = "private") -> bytes:
    """The HMAC key for ``source`` ("synthetic" or "private"); see the module docstring."""
    env = os.environ.get(KEY_ENV)
    if env:
        key = env.strip().encode("utf-8")
        origin = f"${KEY_ENV}"
    else:
        path = (
            Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else default_key_file()
        )
        if path.is_file():
            _refuse_key_inside_repository(path)
            key = path.read_bytes().strip()
            origin = str(path)
        elif source == "synthetic":
            return SYNTHETIC_ONLY_PUBLIC_KEY
        else:
            raise MissingKeyError(
                "No pseudonymisation key: private data cannot be read without one, because "
                "identifiers (RUN, passport) are replaced at ingestion by a keyed hash.\n"
                f"Set it in one of these ways (never inside the repository):\n"
                f"  export {KEY_ENV}='<a long random secret>'\n"
                f"  export {KEY_FILE_ENV}=/path/outside/the/repo/datajusta.key\n"
                f"  or write it to {default_key_file()} (chmod 600)\n"
                'Generate one with: python -c "import secrets; print(secrets.token_hex(32))"\n'
                "Keep the same key for every load: a different key gives different person keys."
            )
    if len(key) < MIN_KEY_BYTES:
        raise MissingKeyError(f"the key from {origin} is shorter than {MIN_KEY_BYTES} bytes")
    if source == "private" and key == SYNTHETIC_ONLY_PUBLIC_KEY:
        raise MissingKeyError("the public synthetic-only key cannot protect private data")
    return key


def _refuse_key_inside_repository(path: Path) -> None:
    """A key file inside the working tree is one `git add` away from being published."""
    from ..core.paths import project_root

    try:
        root = project_root().resolve()
    except FileNotFoundError:
        return
    if path.resolve().is_relative_to(root):
        raise MissingKeyError(
            f"the key file {path} is inside the repository ({root}); move it outside "
            f"(for example to {default_key_file()}) and point {KEY_FILE_ENV} at it"
        )


def key_fingerprint(key: bytes) -> str:
    """A short public tag of a key (for caches and manifests); reveals nothing about it."""
    return hmac.new(key, b"datajusta key fingerprint v1", hashlib.sha256).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# normalisation and validation
# --------------------------------------------------------------------------------------
_RUN_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 2, 3])  # from the rightmost body digit leftwards


def run_check_value(body: np.ndarray) -> np.ndarray:
    """Modulo-11 check value of integer RUN bodies (0–9, 10 for 'K'), vectorised."""
    rest = np.asarray(body, dtype=np.int64).copy()
    total = np.zeros(len(rest), dtype=np.int64)
    for w in _RUN_WEIGHTS:
        total += (rest % 10) * w
        rest //= 10
    return (11 - total % 11) % 11


def run_check_digit(body: np.ndarray) -> np.ndarray:
    """Modulo-11 check digit ('0'..'9' or 'K') of integer RUN bodies, vectorised."""
    check = run_check_value(body)
    return np.where(check == 10, "K", check.astype(str))


def _compact(arr: pa.Array) -> pa.Array:
    for ch in (".", "-", " ", "\t"):
        arr = pc.replace_substring(arr, ch, "")
    return pc.utf8_upper(arr)


def _arrow(values: pd.Series) -> pa.Array:
    """Zero-copy view of an Arrow-backed string column (pandas 3 "str"), else a conversion."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return pa.array(values.array).cast(_LARGE)
    return pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=_LARGE)


_LARGE = pa.large_string()
_EMPTY = pa.scalar("", _LARGE)
_NULL = pa.scalar(None, _LARGE)


def normalise_run(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(compact RUN '12345678K' or <NA>, rule or <NA>) for each value; missing stays missing.

    Accepts '12.345.678-5', '12345678-5', '123456785' and a lower-case k (Arrow compute, no
    Python loop). Rules: ``invalid_run_format`` (not 7–8 digits and a check digit) and
    ``invalid_run_check_digit``.
    """
    arr = _arrow(values)
    compact = _compact(arr)
    compact = pc.if_else(
        pc.starts_with(compact, "CL"), pc.utf8_slice_codeunits(compact, 2), compact
    )
    matched = pc.fill_null(pc.match_substring_regex(compact, r"^\d{7,8}[0-9K]$"), False)
    matched_np = matched.to_numpy(zero_copy_only=False)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    body = pc.utf8_slice_codeunits(compact, 0, -1)
    given = pc.utf8_slice_codeunits(compact, -1)
    number = pc.cast(pc.if_else(matched, body, pa.scalar("0", _LARGE)), pa.int64())
    given_num = pc.cast(
        pc.if_else(matched, pc.replace_substring(given, "K", "10"), pa.scalar("0", _LARGE)),
        pa.int64(),
    ).to_numpy(zero_copy_only=False)
    expected = run_check_value(number.to_numpy(zero_copy_only=False))
    good = matched_np & (expected == given_num)
    rule = np.full(len(arr), None, dtype=object)
    rule[present & ~matched_np] = "invalid_run_format"
    rule[matched_np & ~good] = "invalid_run_check_digit"
    normal = pc.binary_join_element_wise(pc.utf8_ltrim(body, "0"), given, _EMPTY)
    normal = pc.if_else(pa.array(good), normal, _NULL)
    index = values.index
    return pd.Series(normal.to_pandas().array, index=index), pd.Series(
        rule, index=index, dtype="str"
    )


def normalise_passport(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(upper-case letters and digits, rule or <NA>); 5–20 characters after removing spaces/dashes."""
    arr = _arrow(values)
    compact = _compact(arr)
    ok = pc.fill_null(pc.match_substring_regex(compact, r"^[A-Z0-9]{5,20}$"), False)
    ok_np = ok.to_numpy(zero_copy_only=False)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    rule = np.full(len(arr), None, dtype=object)
    rule[present & ~ok_np] = "invalid_passport_format"
    normal = pc.if_else(ok, compact, _NULL)
    index = values.index
    return pd.Series(normal.to_pandas().array, index=index), pd.Series(
        rule, index=index, dtype="str"
    )


def explain_run(value: str) -> str:
    """python-stdnum's own explanation of why a RUN is invalid (for error messages)."""
    try:
        stdnum_rut.validate(value)
    except stdnum_exceptions.ValidationError as exc:
        return exc.message
    return "valid"


def mask_identifier(values: pd.Series) -> pd.Series:
    """Keep only the last three characters, enough to find a typo, too few to identify."""
    s = values.astype("string")
    return ("*" * 5 + s.str.strip().str[-3:]).where(s.notna() & (s.str.strip() != ""), s)


# --------------------------------------------------------------------------------------
# hashing
# --------------------------------------------------------------------------------------
def hmac_hex(message: str, key: bytes) -> str:
    """Reference implementation for one value (the vectorised path must agree with it)."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def person_keys(normalised: pd.Series, kind: str, key: bytes) -> pd.Series:
    """HMAC-SHA256 hex of ``"<KIND>:<value>"`` for each non-missing normalised identifier.

    HMAC(K, m) = SHA256((K ^ opad) || SHA256((K ^ ipad) || m)), computed by DuckDB over the
    distinct values, then broadcast back.
    """
    prefix = {"RUN": "RUN:", "passport": "PASSPORT:"}[kind]
    out = np.full(len(normalised), None, dtype=object)
    present = normalised.notna().to_numpy()
    if not present.any():
        return pd.Series(out, index=normalised.index, dtype="str")
    codes, uniques = pd.factorize(normalised[present])
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block)
    opad = bytes(b ^ 0x5C for b in block)
    msgs = pa.table(
        {
            "m": pc.binary_join_element_wise(
                pa.scalar(prefix, _LARGE), _arrow(pd.Series(uniques)), _EMPTY
            )
        }
    )
    con = duckdb.connect()
    try:
        con.register("msgs", msgs)
        digests = con.execute(
            "SELECT sha256($opad || unhex(sha256($ipad || encode(m)))) AS h FROM msgs",
            {"ipad": ipad, "opad": opad},
        ).fetchnumpy()["h"]
    finally:
        con.close()
    out[present] = np.asarray(digests, dtype=object)[codes]
    return pd.Series(out, index=normalised.index, dtype="str")
