"""An example third-party node type: ``mask phone`` hides all but the last digits of a phone number.

A node package is any importable module whose import registers node types
with :func:`runtime.registry.register`, named in the package's metadata::

    [project.entry-points."outwire.nodes"]
    mask-phone = "contrib.mask_phone"

The editor shows a node from its HTML definition (``mask_phone.html``
beside this module), as Node-RED's do.
"""

from __future__ import annotations

import re
from typing import Any

from runtime.message import Message
from runtime.node import Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register

_DIGIT_RE = re.compile(r"\d")


@register
class MaskPhoneNode(Node):
    """Replace every digit of ``property`` but the last ``keep`` with ``*`` (``+44*******123``)."""

    type_name = "mask phone"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.property = config.get("property") or "payload"
        try:
            self.keep = int(config.get("keep", 3))
        except (TypeError, ValueError):
            raise NodeError(f"invalid 'keep' value {config.get('keep')!r}: expected a whole number of digits") from None
        if self.keep < 0:
            raise NodeError(f"invalid 'keep' value {self.keep}: expected 0 or more digits")

    def on_input(self, msg: Message) -> Message:
        value = get_property(msg, self.property)
        if not isinstance(value, str):
            raise NodeError(f"msg.{self.property} is not a string; expected a phone number")
        set_property(msg, self.property, mask(value, self.keep))
        return msg


def mask(phone: str, keep: int) -> str:
    """Mask the digits of ``phone`` except the last ``keep``; other characters stay."""
    total = len(_DIGIT_RE.findall(phone))
    seen = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen > total - keep else "*"

    return _DIGIT_RE.sub(replace, phone)
