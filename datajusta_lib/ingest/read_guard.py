"""Guards of the CSV and XLSX readers: every physical line of a file is accounted for.

A CSV record may legitimately span lines (a quoted value with a line break), but one stray
``"`` at the start of a field must not swallow the rows after it. Records are therefore
assembled line by line, tracking only whether a quote is open at the end of each line:

- a line that leaves a quote open starts a multi-line record only if the quote closes within
  :data:`MAX_RECORD_LINES` lines, the record splits into the header's columns and none of the
  lines it swallows would split into a row of its own; otherwise that one line is set aside
  with the rule ``unbalanced_quote`` (naming the lines involved) and the following lines are
  read on their own;
- a quote still open at the end of the file is ``unbalanced_quote`` as well;
- a cell longer than :data:`MAX_CELL_CHARS` (Excel's own limit for a cell) cannot come from a
  spreadsheet export: the row is set aside as ``cell_too_long``.

The reader then checks ``data lines == rows read + blank lines + continuation lines``
(:func:`check_accounted`), counting lines from the raw text independently of the parser.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

MAX_RECORD_LINES = 20  # a quoted value may span at most this many lines
MAX_CELL_CHARS = 32_767  # the most characters an Excel cell can hold
_CSV_FIELD_LIMIT = 1 << 26  # the csv module's own limit (128 KiB) would raise mid-file


def raise_csv_field_limit() -> None:
    """Let the csv module read long cells, so that they are reported, not a traceback."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def quote_open_at_end(line: str, delim: str, in_quote: bool = False) -> bool:
    """Whether a quote is still open at the end of ``line`` (csv rules: a quote opens a value
    only at the start of a field; ``""`` inside a quoted value is a literal quote)."""
    pos = 0
    while True:
        p = line.find('"', pos)
        if in_quote:
            if p < 0:
                return True
            if line.startswith('"', p + 1):
                pos = p + 2
                continue
            in_quote = False
        else:
            if p < 0:
                return False
            if p == 0 or line[p - 1] == delim:
                in_quote = True
        pos = p + 1


def _split(text: str, delim: str) -> list[str]:
    return next(csv.reader(io.StringIO(text + "\n"), delimiter=delim), [])


def unparsed_row(file: str, row: int, rule: str, value: str, sheet=None) -> dict:
    # the line itself is never kept: it may hold a RUN or a name
    return {
        "source_file": file,
        "source_sheet": sheet,
        "source_row": row,
        "rule": rule,
        "value": value,
    }


def assemble(lines: list[str], delim: str, width: int, first_line: int, file: str):
    """Records of a CSV body in which some line leaves a quote open.

    Returns ``(records, numbers, unparsed, n_blank, n_continuation)``: the records (lists of
    cells), the line each starts on, rows set aside (``unbalanced_quote``,
    ``wrong_number_of_fields``), blank lines and lines that continue a multi-line record.
    """
    records: list[list[str]] = []
    numbers: list[int] = []
    unparsed: list[dict] = []
    n_blank = n_cont = 0
    blank = delim + " \t"
    n = len(lines)
    i = 0
    while i < n:
        ln = lines[i]
        no = first_line + i
        if '"' in ln and quote_open_at_end(ln, delim):
            rec, j, problem = _quoted_record(lines, i, delim, width, first_line, file)
            if problem is not None:
                unparsed.append(problem)
                i += 1
                continue
            records.append(rec)
            numbers.append(no)
            n_cont += j - i
            i = j + 1
            continue
        i += 1
        if not ln.strip(blank):
            n_blank += 1
            continue
        rec = _split(ln, delim) if '"' in ln else ln.split(delim)
        if not any(v.strip() for v in rec):
            n_blank += 1
        elif len(rec) != width:
            unparsed.append(
                unparsed_row(
                    file, no, "wrong_number_of_fields", f"{len(rec)} fields, the header has {width}"
                )
            )
        else:
            records.append(rec)
            numbers.append(no)
    return records, numbers, unparsed, n_blank, n_cont


