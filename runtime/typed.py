"""Typed properties: the ``value`` + ``type`` pairs of Node-RED's TypedInput widget.

A :class:`TypedValue` is compiled once when its node is built and evaluated
per message. Types: ``msg flow global str num bool json bin date env jsonata
re node``. Constants (str, num, bool) are converted once; json and bin are
parsed once and copied per use so no message shares an object with another.
A constant that cannot be converted (invalid JSON, say) raises when it is
evaluated, as Node-RED does, so the error reaches catch nodes with the message.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from typing import TYPE_CHECKING, Any

from runtime import jsjson
from runtime.context import parse_store_key
from runtime.expressions import Expression
from runtime.jsvalues import UNDEFINED, JSRegExp, to_js_number, to_js_string
from runtime.message import clone_value
from runtime.node import NodeError
from runtime.propertypath import get_property, parse, strip_msg_prefix
from runtime.timefmt import format_moment, now_local

if TYPE_CHECKING:
    from runtime.node import Node

_CONSTANT_TYPES = frozenset({"str", "num", "bool", "json", "bin", "re"})

TYPES = frozenset({"msg", "flow", "global", "str", "num", "bool", "json", "bin", "date", "env", "jsonata", "re", "node"})

_ENV_WHOLE_RE = re.compile(r"^\$\{([^}]+)\}$")
_ENV_PART_RE = re.compile(r"\$\{([^}]+)\}")
_ENV_ANY_RE = re.compile(r"\$\{\S+\}")


def evaluate_env(value: str, node: Any) -> Any:
    """Resolve an ``env`` typed value: ``NAME``, ``${NAME}`` or text with ``${NAME}`` inside."""
    whole = _ENV_WHOLE_RE.match(value)
    if whole:
        result = node.get_setting(whole.group(1))
    elif not _ENV_ANY_RE.search(value):
        result = node.get_setting(value)
    else:

        def replace(match: re.Match[str]) -> str:
            found = node.get_setting(match.group(1))
            return "" if found is UNDEFINED else to_js_string(found)

        return _ENV_PART_RE.sub(replace, value)
    return "" if result is UNDEFINED else result


def evaluate_date(fmt: Any) -> Any:
    """Return the current time in a date typed input's format (Node-RED 4 formats)."""
    if not fmt:
        return int(time.time() * 1000)
    if fmt == "object":
        return _dt.datetime.now(_dt.timezone.utc)
    if fmt == "iso":
        now = _dt.datetime.now(_dt.timezone.utc)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    return format_moment(now_local(), str(fmt))


def parse_binary(text: Any) -> bytearray:
    """Build a Buffer from a ``bin`` typed value: a JSON array of bytes or a JSON string."""
    data = jsjson.parse(text) if isinstance(text, str) else text
    if isinstance(data, list):
        return bytearray(int(to_js_number(b)) & 0xFF for b in data)
    if isinstance(data, str):
        return bytearray(data.encode("utf-8"))
    raise NodeError("Not string or array", code="INVALID_BUFFER_DATA")


class TypedValue:
    """One compiled typed property."""

    __slots__ = ("type", "value", "node", "_const", "_error", "_path", "_expr", "_key", "_store", "_copy")

    def __init__(self, value: Any, value_type: str | None, node: Node | None = None) -> None:
        self.type = value_type or "str"
        self.value = value
        self.node = node
        self._const: Any = UNDEFINED
        self._error: Exception | None = None
        self._copy = False
        self._path: Any = None
        self._expr: Expression | None = None
        self._key = ""
        self._store: str | None = None
        try:
            self._compile()
        except Exception as exc:  # noqa: BLE001 - raised again on every evaluation, as in Node-RED
            self._error = exc

    def _compile(self) -> None:
        kind, value = self.type, self.value
        if kind == "str":
            self._const = to_js_string(value) if value is not None else ""
        elif kind == "num":
            self._const = to_js_number(value)
        elif kind == "bool":
            self._const = bool(re.match(r"^true$", str(value), re.IGNORECASE)) if not isinstance(value, bool) else value
        elif kind == "json":
            self._const = jsjson.parse(value) if isinstance(value, str) else value
            self._copy = True
        elif kind == "bin":
            self._const = parse_binary(value)
            self._copy = True
        elif kind == "re":
            self._const = JSRegExp(str(value))
        elif kind == "msg":
            self._path = parse(strip_msg_prefix(str(value)))
        elif kind in ("flow", "global", "node"):
            self._key, self._store = parse_store_key(str(value), None)
        elif kind == "jsonata":
            self._expr = Expression(str(value), self.node)
        elif kind not in ("date", "env"):
            # Unknown types evaluate to the raw value, as Node-RED does.
            self._const = value

    @property
    def is_constant(self) -> bool:
        return self.type in _CONSTANT_TYPES

    def evaluate(self, msg: Any = None, bindings: dict[str, Any] | None = None) -> Any:
        """Return the property's value for ``msg``."""
        if self._error is not None:
            raise self._error
        kind = self.type
        if kind == "msg":
            if msg is None:
                return UNDEFINED
            return get_property(msg, str(self.value))
        if kind in _CONSTANT_TYPES:
            if self._copy:
                return bytearray(self._const) if isinstance(self._const, bytearray) else clone_value(self._const)
            return self._const
        if kind in ("flow", "global", "node"):
            return self._context_value(kind, msg)
        if kind == "jsonata":
            assert self._expr is not None
            return self._expr.evaluate(msg, bindings)
        if kind == "date":
            return evaluate_date(self.value)
        if kind == "env":
            return evaluate_env(str(self.value), self.node)
        return self._const if self._const is not UNDEFINED else self.value

    def _context_value(self, kind: str, msg: Any) -> Any:
        if self.node is None:
            return UNDEFINED
        context = self.node.context()
        scope = context if kind == "node" else (context.flow if kind == "flow" else context.global_)
        key = self._key
        if "[msg" in key and msg is not None:
            key = _resolve_nested_key(key, msg)
        return scope.get(key, self._store)


def _resolve_nested_key(key: str, msg: Any) -> str:
    from runtime.propertypath import resolve_parts

    parts = resolve_parts(parse(key), msg)
    head, rest = parts[0], parts[1:]
    out = str(head)
    for part in rest:
        out += f"[{part}]" if isinstance(part, int) else f'["{part}"]'
    return out
