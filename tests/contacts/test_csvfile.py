"""Reading CSV files in the encodings, delimiters and line ends that real exports use."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.contacts.csvfile import CsvFormatError, CsvReader, detect_format

ROWS = [["phone", "first_name"], ["+447911123456", "Zoë"], ["+447911123457", "Renée, Jr."]]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _read_all(path: Path, **options: str) -> tuple[list[str], list[tuple[int, list[str] | str]]]:
    with CsvReader(path, detect_format(path, **options)) as reader:
        header = reader.read_header()
        return header, list(reader.records())


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_detect_format_finds_encoding(tmp_path: Path, encoding: str, expected: str) -> None:
    path = _write(tmp_path / "c.csv", 'phone,first_name\r\n+447911123456,Zoë\r\n+447911123457,"Renée, Jr."\r\n', encoding)

    header, records = _read_all(path)

    assert detect_format(path).encoding == expected
    assert header == ROWS[0]
    assert [cells for _, cells in records] == ROWS[1:]


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_detect_format_sniffs_delimiter(tmp_path: Path, delimiter: str, name: str) -> None:
    text = "\n".join(delimiter.join(f'"{cell}"' if "," in cell else cell for cell in row) for row in ROWS) + "\n"
    path = _write(tmp_path / "c.csv", text, "utf-8")

    file_format = detect_format(path)

    assert file_format.delimiter == delimiter
    assert name in file_format.describe()
    assert _read_all(path)[1][1][1] == ROWS[2]


def test_detect_format_keeps_given_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "phone;name\n+447911123456;Ann\n", "utf-8")

    assert detect_format(path, delimiter=",").delimiter == ","


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_reader_handles_line_ends_and_quoted_newlines(tmp_path: Path, line_end: str) -> None:
    text = line_end.join(['phone,note', '+447911123456,"two' + line_end + 'lines"', '+447911123457,"say ""hi"""', "", ""])
    path = _write(tmp_path / "c.csv", text, "utf-8")

    _, records = _read_all(path)

    assert records == [
        (2, ["+447911123456", "two" + line_end + "lines"]),
        (4, ["+447911123457", 'say "hi"']),
    ]


def test_reader_skips_blank_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "phone,name\n\n+447911123456,Ann\n , \n\n", "utf-8")

    _, records = _read_all(path)

    assert records == [(3, ["+447911123456", "Ann"])]


def test_reader_reports_oversized_cell_and_continues(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("phone,note\n+447911123456," + "x" * (1024 * 1024 + 1) + "\n+447911123457,Bob\n")

    _, records = _read_all(path, delimiter=",")

    assert records[0][0] == 2
    assert isinstance(records[0][1], str)
    assert "unreadable CSV record: field larger than field limit" in records[0][1]
    assert records[-1][1] == ["+447911123457", "Bob"]


def test_detect_format_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="missing.csv: file not found; check the path"):
        detect_format(tmp_path / "missing.csv")


def test_detect_format_rejects_unknown_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "phone\n", "utf-8")

    with pytest.raises(CsvFormatError, match="unknown encoding 'klingon'"):
        detect_format(path, encoding="klingon")


def test_read_header_rejects_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "\n\n", "utf-8")

    with pytest.raises(CsvFormatError, match="the file has no header row"):
        _read_all(path)


def test_reader_rejects_wrong_given_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "phone,name\n+447911123456,Zoë\n", "cp1252")

    with pytest.raises(CsvFormatError, match="invalid utf-8 text at byte 27 .*pass the file's encoding with --encoding"):
        _read_all(path, encoding="utf-8")
