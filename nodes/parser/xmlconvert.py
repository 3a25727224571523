"""XML text to objects and back, in the shape Node-RED's xml node gets from xml2js 0.6.

Parsing (:func:`parse_xml`) uses the standard library's expat parser and
builds what xml2js builds: the root element as the only key (``explicitRoot``),
each child element in an array (``explicitArray``), attributes under ``$`` and
text under ``_`` when an element has attributes or children, plain text for a
text-only element, and ``""`` for an empty one. Whitespace-only text is
dropped unless it came from CDATA. Options read from ``msg.options``:
``attrkey``, ``charkey``, ``explicitArray``, ``explicitRoot``, ``mergeAttrs``,
``ignoreAttrs``, ``trim``, ``normalize``, ``explicitCharkey``, ``emptyTag``.

Building (:func:`build_xml`) follows xml2js's Builder with xmlbuilder's
output: an XML declaration unless ``headless``, the single top-level key as
the root element (else ``rootName``), ``$`` as attributes, ``_`` as text, arrays
as repeated elements, and ``renderOpts.pretty`` indentation. Options:
``attrkey``, ``charkey``, ``rootName``, ``headless``, ``xmldec``,
``renderOpts``, ``cdata``.

Error handling: malformed XML raises :class:`XMLError` with sax's wording
for the common cases (``Unexpected close tag``, ``Non-whitespace before first
tag.``, ``Unclosed root tag``) and its ``Line``/``Column``/``Char`` suffix.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

from runtime.jsvalues import UNDEFINED, to_js_string


class XMLError(ValueError):
    """Malformed XML, or an object that cannot be written as XML."""


class XMLTypeError(XMLError):
    """A JavaScript TypeError from xml2js's builder (for a null payload)."""


# xml2js's defaults for the options Outwire reads.
_PARSE_DEFAULTS: dict[str, Any] = {
    "attrkey": "$", "charkey": "_", "explicitArray": True, "explicitRoot": True, "mergeAttrs": False,
    "ignoreAttrs": False, "trim": False, "normalize": False, "explicitCharkey": False, "emptyTag": "",
}

# XML 1.0 names (a simplified NameStartChar/NameChar), as xmlbuilder checks them.
_NAME_RE = re.compile(r"^[:A-Z_a-z\u00C0-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\uFFFD]"
                      r"[:A-Z_a-z\u00C0-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\uFFFD\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*$")
_INVALID_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WHITESPACE_RUN_RE = re.compile(r"\s{2,}")


def parse_xml(text: str, options: dict[str, Any]) -> Any:
    """Parse XML text into xml2js's object shape; blank text gives None."""
    if text.strip() == "":
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    return _XMLReader({**_PARSE_DEFAULTS, **options}).read(text)


