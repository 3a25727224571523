"""JSON.parse as JavaScript does it, for input Python's parser cannot take as it is."""

from __future__ import annotations

import pytest

from runtime import jsjson


def test_parse_rejects_nesting_deeper_than_python_stack() -> None:
    text = "[" * 100_000 + "]" * 100_000

    with pytest.raises(jsjson.JSONParseError, match=r"JSON nested too deeply to parse"):
        jsjson.parse(text)


def test_parse_accepts_nesting_of_hundred_levels() -> None:
    text = '{"a":' * 100 + "1" + "}" * 100

    value = jsjson.parse(text)

    for _ in range(100):
        value = value["a"]
    assert value == 1
