"""The status node: receive status updates of other nodes on its tab as ``msg.status``."""

from __future__ import annotations

from runtime.message import Message, generate_id
from runtime.node import Node
from runtime.registry import register


@register
class StatusNode(Node):
    """Pass on the status messages the flow routes to it, each with a new ``_msgid``."""

    type_name = "status"

    def on_input(self, msg: Message) -> Message:
        if not msg.get("_msgid"):
            msg["_msgid"] = generate_id()
        return msg
