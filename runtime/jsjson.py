"""``JSON.parse`` and ``JSON.stringify`` with JavaScript's results and V8's error messages.

Nodes that Node-RED implements with these two functions (json, template,
inject, change, http) must produce the same text: numbers printed as
JavaScript prints them (``1`` not ``1.0``), Buffers as
``{"type":"Buffer","data":[...]}``, Dates as ISO strings, undefined
properties left out, NaN as ``null``; and on bad input the message Node.js 20
gives (``Expected ',' or '}' after property value in JSON at position 8``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Any

from runtime.jsvalues import UNDEFINED, JSError, JSOpaque, JSRegExp, date_to_iso, number_to_string


class JSONParseError(ValueError):
    """Invalid JSON text; the message is the one V8's ``JSON.parse`` gives."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}'")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def parse(text: str) -> Any:
    """Parse JSON text as ``JSON.parse`` does; integral numbers become ``int``."""
    try:
        value, end = _decoder.raw_decode(text, _skip_ws(text, 0))
    except json.JSONDecodeError as exc:
        raise JSONParseError(_v8_message(text, exc)) from None
    except ValueError as exc:
        raise JSONParseError(_unexpected_token(text, text.find(str(exc)[-2]))) from None
    except RecursionError:
        # NOTE: V8 parses any depth; Python's parser recurses once per array or
        # object, so text nested about 1,000 deep fails here instead.
        raise JSONParseError("JSON nested too deeply to parse") from None
    end = _skip_ws(text, end)
    if end != len(text):
        raise JSONParseError(f"Unexpected non-whitespace character after JSON at position {end}")
    return value


def _skip_ws(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n\r":
        index += 1
    return index


def _v8_message(text: str, exc: json.JSONDecodeError) -> str:
    pos = exc.pos
    message = exc.msg
    if message.startswith("Expecting value"):
        if pos >= len(text):
            return "Unexpected end of JSON input"
        return _unexpected_token(text, pos)
    if message.startswith("Expecting property name"):
        if pos >= len(text):
            return "Unexpected end of JSON input"
        return f"Expected property name or '}}' in JSON at position {pos}"
    if message.startswith("Expecting ':'"):
        return f"Expected ':' after property name in JSON at position {pos}"
    if message.startswith("Expecting ',' delimiter"):
        if pos >= len(text):
            return "Unexpected end of JSON input"
        if _innermost_container(text, pos) == "[":
            return f"Expected ',' or ']' after array element in JSON at position {pos}"
        return f"Expected ',' or '}}' after property value in JSON at position {pos}"
    if message.startswith("Unterminated string"):
        return f"Unterminated string in JSON at position {len(text)}"
    if message.startswith("Invalid control character"):
        return f"Bad control character in string literal in JSON at position {pos}"
    if message.startswith("Invalid \\escape") or message.startswith("Invalid \\u"):
        return f"Bad escaped character in JSON at position {pos + 1}"
    return f"{message} in JSON at position {pos}"


def _unexpected_token(text: str, pos: int) -> str:
    pos = max(pos, 0)
    token = text[pos] if pos < len(text) else ""
    # V8 quotes the whole input when it is short, else ten characters either side.
    if len(text) <= 40:
        snippet = f'"{text}"'
    else:
        start, end = max(0, pos - 10), min(len(text), pos + 10)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        snippet = f'{prefix}"{text[start:end]}"{suffix}'
    return f"Unexpected token '{token}', {snippet} is not valid JSON"


def _innermost_container(text: str, pos: int) -> str:
    stack: list[str] = []
    in_string = False
    escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def stringify(value: Any, indent: int | str | None = None) -> str | Any:
    """Serialise as ``JSON.stringify`` does; returns :data:`UNDEFINED` for undefined input."""
    gap = " " * indent if isinstance(indent, int) else (indent or "")
    gap = gap[:10]
    result = _serialise(value, gap, "")
    return UNDEFINED if result is None else result


def _serialise(value: Any, gap: str, current: str) -> str | None:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return number_to_string(value)
    if isinstance(value, float):
        return number_to_string(value) if math.isfinite(value) else "null"
    if value is UNDEFINED or callable(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        return _serialise({"type": "Buffer", "data": list(value)}, gap, current)
    if isinstance(value, _dt.datetime):
        return json.dumps(date_to_iso(value))
    if isinstance(value, (JSRegExp, JSError)):
        return "{}" if not (isinstance(value, JSError) and value.extra) else _serialise(value.extra, gap, current)
    if isinstance(value, JSOpaque):
        return "{}"
    inner = current + gap
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [_serialise(item, gap, inner) or "null" for item in value]
        if not gap:
            return "[" + ",".join(items) + "]"
        return "[\n" + inner + (",\n" + inner).join(items) + "\n" + current + "]"
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            text = _serialise(item, gap, inner)
            if text is None:
                continue
            parts.append(json.dumps(str(key), ensure_ascii=False) + (": " if gap else ":") + text)
        if not parts:
            return "{}"
        if not gap:
            return "{" + ",".join(parts) + "}"
        return "{\n" + inner + (",\n" + inner).join(parts) + "\n" + current + "}"
    return "{}"
