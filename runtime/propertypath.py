"""Property expressions such as ``payload.items[0]["first name"]``, read and written with JavaScript's rules.

Parsing follows Node-RED's ``normalisePropertyExpression``: dots, numeric
indexes in brackets, quoted keys in brackets, and nested ``msg.…`` references
inside brackets. Parsed paths are cached, so nodes may call these helpers per
message without re-parsing.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Union

from runtime.jsvalues import UNDEFINED, to_js_string

PathPart = Union[str, int, "NestedRef"]

_IDENT_START = re.compile(r"[a-z0-9$_]", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")


class PropertyExpressionError(ValueError):
    """A property expression that cannot be parsed; Node-RED's error code is ``INVALID_EXPR``."""

    code = "INVALID_EXPR"


class NestedRef(tuple):  # type: ignore[type-arg]  # a tuple of path parts
    """A ``[msg.other]`` reference inside a path, resolved against the message at use."""


def parse(expression: str) -> tuple[PathPart, ...]:
    """Split a property expression into keys and indexes (cached)."""
    return _parse_cached(expression)


@functools.lru_cache(maxsize=4096)
def _parse_cached(expression: str) -> tuple[PathPart, ...]:
    return tuple(_Parser(expression).run())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, detail: str) -> PropertyExpressionError:
        return PropertyExpressionError(f"Invalid property expression: {detail}")

    def run(self) -> list[PathPart]:
        text = self.text
        length = len(text)
        if length == 0:
            raise self.fail("zero-length")
        parts: list[PathPart] = []
        start = 0
        in_string = False
        in_box = False
        quote = ""
        i = 0
        while i < length:
            c = text[i]
            if in_string:
                if c == quote:
                    if i == start:
                        raise self.fail(f"zero-length string at position {start}")
                    parts.append(text[start:i])
                    following = text[i + 1] if i + 1 < length else ""
                    if in_box and following != "]":
                        raise self.fail(f"unexpected array expression at position {start}")
                    if not in_box and i + 1 != length and following not in "[.":
                        raise self.fail(f"unexpected {following} expression at position {i + 1}")
                    start = i + 1
                    in_string = False
                i += 1
                continue

            if c in "'\"":
                if i != start:
                    raise self.fail(f"unexpected {c} at position {i}")
                in_string, quote, start = True, c, i + 1
            elif c == ".":
                if i == 0:
                    raise self.fail("unexpected . at position 0")
                if start != i:
                    parts.append(_key(text[start:i]))
                if i == length - 1:
                    raise self.fail("unterminated expression")
                if not _IDENT_START.match(text[i + 1]):
                    raise self.fail(f"unexpected {text[i + 1]} at position {i + 1}")
                start = i + 1
            elif c == "[":
                if i == 0:
                    raise self.fail(f"unexpected {c} at position {i}")
                if start != i:
                    parts.append(text[start:i])
                if i == length - 1:
                    raise self.fail("unterminated expression")
                if re.match(r"msg[.\[]", text[i + 1 :]):
                    end = self._closing_bracket(i)
                    parts.append(NestedRef(parse(strip_msg_prefix(text[i + 1 : end]))))
                    i, start = end, end + 1
                    i += 1
                    continue
                if text[i + 1] not in "\"'0123456789":
                    raise self.fail(f"unexpected {text[i + 1]} at position {i + 1}")
                start, in_box = i + 1, True
            elif c == "]":
                if not in_box:
                    raise self.fail(f"unexpected {c} at position {i}")
                if start != i:
                    value = text[start:i]
                    if not _DIGITS.match(value):
                        raise self.fail(f"unexpected array expression at position {start}")
                    parts.append(int(value))
                start, in_box = i + 1, False
            elif c == " ":
                raise self.fail(f"unexpected ' ' at position {i}")
            i += 1

        if in_box or in_string:
            raise self.fail("unterminated expression")
        if start < length:
            parts.append(_key(text[start:]))
        return parts

    def _closing_bracket(self, open_index: int) -> int:
        depth = 1
        quote = ""
        for j in range(open_index + 1, len(self.text)):
            ch = self.text[j]
            if ch in "\"'":
                quote = "" if quote == ch else (quote or ch)
            if quote:
                continue
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return j
        raise self.fail(f"unmatched '[' at position {open_index}")


def _key(text: str) -> str | int:
    return int(text) if _DIGITS.match(text) else text


def strip_msg_prefix(expression: str) -> str:
    """Drop a leading ``msg.``, as Node-RED accepts ``msg.payload`` for ``payload``."""
    return expression[4:] if expression.startswith("msg.") else expression


def static_parts(expression: str) -> list[str | int] | None:
    """Parse a msg property once for repeated reads and writes (``msg.`` prefix allowed).

    Returns None when the parts depend on the message (``[msg.x]``) or the
    expression is invalid, so callers fall back to the per-message helpers,
    which report the error.
    """
    try:
        parts = parse(strip_msg_prefix(expression))
    except PropertyExpressionError:
        return None
    if any(isinstance(part, NestedRef) for part in parts):
        return None
    return list(parts)  # type: ignore[arg-type]  # NestedRef excluded just above