class _XMLReader:
    """One parse: a stack of open elements, as xml2js keeps it."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.attrkey = options["attrkey"]
        self.charkey = options["charkey"]
        self.stack: list[dict[str, Any]] = []
        self.result: Any = UNDEFINED
        self.root_seen = False

    def read(self, text: str) -> Any:
        parser = expat.ParserCreate()
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.StartElementHandler = self._open
        parser.EndElementHandler = self._close
        parser.CharacterDataHandler = self._text
        parser.StartCdataSectionHandler = self._cdata
        try:
            parser.Parse(text, True)
        except expat.ExpatError as exc:
            raise XMLError(_sax_style_message(exc, text, self.root_seen)) from None
        return self.result

    def _open(self, name: str, attributes: list[str]) -> None:
        self.root_seen = True
        element: dict[str, Any] = {self.charkey: ""}
        if not self.options["ignoreAttrs"]:
            for key, value in zip(attributes[::2], attributes[1::2]):
                if self.options["mergeAttrs"]:
                    self._assign_or_push(element, key, value)
                else:
                    element.setdefault(self.attrkey, {})[key] = value
        element["#name"] = name
        self.stack.append(element)

    def _text(self, data: str) -> None:
        if self.stack:
            self.stack[-1][self.charkey] += data

    def _cdata(self) -> None:
        if self.stack:
            self.stack[-1]["cdata"] = True

    def _close(self, _name: str) -> None:
        element = self.stack.pop()
        name = element.pop("#name")
        value: Any = self._finish(element, cdata=element.pop("cdata", None) is True)
        if self.stack:
            self._assign_or_push(self.stack[-1], name, value)
        else:
            self.result = {name: value} if self.options["explicitRoot"] else value

    def _finish(self, element: dict[str, Any], *, cdata: bool) -> Any:
        """Turn a closed element into its value: an object, its text, or the empty value."""
        charkey, options = self.charkey, self.options
        text = element[charkey]
        empty_text = None
        if text.strip() == "" and not cdata:
            empty_text = element.pop(charkey)
        else:
            if options["trim"]:
                text = text.strip()
            if options["normalize"]:
                text = _WHITESPACE_RUN_RE.sub(" ", text).strip()
            element[charkey] = text
            if len(element) == 1 and not options["explicitCharkey"]:
                return text
        if not element:
            return options["emptyTag"] if options["emptyTag"] != "" else empty_text
        return element

    def _assign_or_push(self, target: dict[str, Any], key: str, value: Any) -> None:
        if key not in target:
            target[key] = [value] if self.options["explicitArray"] else value
            return
        if not isinstance(target[key], list):
            target[key] = [target[key]]
        target[key].append(value)


def _sax_style_message(exc: expat.ExpatError, text: str, root_seen: bool) -> str:
    """Describe an expat error the way sax (used by xml2js) words it."""
    lines = text.split("\n")
    line_index = max(exc.lineno - 1, 0)
    column = exc.offset
    line = lines[line_index] if line_index < len(lines) else ""
    reason = expat.ErrorString(exc.code)
    if reason == "mismatched tag":
        end = line.find(">", column)
        column = end if end >= 0 else column
        reason = "Unexpected close tag"
    elif not root_seen and reason in ("syntax error", "not well-formed (invalid token)"):
        reason = "Non-whitespace before first tag."
    elif reason in ("no element found", "unclosed token"):
        reason = "Unclosed root tag"
        line_index, line = len(lines) - 1, lines[-1]
        column = len(line) - 1
    else:
        reason = reason[:1].upper() + reason[1:]
    char = line[column] if 0 <= column < len(line) else ""
    return f"{reason}\nLine: {line_index}\nColumn: {column + 1}\nChar: {char}"


# -- building -------------------------------------------------------------------


class _Element:
    """An element being built: name, attributes and children (elements or text)."""

    __slots__ = ("name", "attributes", "children")

    def __init__(self, name: str) -> None:
        if not _NAME_RE.match(name):
            raise XMLError("Invalid character in name")
        self.name = name
        self.attributes: list[tuple[str, str]] = []
        self.children: list[_Element | str | _Raw] = []

    def child(self, name: str, text: str | None = None) -> _Element:
        element = _Element(name)
        if text is not None:
            element.add_text(text)
        self.children.append(element)
        return element

    def add_text(self, text: str) -> None:
        match = _INVALID_CHAR_RE.search(text)
        if match:
            raise XMLError(f"Invalid character in string: {text} at index {match.start()}")
        self.children.append(text)


class _Raw(str):
    """Text written as it is (a CDATA section)."""


def build_xml(value: Any, options: dict[str, Any]) -> str:
    """Write an object as XML text with xml2js's Builder rules."""
    attrkey = options.get("attrkey", "$")
    charkey = options.get("charkey", "_")
    root_name = options.get("rootName", "root")
    if value is None:
        raise XMLTypeError("Cannot convert undefined or null to object")
    keys = _own_keys(value)
    if len(keys) == 1 and root_name == "root":
        root_name = keys[0]
        value = _member(value, keys[0])
    root = _Element(to_js_string(root_name))
    _Renderer(attrkey, charkey, bool(options.get("cdata"))).render(root, value)

    render_options = {"pretty": True, "indent": "  ", "newline": "\n", **(options.get("renderOpts") or {})}
    writer = _Writer(bool(render_options["pretty"]), str(render_options["indent"]), str(render_options["newline"]))
    body = writer.element(root, 0)
    if options.get("headless"):
        return body
    declaration = _declaration({"version": "1.0", "encoding": "UTF-8", "standalone": True, **(options.get("xmldec") or {})})
    return declaration + (writer.newline if writer.pretty else "") + body


