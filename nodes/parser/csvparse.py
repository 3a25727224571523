"""CSV parsing and quoting with the rules of Node-RED 4.1.8's RFC 4180 parser.

Rules that differ from Python's :mod:`csv` module, and why both are used:

* An unquoted empty cell is ``None`` (JavaScript ``null``); a quoted ``""`` is
  an empty string, except as a row's last cell, which Node-RED drops.
* ``\\r``, ``\\n`` and ``\\r\\n`` end a row; blank lines give no row.
* Outside strict mode, stray quotes are repaired the way Node-RED repairs
  them (``ab""c`` reads ``ab"c``; ``"ab"c`` reads ``ab"c``) and an unclosed
  quote runs to the end of the text.
* In strict mode (header rows and column templates) those become errors.

:func:`parse_objects` hands well-formed text to :func:`csv.reader` (C speed)
when every quote belongs to a field that is quoted from its first to its last
character and no field is a quoted empty string: there the two parsers agree,
except that :mod:`csv` cannot tell an unquoted empty cell from a quoted one
(Python 3.12 added that, as ``QUOTE_NOTNULL``). Anything else goes through
:class:`_CharParser`, a character loop with Node-RED's exact rules.
"""

from __future__ import annotations

import csv
import functools
import gc
import io
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

from runtime.jsvalues import to_js_number

# Node-RED leaves cells that start with "+" or a leading zero as text.
_SKIP_NUMBER_RE = re.compile(r"^ *(\+|-0\d|0\d)")

# First characters of a string that JavaScript's Number() may accept: digits,
# sign, point, "Infinity", and whitespace (which Number() trims).
_NUMBER_START = frozenset("0123456789+-.I \t\n\r\v\f\xa0\ufeff\u2028\u2029")

# Stands in for a quoted empty field while csv parses; a private-use character,
# and text that already contains it takes the exact parser instead.
_EMPTY_MARK = "\ue000"

# Plain integers with fewer digits than this convert exactly without floats.
_EXACT_INT_DIGITS = 16

# Cells that Number() reads exactly as int() or float() do: integers below
# 2**53 without leading zeros, and plain decimals.
_INT_CELL_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,14})")
_DECIMAL_CELL_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
# A cell after the first that may be a number: its first character is in _NUMBER_START.
_NUMBER_CANDIDATE_RE = re.compile(r"\n[0-9+\-.I \t\r\v\f\xa0\ufeff\u2028\u2029]")


class CSVParseError(ValueError):
    """Malformed CSV in strict mode; ``name`` is Node-RED's error class name.

    ``cursor`` is the offset in the text, ``line`` and ``column`` count from 1.
    """

    def __init__(self, name: str, message: str, text: str, cursor: int) -> None:
        self.name = name
        self.reason = message
        self.cursor = cursor
        self.line = _line_number(text, cursor)
        self.column = cursor - max(text.rfind("\n", 0, cursor), text.rfind("\r", 0, cursor))
        super().__init__(f"{message} at line {self.line}, column {self.column}")


@dataclass
class ParsedRows:
    """Rows of cells (``None`` for unquoted empty cells) and where parsing stopped."""

    rows: list[list[str | None]]
    cursor: int


def parse_rows(text: str, *, separator: str = ",", quote: str = '"', cursor: int = 0,
               strict: bool = False, first_row_only: bool = False) -> ParsedRows:
    """Split ``text`` from ``cursor`` into rows with Node-RED's exact rules.

    With ``first_row_only`` parsing stops after the first line break, and the
    returned cursor is the offset just past it.

    Raises :class:`CSVParseError` in strict mode for a quote inside an unquoted
    field, data after a closing quote, or an unclosed quote.
    """
    parser = _CharParser(text, separator, quote, strict)
    parser.run(cursor, first_row_only)
    return ParsedRows(parser.rows, parser.cursor)


def header_text(headers: list[Any], *, separator: str = ",", quote: str = '"') -> str:
    """Join the non-empty headers with commas, quoting them as Node-RED's ``header`` does."""
    return ",".join(quote_cell(h, quote=quote, separator=separator) for h in headers if h)


