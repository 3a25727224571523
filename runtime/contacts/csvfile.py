"""Read contact CSV files as real exports write them, streaming and in constant memory.

Encodings: a byte order mark selects UTF-8 or UTF-16. Without one the file is
UTF-8 when every byte decodes as UTF-8, else Windows-1252 (cp1252), which is
what Excel writes on Western-European Windows. A caller can name the
encoding instead. The check reads the whole file once more, in 1 MiB chunks,
before the import starts.

Delimiters: comma, semicolon, tab or pipe, chosen by parsing the first 64 KiB
with each and picking the one that gives the widest header with the most
rows of the same width. A caller can name the delimiter instead.

Line ends CRLF, LF and lone CR all work, and so do quoted fields with
delimiters, doubled quotes and line breaks. Rows that are blank are skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_CHARS = 64 * 1024
_SCAN_CHUNK_BYTES = 1024 * 1024
# Maximum cell size. No contact field is this long, and the limit bounds the
# memory one row can take. The csv module's default is 128 KiB.
_FIELD_SIZE_LIMIT = 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class CsvFormatError(ValueError):
    """A file that cannot be read as CSV at all; the message names the file and what to do."""


@dataclass(frozen=True)
class CsvFormat:
    """Text encoding and delimiter of a CSV file, and whether each was detected."""

    encoding: str
    delimiter: str
    encoding_detected: bool = True
    delimiter_detected: bool = True

    def describe(self) -> str:
        encoding = self.encoding + (" (detected)" if self.encoding_detected else "")
        delimiter = DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        return f"encoding {encoding}, {delimiter} delimiter" + (" (detected)" if self.delimiter_detected else "")


def detect_format(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> CsvFormat:
    """Return the encoding and delimiter to read ``path`` with; given values win over detection."""
    try:
        with open(path, "rb") as binary:
            chosen_encoding = encoding or _detect_encoding(binary, path)
    except FileNotFoundError:
        raise CsvFormatError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise CsvFormatError(f"{path}: is a directory; give a CSV file") from None

    try:
        codecs.lookup(chosen_encoding)
    except LookupError:
        raise CsvFormatError(f"{path}: unknown encoding {chosen_encoding!r}; use for example utf-8 or cp1252") from None

    if delimiter is not None:
        if len(delimiter) != 1:
            raise CsvFormatError(f"invalid delimiter {delimiter!r}: give one character, such as ';' or '\\t'")
        return CsvFormat(chosen_encoding, delimiter, encoding is None, False)
    return CsvFormat(chosen_encoding, _sniff_delimiter(path, chosen_encoding), encoding is None, True)


def _detect_encoding(binary: BinaryIO, path: Path) -> str:
    start = binary.read(4)
    for bom, name in _BOMS:
        if start.startswith(bom):
            return name

    binary.seek(0)
    if _decodes_whole_file(binary, "utf-8"):
        return "utf-8"
    binary.seek(0)
    if _decodes_whole_file(binary, "cp1252"):
        return "cp1252"
    raise CsvFormatError(
        f"{path}: text is neither UTF-8 nor Windows-1252; save it as UTF-8 or pass the encoding (--encoding)"
    )


def _decodes_whole_file(binary: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := binary.read(_SCAN_CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(path: Path, encoding: str) -> str:
    try:
        with open(path, encoding=encoding, newline="") as text:
            sample = text.read(_SNIFF_CHARS)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(
            f"{path}: invalid {encoding} text at byte {exc.start} ({exc.reason}); "
            "pass the file's encoding with --encoding"
        ) from exc
    complete = len(sample) < _SNIFF_CHARS
    if not complete:
        # Drop the last, probably cut, line.
        sample = sample[: max(sample.rfind("\n"), sample.rfind("\r"), 0)]

    best, best_score = ",", (0.0, 1)
    for candidate in DELIMITERS:
        try:
            # newline="" so that lone CR line ends split lines, as in the file.
            records = [row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=candidate) if row]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        same_width = sum(1 for row in records[1:] if len(row) == width) / max(len(records) - 1, 1)
        score = (same_width, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


class CsvReader:
    """Stream the records of one CSV file with the line number each starts on.

    ``bytes_read`` and ``size_bytes`` let a caller show progress; they count
    the file's bytes, read ahead in buffer-sized steps.
    """

    def __init__(self, path: Path, file_format: CsvFormat) -> None:
        self.path = path
        self.format = file_format
        self._binary = open(path, "rb")
        self.size_bytes = path.stat().st_size
        self._text = io.TextIOWrapper(self._binary, encoding=file_format.encoding, newline="")
        csv.field_size_limit(_FIELD_SIZE_LIMIT)
        self._reader = csv.reader(self._text, delimiter=file_format.delimiter)
        self.header: list[str] = []

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read_header(self) -> list[str]:
        """Read the first non-blank record as the header; raises CsvFormatError for an empty file."""
        for _, cells in self._records():
            self.header = cells
            return cells
        raise CsvFormatError(f"{self.path}: the file has no header row; the first row must name the columns")

    def records(self) -> Iterator[tuple[int, list[str] | str]]:
        """Yield ``(line, cells)`` per non-blank record, or ``(line, reason)`` for a broken one.

        Error handling: a record the csv module cannot parse (a cell over
        1 MiB) yields a reason string and reading goes on with the next line.
        """
        return self._records(report_errors=True)

    def _records(self, *, report_errors: bool = False) -> Iterator[tuple[int, list[str] | str]]:
        reader = self._reader
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if not report_errors:
                    raise CsvFormatError(f"{self.path}, line {line}: {exc}") from exc
                yield line, f"unreadable CSV record: {exc}"
                continue
            except UnicodeDecodeError as exc:
                raise CsvFormatError(
                    f"{self.path}: invalid {self.format.encoding} text near line {line} ({exc.reason}); "
                    "pass the file's encoding with --encoding"
                ) from exc
            # Most records have a first cell, and checking it alone skips
            # the generator that a blank record needs.
            first = cells[0] if cells else ""
            if (first and not first.isspace()) or any(cell and not cell.isspace() for cell in cells):
                yield line, cells
