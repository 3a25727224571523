"""The join node's reduce mode: fold a message sequence with a JSONata expression.

Messages are grouped by ``msg.parts.id``. When a group holds ``parts.count``
messages they are ordered by ``parts.index`` (last to first with
``reduceRight``) and the reduce expression is evaluated against each message
with ``$A`` (the accumulator, starting at the initial value), ``$I`` (the
message's ``parts.index``) and ``$N`` (the count). The optional fix-up
expression then sees ``$A`` (the result) and ``$N``. The message reduced last
is sent with the result as ``msg.payload`` and keeps its own ``msg.parts``.
A message without ``msg.parts`` passes through unchanged.

Error handling: an expression error reaches catch nodes with the message that
completed the group; the group's other messages are marked done.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runtime.expressions import Expression, ExpressionError, to_jsonata
from runtime.jsvalues import UNDEFINED
from runtime.message import Message
from runtime.node import PENDING
from runtime.typed import TypedValue
from nodes.sequence.common import js_greater, max_pending_messages

if TYPE_CHECKING:
    from runtime.node import Node


@dataclass
class _ReduceGroup:
    count: Any
    msgs: list[Message] = field(default_factory=list)


class ReduceJoiner:
    """Collect sequences for one join node in reduce mode and reduce each when complete."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.node = node
        self.initial = TypedValue(config.get("reduceInit"), config.get("reduceInitType"), node)
        self.reduce_right = bool(config.get("reduceRight"))
        self.configured = False
        fixup_source = config.get("reduceFixup")
        try:
            self.expression = Expression(str(config.get("reduceExp") or ""), node)
            self.fixup = Expression(str(fixup_source), node) if fixup_source not in ("", None) else None
        except ExpressionError as exc:
            # Node-RED logs this and leaves the node without an input handler.
            node.error(f"Invalid JSONata expression: {exc}")
            return
        self.configured = True

        # Groups waiting for their last message, by parts.id, and how many
        # messages they hold in total (checked against the pending limit).
        self._pending: dict[Any, _ReduceGroup] = {}
        self._pending_count = 0

    def receive(self, msg: Message) -> Any:
        """Add ``msg`` to its group, reducing and sending the group when it is complete."""
        if not self.configured:
            return PENDING
        if "parts" not in msg:
            return msg

        parts = msg["parts"] if isinstance(msg["parts"], dict) else {}
        group_id = parts.get("id", UNDEFINED)
        group_key = group_id if isinstance(group_id, (str, int, float)) else repr(group_id)
        group = self._pending.get(group_key)
        if group is None:
            group = self._pending[group_key] = _ReduceGroup(count=parts.get("count", UNDEFINED))
        if "count" in parts and group.count is UNDEFINED:
            group.count = parts["count"]
        group.msgs.append(msg)
        pending_count = self._pending_count + 1

        count = group.count
        if isinstance(count, (int, float)) and not isinstance(count, bool) and len(group.msgs) == count:
            del self._pending[group_key]
            pending_count -= len(group.msgs)
            if not self._reduce_and_send(group):
                return PENDING
        self._pending_count = pending_count
        self._enforce_limit(msg)
        # A message waiting in a group is marked done when its group is reduced.
        return PENDING

    def _enforce_limit(self, msg: Message) -> None:
        """Drop every waiting group when more messages wait than the runtime allows."""
        limit = max_pending_messages(self.node)
        if limit <= 0 or self._pending_count <= limit:
            return
        for group in self._pending.values():
            for held in group.msgs:
                if held is not msg:
                    self.node.done(held)
        self._pending = {}
        self._pending_count = 0
        self.node.done(msg, "too many pending messages in join node")

    def _reduce_and_send(self, group: _ReduceGroup) -> bool:
        """Reduce a complete group and send the result; return False after an error."""
        arrived = list(group.msgs)
        try:
            accumulator = self.initial.evaluate({})
        except Exception as exc:  # noqa: BLE001 - any failure of the initial value is reported
            self.node.done(arrived[-1], f"Invalid JSONata expression: {exc}")
            return False

        ordered = sorted(group.msgs, key=functools.cmp_to_key(self._compare_index))
        try:
            result = self._fold(ordered, group.count, accumulator)
        except Exception as exc:  # noqa: BLE001 - the evaluator may raise more than ExpressionError
            for held in arrived[:-1]:
                self.node.done(held)
            self.node.done(arrived[-1], exc)
            return False

        last = ordered[-1]
        if result is UNDEFINED:
            last.pop("payload", None)
        else:
            last["payload"] = result
        self.node.send(last)
        for held in arrived:
            self.node.done(held)
        return True

    def _compare_index(self, left: Message, right: Message) -> int:
        direction = -1 if self.reduce_right else 1
        left_index, right_index = left["parts"].get("index", UNDEFINED), right["parts"].get("index", UNDEFINED)
        if js_greater(right_index, left_index):
            return -direction
        if js_greater(left_index, right_index):
            return direction
        return 0

    def _fold(self, ordered: list[Message], count: Any, accumulator: Any) -> Any:
        for msg in ordered:
            bindings = {"I": msg["parts"].get("index"), "N": count, "A": to_jsonata(accumulator)}
            accumulator = self.expression.evaluate(msg, bindings)
        if self.fixup is None:
            return accumulator
        return self.fixup.evaluate({}, {"N": count, "A": to_jsonata(accumulator)})

    def close(self) -> None:
        """Forget the groups still waiting; as in Node-RED, nothing is sent."""
        self._pending = {}
        self._pending_count = 0