def quote_cell(cell: str, *, quote: str = '"', separator: str = ",", quoteables: tuple[str, ...] | None = None) -> str:
    """Quote ``cell`` when it contains a quoteable character; double the quotes inside it."""
    quoteables = quoteables if quoteables is not None else (quote, separator, "\r", "\n")
    if quote in cell:
        cell = cell.replace('"', '""')
    if any(q in cell for q in quoteables):
        return quote + cell + quote
    return cell


def parse_objects(text: str, *, headers: list[Any] | None, separator: str = ",", quote: str = '"', cursor: int = 0,
                  include_null: bool = False, include_empty: bool = False,
                  parse_numeric: bool = False) -> tuple[list[dict[str, Any]], list[Any]]:
    """Parse data rows into one object per row, keyed by ``headers``.

    Without headers they are ``col1``, ``col2``… for as many cells as the first
    row has. Rows whose kept cells are all dropped give no object. Returns the
    objects and the headers used.
    """
    # The rows and objects built here hold no reference cycles, yet the cyclic
    # garbage collector would scan them again and again while they are built:
    # pausing it cut a 10 MB parse from about 4.9 s to 1.7 s (bench/csv_node.py, 2 cores).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_objects(text, headers, separator, quote, cursor, include_null, include_empty, parse_numeric)
    finally:
        if collecting:
            gc.enable()


def _parse_objects(text: str, headers: list[Any] | None, separator: str, quote: str, cursor: int,
                   include_null: bool, include_empty: bool, parse_numeric: bool) -> tuple[list[dict[str, Any]], list[Any]]:
    fast = _fast_rows(text, separator, quote, cursor)
    empty_is_null = fast is not None and fast[1]
    rows: list[list[Any]] = fast[0] if fast is not None else parse_rows(text, separator=separator, quote=quote, cursor=cursor).rows
    headers = list(headers) if headers else []
    if not headers and rows:
        width = len(rows[0])
        if empty_is_null and rows[0][-1] == "":
            # Node-RED drops a row's last cell when it is empty, so it names no column.
            width -= 1
        headers = [f"col{i + 1}" for i in range(width)]

    if empty_is_null:
        uniform = _uniform_objects(rows, headers, parse_numeric, include_null)
        if uniform is not None:
            return uniform, headers

    columns = [(index, header) for index, header in enumerate(headers) if header]
    convert = _number_or_text if parse_numeric else None
    objects = []
    for row in rows:
        row_object = _row_object(row, columns, empty_is_null, include_null, include_empty, convert)
        if row_object:
            objects.append(row_object)
    return objects, headers


def _uniform_objects(rows: list[list[Any]], headers: list[Any], parse_numeric: bool,
                     include_null: bool) -> list[dict[str, Any]] | None:
    """Build the objects column by column when every row has a cell for every named column; else None.

    This is the common shape of large files, and working per column lets C
    code (``zip``, ``map``, one regular expression per column) do most of it.
    The rows come from :mod:`csv`, where an empty string is an unquoted empty
    cell; those cells are fixed up afterwards in the few rows that have them.
    """
    width = len(headers)
    if not rows or not all(headers) or len(set(headers)) != width:
        return None
    if set(map(len, rows)) != {width}:
        return None
    columns: list[Any] = list(zip(*rows))
    sparse = [index for index, column in enumerate(columns) if "" in column]
    if parse_numeric:
        columns = [_convert_column(column) if index not in sparse else list(map(_number_or_text, column))
                   for index, column in enumerate(columns)]
    objects = list(map(dict, map(zip, itertools.repeat(headers), zip(*columns))))
    if not sparse:
        return objects

    emptied = False
    for index in sparse:
        header = headers[index]
        for row_index, value in enumerate(columns[index]):
            if value == "":
                if include_null:
                    objects[row_index][header] = None
                else:
                    del objects[row_index][header]
                    emptied = True
    # A row whose every cell was dropped gives no object, as in Node-RED.
    return list(filter(None, objects)) if emptied else objects


