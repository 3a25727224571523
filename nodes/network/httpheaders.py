"""HTTP header helpers shared by the http nodes: Node.js header shapes, Set-Cookie parsing, hash-sum."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import aiohttp

from runtime.jsvalues import UNDEFINED, to_js_string

# Header that the http request node adds to msg.headers, holding a hash of the other headers.
REQUEST_NODE_HEADER = "x-node-red-request-node"


def response_headers(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """Return response headers as Node.js gives them: lower-case names, set-cookie as a list."""
    headers: dict[str, Any] = {}
    for name, value in response.headers.items():
        key = name.lower()
        if key == "set-cookie":
            headers.setdefault(key, []).append(value)
        elif key in headers:
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    return headers


def extract_cookies(set_cookie: list[str]) -> dict[str, dict[str, Any]]:
    """Parse Set-Cookie values as Node-RED does: ``{name: {value, Path, ...attributes}}``."""
    cookies: dict[str, dict[str, Any]] = {}
    for line in set_cookie:
        if not isinstance(line, str) or "=" not in line:
            continue
        name = line[: line.index("=")].strip()
        if not name:
            continue
        attributes: dict[str, Any] = {}
        for index, piece in enumerate(line.split(";")):
            key, sep, value = piece.partition("=")
            key = key.strip()
            if not sep or not key or key in attributes:
                continue
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            attributes["value" if index == 0 else key] = decode_uri_component(value)
        cookies[name] = attributes
    return cookies


def headers_hash(value: Any) -> str:
    """Hash a header object as the ``hash-sum`` package does (8 hex digits).

    Node-RED adds this hash to received headers so an http response node can
    tell unchanged request headers apart from headers a flow set.
    """
    return format(_fold_value(0, value, "", []), "x").rjust(8, "0")


def _fold(hash_value: int, text: str) -> int:
    if not text:
        return hash_value
    for unit in _utf16_units(text):
        hash_value = _int32(_int32(_int32(hash_value) << 5) - hash_value + unit)
    return hash_value * -2 if hash_value < 0 else hash_value


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value


def _fold_value(hash_value: int, value: Any, key: str, seen: list[Any]) -> int:
    kind, tag = _js_kind(value)
    hash_value = _fold(_fold(_fold(hash_value, key), tag), kind)
    if value is None:
        return _fold(hash_value, "null")
    if value is UNDEFINED:
        return _fold(hash_value, "undefined")
    if isinstance(value, (dict, list)):
        if any(value is item for item in seen):
            return _fold(hash_value, "[Circular]" + key)
        seen.append(value)
        keys = sorted(value) if isinstance(value, dict) else sorted(str(i) for i in range(len(value)))
        for child in keys:
            item = value[child] if isinstance(value, dict) else value[int(child)]
            hash_value = _fold_value(hash_value, item, child, seen)
        return _fold(hash_value, to_js_string(value))
    return _fold(hash_value, to_js_string(value))


def _js_kind(value: Any) -> tuple[str, str]:
    """Return JavaScript's ``typeof`` and ``Object.prototype.toString`` tag for a value."""
    if value is None:
        return "object", "[object Null]"
    if value is UNDEFINED:
        return "undefined", "[object Undefined]"
    if isinstance(value, bool):
        return "boolean", "[object Boolean]"
    if isinstance(value, (int, float)):
        return "number", "[object Number]"
    if isinstance(value, str):
        return "string", "[object String]"
    if isinstance(value, list):
        return "object", "[object Array]"
    return "object", "[object Object]"


def update_header(headers: dict[str, Any], name: str, value: Any) -> None:
    """Set a header, replacing any with the same name in another case; an empty value removes it."""
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]
    if value not in (None, "", UNDEFINED, 0, False):
        headers[name] = value


def find_header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def pop_header(headers: dict[str, str], name: str) -> str | None:
    for key in list(headers):
        if key.lower() == name:
            return headers.pop(key)
    return None


def encode_uri_component(text: str) -> str:
    return quote(text, safe="-_.!~*'()")


def decode_uri_component(text: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text
