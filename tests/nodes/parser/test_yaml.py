"""The yaml node: js-yaml's reading and layout through PyYAML, and its errors."""

from __future__ import annotations

import datetime as dt

import pytest

from nodes.parser.yaml import dump_yaml, load_yaml
from runtime.jsvalues import UNDEFINED


def test_load_yaml_uses_core_schema() -> None:
    loaded = load_yaml("a: yes\nb: 012\nc: 0o17\nd: 1e3\ne: ~\nf: 2021-03-04\n")
    assert loaded == {"a": "yes", "b": 12, "c": 15, "d": 1000, "e": None,
                      "f": dt.datetime(2021, 3, 4, tzinfo=dt.timezone.utc)}


def test_load_yaml_empty_text_is_undefined() -> None:
    assert load_yaml("# only a comment\n") is UNDEFINED


def test_load_yaml_error_shows_position_and_excerpt() -> None:
    with pytest.raises(ValueError, match=r"^mapping values are not allowed here \(1:5\)\n\n 1 \| a: b: c\n---------\^$"):
        load_yaml("a: b: c")


def test_dump_yaml_quotes_ambiguous_strings() -> None:
    assert dump_yaml({"n": "y", "v": "1e3", "w": "word"}) == "'n': 'y'\nv: '1e3'\nw: word\n"


def test_dump_yaml_writes_dates_and_multiline_text() -> None:
    value = {"at": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "text": "a\nb"}
    assert dump_yaml(value) == "at: 2020-01-02T03:04:05.000Z\ntext: |-\n  a\n  b\n"


def test_dump_yaml_rejects_undefined() -> None:
    with pytest.raises(Exception, match="unacceptable kind of an object to dump"):
        dump_yaml({"a": UNDEFINED})