def resolve_parts(parts: tuple[PathPart, ...], root: Any) -> list[str | int]:
    """Replace nested ``[msg.x]`` references in ``parts`` with their values in ``root``."""
    resolved: list[str | int] = []
    for part in parts:
        if isinstance(part, NestedRef):
            value = get_path(root, tuple(part))
            if value is UNDEFINED:
                raise PropertyExpressionError("Invalid expression: undefined reference")
            resolved.append(value if isinstance(value, int) and not isinstance(value, bool) else to_js_string(value))
        else:
            resolved.append(part)
    return resolved


def get_property(root: Any, expression: str) -> Any:
    """Read ``expression`` from ``root``; :data:`UNDEFINED` when a level is missing.

    Raises ``TypeError`` when reading beneath ``undefined`` or ``null``, as
    JavaScript does (``msg.a.b`` with no ``msg.a``).
    """
    return get_path(root, parse(strip_msg_prefix(expression)))


def get_path(root: Any, parts: tuple[PathPart, ...]) -> Any:
    """Read already-parsed ``parts`` from ``root``."""
    value = root
    for part in parts if not any(isinstance(p, NestedRef) for p in parts) else resolve_parts(parts, root):
        value = read_member(value, part)  # type: ignore[arg-type]
    return value


def read_member(value: Any, key: str | int) -> Any:
    """Read one property the way JavaScript's ``value[key]`` does."""
    kind = type(value)
    if kind is dict:
        result = value.get(key if kind is dict and isinstance(key, str) else str(key), UNDEFINED)
        return result
    if kind is list:
        if isinstance(key, int):
            return value[key] if 0 <= key < len(value) else UNDEFINED
        if key == "length":
            return len(value)
        if _DIGITS.match(key):
            index = int(key)
            return value[index] if index < len(value) else UNDEFINED
        return UNDEFINED
    if value is None or value is UNDEFINED:
        shown = "null" if value is None else "undefined"
        raise TypeError(f"Cannot read properties of {shown} (reading '{key}')")
    if isinstance(value, str):
        if isinstance(key, int):
            return value[key] if 0 <= key < len(value) else UNDEFINED
        if key == "length":
            return len(value)
        return UNDEFINED
    if isinstance(value, (bytes, bytearray)):
        if isinstance(key, int):
            return value[key] if 0 <= key < len(value) else UNDEFINED
        if key == "length":
            return len(value)
        return UNDEFINED
    return UNDEFINED


def set_property(root: Any, expression: str, value: Any, create_missing: bool = True) -> bool:
    """Write ``value`` at ``expression``, creating objects and arrays on the way.

    Returns False (and changes nothing) where JavaScript could not set it:
    beneath a string, number or ``null``, or a missing level when
    ``create_missing`` is false. Writing :data:`UNDEFINED` deletes the key.
    """
    parts = parse(strip_msg_prefix(expression))
    return set_path(root, resolve_parts(parts, root) if any(isinstance(p, NestedRef) for p in parts) else list(parts), value, create_missing)


def set_path(root: Any, parts: list[Any], value: Any, create_missing: bool = True) -> bool:
    """Write ``value`` at already-parsed ``parts`` (see :func:`set_property`)."""
    target = root
    last = len(parts) - 1
    for i in range(last):
        key = parts[i]
        if isinstance(target, list) and isinstance(key, int):
            current = target[key] if 0 <= key < len(target) else UNDEFINED
            if current is UNDEFINED or current is None:
                if not create_missing:
                    return False
                current = {} if isinstance(parts[i + 1], str) else []
                _list_assign(target, key, current)
            target = current
            continue
        if not isinstance(target, dict):
            return False
        skey = key if isinstance(key, str) else str(key)
        if skey in target:
            current = target[skey]
            if not isinstance(current, (dict, list)):
                return False
            target = current
        elif create_missing:
            current = {} if isinstance(parts[i + 1], str) else []
            target[skey] = current
            target = current
        else:
            return False

    key = parts[last]
    if value is UNDEFINED:
        if isinstance(target, list) and isinstance(key, int):
            if 0 <= key < len(target):
                del target[key]
        elif isinstance(target, dict):
            target.pop(key if isinstance(key, str) else str(key), None)
        return True
    if isinstance(target, dict):
        target[key if isinstance(key, str) else str(key)] = value
        return True
    if isinstance(target, list):
        if isinstance(key, int):
            _list_assign(target, key, value)
            return True
        if isinstance(key, str) and _DIGITS.match(key):
            _list_assign(target, int(key), value)
            return True
        return False
    if isinstance(target, bytearray) and isinstance(key, int) and 0 <= key < len(target):
        target[key] = int(value) & 0xFF if isinstance(value, (int, float)) else 0
        return True
    return False


def _list_assign(target: list[Any], index: int, value: Any) -> None:
    if index < len(target):
        target[index] = value
        return
    # JavaScript leaves holes up to the new index; they read as undefined.
    target.extend([UNDEFINED] * (index - len(target)))
    target.append(value)


def delete_property(root: Any, expression: str) -> None:
    """Delete ``expression`` from ``root`` (an array element is spliced out)."""
    set_property(root, expression, UNDEFINED, create_missing=False)