def _convert_column(column: tuple[str, ...]) -> Any:
    """Apply :func:`_number_or_text` to a column, recognising all-integer and all-decimal columns at once."""
    if all(map(_INT_CELL_RE.fullmatch, column)):
        return list(map(int, column))
    if all(map(_DECIMAL_CELL_RE.fullmatch, column)):
        numbers = list(map(float, column))
        if any(map(float.is_integer, numbers)):
            # JavaScript has one number type: 2.0 is 2.
            numbers = [int(n) if n.is_integer() else n for n in numbers]
        return numbers
    joined = "\n".join(column)
    if joined.count("\n") == len(column) - 1 and column[0][:1] not in _NUMBER_START:
        # No cell contains a line break, so each "\n" starts a cell: none can be a number.
        if not _NUMBER_CANDIDATE_RE.search(joined):
            return column
    return list(map(_number_or_text, column))


def _row_object(row: list[Any], columns: list[tuple[int, Any]], empty_is_null: bool, include_null: bool,
                include_empty: bool, convert: Any) -> dict[str, Any]:
    width = len(row)
    result: dict[str, Any] = {}
    for index, header in columns:
        value = row[index] if index < width else None
        if value is None or (empty_is_null and value == ""):
            if include_null:
                result[header] = None
            continue
        if value == "":
            if include_empty:
                result[header] = ""
            continue
        result[header] = convert(value) if convert is not None else value
    return result


def _number_or_text(value: str) -> Any:
    """Convert a cell as Node-RED does with "parse numerical values" on (``+v`` unless NaN)."""
    if not value:
        return value
    if value.isdigit() and value.isascii():
        if value[0] == "0" and len(value) > 1:
            return value
        return int(value) if len(value) < _EXACT_INT_DIGITS else to_js_number(value)
    if value[0] not in _NUMBER_START or _SKIP_NUMBER_RE.match(value):
        return value
    number = to_js_number(value)
    return value if isinstance(number, float) and math.isnan(number) else number


def _fast_rows(text: str, separator: str, quote: str, cursor: int) -> tuple[list[list[Any]], bool] | None:
    """Parse with :mod:`csv` when its result equals Node-RED's (see the module docstring), else None.

    Returns the rows and whether an empty string in them means an unquoted
    empty cell (True), or whether the rows are already in :func:`parse_rows`'s
    form with ``None`` for those cells (False, when the text has quoted empty
    strings).
    """
    if len(separator) != 1 or separator in (quote, "\r", "\n") or quote != '"':
        return None
    data = text[cursor:] if cursor else text
    marked = False
    if quote in data:
        if not _quotes_well_formed(data, separator):
            return None
        if _quoted_empty_re(separator).search("\n" + data):
            if _EMPTY_MARK in data:
                return None
            data, count = _mark_quoted_empty(data, separator)
            marked = count > 0
    try:
        reader = csv.reader(io.StringIO(data, newline=""), delimiter=separator, quotechar=quote, strict=True)
        rows = list(filter(None, reader))
    except csv.Error:
        # For example a field over csv.field_size_limit; the character loop has no limit.
        return None
    if not marked:
        return rows, True
    return [row for row in map(_unmark_row, rows) if row], False


def _mark_quoted_empty(data: str, separator: str) -> tuple[str, int]:
    """Replace each quoted empty field with :data:`_EMPTY_MARK` so csv's result tells it from an empty cell."""
    def mark(match: re.Match[str]) -> str:
        return _EMPTY_MARK if match.end() - match.start() == 2 else match.group()

    marked = _quoted_field_re(separator).sub(mark, "\n" + data)[1:]
    return marked, marked.count(_EMPTY_MARK)


@functools.lru_cache(maxsize=16)
def _quoted_empty_re(separator: str) -> re.Pattern[str]:
    """Match what may be a quoted empty field (it may also be inside a longer quoted field)."""
    edges = re.escape(separator) + r"\r\n"
    return re.compile(f'""(?<=[{edges}]"")(?=[{edges}]|$)')


def _unmark_cell(cell: str) -> Any:
    if cell == "":
        return None
    if cell == _EMPTY_MARK:
        return ""
    return cell


def _unmark_row(row: list[str]) -> list[Any]:
    """Convert a marked csv row to parse_rows's form: drop a last empty cell, mark empty cells None and quoted ones ""."""
    if row[-1] == "" or row[-1] == _EMPTY_MARK:
        row = row[:-1]
    if "" in row or _EMPTY_MARK in row:
        return [_unmark_cell(cell) for cell in row]
    return row


