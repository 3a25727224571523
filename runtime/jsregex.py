"""JavaScript regular expressions run on Python's ``re``, with JavaScript's matching and replace rules.

Nodes that Node-RED implements with ``new RegExp(source, flags)`` and
``String.prototype.replace`` (change, switch) compile the JavaScript source
once with :func:`compile_js_regex`. The translation keeps the parts where the
two dialects differ in meaning:

- ``\\d``, ``\\w`` and ``\\b`` are ASCII-only in JavaScript (Python's are Unicode);
- ``.`` stops at ``\\n``, ``\\r``, U+2028 and U+2029, unless the ``s`` flag is set;
- ``$`` matches only at the very end without the ``m`` flag (Python also matches
  before a final newline), and ``^``/``$`` with ``m`` know all four line terminators;
- ``(?<name>...)`` and ``\\k<name>`` are Python's ``(?P<name>...)`` and ``(?P=name)``;
- ``[^]`` matches any character and ``[]`` matches nothing;
- an escaped letter that JavaScript does not define (``\\a``, ``\\e``) is the letter itself.

Invalid sources raise :class:`JSRegexError` with V8's message
(``Invalid regular expression: /(/g: Unterminated group``).

NOTE: unicode-mode (``u``) details such as ``\\p{...}`` property classes and
case folding of non-ASCII letters under ``i`` follow Python's rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

_VALID_FLAGS = frozenset("dgimsuyv")

_WORD = "A-Za-z0-9_"
_LINE_TERMINATORS = "\\n\\r\\u2028\\u2029"

# Escapes that mean the same in both dialects, outside and inside classes.
_SHARED_ESCAPES = frozenset("fnrtvsS0123456789")

# V8's wording for the errors Python's parser reports differently.
_V8_REASONS = (
    ("missing ), unterminated subpattern", "Unterminated group"),
    ("unbalanced parenthesis", "Unmatched ')'"),
    ("nothing to repeat", "Nothing to repeat"),
    ("multiple repeat", "Nothing to repeat"),
    ("unterminated character set", "Unterminated character class"),
    ("bad character range", "Range out of order in character class"),
    ("bad escape (end of pattern)", "\\ at end of pattern"),
    ("unknown group name", "Invalid named capture referenced"),
    ("invalid group reference", "Invalid named capture referenced"),
    ("look-behind requires fixed-width pattern", "Invalid regular expression (variable-width lookbehind)"),
)


class JSRegexError(ValueError):
    """A regular expression that JavaScript would reject; the message is V8's SyntaxError text."""


class JSRegex:
    """One compiled JavaScript regular expression."""

    __slots__ = ("flags", "is_global", "is_sticky", "pattern", "source")

    def __init__(self, source: str, flags: str, pattern: re.Pattern[str]) -> None:
        self.source = source
        self.flags = flags
        self.pattern = pattern
        self.is_global = "g" in flags
        self.is_sticky = "y" in flags

    def search(self, text: str) -> re.Match[str] | None:
        """Find the first match, as ``text.match(re)`` does for a non-global expression."""
        if self.is_sticky:
            return self.pattern.match(text)
        return self.pattern.search(text)

    def replace(self, text: str, replacement: str) -> str:
        """Replace the first match, or every match with the ``g`` flag, as ``text.replace(re, str)`` does."""
        substitute = compile_replacement(replacement, self.pattern.groups, tuple(self.pattern.groupindex))
        if self.is_sticky and not self.is_global:
            match = self.pattern.match(text)
            if match is None:
                return text
            return text[: match.start()] + substitute(match) + text[match.end() :]
        return self.pattern.sub(substitute, text, count=0 if self.is_global else 1)


def compile_js_regex(source: str, flags: str = "") -> JSRegex:
    """Compile a JavaScript regular expression (cached by source and flags)."""
    return _compile_cached(source, flags)


