"""Tagged JSON: a lossless text form for message values that plain JSON cannot hold.

A value that JSON cannot express becomes an object with the key ``__nr__``
naming its kind, the form Node-RED-compatible tools use to record messages::

    {"__nr__": "undefined"}
    {"__nr__": "number", "value": "NaN"}
    {"__nr__": "Buffer", "data": [104, 105]}
    {"__nr__": "Date", "iso": "1970-01-01T00:00:00.000Z"}
    {"__nr__": "RegExp", "source": "ab+c", "flags": "i"}
    {"__nr__": "Error", "name": "TypeError", "message": "nope"}

The JavaScript sandbox, the conformance runner and the debug node all use it.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from runtime.jsvalues import UNDEFINED, JSError, JSOpaque, JSRegExp, date_to_iso

TAG = "__nr__"


def encode(value: Any) -> Any:
    """Return ``value`` as plain JSON data, tagging what JSON cannot express."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return {TAG: "number", "value": text}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return encode_special(value)


def encode_special(value: Any) -> Any:
    """Tag one non-JSON value; containers and JSON scalars are not accepted here."""
    if value is UNDEFINED:
        return {TAG: "undefined"}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {TAG: "Buffer", "data": list(bytes(value))}
    if isinstance(value, _dt.datetime):
        return {TAG: "Date", "iso": date_to_iso(value)}
    if isinstance(value, JSRegExp):
        return {TAG: "RegExp", "source": value.source, "flags": value.flags}
    if isinstance(value, JSError):
        tagged: dict[str, Any] = {TAG: "Error", "name": value.name, "message": value.message}
        if value.code is not None:
            tagged["code"] = encode(value.code)
        return tagged
    if isinstance(value, JSOpaque):
        return value.encoded
    if isinstance(value, BaseException):
        return {TAG: "Error", "name": "Error", "message": str(value)}
    # Anything else (a request object, a client handle) has no JSON form.
    return {TAG: "function"} if callable(value) else {TAG: "object", "repr": type(value).__name__}


def decode(value: Any) -> Any:
    """Turn tagged JSON back into message values (the inverse of :func:`encode`)."""
    if isinstance(value, dict):
        tag = value.get(TAG)
        if tag is None:
            return {k: decode(v) for k, v in value.items()}
        return _decode_tagged(tag, value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _decode_tagged(tag: str, value: dict[str, Any]) -> Any:
    if tag == "undefined":
        return UNDEFINED
    if tag == "number":
        return float(value["value"].replace("Infinity", "inf"))
    if tag == "Buffer":
        return bytearray(value.get("data", []))
    if tag == "Date":
        iso = value.get("iso")
        if iso is None:
            return JSOpaque(value)
        return _dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if tag == "RegExp":
        return JSRegExp(value.get("source", ""), value.get("flags", ""))
    if tag == "Error":
        extra = {k: decode(v) for k, v in value.items() if k not in (TAG, "name", "message", "code", "stack")}
        return JSError(
            message=value.get("message", ""),
            name=value.get("name", "Error"),
            code=decode(value.get("code")),
            stack=value.get("stack"),
            extra=extra,
        )
    return JSOpaque(value)
