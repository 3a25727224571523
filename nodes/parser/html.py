"""The html node: extract parts of an HTML document with a CSS selector.

Node-RED uses cheerio; Outwire uses Beautiful Soup with soupsieve, the CSS
selector engine Beautiful Soup ships with, on the standard library's
``html.parser``. For each element matching ``tag`` (or ``msg.select`` when the
node has no selector) the node takes, by ``ret``:

``html``   the inner HTML, trimmed and written in XML form (``<br/>``)
``text``   the text of the element and its descendants
``attr``   an object of the element's attributes
``compl``  the attributes plus the trimmed inner HTML under the ``chr`` key

and sends them as one array at ``outproperty`` (``as: "single"``), or one
message per match with ``msg.parts`` (``as: "multi"``).

NOTE: cheerio parses with parse5, which builds the tree an HTML5 browser
builds; ``html.parser`` does not add implied elements (``tbody``, ``head``) or
move misplaced ones, so selectors that rely on them match differently.
"""

from __future__ import annotations

from typing import Any

import soupsieve
from bs4 import BeautifulSoup, Tag
from bs4.dammit import EntitySubstitution
from bs4.formatter import HTMLFormatter

from runtime.jsvalues import UNDEFINED, to_js_string
from runtime.message import Message, clone_message
from runtime.node import Node, NodeError
from runtime.propertypath import get_property, set_property
from runtime.registry import register


# HTML output as cheerio's html() writes it: "&", "<" and ">" escaped, void elements as <br>.
_HTML_FORMATTER = HTMLFormatter(entity_substitution=EntitySubstitution.substitute_xml, void_element_close_prefix="")


@register
class HTMLNode(Node):
    """Select elements of an HTML document and send their HTML, text or attributes."""

    type_name = "html"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.property = config.get("property") or "payload"
        self.outproperty = config.get("outproperty") or self.property or "payload"
        self.tag = config.get("tag")
        self.ret = config.get("ret") or "html"
        self.output_as = config.get("as") or "single"
        self.content_key = config.get("chr") or "_"

    def on_input(self, msg: Message) -> Any:
        value = get_property(msg, self.property)
        if value is UNDEFINED:
            return msg
        selector = self.tag
        if "select" in msg:
            selector = self.tag or msg["select"]

        try:
            matches = _select(to_js_string(value), selector)
        except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
            raise NodeError(str(exc)) from exc

        if self.output_as == "multi":
            self._send_each(msg, matches)
            return None
        results = [self._extract(element) for element in matches]
        set_property(msg, self.outproperty, [r for r in results if r is not None])
        return msg

    def _send_each(self, msg: Message, matches: list[Tag]) -> None:
        for index, element in enumerate(matches):
            result = self._extract(element)
            # Node-RED skips empty results (an empty string) in this mode only.
            if result is None or result == "":
                continue
            out = clone_message(msg)
            set_property(out, self.outproperty, result)
            out["parts"] = {"id": msg.get("_msgid"), "index": index, "count": len(matches), "type": "string", "ch": ""}
            self.send(out)

    def _extract(self, element: Tag) -> Any:
        if self.ret == "html":
            return _xml_fragment(element.decode_contents(formatter=_HTML_FORMATTER).strip())
        if self.ret == "text":
            return element.get_text()
        if self.ret == "attr":
            return dict(element.attrs)
        if self.ret == "compl":
            return {self.content_key: element.decode_contents(formatter=_HTML_FORMATTER).strip(), **element.attrs}
        return None


def _select(document: str, selector: Any) -> list[Tag]:
    """Return the elements matching ``selector`` in document order; no selector matches nothing."""
    if not selector:
        return []
    # Attributes stay strings (class="a b" is not split), as cheerio gives them.
    soup = BeautifulSoup(document, "html.parser", multi_valued_attributes=None)
    return list(soup.select(to_js_string(selector)))


def _xml_fragment(html: str) -> str:
    """Write an HTML fragment in XML form (void elements self-closed), as cheerio's ``xml()`` does."""
    fragment = BeautifulSoup(html, "html.parser", multi_valued_attributes=None)
    return fragment.decode(formatter="minimal")