@functools.lru_cache(maxsize=1024)
def _compile_cached(source: str, flags: str) -> JSRegex:
    if any(flag not in _VALID_FLAGS for flag in flags) or len(set(flags)) != len(flags):
        raise JSRegexError(f"Invalid flags supplied to RegExp constructor '{flags}'")

    translated = _Translator(source, flags).run()
    options = re.IGNORECASE if "i" in flags else 0
    if "s" in flags:
        options |= re.DOTALL
    try:
        pattern = re.compile(translated, options)
    except re.error as exc:
        raise JSRegexError(_v8_message(source, flags, exc.msg)) from None
    return JSRegex(source, flags, pattern)


def escape_for_regex(text: str) -> str:
    """Escape text for use as a literal inside a JavaScript regular expression source."""
    return re.sub(r"[-\[\]{}()*+?.,\\^$|#\s]", lambda m: "\\" + m.group(0), text)


def _v8_message(source: str, flags: str, reason: str) -> str:
    for python_text, v8_text in _V8_REASONS:
        if reason.startswith(python_text):
            reason = v8_text
            break
    return f"Invalid regular expression: /{source}/{flags}: {reason}"


class _Translator:
    """Rewrite a JavaScript regular expression source into Python ``re`` syntax."""

    def __init__(self, source: str, flags: str) -> None:
        self.source = source
        self.flags = flags
        self.dot_all = "s" in flags
        self.multiline = "m" in flags
        self.out: list[str] = []
        self.i = 0

    def fail(self, reason: str) -> JSRegexError:
        return JSRegexError(f"Invalid regular expression: /{self.source}/{self.flags}: {reason}")

    def run(self) -> str:
        source = self.source
        while self.i < len(source):
            char = source[self.i]
            if char == "\\":
                self._escape_outside_class()
            elif char == "[":
                self._character_class()
            elif char == "(":
                self._group_opening()
            elif char == ".":
                self.out.append("." if self.dot_all else f"[^{_LINE_TERMINATORS}]")
                self.i += 1
            elif char == "^":
                self.out.append(f"(?<![^{_LINE_TERMINATORS}])" if self.multiline else "^")
                self.i += 1
            elif char == "$":
                self.out.append(f"(?![^{_LINE_TERMINATORS}])" if self.multiline else r"\Z")
                self.i += 1
            else:
                self.out.append(char)
                self.i += 1
        return "".join(self.out)

    def _take_escaped_letter(self) -> str:
        if self.i + 1 >= len(self.source):
            raise self.fail("\\ at end of pattern")
        self.i += 2
        return self.source[self.i - 1]

    def _escape_outside_class(self) -> None:
        source = self.source
        letter = self._take_escaped_letter()
        if letter == "d":
            self.out.append("[0-9]")
        elif letter == "D":
            self.out.append("[^0-9]")
        elif letter == "w":
            self.out.append(f"[{_WORD}]")
        elif letter == "W":
            self.out.append(f"[^{_WORD}]")
        elif letter == "b":
            self.out.append(f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))")
        elif letter == "B":
            self.out.append(f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))")
        elif letter == "k" and self.i < len(source) and source[self.i] == "<":
            end = source.find(">", self.i)
            if end < 0:
                raise self.fail("Invalid named reference")
            self.out.append(f"(?P={source[self.i + 1 : end]})")
            self.i = end + 1
        else:
            self.out.append(self._common_escape(letter))

    def _common_escape(self, letter: str) -> str:
        """Translate an escape whose meaning is the same inside and outside classes."""
        source = self.source
        if letter in _SHARED_ESCAPES:
            return "\\" + letter
        if letter == "x" and re.match(r"[0-9A-Fa-f]{2}", source[self.i : self.i + 2]):
            self.i += 2
            return "\\x" + source[self.i - 2 : self.i]
        if letter == "u":
            braced = re.match(r"\{([0-9A-Fa-f]{1,6})\}", source[self.i :]) if "u" in self.flags else None
            if braced:
                self.i += braced.end()
                return "\\U%08x" % int(braced.group(1), 16)
            if re.match(r"[0-9A-Fa-f]{4}", source[self.i : self.i + 4]):
                self.i += 4
                return "\\u" + source[self.i - 4 : self.i]
        if letter == "c" and self.i < len(source) and source[self.i].isascii() and source[self.i].isalpha():
            self.i += 1
            return "\\x%02x" % (ord(source[self.i - 1]) % 32)
        if letter in "pP" and "u" in self.flags:
            # Python's re has no Unicode property classes, so fail loudly instead of matching wrongly.
            raise self.fail("Invalid property name")
        # Any other escaped character stands for itself in JavaScript.
        return re.escape(letter)

    def _character_class(self) -> None:
        source = self.source
        if source.startswith("[^]", self.i):
            self.out.append(r"[\s\S]")
            self.i += 3
            return
        if source.startswith("[]", self.i):
            self.out.append("(?!)")
            self.i += 2
            return

        parts = ["["]
        self.i += 1
        if self.i < len(source) and source[self.i] == "^":
            parts.append("^")
            self.i += 1
        while self.i < len(source) and source[self.i] != "]":
            char = source[self.i]
            if char == "\\":
                parts.append(self._escape_inside_class())
                continue
            # Python warns about (and may one day change) "[[", "&&", "||" and "~~" in sets.
            parts.append("\\" + char if char in "[&|~" else char)
            self.i += 1
        if self.i >= len(source):
            raise self.fail("Unterminated character class")
        parts.append("]")
        self.i += 1
        self.out.append("".join(parts))

    def _escape_inside_class(self) -> str:
        letter = self._take_escaped_letter()
        if letter == "d":
            return "0-9"
        if letter == "w":
            return _WORD
        if letter == "b":
            return "\\x08"
        if letter in "DWs" or letter == "S":
            return "\\" + letter
        if letter == "-":
            return "\\-"
        return self._common_escape(letter)

    def _group_opening(self) -> None:
        source = self.source
        if not source.startswith("(?", self.i):
            self.out.append("(")
            self.i += 1
            return
        following = source[self.i + 2 : self.i + 4]
        if following[:1] in (":", "=", "!") or following in ("<=", "<!"):
            self.out.append("(?")
            self.i += 2
            return
        if following[:1] == "<":
            self.out.append("(?P<")
            self.i += 3
            return
        raise self.fail("Invalid group")