def _quotes_well_formed(data: str, separator: str) -> bool:
    """Check that every quote belongs to a field quoted from its first to its last character.

    Removing every such field must leave no quote behind. Matching left to
    right from field boundaries finds the same fields Node-RED's parser reads.
    """
    # The leading "\n" gives the first field a boundary before it.
    return '"' not in _quoted_field_re(separator).sub("", "\n" + data)


@functools.lru_cache(maxsize=16)
def _quoted_field_re(separator: str) -> re.Pattern[str]:
    """Match a field quoted from its first to its last character, between field boundaries."""
    edges = re.escape(separator) + r"\r\n"
    # Starting with the quote itself lets the regex engine skip ahead to each quote.
    return re.compile(f'"(?<=[{edges}]")(?:[^"]|"")*"(?=[{edges}]|$)')


def _line_number(text: str, cursor: int) -> int:
    head = text[:cursor]
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


class _CharParser:
    """Node-RED's CSV state machine, one character at a time."""

    def __init__(self, text: str, separator: str, quote: str, strict: bool) -> None:
        self.text = text
        self.separator = separator
        self.quote = quote
        self.strict = strict
        self.rows: list[list[str | None]] = []
        self.row: list[str | None] = []
        self.cell: list[str] = []
        self.cursor = 0
        # Node-RED's flags: no character of the cell seen yet; inside quotes;
        # just after a closing quote.
        self.new_cell = True
        self.in_quote = False
        self.closed = False

    def finish_cell(self) -> None:
        text = "".join(self.cell)
        self.cell = []
        if not text and self.new_cell:
            self.row.append(None)  # no character at all: an unquoted empty cell
        else:
            self.row.append(text)

    def finish_row(self) -> None:
        if self.cell:
            self.finish_cell()
        if self.row:
            self.rows.append(self.row)
            self.row = []

    def run(self, cursor: int, first_row_only: bool) -> None:
        text, end = self.text, len(self.text)
        self.cursor = cursor
        while self.cursor < end:
            char = text[self.cursor]
            if self.in_quote:
                self._quoted_char(char)
            elif char == self.separator:
                self.finish_cell()
                self.cursor += 1
                self.new_cell, self.closed = True, False
            elif char == self.quote:
                self._quote_outside()
            elif char in "\r\n":
                self.finish_row()
                self.cursor += 2 if text[self.cursor + 1 : self.cursor + 2] == "\n" else 1
                self.new_cell, self.closed = True, False
                if first_row_only:
                    break
            else:
                self._plain_char(char)
        if self.strict and self.in_quote:
            raise CSVParseError("ParseError", "Missing quote, unclosed cell", text, self.cursor)
        self.finish_row()

    def _quoted_char(self, char: str) -> None:
        text = self.text
        if char == self.quote and text[self.cursor + 1 : self.cursor + 2] == self.quote:
            self.cell.append(self.quote)
            self.cursor += 2
            self.closed = False
        elif char == self.quote:
            self.in_quote = False
            self.cursor += 1
            self.closed = True
        else:
            self.cell.append(char)
            self.cursor += 1
            self.closed = False
        self.new_cell = False

    def _quote_outside(self) -> None:
        if self.new_cell:
            self.in_quote = True
            self.cursor += 1
            self.new_cell, self.closed = False, False
            return
        if self.strict:
            raise CSVParseError("UnquotedQuoteError", "Quote found in the middle of an unquoted field", self.text, self.cursor)
        # Keep one quote unless it ends the cell; a doubled quote counts once.
        self.cursor += 1
        following = self.text[self.cursor : self.cursor + 1]
        if following and following not in ("\n", "\r", self.separator):
            self.cell.append(self.quote)
            if following == self.quote:
                self.cursor += 1

    def _plain_char(self, char: str) -> None:
        if not self.closed:
            self.cell.append(char)
            self.new_cell = False
            self.cursor += 1
            return
        if self.strict:
            raise CSVParseError("DataAfterCloseError", "Data found after closing quote", self.text, self.cursor)
        # Step back onto the closing quote so it is read again as a stray quote.
        self.cursor -= 1
        self.closed = False
