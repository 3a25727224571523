"""The sort node: sort an array property, or the messages of a sequence.

With ``targetType: "msg"`` the array at ``target`` is sorted in place, by the
element itself or by a JSONata key evaluated against each element; a message
whose target is not an array is dropped. Otherwise the node collects the
messages of each sequence (``msg.parts.id``) until ``parts.count`` have
arrived, sorts them by a message property or a JSONata key, renumbers
``parts.index`` and sends them in the new order.

Keys compare as JavaScript's ``>`` and ``===`` compare them (numbers
numerically, strings by UTF-16 code unit), or as numbers with ``as_num``.
The sort is stable, as V8's is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from runtime.expressions import Expression, ExpressionError
from runtime.jsvalues import UNDEFINED, to_js_number
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.propertypath import get_property, set_property
from runtime.registry import register
from nodes.sequence.common import js_greater, max_pending_messages


@dataclass
class _SortGroup:
    """The messages of one sequence that have arrived so far."""

    sequence_no: int
    count: Any = UNDEFINED
    msgs: list[Message] = field(default_factory=list)


@register
class SortNode(Node):
    """Sort an array in a message, or a sequence of messages."""

    type_name = "sort"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.descending = (config.get("order") or "ascending") != "ascending"
        self.as_number = bool(config.get("as_num"))
        self.target = config.get("target") or "payload"
        self.sorts_property = config.get("targetType") == "msg"
        key_type = config.get("msgKeyType") if self.sorts_property else config.get("seqKeyType")
        self.key_property = config.get("seqKey") or "payload"
        self.key_expression: Expression | None = None
        self.configured = False
        if key_type == "jsonata":
            source = config.get("msgKey") if self.sorts_property else config.get("seqKey")
            try:
                self.key_expression = Expression(str(source or ""), self)
            except ExpressionError as exc:
                # Node-RED logs this and leaves the node without an input handler.
                self.error(f"Invalid JSONata expression in sort node: {_error_string(exc)}")
                return
        self.configured = True

        # Sequences still missing messages, by parts.id, oldest first.
        self._pending: dict[Any, _SortGroup] = {}
        self._pending_count = 0
        self._next_sequence_no = 0

    # -- comparing -------------------------------------------------------

    def _compare(self, left: Any, right: Any) -> int:
        if self.as_number:
            left, right = to_js_number(left), to_js_number(right)
        if _strict_equals(left, right):
            return 0
        direction = -1 if self.descending else 1
        return direction if js_greater(left, right) else -direction

    def _compare_keyed(self, left: tuple[Any, Any], right: tuple[Any, Any]) -> int:
        return self._compare(left[0], right[0])

    def _sorted(self, items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
        keyed: list[tuple[Any, Any]] = [(key(item), item) for item in items]
        keyed.sort(key=functools.cmp_to_key(self._compare_keyed))
        return [item for _, item in keyed]

    def _expression_key(self, value: Any) -> Any:
        assert self.key_expression is not None
        try:
            return self.key_expression.evaluate(value)
        except ExpressionError as exc:
            raise SortKeyError(f"Invalid JSONata expression in sort node: {_error_string(exc)}") from exc

    # -- input -----------------------------------------------------------

    def on_input(self, msg: Message) -> Any:
        if not self.configured:
            return PENDING
        if self.sorts_property:
            return self._sort_property(msg)

        parts = msg.get("parts")
        if not isinstance(parts, dict) or "id" not in parts or "index" not in parts:
            return None
        group_id = parts["id"] if isinstance(parts["id"], (str, int, float)) else repr(parts["id"])
        group = self._pending.get(group_id)
        if group is None:
            group = self._pending[group_id] = _SortGroup(sequence_no=self._next_sequence_no)
            self._next_sequence_no += 1
        group.msgs.append(msg)
        if "count" in parts:
            group.count = parts["count"]
        self._pending_count += 1

        if isinstance(group.count, (int, float)) and len(group.msgs) == group.count:
            del self._pending[group_id]
            self._pending_count -= len(group.msgs)
            self._send_sorted(group)
        elif 0 < max_pending_messages(self) < self._pending_count:
            self._pending_count -= self._drop_oldest()
        return PENDING

    def _sort_property(self, msg: Message) -> Any:
        data = get_property(msg, self.target)
        if not isinstance(data, list):
            # Node-RED marks the message done without sending it.
            return None
        if self.key_expression is None:
            # Array.prototype.sort moves undefined elements to the end without comparing them.
            defined = [item for item in data if item is not UNDEFINED]
            data[:] = self._sorted(defined, _identity) + [UNDEFINED] * (len(data) - len(defined))
            return msg
        try:
            ordered = self._sorted(data, self._expression_key)
        except SortKeyError as exc:
            self.done(msg, str(exc))
            return PENDING
        set_property(msg, self.target, ordered)
        return msg

    def _send_sorted(self, group: _SortGroup) -> None:
        msgs = group.msgs
        key = self._expression_key if self.key_expression is not None else self._property_key
        try:
            ordered = self._sorted(msgs, key)
        except SortKeyError as exc:
            # The message that completed the sequence carries the error.
            for held in msgs[:-1]:
                self.done(held)
            self.done(msgs[-1], str(exc))
            return
        for index, msg in enumerate(ordered):
            msg["parts"]["index"] = index
            self.send(msg)
            self.done(msg)

    def _property_key(self, msg: Message) -> Any:
        return get_property(msg, self.key_property)

    def _drop_oldest(self) -> int:
        """Drop the oldest waiting sequence (its last message reports the error); return its size."""
        oldest_id = min(self._pending, key=lambda gid: self._pending[gid].sequence_no)
        group = self._pending.pop(oldest_id)
        for held in group.msgs[:-1]:
            self.done(held)
        self.done(group.msgs[-1], "Too many pending messages in sort node")
        return len(group.msgs)

    async def close(self, removed: bool) -> None:
        """Drop the sequences still waiting, logging each as Node-RED does."""
        for group in self._pending.values():
            self.log("clear pending message in sort node")
            for held in group.msgs:
                self.done(held)
        self._pending = {}
        self._pending_count = 0


class SortKeyError(ValueError):
    """A sort key expression that failed for one element or message."""


def _identity(value: Any) -> Any:
    return value


def _strict_equals(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, str) or left is None or left is UNDEFINED:
        return type(left) is type(right) and left == right
    return left is right


def _error_string(exc: Exception) -> str:
    # jsonata-js (Node-RED 4.1.8 ships 2.0.x) throws plain objects, not Errors,
    # so Node-RED's err.toString() prints "[object Object]".
    return "[object Object]" if isinstance(exc, ExpressionError) else str(exc)
