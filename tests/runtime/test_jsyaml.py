"""YAML with js-yaml 4's results (expectations checked with js-yaml 4.1.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from runtime import jsyaml
from runtime.jsvalues import UNDEFINED, JSOpaque


def test_load_uses_yaml_1_2_core_types() -> None:
    loaded = jsyaml.load("a: yes\nb: on\nc: 0777\nd: 0o17\ne: 0x1F\nf: 1_000\ng: 1.0\nh: True\ni: ~\nj: 012")

    assert loaded == {"a": "yes", "b": "on", "c": 777, "d": 15, "e": 31, "f": 1000, "g": 1, "h": True, "i": None, "j": 12}


def test_load_timestamps_as_utc_dates() -> None:
    loaded = jsyaml.load("a: 2020-01-02\nb: 2020-01-02 03:04:05\nc: 2020-01-02T03:04:05+02:00")

    assert loaded["a"] == dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)
    assert loaded["b"] == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert loaded["c"] == dt.datetime(2020, 1, 2, 1, 4, 5, tzinfo=dt.timezone.utc)


def test_load_binary_as_uint8array() -> None:
    assert jsyaml.load("!!binary aGk=") == JSOpaque({"__nr__": "TypedArray", "type": "Uint8Array", "data": [104, 105]})


def test_load_invalid_yaml_raises() -> None:
    with pytest.raises(jsyaml.YAMLError, match="expected ',' or '}'"):
        jsyaml.load("a: {bad\nb: 1")


def test_load_empty_text_is_undefined() -> None:
    assert jsyaml.load("") is UNDEFINED
    assert jsyaml.load("# only a comment") is None
