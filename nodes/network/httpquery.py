"""Query strings as Node-RED's HTTP nodes read and write them.

:func:`parse_query` reads like the ``qs`` package in Express's extended mode
(``a=1&a=2`` is a list, ``b[c]=3`` a nested object, ``d[]=4`` a list);
:func:`stringify_query` writes like Node.js ``querystring.stringify`` (lists
repeat the key, objects and other non-primitive values become empty).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from runtime.jsvalues import UNDEFINED, number_to_string

# qs stops nesting after 5 levels and keeps the rest of the key as one name.
MAX_DEPTH = 5

# qs turns an index above 20 into an object key instead of growing a sparse list.
MAX_ARRAY_INDEX = 20

_SEGMENT_RE = re.compile(r"\[([^\[\]]*)\]")


def parse_query(text: str) -> dict[str, Any]:
    """Parse ``a=1&b[c]=2`` into nested dicts and lists, as ``qs.parse`` does."""
    result: dict[str, Any] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        raw_key, sep, raw_value = pair.partition("=")
        key = urllib.parse.unquote_plus(raw_key)
        value = urllib.parse.unquote_plus(raw_value) if sep else ""
        _assign(result, _key_path(key), value)
    return result


def _key_path(key: str) -> list[str]:
    bracket = key.find("[")
    if bracket <= 0:
        return [key]
    path = [key[:bracket]]
    rest = key[bracket:]
    for match in _SEGMENT_RE.finditer(rest):
        if len(path) > MAX_DEPTH:
            path.append(rest[match.start():])
            break
        path.append(match.group(1))
    return path


def _assign(target: dict[str, Any], path: list[str], value: Any) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        existing = target.get(head)
        if existing is None:
            target[head] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            target[head] = [existing, value]
        return

    child_key = rest[0]
    container = target.get(head)
    wants_list = child_key == "" or (child_key.isdigit() and int(child_key) <= MAX_ARRAY_INDEX)
    if container is None:
        container = [] if wants_list else {}
        target[head] = container
    if isinstance(container, list):
        if child_key == "" and len(rest) == 1:
            container.append(value)
            return
        if wants_list and child_key != "":
            index = int(child_key)
            while len(container) <= index:
                container.append(UNDEFINED)
            if len(rest) == 1:
                container[index] = value
                return
            if not isinstance(container[index], dict):
                container[index] = {}
            _assign(container[index], rest[1:], value)
            return
        container = {str(i): v for i, v in enumerate(container)}
        target[head] = container
    if not isinstance(container, dict):
        container = {"0": container} if container is not None else {}
        target[head] = container
    _assign(container, rest, value)


def stringify_query(value: Any) -> str:
    """Write a query string as Node.js ``querystring.stringify`` does."""
    if not isinstance(value, dict):
        return ""
    pairs: list[str] = []
    for key, item in value.items():
        name = _escape(key)
        if isinstance(item, list):
            pairs.extend(f"{name}={_escape(_primitive(v))}" for v in item)
        else:
            pairs.append(f"{name}={_escape(_primitive(item))}")
    return "&".join(pairs)


def _primitive(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value) if value == value and value not in (float("inf"), float("-inf")) else ""
    if isinstance(value, str):
        return value
    return ""


def _escape(text: str) -> str:
    # querystring.escape leaves the same characters unescaped as encodeURIComponent.
    return urllib.parse.quote(text, safe="-_.!~*'()")
