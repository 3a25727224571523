"""The xml node: convert between XML text and objects, as Node-RED does with xml2js.

A string at ``property`` is parsed (see :mod:`nodes.parser.xmlconvert`); an
object is written as XML. ``attr`` and ``chr`` set the attribute and text keys
for parsing (default ``$`` and ``_``); ``msg.options`` passes further xml2js
options and, as in Node-RED, is updated with the ones the node set.

Parsing in Node-RED finishes on a later turn of the event loop (xml2js runs
asynchronously), so a parsed message is sent after messages the node handles
synchronously in the same turn; Outwire defers the send the same way.
Blank text is parsed at once to ``null``.
"""

from __future__ import annotations

from typing import Any

from runtime.jsvalues import UNDEFINED, js_typeof
from runtime.message import Message
from runtime.node import PENDING, Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register
from nodes.parser.xmlconvert import XMLError, XMLTypeError, build_xml, parse_xml

NOT_XML = "This node only handles xml strings or js objects."


@register
class XMLNode(Node):
    """Parse XML strings into objects, or write objects as XML strings."""

    type_name = "xml"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.attrkey = config.get("attr") or ""
        self.charkey = config.get("chr") or ""
        self.property = config.get("property") or "payload"

    def on_input(self, msg: Message) -> Any:
        value = get_property(msg, self.property)
        if value is UNDEFINED:
            return msg
        options = msg.get("options") if isinstance(msg.get("options"), dict) else None
        if isinstance(value, str):
            return self._parse(msg, value, options if options is not None else {})
        if js_typeof(value) != "object":
            self.warn(NOT_XML)
            return None

        options = options if options is not None else {"renderOpts": {"pretty": False}}
        options["async"] = False
        try:
            text = build_xml(value, options)
        except XMLError as exc:
            kind = "TypeError" if isinstance(exc, XMLTypeError) else "Error"
            raise NodeError(f"{kind}: {exc}") from exc
        set_property(msg, self.property, text)
        return msg

    def _parse(self, msg: Message, text: str, options: dict[str, Any]) -> Any:
        options["async"] = True
        options["attrkey"] = self.attrkey or options.get("attrkey") or "$"
        options["charkey"] = self.charkey or options.get("charkey") or "_"
        if text.strip() == "":
            set_property(msg, self.property, None)
            return msg
        try:
            result = parse_xml(text, options)
        except XMLError as exc:
            self.runtime.call_later(0, self.done, msg, NodeError(f"Error: {exc}"))
            return PENDING
        self.runtime.call_later(0, self._send_parsed, msg, result)
        return PENDING

    def _send_parsed(self, msg: Message, result: Any) -> None:
        set_property(msg, self.property, result)
        self.send(msg)
        self.done(msg)
