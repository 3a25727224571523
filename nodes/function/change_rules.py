"""Compiled rules of the change node: where a value comes from, where it goes, and what happens on failure.

A rule config is the flow-file object ``{"t", "p", "pt", "to", "tot", "from",
"fromt", "dc"}``. :func:`normalise_rule` applies Node-RED's migrations (old
flows without types), then :class:`ChangeRule` compiles it. ``ChangeRule.apply``
returns False when the message must stop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from runtime import jsjson
from runtime.context import parse_store_key
from runtime.expressions import Expression, ExpressionError
from runtime.jsregex import JSRegex, JSRegexError, compile_js_regex, escape_for_regex
from runtime.jsvalues import UNDEFINED, JSRegExp, js_typeof, to_js_number, to_js_string
from runtime.message import Message, clone_value
from runtime.propertypath import get_property, parse, resolve_parts, set_path, set_property, static_parts
from runtime.typed import evaluate_date, evaluate_env

if TYPE_CHECKING:
    from nodes.function.change import ChangeNode
    from runtime.context import Scope

_CONTEXT_TYPES = ("msg", "flow", "global")

# ``String.prototype.replace(undefined, v)`` searches for the text "undefined";
# Node-RED reaches it when a msg/flow/global search value is a number or boolean.
_UNDEFINED_SEARCH = compile_js_regex("undefined")


class RuleConfigError(ValueError):
    """A rule that Node-RED rejects at deploy; the message is Node-RED's log text."""


class _SkipRule(Exception):
    """The rule's source could not be read; Node-RED leaves the message as it is and goes on."""


def legacy_rule(config: dict[str, Any]) -> dict[str, Any]:
    """Build the one rule of a change node saved before Node-RED 0.18 (``action``, ``property``...)."""
    action = config.get("action")
    rule: dict[str, Any] = {"t": "set" if action == "replace" else action, "p": config.get("property") or ""}
    if rule["t"] in ("set", "move"):
        rule["to"] = config.get("to") or ""
    elif rule["t"] == "change":
        rule["from"] = config.get("from") or ""
        rule["to"] = config.get("to") or ""
        reg = config.get("reg", UNDEFINED)
        rule["re"] = True if reg is None else reg
    return rule


def normalise_rule(raw: dict[str, Any]) -> dict[str, Any]:
    """Fill in the types that flows from before typed rules leave out, as Node-RED does at deploy."""
    rule = dict(raw)
    if not rule.get("pt"):
        rule["pt"] = "msg"
    if rule.get("t") == "change" and rule.get("re"):
        rule["fromt"] = "re"
        del rule["re"]
    if rule.get("t") == "set" and not rule.get("tot"):
        target = rule.get("to", UNDEFINED)
        if not isinstance(target, str):
            # Node-RED fails to build the node here (it calls ``rule.to.indexOf``).
            raise TypeError(f"change rule {raw!r} has no 'to' text; set 'to' and 'tot' on the rule")
        if target.startswith("msg."):
            rule["to"] = target[4:]
            rule["tot"] = "msg"
    if not rule.get("tot"):
        rule["tot"] = "str"
    if not rule.get("fromt"):
        rule["fromt"] = "str"
    return rule


class ChangeRule:
    """One compiled rule (``set``, ``change``, ``delete`` or ``move``)."""

    def __init__(self, rule: dict[str, Any], node: ChangeNode) -> None:
        self.node = node
        self.action = rule.get("t")
        self.steps: list[_Step] = []
        if self.action == "move":
            self.steps = _move_steps(rule, node)
        else:
            self.steps = [_Step(rule, node, compile_config=True)]

    def apply(self, msg: Message) -> bool:
        """Apply the rule to ``msg`` in place; False when the message must stop."""
        for step in self.steps:
            if not step.apply(msg):
                return False
        return True


