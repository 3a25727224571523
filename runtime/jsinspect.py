"""Render message values as Node.js's ``util.inspect`` does, for logs and status text.

Only the single-line form is produced (Node.js breaks lines past 72
characters; logs here stay on one line so each entry is one record).
Objects nest to depth 2 like ``util.inspect``'s default; deeper levels show
as ``[Object]`` and ``[Array]``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from runtime.jsvalues import UNDEFINED, JSError, JSOpaque, JSRegExp, date_to_iso, number_to_string

_IDENTIFIER_RE = re.compile(r"^[A-Za-z_$][\w$]*$")
_MAX_ITEMS = 100
_MAX_BUFFER_BYTES = 50


def inspect_value(value: Any, depth: int = 2) -> str:
    """Return ``util.inspect(value)`` on one line."""
    return _inspect(value, depth, top=True)


def _inspect(value: Any, depth: int, *, top: bool = False) -> str:
    if isinstance(value, str):
        return value if top else _quote(value)
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, (bytes, bytearray)):
        shown = " ".join("%02x" % b for b in value[:_MAX_BUFFER_BYTES])
        more = f" ... {len(value) - _MAX_BUFFER_BYTES} more bytes" if len(value) > _MAX_BUFFER_BYTES else ""
        return f"<Buffer {shown}{more}>" if shown else "<Buffer >"
    if isinstance(value, _dt.datetime):
        return date_to_iso(value)
    if isinstance(value, JSRegExp):
        return f"/{value.source}/{value.flags}"
    if isinstance(value, JSError):
        return str(value)
    if isinstance(value, JSOpaque):
        return f"[{value.encoded.get('__nr__', 'Object')}]"
    if isinstance(value, list):
        if depth < 0:
            return "[Array]"
        items = [_inspect(v, depth - 1) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append(f"... {len(value) - _MAX_ITEMS} more items")
        return "[ " + ", ".join(items) + " ]" if items else "[]"
    if isinstance(value, dict):
        if depth < 0:
            return "[Object]"
        pairs = [
            f"{key if _IDENTIFIER_RE.match(key) else _quote(key)}: {_inspect(v, depth - 1)}"
            for key, v in value.items()
        ]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    return f"[{type(value).__name__}]"


def _quote(text: str) -> str:
    if "'" in text and '"' not in text:
        return '"' + text.replace("\\", "\\\\").replace("\n", "\\n") + '"'
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def log_text(value: Any) -> str:
    """Return the text a log line shows for a value a node logged."""
    if isinstance(value, str):
        return value
    if isinstance(value, JSError):
        return str(value)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}" if str(value) else type(value).__name__
    return inspect_value(value)
