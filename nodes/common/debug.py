"""The debug node: show a message property (or the whole message) in the log.

Node-RED shows debug output in the editor's sidebar; Outwire writes the same
output to the ``outwire.node.debug`` logger at INFO level, formatted as
Node-RED formats console output (strings as they are, other values as
``util.inspect`` prints them) and cut after 1000 characters as the sidebar
cuts it, and hands the whole value to debug listeners (the editor bridge). With "system console" ticked (``console: true``) the node also logs
through ``node.log``, as Node-RED does.
"""

from __future__ import annotations

from typing import Any, Callable

from runtime.jsinspect import inspect_value
from runtime.jsvalues import UNDEFINED
from runtime.message import Message
from runtime.propertypath import get_property
from runtime.registry import register
from runtime.expressions import Expression
from runtime.node import Node

# Node-RED truncates status text to 32 characters (debugStatusLength).
STATUS_MAX_CHARS = 32
# Node-RED cuts what it sends to the sidebar at debugMaxLength, 1000 characters
# by default, and appends "..." (RED.util.encodeObject in Node-RED 4.1.8).
SIDEBAR_MAX_CHARS = 1000

DebugListener = Callable[[dict[str, Any]], None]


def format_debug_value(value: Any) -> str:
    """Format a value as Node-RED's debug node writes it to the console."""
    if isinstance(value, str):
        return value
    return inspect_value(value, depth=10)


@register
class DebugNode(Node):
    """Write the selected property of each message to the log."""

    type_name = "debug"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.uses_expression = config.get("targetType") == "jsonata"
        complete = str(config.get("complete") or "payload")
        self.complete = "payload" if complete == "false" else complete
        self.expression = Expression(complete, self) if self.uses_expression else None
        self.to_console = str(config.get("console", False)).lower() == "true"
        self.to_sidebar = config.get("tosidebar", True) is not False
        self.to_status = config.get("tostatus") is True
        self.active = config.get("active") is None or config.get("active") is True

    def on_input(self, msg: Message) -> None:
        status = msg.get("status")
        if isinstance(status, dict) and isinstance(status.get("source"), dict) and status["source"].get("id") == self.id:
            return None

        if self.expression is not None:
            value, prop = self.expression.evaluate(msg), None
        elif self.complete == "true":
            value, prop = msg, "msg"
        else:
            prop = self.complete
            try:
                value = get_property(msg, prop)
            except TypeError:
                value = UNDEFINED

        text = format_debug_value(value)
        if self.to_console:
            self.log(("\n" if "\n" in text or not isinstance(value, str) else "") + text)
        if self.active and self.to_sidebar:
            sidebar_text = text if len(text) <= SIDEBAR_MAX_CHARS else text[:SIDEBAR_MAX_CHARS] + "..."
            self.logger.info(
                "%s%s: %s", f"[{self.name}] " if self.name else "", "msg." + prop if prop and prop != "msg" else "msg", sidebar_text,
                extra=self.log_extra(msg),
            )
            event = {"id": self.id, "z": self.flow_id, "name": self.name, "topic": msg.get("topic", UNDEFINED),
                     "property": prop, "msg": value}
            for listener in self.runtime.services.get("debug_listeners", ()):
                listener(event)
        if self.to_status:
            shown = value if isinstance(value, str) else inspect_value(value)
            self.status({"fill": "grey", "shape": "dot",
                         "text": shown[:STATUS_MAX_CHARS] + "..." if len(shown) > STATUS_MAX_CHARS else shown})
        return None