def _move_steps(rule: dict[str, Any], node: ChangeNode) -> list[_Step]:
    """Split a move into set and delete steps, through ``_temp_move`` when the target may overlap the source.

    The condition is Node-RED's, operator precedence included.
    """
    source, source_type = rule.get("p", ""), rule.get("pt")
    target, target_type = rule.get("to", ""), rule.get("tot")
    if target_type != source_type or (str(target) in str(source) and source != target):
        plan = [
            {"t": "set", "p": target, "pt": target_type, "to": source, "tot": source_type},
            {"t": "delete", "p": source, "pt": source_type},
        ]
    else:
        plan = [
            {"t": "set", "p": "_temp_move", "pt": target_type, "to": source, "tot": source_type},
            {"t": "delete", "p": source, "pt": source_type},
            {"t": "set", "p": target, "pt": target_type, "to": "_temp_move", "tot": source_type},
            {"t": "delete", "p": "_temp_move", "pt": source_type},
        ]
    return [_Step(step, node, compile_config=False) for step in plan]


class _Step:
    """A single set, change or delete on one msg property or context key."""

    def __init__(self, rule: dict[str, Any], node: ChangeNode, *, compile_config: bool) -> None:
        self.node = node
        self.action = rule.get("t")
        self.prop = rule.get("p", "")
        self.prop_type = rule.get("pt")
        self.deep_copy = bool(rule.get("dc"))
        self.to = _ToValue(rule.get("to", UNDEFINED), rule.get("tot"), node, validate=compile_config)
        self.search = _Search(rule, compile_regex=compile_config) if self.action == "change" else None
        self._parts: list[Any] | None = None
        if self.prop_type == "msg":
            self._parts = static_parts(to_js_string(self.prop))

    def apply(self, msg: Message) -> bool:
        try:
            value = self.to.evaluate(msg)
        except _SkipRule:
            return True
        except ExpressionError as exc:
            self.node.error(f"Invalid JSONata expression: {exc}", msg)
            return False
        if self.deep_copy:
            value = clone_value(value)

        try:
            search = self.search.evaluate(msg, self.node) if self.search is not None else _NO_SEARCH
        except _SkipRule:
            return True

        if self.prop_type == "msg":
            self._apply_to_msg(msg, value, search)
            return True
        if self.prop_type in ("flow", "global"):
            try:
                return self._apply_to_context(msg, value, search)
            except Exception:  # noqa: BLE001 - Node-RED's rule-level catch lets the message go on
                return True
        # Node-RED has no branch for other target types and never finishes the message.
        return False

    # -- msg targets ---------------------------------------------------------

    def _apply_to_msg(self, msg: Message, value: Any, search: _SearchValue) -> None:
        try:
            if self.action == "delete":
                self._set_msg(msg, UNDEFINED)
            elif self.action == "set":
                if not self._set_msg(msg, value):
                    self.node.warn(f"Cannot set property of non-object type: {self.prop}")
            elif self.action == "change":
                current = get_property(msg, str(self.prop))
                changed = search.change(current, value, self.to.kind, convert_bool=True)
                if changed is not _UNCHANGED:
                    self._set_msg(msg, changed)
        except Exception:  # noqa: BLE001 - Node-RED ignores failures on msg targets and sends the message
            return

    def _set_msg(self, msg: Message, value: Any) -> bool:
        create_missing = value is not UNDEFINED
        if self._parts is not None:
            return set_path(msg, self._parts, value, create_missing)
        return set_property(msg, str(self.prop), value, create_missing)

    # -- flow and global targets ---------------------------------------------

    def _apply_to_context(self, msg: Message, value: Any, search: _SearchValue) -> bool:
        key, store = parse_store_key(str(self.prop), None)
        if "[msg" in key:
            key = _resolve_nested_key(key, msg)
        context = self.node.context()
        scope: Scope = context.flow if self.prop_type == "flow" else context.global_

        if self.action == "delete":
            scope.set(key, UNDEFINED, store)
        elif self.action == "set":
            scope.set(key, value, store)
        elif self.action == "change":
            current = scope.get(key, store)
            changed = search.change(current, value, self.to.kind, convert_bool=False)
            if changed is _UNCHANGED:
                return False
            scope.set(key, changed, store)
        return True


