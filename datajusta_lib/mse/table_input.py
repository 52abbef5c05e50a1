"""Reading a capture-history file for ``datajusta mse``, with errors in Spanish or English.

:func:`read_capture_table` reads a CSV whatever its delimiter (``,``, ``;``, tab or ``|``,
sniffed), refuses an empty file and a header that names a list twice (pandas would silently
rename the second ``A`` to ``A.1`` and estimate from a list that does not exist), and finds the
count column under its usual names (:data:`COUNT_NAMES`) unless ``--count`` names it.

Every :class:`~datajusta_lib.mse.data.MSEInputError` raised while reading capture histories
carries a message key and plain values (numbers, not ``np.int64(2)``); :func:`error_text` gives
it in either language from ``data/i18n/mse_errors.yaml`` (through the one text lookup).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..core.i18n import text
from .data import error, message

COUNT_NAMES = ("count", "Freq", "frequency", "n")  # matched without regard to case
DELIMITERS = ",;\t|"


def error_text(exc: Exception, lang: str) -> str:
    """The error in ``lang`` (its own text when it carries no message key)."""
    key = getattr(exc, "key", None)
    if key is None:
        return str(exc)
    source = exc.source
    if source == text("source_table", "en"):
        source = text("source_table", lang)
    return f"{source}: {message(key, lang, **exc.values)}"


def read_capture_table(path: Path, count: str | None = None):
    """(table, count column) from a capture-history CSV; raises MSEInputError naming the file."""
    import pandas as pd

    where = str(path)
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise error(where, "empty_file")
    sample = "\n".join(text.splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader([text.splitlines()[0]], delimiter=delimiter))
    header = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise error(where, "duplicate_lists", name=name, columns=[seen[name] + 1, i + 1])
        seen[name] = i
    try:
        df = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise error(where, "unreadable", reason=str(exc).strip().splitlines()[0]) from None
    df.columns = [str(c).strip() for c in df.columns]
    if count is None:
        found = [c for c in df.columns if c.lower() in {n.lower() for n in COUNT_NAMES}]
        if len(found) != 1:
            raise error(where, "no_count_column", names=list(COUNT_NAMES), columns=list(df.columns))
        count = found[0]
    elif count not in df.columns:
        raise error(where, "count_column_missing", count=count, columns=list(df.columns))
    return df, count
