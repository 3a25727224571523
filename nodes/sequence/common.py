"""Helpers shared by the sequence nodes: separators, JavaScript conversions, pending limits."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import TYPE_CHECKING, Any

from runtime.jsvalues import UNDEFINED, JSError, JSRegExp, date_to_ms, to_js_number, to_js_string

if TYPE_CHECKING:
    from runtime.node import Node

# The escapes the split and join editors accept in a separator. JavaScript
# reads "\e" as a plain "e", so Node-RED's "\\e" replacement yields "e".
_SEPARATOR_ESCAPES = (("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"), ("\\e", "e"), ("\\f", "\f"), ("\\0", "\0"))

_PARSE_INT_RE = re.compile(r"^\s*([+-]?\d+)")


def unescape_separator(text: str) -> str:
    """Turn the editor's ``\\n``-style escapes in a separator into the characters."""
    for escaped, char in _SEPARATOR_ESCAPES:
        text = text.replace(escaped, char)
    return text


def js_parse_int(value: Any) -> float | int:
    """Return what JavaScript's ``parseInt(value)`` gives: the leading integer, or NaN."""
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    match = _PARSE_INT_RE.match(to_js_string(value))
    return int(match.group(1)) if match else math.nan


def js_join(items: list[Any], separator: str) -> str:
    """Join like ``Array.prototype.join``: null, undefined and holes become ``""``."""
    return separator.join("" if item is None or item is UNDEFINED else to_js_string(item) for item in items)


def js_positive(value: Any) -> bool:
    """Return JavaScript's ``value > 0`` for a count that may be missing or a string."""
    if value is None or value is UNDEFINED:
        return False
    number = to_js_number(value)
    return not math.isnan(number) and number > 0


def max_pending_messages(node: Node) -> int:
    """Return the runtime's limit on messages a sequence node may hold (0: no limit).

    This is Node-RED's ``nodeMessageBufferMaxLength`` setting.
    """
    return node.runtime.settings.node_message_buffer_max_length


def _to_primitive(value: Any) -> Any:
    """Convert a value as JavaScript's ToPrimitive with hint "number" does."""
    if isinstance(value, _dt.datetime):
        return date_to_ms(value)
    if isinstance(value, (list, dict, bytes, bytearray, JSError, JSRegExp)):
        return to_js_string(value)
    return value


def js_greater(left: Any, right: Any) -> bool:
    """Return JavaScript's ``left > right`` (strings by code unit, else as numbers)."""
    left, right = _to_primitive(left), _to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        if left.isascii() or right.isascii():
            # Code points and UTF-16 code units order the same against ASCII.
            return left > right
        return left.encode("utf-16-be") > right.encode("utf-16-be")
    left_number, right_number = to_js_number(left), to_js_number(right)
    return left_number > right_number