class _ToValue:
    """The value a rule writes (``to`` with type ``tot``), prepared once at deploy."""

    def __init__(self, raw: Any, kind: Any, node: ChangeNode, *, validate: bool) -> None:
        self.kind = kind
        self.raw = raw
        self.node = node
        self.const: Any = raw
        self.expression: Expression | None = None
        self.parsed: Any = UNDEFINED
        if validate:
            self._prepare()

    def _prepare(self) -> None:
        kind, raw = self.kind, self.raw
        if kind == "num":
            self.const = to_js_number(raw)
        elif kind in ("json", "bin"):
            try:
                self.parsed = jsjson.parse(to_js_string(raw))
            except jsjson.JSONParseError as exc:
                raise RuleConfigError("Invalid 'to' JSON property") from exc
        elif kind == "bool":
            self.const = to_js_string(raw).lower() == "true"
        elif kind == "jsonata":
            try:
                self.expression = Expression(to_js_string(raw), self.node)
            except ExpressionError as exc:
                raise RuleConfigError(f"Invalid JSONata expression: {exc}") from exc
        elif kind == "env":
            self.const = evaluate_env(to_js_string(raw), self.node)

    def evaluate(self, msg: Message) -> Any:
        """Return the value for ``msg``; raise :class:`_SkipRule` where Node-RED skips the rule."""
        kind = self.kind
        if kind == "msg":
            try:
                return get_property(msg, to_js_string(self.raw))
            except Exception as exc:  # noqa: BLE001 - any read failure skips the rule in Node-RED
                raise _SkipRule from exc
        if kind in ("flow", "global"):
            return self._context_value(msg)
        if kind == "json":
            return clone_value(self.parsed)
        if kind == "bin":
            return _buffer_from(self.parsed)
        if kind == "date":
            return evaluate_date(self.raw)
        if kind == "jsonata":
            assert self.expression is not None  # set by _prepare for every jsonata rule
            try:
                return self.expression.evaluate(msg)
            except ExpressionError:
                raise
            except Exception as exc:  # noqa: BLE001 - every evaluation failure is a JSONata error in Node-RED
                raise ExpressionError(str(exc)) from exc
        return self.const

    def _context_value(self, msg: Message) -> Any:
        key, store = parse_store_key(to_js_string(self.raw), None)
        if "[msg" in key:
            try:
                key = _resolve_nested_key(key, msg)
            except Exception as exc:  # noqa: BLE001 - a bad nested reference skips the rule
                raise _SkipRule from exc
        context = self.node.context()
        scope = context.flow if self.kind == "flow" else context.global_
        try:
            return scope.get(key, store)
        except Exception:  # noqa: BLE001 - Node-RED turns a failed context read into undefined
            return UNDEFINED


class _SearchValue:
    """The search side of a ``change`` rule for one message: type, value and expression."""

    __slots__ = ("kind", "regex", "value")

    def __init__(self, kind: str | None, value: Any, regex: JSRegex | None) -> None:
        self.kind = kind
        self.value = value
        self.regex = regex

    def change(self, current: Any, replacement: Any, to_kind: Any, *, convert_bool: bool) -> Any:
        """Return the changed value of ``current``, or ``_UNCHANGED`` when the search does not apply."""
        kind = self.kind
        if isinstance(current, str):
            if kind in ("num", "bool", "str") and isinstance(self.value, str) and current == self.value:
                return replacement
            regex = self.regex or _UNDEFINED_SEARCH
            changed = regex.replace(current, to_js_string(replacement))
            if convert_bool and to_kind == "bool" and changed == to_js_string(replacement):
                # "true"/"false" produced by the replace become the boolean itself.
                return replacement
            return changed
        if isinstance(current, (int, float)) and not isinstance(current, bool) and kind == "num":
            return replacement if current == to_js_number(self.value) else _UNCHANGED
        if isinstance(current, bool) and kind == "bool":
            return replacement if to_js_string(current) == self.value else _UNCHANGED
        return _UNCHANGED


