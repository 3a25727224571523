"""Mustache rendering as mustache.js 4.2.0 does it (expectations checked with mustache.js 4.2.0)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from runtime.jsvalues import UNDEFINED
from runtime.mustache import MustacheError, compile_template, escape_html


@pytest.mark.parametrize(
    ("template", "view", "expected"),
    [
        ("{{a}}", {"a": "x&y<z>\"'/`="}, "x&amp;y&lt;z&gt;&quot;&#39;&#x2F;&#x60;&#x3D;"),
        ("{{{a}}}|{{&a}}", {"a": "<b>"}, "<b>|<b>"),
        ("{{a}} {{b}} {{c}} {{d}}", {"a": 12.0, "b": True, "c": {"x": 1}, "d": [1, [2, None]]}, "12 true [object Object] 1,2,"),
        ("{{a.b.c}}|{{a.x.y}}|{{n}}", {"a": {"b": {"c": 1}}, "n": None}, "1||"),
        ("{{#a}}{{b}}{{/a}}", {"a": {"c": 2}, "b": 3}, "3"),
        ("{{#a}}[{{.}}]{{/a}}", {"a": [1, "two", False]}, "[1][two][false]"),
        ("{{#t}}[{{.}}|{{x}}]{{/t}}", {"t": True, "x": 1}, "[[object Object]|1]"),
        ("{{#o}}yes{{/o}}{{^o}}no{{/o}}", {"o": {}}, "yes"),
        ("{{#n}}yes{{/n}}{{^n}}no{{/n}}", {"n": math.nan}, "no"),
        ("{{^a}}empty{{/a}}", {"a": []}, "empty"),
        ("{{s.length}} {{a.1}}", {"s": "abc", "a": [5, 6]}, "3 6"),
        ("{{=<% %>=}}<% a %> {{a}}", {"a": 1}, "1 {{a}}"),
        ("{{> part}}x", {}, "x"),
        ("  {{#a}}\n  line {{.}}\n  {{/a}}\nend", {"a": [1, 2]}, "  line 1\n  line 2\nend"),
    ],
)
def test_render_matches_mustache_js(template: str, view: Any, expected: str) -> None:
    assert compile_template(template).render(view) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{payload", "Unclosed tag at 9"),
        ("{{#a}}x{{/b}}", 'Unclosed section "a" at 7'),
        ("{{/a}}", 'Unopened section "a" at 0'),
        ("{{#a}}x", 'Unclosed section "a" at 7'),
        ("{{=<%=}}", "Invalid tags: <%"),
    ],
)
def test_invalid_template_raises_mustache_js_message(template: str, message: str) -> None:
    with pytest.raises(MustacheError) as raised:
        compile_template(template)

    assert str(raised.value) == message


def test_name_on_null_list_item_raises_like_javascript() -> None:
    with pytest.raises(MustacheError, match=r"Cannot read properties of null \(reading 'x'\)"):
        compile_template("{{#list}}{{x}}{{/list}}").render({"list": [None]})


def test_fallback_fills_missing_names_only() -> None:
    template = compile_template("{{a}} {{flow.x}} {{#flow.x}}in{{/flow.x}}")

    rendered = template.render({"a": "A"}, fallback=lambda name: {"flow.x": "FX"}.get(name, UNDEFINED))

    assert rendered == "A FX in"


def test_escape_root_strings_only_outside_pushed_sections() -> None:
    template = compile_template("{{a}}|{{#t}}{{a}}{{/t}}|{{#s}}{{a}}{{/s}}")

    # A true section keeps the root context (still escaped); an object section pushes a new one.
    rendered = template.render({"a": "x\ny", "t": True, "s": {"b": 1}}, escape_root_strings=True)

    assert rendered == "x\\ny|x\\ny|x\ny"


def test_fast_path_and_engine_render_alike() -> None:
    view = {"payload": {"name": "<W>", "n": 1.5}, "list": []}
    simple = compile_template("Hello {{payload.name}} {{{payload.name}}} {{payload.n}} {{missing}}")
    with_section = compile_template("Hello {{payload.name}} {{{payload.name}}} {{payload.n}} {{missing}}{{#list}}{{/list}}")

    assert simple.is_simple
    assert not with_section.is_simple
    assert simple.render(view) == with_section.render(view) == "Hello &lt;W&gt; <W> 1.5 "


def test_escape_html_leaves_plain_text() -> None:
    assert escape_html("plain text") == "plain text"