class _Renderer:
    """xml2js's ``render``: walk an object and add elements, attributes and text."""

    def __init__(self, attrkey: str, charkey: str, cdata: bool) -> None:
        self.attrkey, self.charkey, self.cdata = attrkey, charkey, cdata

    def render(self, element: _Element, value: Any) -> None:
        if not _is_object(value):
            self._text(element, value)
        elif isinstance(value, list):
            for item in value:
                for key in _own_keys(item):
                    self.render(element.child(key), _member(item, key))
        else:
            for key in _own_keys(value):
                self._property(element, key, _member(value, key))

    def _property(self, element: _Element, key: str, child: Any) -> None:
        if key == self.attrkey:
            if isinstance(child, dict):
                for name, attribute in child.items():
                    if attribute is not None and attribute is not UNDEFINED:
                        element.attributes.append((name, to_js_string(attribute)))
        elif key == self.charkey:
            self._text(element, child)
        elif isinstance(child, list):
            for entry in child:
                if isinstance(entry, str):
                    self._text(element.child(key), entry)
                else:
                    self.render(element.child(key), entry)
        elif _is_object(child):
            self.render(element.child(key), child)
        else:
            self._text(element.child(key), "" if child is None or child is UNDEFINED else child)

    def _text(self, element: _Element, value: Any) -> None:
        if value is UNDEFINED:
            return
        text = to_js_string(value)
        if self.cdata and any(c in text for c in "&<>"):
            element.children.append(_Raw("<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"))
        else:
            element.add_text(text)


class _Writer:
    """xmlbuilder's string writer, compact or pretty-printed."""

    def __init__(self, pretty: bool, indent: str, newline: str) -> None:
        self.pretty, self.indent, self.newline = pretty, indent, newline

    def element(self, element: _Element, level: int) -> str:
        prefix = self.indent * level if self.pretty else ""
        attributes = "".join(f' {name}="{_escape_attribute(value)}"' for name, value in element.attributes)
        children = [c for c in element.children if not (isinstance(c, str) and c == "")]
        if not children:
            return f"{prefix}<{element.name}{attributes}/>"
        if not self.pretty or all(isinstance(c, str) for c in children):
            inner = "".join(self._child(c, 0, inline=True) for c in children)
            return f"{prefix}<{element.name}{attributes}>{inner}</{element.name}>"
        lines = [self._child(c, level + 1, inline=False) for c in children]
        body = self.newline.join(lines)
        return f"{prefix}<{element.name}{attributes}>{self.newline}{body}{self.newline}{prefix}</{element.name}>"

    def _child(self, child: _Element | str, level: int, *, inline: bool) -> str:
        if isinstance(child, _Element):
            return self.element(child, level)
        text = child if isinstance(child, _Raw) else _escape_text(child)
        return text if inline else self.indent * level + text


def _declaration(fields: dict[str, Any]) -> str:
    text = f'<?xml version="{fields.get("version", "1.0")}"'
    if fields.get("encoding"):
        text += f' encoding="{fields["encoding"]}"'
    standalone = fields.get("standalone")
    if standalone is not None and standalone is not UNDEFINED:
        text += f' standalone="{"yes" if standalone else "no"}"'
    return text + "?>"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def _escape_attribute(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#x9;").replace("\n", "&#xA;").replace("\r", "&#xD;"))


def _is_object(value: Any) -> bool:
    return not isinstance(value, (str, bool, int, float)) and value is not UNDEFINED


def _own_keys(value: Any) -> list[str]:
    """Return the keys JavaScript's ``for...in`` visits: object keys, string and array indexes, none for null."""
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, (str, list, bytes, bytearray)):
        return [str(i) for i in range(len(value))]
    return []


def _member(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value[key]
    return value[int(key)]