def _quoted_record(
    lines: list[str], i: int, delim: str, width: int, first_line: int, file: str
) -> tuple[list[str] | None, int, dict | None]:
    """The record that starts on line ``i`` with a quote left open, read up to the line that
    closes it: ``(cells, last line, None)``, or ``(None, last line looked at, unparsed row)``
    when the quote never closes or closing it does not give a row of the header's width."""
    n = len(lines)
    no = first_line + i
    j, still_open = i, True
    while still_open and j + 1 < n and j + 1 - i < MAX_RECORD_LINES:
        j += 1
        still_open = quote_open_at_end(lines[j], delim, in_quote=True)
    if still_open:
        where = (
            "before the end of the file"
            if j + 1 >= n
            else f"within {MAX_RECORD_LINES} lines (lines {no}-{first_line + j})"
        )
        return None, j, _unbalanced(file, no, f"is not closed {where}")
    rec = _split("\n".join(lines[i : j + 1]), delim)
    # a line in between with a whole row's delimiters was most likely a row of its own
    swallowed = [first_line + k for k in range(i + 1, j + 1) if lines[k].count(delim) >= width - 1]
    if len(rec) != width or swallowed:
        why = (
            f"line(s) {', '.join(map(str, swallowed[:5]))} in between read as rows of their own"
            if swallowed
            else f"together they make {len(rec)} fields, the header has {width}"
        )
        return None, j, _unbalanced(file, no, f"closes on line {first_line + j}, but {why}")
    return rec, j, None


def _unbalanced(file: str, no: int, what: str) -> dict:
    return unparsed_row(
        file,
        no,
        "unbalanced_quote",
        f'a quote (") opened on line {no} {what}; this line is set aside and the lines '
        "after it are read on their own",
    )


def long_cells(frame: pd.DataFrame) -> np.ndarray:
    """Positions of rows holding a cell longer than :data:`MAX_CELL_CHARS`."""
    bad = np.zeros(len(frame), dtype=bool)
    for c in frame.columns:
        lengths = frame[c].str.len().to_numpy(dtype="float64", na_value=0)
        if lengths.max(initial=0) > MAX_CELL_CHARS:
            bad |= lengths > MAX_CELL_CHARS
    return np.flatnonzero(bad)


def set_aside_long_cells(frame: pd.DataFrame, numbers, file: str, header, sheet=None):
    """Drop rows with an over-long cell from ``frame`` (columns ``c0, c1...`` named by
    ``header``); returns (frame, numbers, unparsed)."""
    pos = long_cells(frame)
    if not len(pos):
        return frame, numbers, []
    numbers = np.asarray(numbers)
    out = []
    for p in pos:
        cols = [c for c in frame.columns if len(str(frame[c].iat[p] or "")) > MAX_CELL_CHARS]
        longest = max(len(str(frame[c].iat[p] or "")) for c in cols)
        out.append(
            unparsed_row(
                file,
                int(numbers[p]),
                "cell_too_long",
                f"a cell of {longest:,} characters (column {header[int(cols[0][1:])]}); a "
                f"spreadsheet cell holds "
                f"at most {MAX_CELL_CHARS:,}",
                sheet,
            )
        )
    keep = np.ones(len(frame), dtype=bool)
    keep[pos] = False
    return frame[keep].reset_index(drop=True), numbers[keep], out


def count_lines(body: str) -> int:
    """Physical lines of a body of text (a final line break does not start a line)."""
    if not body:
        return 0
    return body.count("\n") + (0 if body.endswith("\n") else 1)


class LinesNotAccounted(AssertionError):
    """The reader's own invariant: every physical data line is a row, blank or continuation."""


def check_accounted(info, n_rows: int, n_unparsed: int) -> None:
    total = n_rows + n_unparsed + info.n_blank + info.n_continuation
    if info.n_lines is not None and total != info.n_lines:
        raise LinesNotAccounted(
            f"{info.file}: {info.n_lines} data lines but {n_rows} rows + {n_unparsed} set aside "
            f"+ {info.n_blank} blank + {info.n_continuation} continuation lines"
        )
