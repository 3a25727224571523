"""The switch node's rule operators and rule values, with JavaScript's comparison semantics.

Node-RED compares with JavaScript's ``==``, ``<`` and friends, so ``10 == "10"``
is true, ``"10" < 9`` compares numbers and ``"apple" < "m"`` compares text.
:func:`less_than` implements the abstract relational comparison of ECMA-262
for message values. Operators take the property value ``a``, the rule values
``b`` and ``c``, the rule's ignore-case flag and ``msg.parts``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runtime import jsjson
from runtime.expressions import Expression, ExpressionError
from runtime.jsregex import JSRegexError, compile_js_regex
from runtime.jsvalues import (
    UNDEFINED,
    JSError,
    JSOpaque,
    JSRegExp,
    date_to_ms,
    js_typeof,
    loose_equals,
    to_js_number,
    to_js_string,
)
from runtime.propertypath import read_member, static_parts
from runtime.typed import TypedValue

if TYPE_CHECKING:
    from runtime.message import Message
    from runtime.node import Node

# Value types whose read failures Node-RED turns into ``undefined``.
_SOFT_TYPES = frozenset({"msg", "flow", "global"})


class RuleConfigError(ValueError):
    """A rule that Node-RED rejects at deploy; the message is Node-RED's log text."""


# -- JavaScript comparisons ------------------------------------------------------


def _to_primitive(value: Any) -> Any:
    """Convert an object as ``ToPrimitive(value, number)`` does; primitives are returned as they are."""
    if isinstance(value, _dt.datetime):
        return date_to_ms(value)
    if isinstance(value, (dict, list, bytes, bytearray, JSRegExp, JSError, JSOpaque)):
        return to_js_string(value)
    return value


def less_than(left: Any, right: Any) -> bool | None:
    """Return ``left < right`` as JavaScript computes it, or None where JavaScript gives undefined (NaN)."""
    left, right = _to_primitive(left), _to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        if max(left + right, default="\0") > "\uffff":
            # JavaScript compares UTF-16 code units, which orders astral characters differently.
            return left.encode("utf-16-be") < right.encode("utf-16-be")
        return left < right
    left_number, right_number = to_js_number(left), to_js_number(right)
    if math.isnan(left_number) or math.isnan(right_number):
        return None
    return left_number < right_number


def _lte(left: Any, right: Any) -> bool:
    return less_than(right, left) is False


def _gte(left: Any, right: Any) -> bool:
    return less_than(left, right) is False


# -- operators -------------------------------------------------------------------


def _op_regex(a: Any, b: Any, c: Any, ignore_case: Any, parts: Any) -> bool:
    if isinstance(b, JSRegExp):
        source = b.source
    else:
        # ``new RegExp(undefined)`` is the empty expression, which matches everything.
        source = "" if b is UNDEFINED else to_js_string(b)
    try:
        regex = compile_js_regex(source, "i" if ignore_case else "")
    except JSRegexError as exc:
        raise JSError(str(exc), name="SyntaxError") from None
    # ``a + ""`` converts a Date with its string form (the default ToPrimitive hint), as to_js_string does.
    return regex.search(to_js_string(a)) is not None


def _length(value: Any) -> int | None:
    """Return what the empty/nempty rules measure: length, key count, or None for other types."""
    if isinstance(value, (str, list, bytes, bytearray)):
        return len(value)
    if isinstance(value, dict):
        return len(value)
    if isinstance(value, JSError):
        return len(value.extra)
    if isinstance(value, (_dt.datetime, JSRegExp, JSOpaque)):
        # Date, RegExp and the like are objects without enumerable keys.
        return 0
    return None


def _op_istype(a: Any, b: Any, *_: Any) -> bool:
    if b == "array":
        return isinstance(a, list)
    if b == "buffer":
        return isinstance(a, (bytes, bytearray))
    if b == "json":
        try:
            jsjson.parse(a if isinstance(a, str) else to_js_string(a))
        except jsjson.JSONParseError:
            return False
        return True
    if b == "null":
        return a is None
    if b == "number":
        return js_typeof(a) == "number" and not math.isnan(a)
    return js_typeof(a) == b and not isinstance(a, (list, bytes, bytearray)) and a is not None


def _parts_field(parts: Any, key: str) -> Any:
    """Read ``msg.parts[key]``; reading beneath a missing ``parts`` fails as in JavaScript."""
    if parts is None or parts is UNDEFINED:
        shown = "null" if parts is None else "undefined"
        raise JSError(f"Cannot read properties of {shown} (reading '{key}')", name="TypeError")
    if isinstance(parts, dict):
        return parts.get(key, UNDEFINED)
    return UNDEFINED


def _op_head(a: Any, b: Any, c: Any, ignore_case: Any, parts: Any) -> bool:
    return less_than(_parts_field(parts, "index"), to_js_number(b)) is True


def _op_tail(a: Any, b: Any, c: Any, ignore_case: Any, parts: Any) -> bool:
    first_of_tail = to_js_number(_parts_field(parts, "count")) - to_js_number(b)
    return _lte(first_of_tail, _parts_field(parts, "index"))


def _op_index(a: Any, b: Any, c: Any, ignore_case: Any, parts: Any) -> bool:
    index = _parts_field(parts, "index")
    return _lte(to_js_number(b), index) and _lte(index, to_js_number(c))


def _has_own_key(value: Any, key: str) -> bool:
    """Return ``value.hasOwnProperty(key)`` for message values."""
    if isinstance(value, dict):
        return key in value
    if isinstance(value, (list, str, bytes, bytearray)):
        if key == "length":
            return not isinstance(value, (bytes, bytearray))
        return key.isdigit() and str(int(key)) == key and int(key) < len(value)
    return False


