"""The change node: set, change, delete and move message properties and flow or global context values.

Each rule is compiled once when the node is built. Rules run in order on
every message, with Node-RED 4.1.8's results, including its odd corners:

- a rule whose source cannot be read (``msg.a.b`` with no ``msg.a``) is skipped;
- setting from a missing msg, flow or global property deletes the target;
- ``change`` with a num or bool search replaces the whole value on an exact
  match, and replaces substrings of a string otherwise;
- a JSONata error is a node error with the message, which then stops;
- a ``change`` rule on a flow or global value that does not match stops the
  message without an error, because Node-RED never completes that rule;
- a node with an invalid rule (bad regex, JSON or JSONata) logs the error
  once at deploy and then drops every message.
"""

from __future__ import annotations

from typing import Any

from nodes.function.change_rules import (
    ChangeRule,
    RuleConfigError,
    legacy_rule,
    normalise_rule,
)
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.registry import register


@register
class ChangeNode(Node):
    """Apply the configured rules to each message and send it on.

    ``on_input`` returns the message, or :data:`PENDING` when a rule
    stopped it (the error, if any, was already reported with the message).
    """

    type_name = "change"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        raw_rules = config.get("rules")
        if raw_rules is None or raw_rules is False or raw_rules == "":
            # Flows saved before Node-RED 0.18 carry one rule in the node itself.
            raw_rules = [legacy_rule(config)]

        if not isinstance(raw_rules, list) or not all(isinstance(raw, dict) for raw in raw_rules):
            raise TypeError(f"change node rules must be a list of rule objects, got {raw_rules!r}; re-export the flow")

        self._rules: list[ChangeRule] = []
        self._valid = True
        for raw in raw_rules:
            try:
                self._rules.append(ChangeRule(normalise_rule(raw), self))
            except RuleConfigError as exc:
                # Node-RED logs every invalid rule, then leaves the node without an input handler.
                self.error(str(exc))
                self._valid = False

    def on_input(self, msg: Message) -> Any:
        if not self._valid:
            return PENDING
        for rule in self._rules:
            if not rule.apply(msg):
                return PENDING
        return msg
