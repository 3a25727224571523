"""Message ids and message cloning with Node-RED's rules.

Node-RED clones with lodash ``cloneDeep``: objects, arrays and Dates are
copied, while a Buffer's clone shares the original's memory. Outwire keeps
Buffers as ``bytearray`` and Dates as immutable ``datetime`` objects, so both
are shared by reference and only dicts and lists are copied. ``msg.req`` and
``msg.res`` (the HTTP request and response of an ``http in`` node) are never
copied, as in Node-RED.
"""

from __future__ import annotations

import random
from typing import Any

Message = dict[str, Any]

# Top-level keys that stay shared between clones: they hold live objects
# (an HTTP request and its response) that a copy would break.
SHARED_KEYS = frozenset({"req", "res"})

_random_bits = random.SystemRandom().getrandbits


def generate_id() -> str:
    """Return a new random 16-hex-digit id, the shape Node-RED uses for ``_msgid``."""
    return "%016x" % _random_bits(64)


def clone_message(msg: Message) -> Message:
    """Return a deep copy of ``msg`` for a second receiver.

    Invariant: the copy shares no dict or list with ``msg``; scalars, Buffers,
    Dates and the shared keys are the same objects.
    """
    out: Message = {}
    for key, value in msg.items():
        kind = type(value)
        if kind is dict:
            value = value if key in SHARED_KEYS else _copy_dict(value)
        elif kind is list:
            value = _copy_list(value)
        out[key] = value
    return out


def clone_value(value: Any) -> Any:
    """Deep-copy one message value (dicts and lists; everything else is shared)."""
    kind = type(value)
    if kind is dict:
        return _copy_dict(value)
    if kind is list:
        return _copy_list(value)
    return value


def _copy_dict(source: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in source.items():
        kind = type(value)
        if kind is dict:
            value = _copy_dict(value)
        elif kind is list:
            value = _copy_list(value)
        out[key] = value
    return out


def _copy_list(source: list[Any]) -> list[Any]:
    out = []
    append = out.append
    for value in source:
        kind = type(value)
        if kind is dict:
            value = _copy_dict(value)
        elif kind is list:
            value = _copy_list(value)
        append(value)
    return out
