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
    try:
        return _clone_message_recursive(msg)
    except RecursionError:
        # A circular reference, or nesting deeper than Python's stack.
        return _copy_iterative(msg, keep=SHARED_KEYS)


def clone_value(value: Any) -> Any:
    """Deep-copy one message value (dicts and lists; everything else is shared)."""
    kind = type(value)
    try:
        if kind is dict:
            return _copy_dict(value)
        if kind is list:
            return _copy_list(value)
    except RecursionError:
        return _copy_iterative(value)
    return value


def _clone_message_recursive(msg: Message) -> Message:
    out: Message = {}
    for key, value in msg.items():
        kind = type(value)
        if kind is dict:
            value = value if key in SHARED_KEYS else _copy_dict(value)
        elif kind is list:
            value = _copy_list(value)
        out[key] = value
    return out


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


def _copy_iterative(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """Copy dicts and lists without recursion, copying each container once, as lodash's cloneDeep does.

    Slower than the recursive copy, so it only runs when that one fails. A
    container reached twice (a cycle, or one object under two keys) is one
    container in the copy too. Top-level keys in ``keep`` stay shared.
    """
    copies: dict[int, Any] = {}
    pending: list[tuple[Any, Any]] = []

    def copy_of(item: Any) -> Any:
        kind = type(item)
        if kind is not dict and kind is not list:
            return item
        copied = copies.get(id(item))
        if copied is None:
            copied = {} if kind is dict else []
            copies[id(item)] = copied
            pending.append((item, copied))
        return copied

    if type(value) is dict and keep:
        root: Any = {}
        copies[id(value)] = root
        for key, item in value.items():
            root[key] = item if key in keep and type(item) is dict else copy_of(item)
    else:
        root = copy_of(value)

    while pending:
        source, target = pending.pop()
        if type(source) is dict:
            for key, item in source.items():
                target[key] = copy_of(item)
        else:
            target.extend(copy_of(item) for item in source)
    return root