@functools.lru_cache(maxsize=1024)
def compile_replacement(template: str, group_count: int, group_names: tuple[str, ...]) -> Callable[[re.Match[str]], str]:
    """Compile a ``String.prototype.replace`` replacement string (``$1``, ``$&``, ``$<name>``...).

    Follows ECMA-262 GetSubstitution. ``$nn`` uses two digits when that
    group exists, else one digit. Unknown references stay literal text. A
    group that did not take part in the match gives the empty string.
    """
    if "$" not in template:
        return lambda match: template

    pieces: list[Any] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        following = template[i + 1] if i + 1 < len(template) else ""
        step, piece = _replacement_token(template, i, following, group_count, group_names)
        if piece is None:
            literal.append(char)
            i += 1
            continue
        if literal:
            pieces.append("".join(literal))
            literal = []
        pieces.append(piece)
        i += step
    if literal:
        pieces.append("".join(literal))

    def substitute(match: re.Match[str]) -> str:
        out = []
        for piece in pieces:
            out.append(piece if isinstance(piece, str) else piece(match))
        return "".join(out)

    return substitute


def _replacement_token(
    template: str, i: int, following: str, group_count: int, group_names: tuple[str, ...]
) -> tuple[int, Any]:
    """Return (length, piece) for a ``$`` reference at ``i``, or (1, None) for literal text."""
    if template[i] != "$" or not following:
        return 1, None
    if following == "$":
        return 2, "$"
    if following == "&":
        return 2, lambda m: m.group(0)
    if following == "`":
        return 2, lambda m: m.string[: m.start()]
    if following == "'":
        return 2, lambda m: m.string[m.end() :]
    if following.isdigit():
        two = template[i + 1 : i + 3]
        if len(two) == 2 and two.isdigit() and 1 <= int(two) <= group_count:
            return 3, _group_getter(int(two))
        if 1 <= int(following) <= group_count:
            return 2, _group_getter(int(following))
        return 1, None
    if following == "<" and group_names:
        end = template.find(">", i + 2)
        if end < 0:
            return 1, None
        name = template[i + 2 : end]
        if name not in group_names:
            return end - i + 1, ""
        return end - i + 1, _group_getter(name)
    return 1, None


def _group_getter(group: int | str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(group) or ""