_UNCHANGED: Any = object()
_NO_SEARCH = _SearchValue(None, UNDEFINED, None)


class _Search:
    """The ``from``/``fromt`` of a change rule, compiled at deploy when it is a constant."""

    def __init__(self, rule: dict[str, Any], *, compile_regex: bool) -> None:
        self.kind = rule.get("fromt")
        self.raw = rule.get("from", UNDEFINED)
        self.constant: _SearchValue | None = None
        if self.kind in _CONTEXT_TYPES:
            return
        regex = None
        if compile_regex:
            regex = self._compile()
        self.constant = _SearchValue(self.kind, self.raw, regex)

    def _compile(self) -> JSRegex:
        if self.kind == "re":
            # ``new RegExp(undefined)`` is the empty expression.
            source = "" if self.raw is UNDEFINED else to_js_string(self.raw)
        elif isinstance(self.raw, str):
            source = escape_for_regex(self.raw)
        else:
            raise TypeError(f"change rule search value {self.raw!r} is not text; set 'from' to a string")
        try:
            return compile_js_regex(source, "g")
        except JSRegexError as exc:
            raise RuleConfigError(f"Invalid 'from' property: {exc}") from exc

    def evaluate(self, msg: Message, node: ChangeNode) -> _SearchValue:
        if self.constant is not None:
            return self.constant
        try:
            found = self._read(msg, node)
        except Exception as exc:  # noqa: BLE001 - a failed read skips the rule in Node-RED
            raise _SkipRule from exc
        return _search_for_value(found, msg, node)

    def _read(self, msg: Message, node: ChangeNode) -> Any:
        if self.kind == "msg":
            return get_property(msg, to_js_string(self.raw))
        key, store = parse_store_key(to_js_string(self.raw), None)
        if "[msg." in key:
            key = _resolve_nested_key(key, msg)
        context = node.context()
        return (context.flow if self.kind == "flow" else context.global_).get(key, store)


def _search_for_value(found: Any, msg: Message, node: ChangeNode) -> _SearchValue:
    """Type a search value read from the message or context, as Node-RED's ``getFromValueType`` does."""
    if isinstance(found, bool):
        return _SearchValue("bool", found, None)
    if isinstance(found, (int, float)):
        return _SearchValue("num", found, None)
    if isinstance(found, JSRegExp):
        return _SearchValue("re", found, compile_js_regex(found.source, found.flags))
    if isinstance(found, str):
        return _SearchValue("str", found, compile_js_regex(escape_for_regex(found), "g"))

    # Node-RED reports the error with the message and then still applies the
    # rule with no search type, so the message also goes on.
    node.error(f"Error: Invalid 'from' property: unsupported type: {js_typeof(found)}", msg)
    return _SearchValue(None, found, None)


def _buffer_from(data: Any) -> bytearray:
    """Build a Buffer as ``Buffer.from(JSON.parse(to))`` does; other shapes skip the rule."""
    if isinstance(data, str):
        return bytearray(data.encode("utf-8"))
    if isinstance(data, dict) and data.get("type") == "Buffer" and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise _SkipRule
    out = bytearray()
    for item in data:
        number = to_js_number(item)
        out.append(0 if math.isnan(number) or math.isinf(number) else int(number) & 0xFF)
    return out


def _resolve_nested_key(key: str, msg: Message) -> str:
    """Replace ``[msg.x]`` references in a context key with their values."""
    parts = resolve_parts(parse(key), msg)
    out = str(parts[0])
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f'["{part}"]'
    return out