def _op_hask(a: Any, b: Any, *_: Any) -> bool:
    if a is None or a is UNDEFINED or js_typeof(b) == "object":
        return False
    return _has_own_key(a, to_js_string(b))


def _op_empty(a: Any, *_: Any) -> bool:
    return _length(a) == 0


def _op_nempty(a: Any, *_: Any) -> bool:
    length = _length(a)
    return length is not None and length != 0


Operator = Callable[[Any, Any, Any, Any, Any], Any]

def _op_eq(a: Any, b: Any, *_: Any) -> bool:
    # Two strings, the usual case, compare directly; anything else needs JavaScript's ==.
    if a.__class__ is str and b.__class__ is str:
        return bool(a == b)
    return loose_equals(a, b)


OPERATORS: dict[str, Operator] = {
    "eq": _op_eq,
    "neq": lambda a, b, *_: not _op_eq(a, b),
    "lt": lambda a, b, *_: less_than(a, b) is True,
    "lte": lambda a, b, *_: _lte(a, b),
    "gt": lambda a, b, *_: less_than(b, a) is True,
    "gte": lambda a, b, *_: _gte(a, b),
    "btwn": lambda a, b, c, *_: (_gte(a, b) and _lte(a, c)) or (_lte(a, b) and _gte(a, c)),
    "cont": lambda a, b, *_: to_js_string(b) in to_js_string(a),
    "regex": _op_regex,
    "true": lambda a, *_: a is True,
    "false": lambda a, *_: a is False,
    "null": lambda a, *_: a is None or a is UNDEFINED,
    "nnull": lambda a, *_: a is not None and a is not UNDEFINED,
    "empty": _op_empty,
    "nempty": _op_nempty,
    "istype": _op_istype,
    "head": _op_head,
    "tail": _op_tail,
    "index": _op_index,
    "hask": _op_hask,
    "jsonata_exp": lambda a, b, *_: b is True,
    "else": lambda a, *_: a is True,
}


# -- rule values -----------------------------------------------------------------


def default_value_type(value: Any) -> str:
    """Return the type Node-RED assumes for an untyped rule value: num when ``Number(v)`` is a number."""
    if value is UNDEFINED:
        return "str"
    return "str" if math.isnan(to_js_number(value)) else "num"


class RuleValue:
    """One value of a rule (``v``/``vt`` or ``v2``/``v2t``) or the switch property, compiled once.

    ``role`` is ``"v"``, ``"v2"`` or ``"property"``: Node-RED reads ``prev``
    only for rule values, and gives the first rule value of type ``json`` or
    ``null`` as the text ``"json"``/``"null"`` instead of evaluating it.
    """

    def __init__(self, raw: Any, kind: str, node: Node, role: str) -> None:
        self.kind = "prev" if kind == "prev" and role != "property" else kind
        self.raw = raw
        self.node = node
        self.expression: Expression | None = None
        self.typed: TypedValue | None = None
        self.const: Any = UNDEFINED
        self.assigned: dict[str, Any] = {}
        # Parsed once for the common msg property; None falls back to TypedValue.
        self._msg_parts = static_parts(to_js_string(raw)) if kind == "msg" else None
        if kind == "jsonata":
            try:
                self.expression = Expression(to_js_string(raw), node)
            except ExpressionError as exc:
                raise RuleConfigError(f"Invalid JSONata expression: {exc}") from exc
        elif kind == "str":
            self.const = to_js_string(raw)
        elif kind == "num":
            self.const = to_js_number(raw)
        elif kind in ("json", "null") and role == "v":
            self.const = kind
        elif kind == "bool":
            self.const = to_js_string(raw).lower() == "true"
        elif self.kind != "prev":
            self.typed = TypedValue(raw, kind, node)
        self.is_constant = kind in ("str", "num", "bool") or (kind in ("json", "null") and role == "v")

    def evaluate(self, msg: Message, previous: Any) -> Any:
        """Return the value for ``msg``.

        Raises ``ExpressionError`` for a failing JSONata expression, and the
        conversion error of a bad json, bin or re constant.
        """
        if self._msg_parts is not None:
            return _read_msg(msg, self._msg_parts)
        if self.kind == "prev":
            return previous
        if self.expression is not None:
            return self._evaluate_expression(msg)
        typed = self.typed
        if typed is None:
            return self.const
        if self.kind in _SOFT_TYPES:
            try:
                return typed.evaluate(msg)
            except Exception:  # noqa: BLE001 - Node-RED reads a failed msg/flow/global lookup as undefined
                return UNDEFINED
        return typed.evaluate(msg)

    def _evaluate_expression(self, msg: Message) -> Any:
        assert self.expression is not None  # checked by the caller
        try:
            return self.expression.evaluate(msg, self.assigned or None)
        except ExpressionError:
            raise
        except Exception as exc:  # noqa: BLE001 - every evaluation failure is a JSONata error in Node-RED
            raise ExpressionError(str(exc)) from exc


def _read_msg(msg: Message, parts: list[str | int]) -> Any:
    """Read a parsed msg property; undefined where JavaScript would throw (a missing parent)."""
    value: Any = msg
    for part in parts:
        if value.__class__ is dict:
            value = value.get(part if part.__class__ is str else str(part), UNDEFINED)
        elif value is None or value is UNDEFINED:
            return UNDEFINED
        else:
            value = read_member(value, part)
    return value
