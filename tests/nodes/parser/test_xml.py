"""The xml conversion: xml2js's object shape, its builder output, and sax-style errors."""

from __future__ import annotations

import pytest

from nodes.parser.xmlconvert import XMLError, build_xml, parse_xml


def test_parse_xml_round_trips_through_build() -> None:
    text = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><r a="1"><i>x</i><i b="2">y</i></r>'
    parsed = parse_xml(text, {})
    assert parsed == {"r": {"$": {"a": "1"}, "i": ["x", {"_": "y", "$": {"b": "2"}}]}}
    assert build_xml(parsed, {"renderOpts": {"pretty": False}}) == text


def test_parse_xml_without_explicit_array() -> None:
    assert parse_xml("<r><c>1</c><c>2</c><d/></r>", {"explicitArray": False}) == {"r": {"c": ["1", "2"], "d": ""}}


def test_parse_xml_error_uses_sax_wording() -> None:
    with pytest.raises(XMLError, match=r"^Unexpected close tag\nLine: 1\nColumn: 7\nChar: >$"):
        parse_xml("<a>\n<b></a></b>", {})


def test_build_xml_rejects_invalid_element_name() -> None:
    with pytest.raises(XMLError, match="^Invalid character in name$"):
        build_xml({"r": {"1bad": "x"}}, {})
