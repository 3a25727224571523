"""The RFC 4180 CSV parser: Node-RED's cell rules, and the csv-module fast path agreeing with the exact one."""

from __future__ import annotations

import random

import pytest

from nodes.parser import csvparse


def parse_exact(text: str, headers: list[str], *, include_null: bool, include_empty: bool,
                parse_numeric: bool) -> list[dict[str, object]]:
    """Parse with the character loop only, for comparison with the fast path."""
    columns = [(i, h) for i, h in enumerate(headers) if h]
    convert = csvparse._number_or_text if parse_numeric else None
    objects = []
    for row in csvparse.parse_rows(text).rows:
        obj = csvparse._row_object(row, columns, False, include_null, include_empty, convert)
        if obj:
            objects.append(obj)
    return objects


def test_parse_rows_tells_null_from_empty_string() -> None:
    rows = csvparse.parse_rows('1,,"",4\n').rows
    assert rows == [["1", None, "", "4"]]


def test_parse_rows_drops_last_empty_cell() -> None:
    assert csvparse.parse_rows('a,""\nb,\n').rows == [["a"], ["b"]]


def test_parse_rows_repairs_stray_quotes() -> None:
    assert csvparse.parse_rows('ab""c,"x"y\n').rows == [['ab"c', 'x"y']]


def test_parse_rows_keeps_quoted_line_breaks() -> None:
    assert csvparse.parse_rows('"a\r\nb",c\r\nd,e').rows == [["a\r\nb", "c"], ["d", "e"]]


@pytest.mark.parametrize(
    ("text", "name", "line", "column"),
    [
        ('a,b"c\n', "UnquotedQuoteError", 1, 4),
        ('x\n"a"b,c\n', "DataAfterCloseError", 2, 4),
        ('a,"open\nmore', "ParseError", 2, 5),
    ],
)
def test_parse_rows_strict_error_names_line_and_column(text: str, name: str, line: int, column: int) -> None:
    cursor = 2 if text.startswith("x") else 0
    with pytest.raises(csvparse.CSVParseError, match=f"at line {line}, column {column}$") as caught:
        csvparse.parse_rows(text, strict=True, cursor=cursor)
    assert caught.value.name == name


def test_parse_objects_converts_numbers_as_javascript() -> None:
    text = "0x1F,012,+5,1e3,-0.5,.5,Infinity, 7 ,abc,-012,12345678901234567890\n"
    headers = list("abcdefghijk")
    objects, _ = csvparse.parse_objects(text, headers=headers, parse_numeric=True)
    assert objects == [{"a": 31, "b": "012", "c": "+5", "d": 1000, "e": -0.5, "f": 0.5, "g": float("inf"),
                        "h": 7, "i": "abc", "j": "-012", "k": 12345678901234567890 * 1.0}]


def test_parse_objects_names_columns_after_first_row() -> None:
    objects, headers = csvparse.parse_objects("p,q,\nr,s,t\n", headers=None)
    assert headers == ["col1", "col2"]
    assert objects == [{"col1": "p", "col2": "q"}, {"col1": "r", "col2": "s"}]


def random_csv(generator: random.Random) -> str:
    """Return either random characters or rows of typical cells, some empty or quoted."""
    if generator.random() < 0.5:
        alphabet = ["a", "1", ",", '"', "\n", "\r", " ", "-", "."]
        return "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 16)))
    cells = ["", "1", "a", '""', '"x,y"', '"say ""hi"""', "0x1", "-2.5", "007"]
    width = generator.choice([2, 3])
    rows = (",".join(generator.choice(cells) for _ in range(width)) for _ in range(generator.randint(1, 5)))
    return "\n".join(rows)


def test_fast_path_agrees_with_character_loop() -> None:
    generator = random.Random(1234)
    fast_paths = 0
    for _ in range(4000):
        text = random_csv(generator)
        options = {"include_null": generator.random() < 0.5, "include_empty": generator.random() < 0.5,
                   "parse_numeric": generator.random() < 0.5}
        headers = generator.choice([["h1", "h2", "", "h4"], ["h1", "h2", "h3"], ["h1", "h2"]])
        fast_paths += csvparse._fast_rows(text, ",", '"', 0) is not None
        objects, _ = csvparse.parse_objects(text, headers=headers, **options)
        assert objects == parse_exact(text, headers, **options), repr(text)
    assert fast_paths > 1500


def test_quote_cell_quotes_and_doubles() -> None:
    assert csvparse.quote_cell('say "hi"') == '"say ""hi"""'
    assert csvparse.quote_cell("a,b") == '"a,b"'
    assert csvparse.quote_cell("line\nbreak") == '"line\nbreak"'
    assert csvparse.quote_cell("plain") == "plain"
