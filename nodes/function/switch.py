"""The switch node: route each message to the outputs whose rule matches a property.

Rules are tried in port order. With ``checkall`` ``"true"`` (the default)
every matching rule's port gets the message; with ``"false"`` the first
match wins. ``else`` matches when no rule since the start or the previous
``else`` matched.

Sequence rules (``head``, ``tail``, ``index``) read ``msg.parts``. When a
rule needs the sequence length (``tail``) or ``repair`` is on, messages of a
sequence (``msg.parts`` with ``id`` and ``index``) are held until the whole
sequence has arrived. With ``repair``, each output then gets its own new
sequence: clones with a fresh ``parts.id`` per port and ``index``/``count``
renumbered over the messages that port received.
"""

from __future__ import annotations

from collections import deque

from typing import Any

from nodes.function.switch_rules import OPERATORS, RuleConfigError, RuleValue, default_value_type
from runtime.expressions import ExpressionError
from runtime.jsvalues import UNDEFINED, JSError, to_js_string
from runtime.message import Message, clone_message, generate_id
from runtime.node import PENDING, Node
from runtime.registry import register


# Delivered by the switch to itself through the run queue: "handle the next
# waiting message" (Node-RED's setImmediate continuation).
_CONTINUE: Any = object()


class _Rule:
    """One compiled switch rule: operator, values and ignore-case flag."""

    def __init__(self, config: dict[str, Any], node: Node) -> None:
        self.operator_name = config.get("t")
        operator = OPERATORS.get(str(self.operator_name))
        if operator is None:
            known = ", ".join(sorted(OPERATORS))
            raise ValueError(f"switch rule operator {self.operator_name!r} is not known; use one of {known}")
        self.operator = operator
        self.ignore_case = config.get("case")
        self.is_else = self.operator_name == "else"
        self.is_jsonata_exp = self.operator_name == "jsonata_exp"

        value = config.get("v", UNDEFINED)
        self.value = RuleValue(value, config.get("vt") or default_value_type(value), node, "v")
        value2 = config.get("v2", UNDEFINED)
        self.value2: RuleValue | None = None
        if value2 is not UNDEFINED:
            self.value2 = RuleValue(value2, config.get("v2t") or default_value_type(value2), node, "v2")


class _Group:
    """Messages of one sequence held until its count is known and reached."""

    __slots__ = ("count", "messages")

    def __init__(self) -> None:
        self.count: Any = UNDEFINED
        self.messages: list[Message] = []


