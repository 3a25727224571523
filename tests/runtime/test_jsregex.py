"""JavaScript regular expressions on Python's re (expectations checked with Node.js 20)."""

from __future__ import annotations

import pytest

from runtime.jsregex import JSRegexError, compile_js_regex, escape_for_regex


@pytest.mark.parametrize(
    ("source", "flags", "text", "replacement", "expected"),
    [
        (r"(\w+)@(\w+)", "g", "alice@home, bob@work", "$2 at $1", "home at alice, work at bob"),
        (r"\.", "g", "a.b", "$0$1$&$$", "a$0$1.$b"),
        ("x*", "g", "abxd", "-", "-a-b--d-"),
        ("(a)(b)", "", "zabz", "$2$1-$`-$'", "zba-z-zz"),
        ("(?<y>a)", "g", "aa", "[$<y>]", "[a][a]"),
        ("o", "", "foo", "0", "f0o"),
        (r"\d", "g", "a1٣", "#", "a#٣"),
    ],
)
def test_replace_follows_javascript(source: str, flags: str, text: str, replacement: str, expected: str) -> None:
    assert compile_js_regex(source, flags).replace(text, replacement) == expected


@pytest.mark.parametrize(
    ("source", "flags", "text", "matches"),
    [
        ("a$", "", "a\n", False),
        ("^a$", "m", "b\na\nc", True),
        ("a.c", "", "a\nc", False),
        ("a.c", "s", "a\nc", True),
        (r"\bé", "", "xé", True),
        ("[^]", "", "\n", True),
        ("[]", "", "x", False),
        (r"\e", "", "e", True),
    ],
)
def test_search_follows_javascript(source: str, flags: str, text: str, matches: bool) -> None:
    assert (compile_js_regex(source, flags).search(text) is not None) is matches


@pytest.mark.parametrize(
    ("source", "flags", "message"),
    [
        ("(", "g", "Invalid regular expression: /(/g: Unterminated group"),
        ("a)", "", "Invalid regular expression: /a)/: Unmatched ')'"),
        ("*", "", "Invalid regular expression: /*/: Nothing to repeat"),
        ("[a", "", "Invalid regular expression: /[a/: Unterminated character class"),
        ("[z-a]", "", "Invalid regular expression: /[z-a]/: Range out of order in character class"),
        ("(?i)a", "", "Invalid regular expression: /(?i)a/: Invalid group"),
        ("a", "gg", "Invalid flags supplied to RegExp constructor 'gg'"),
    ],
)
def test_invalid_source_raises_v8_message(source: str, flags: str, message: str) -> None:
    with pytest.raises(JSRegexError) as raised:
        compile_js_regex(source, flags)

    assert str(raised.value) == message


def test_escape_for_regex_makes_text_literal() -> None:
    text = "a.b*c (d) [e] $f ^g | h, #i"

    assert compile_js_regex(escape_for_regex(text), "g").replace(text + text, "X") == "XX"