@register
class SwitchNode(Node):
    """Send each message to the ports of the rules that match its property."""

    type_name = "switch"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self._valid = True
        property_type = config.get("propertyType") or "msg"
        try:
            self._property = RuleValue(config.get("property", UNDEFINED), property_type, self, "property")
        except RuleConfigError as exc:
            self.error(str(exc))
            self._valid = False
            return

        # ``checkall`` false (the boolean) reads as "true" in Node-RED: only the text "false" stops early.
        self._stop_at_first = (config.get("checkall") or "true") == "false"
        self._repair = bool(config.get("repair"))
        raw_rules = config.get("rules") or []
        if not isinstance(raw_rules, list) or not all(isinstance(rule, dict) for rule in raw_rules):
            raise TypeError(f"switch node rules must be a list of rule objects, got {raw_rules!r}; re-export the flow")

        self._rules: list[_Rule] = []
        for raw in raw_rules:
            try:
                self._rules.append(_Rule(raw, self))
            except RuleConfigError as exc:
                self.error(str(exc))
                self._valid = False
        self._needs_count = self._repair or any(rule.operator_name == "tail" for rule in self._rules)

        self._previous: Any = None
        self._backlog: deque[Message] = deque()
        self._handling = False
        self._pending_count = 0
        self._pending_in: dict[Any, _Group] = {}
        self._pending_out: dict[Any, list[list[Message | None]]] = {}
        self._received: dict[Any, int] = {}

    @property
    def _max_kept(self) -> int:
        # Node-RED's nodeMessageBufferMaxLength; 0 means no limit.
        return int(self.runtime.settings.node_message_buffer_max_length or 0)

    def receive(self, msg: Message) -> None:
        """Handle one message per turn of the run queue, as Node-RED's switch does.

        Node-RED's switch processes a message, then schedules its next one with
        setImmediate; messages that arrive in between wait in its own queue. The
        deliveries of other nodes therefore overtake the switch's backlog, which
        decides the order messages reach later nodes. The continuation here goes
        through the run queue for the same effect. Like Node-RED's, the switch
        never reports its messages done, so complete nodes do not see them.
        """
        if msg is _CONTINUE:
            if self._backlog:
                self._handle(self._backlog.popleft())
            else:
                self._handling = False
            return
        if self._handling:
            self._backlog.append(msg)
            return
        self._handling = True
        self._handle(msg)

    def _handle(self, msg: Message) -> None:
        try:
            self.on_input(msg)
        except Exception as exc:  # noqa: BLE001 - reported with the message, as a throw is in Node-RED
            self.error(exc, msg)
        self._deliver(self, _CONTINUE)

    def on_input(self, msg: Message) -> Any:
        if not self._valid:
            return PENDING
        if self._needs_count and _has_parts(msg):
            self._hold(msg)
            return None
        return self._process(msg)

    def _process(self, msg: Message) -> Any:
        """Evaluate the rules for one message and send it, or report why it cannot be routed."""
        try:
            value = self._property.evaluate(msg, self._previous)
        except ExpressionError as exc:
            self.warn(f"Invalid JSONata expression: {exc}")
            return None

        try:
            onward = self._apply_rules(msg, value)
        except ExpressionError as exc:
            self.error(f"Invalid JSONata expression: {exc}", msg)
            return None
        except JSError as exc:
            # A rule that throws in JavaScript for this message (bad regex, no msg.parts).
            self.error(exc, msg)
            return None
        except Exception as exc:  # noqa: BLE001 - any other rule failure is a node error, as a throw is in Node-RED
            self.error(exc, msg)
            return None

        if self._repair and _has_parts(msg):
            self._collect_repaired(onward, msg)
            return None
        self.send(onward)
        return None

    def _apply_rules(self, msg: Message, value: Any) -> list[Message | None]:
        """Return one entry per rule tried: the message where the rule matched, else None."""
        if not self._rules:
            return []
        parts = msg.get("parts", UNDEFINED)
        has_parts = _has_parts(msg)
        previous = self._previous
        onward: list[Message | None] = []
        else_flag = True
        for rule in self._rules:
            if rule.is_jsonata_exp and has_parts:
                # Node-RED assigns these on the expression itself, so they stay for later messages.
                rule.value.assigned.update(I=parts.get("index"), N=parts.get("count"))
            first = rule.value.const if rule.value.is_constant else rule.value.evaluate(msg, previous)
            second = rule.value2.evaluate(msg, previous) if rule.value2 is not None else UNDEFINED

            subject = value
            if rule.is_else:
                subject, else_flag = else_flag, True
            if rule.operator(subject, first, second, rule.ignore_case, parts):
                onward.append(msg)
                else_flag = False
                if self._stop_at_first:
                    break
            else:
                onward.append(None)
        self._previous = value
        return onward

    # -- sequences -------------------------------------------------------------

    def _hold(self, msg: Message) -> None:
        """Keep a sequence message until every message of its sequence has arrived."""
        parts = msg["parts"]
        # JavaScript object keys are strings, so ids 1 and "1" are the same sequence.
        group_id = to_js_string(parts["id"])
        group = self._pending_in.setdefault(group_id, _Group())
        group.messages.append(msg)
        self._pending_count += 1
        if 0 < self._max_kept < self._pending_count:
            self._clear_pending()
            self.error("too many pending messages in switch node", msg)
        if "count" in parts:
            group.count = parts["count"]

        if not _is_number(group.count) or group.count != len(group.messages):
            return
        messages = group.messages
        for held in messages:
            held["parts"]["count"] = group.count
            self._process(held)
        self._pending_count -= len(messages)
        self._pending_in.pop(group_id, None)

    def _collect_repaired(self, onward: list[Message | None], msg: Message) -> None:
        """Gather a sequence's routing results; once complete, send each port its own sequence."""
        group_id = to_js_string(msg["parts"]["id"])
        self._received[group_id] = self._received.get(group_id, 0) + 1
        onwards = self._pending_out.setdefault(group_id, [])
        onwards.append(onward)
        self._pending_count += 1
        if self._received[group_id] == msg["parts"].get("count"):
            self._send_repaired(onwards, len(onward))
            self._pending_count -= len(onward)
            self._pending_out.pop(group_id, None)
            self._received.pop(group_id, None)
        if 0 < self._max_kept < self._pending_count:
            self._clear_pending()
            self.error("too many pending messages in switch node", msg)

    def _send_repaired(self, onwards: list[list[Message | None]], port_count: int) -> None:
        # Node-RED counts a port as used when a shorter result list (stop at first
        # match) has no entry for it, so those counts can exceed what is sent.
        counts = [0] * port_count
        for onward in onwards:
            for port in range(port_count):
                if port >= len(onward) or onward[port] is not None:
                    counts[port] += 1
        ids = [generate_id() for _ in range(port_count)]
        indexes = [0] * port_count

        for onward in onwards:
            ports: list[Message | None] = [None] * port_count
            for port in range(port_count):
                original = onward[port] if port < len(onward) else None
                if original is None:
                    continue
                copy = clone_message(original)
                copy["parts"].update(id=ids[port], index=indexes[port], count=counts[port])
                ports[port] = copy
                indexes[port] += 1
            self.send(ports)

    def _clear_pending(self) -> None:
        self._backlog.clear()
        self._handling = False
        self._pending_count = 0
        self._pending_in = {}
        self._pending_out = {}
        self._received = {}

    async def close(self, removed: bool) -> None:
        self._clear_pending()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_parts(msg: Message) -> bool:
    parts = msg.get("parts")
    return isinstance(parts, dict) and "id" in parts and "index" in parts
