"""The json node: convert a property between JSON text and an object, optionally validating it.

``action`` ``""`` toggles (text or Buffer to object, object/number/boolean
to text), ``"obj"`` always produces an object and ``"str"`` always text;
``pretty`` indents with 4 spaces. A message without the property passes
unchanged. With ``msg.schema`` the object is validated against that JSON
Schema (draft-07 or draft-06, compiled once per distinct schema) and
``msg.schema`` is removed from messages that pass.

Error handling follows Node-RED 4.1.8. Invalid JSON is a node error with
V8's ``JSON.parse`` text. A failed validation puts the errors, in Ajv's
shape, in ``msg.schemaError`` and reports ``JSON Schema error: <Ajv
errorsText>``. A schema that Ajv would not compile reports ``JSON Schema
error: failed to compile schema``. None of these messages is sent on.
"""

from __future__ import annotations

from typing import Any

from nodes.parser.json_schema import SchemaCompileError, SchemaValidator, errors_text
from runtime import jsjson
from runtime.jsvalues import UNDEFINED, JSError, js_truthy, js_typeof, to_js_string
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.propertypath import PropertyExpressionError, get_property, set_property
from runtime.registry import register

# Node-RED's pretty printing width, in spaces.
PRETTY_INDENT = 4


@register
class JSONNode(Node):
    """Parse or serialise one message property as JSON."""

    type_name = "json"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.indent = PRETTY_INDENT if config.get("pretty") else 0
        self.action = config.get("action") or ""
        self.property = str(config.get("property") or "payload")
        # The last schema compiled, as its JSON text, so an unchanged msg.schema is not recompiled.
        self._schema_text: str | None = None
        self._validator: SchemaValidator | None = None

    def on_input(self, msg: Message) -> Any:
        validator = None
        schema = msg.get("schema", UNDEFINED)
        if js_truthy(schema):
            validator = self._compile(schema)
            if validator is None:
                self.error("JSON Schema error: failed to compile schema", msg)
                return PENDING

        try:
            value = get_property(msg, self.property)
        except TypeError as exc:
            self.error(JSError(str(exc), name="TypeError"), msg)
            return PENDING
        if value is UNDEFINED:
            return msg

        if isinstance(value, (str, bytes, bytearray)):
            return self._from_text(msg, value, validator)
        if js_typeof(value) in ("object", "boolean", "number"):
            return self._from_value(msg, value, validator)
        self.warn("Ignored unsupported payload type")
        return PENDING

    def _compile(self, schema: Any) -> SchemaValidator | None:
        text = jsjson.stringify(schema)
        if text == self._schema_text and self._validator is not None:
            return self._validator
        try:
            self._validator = SchemaValidator(schema)
        except SchemaCompileError:
            self._schema_text, self._validator = None, None
            return None
        self._schema_text = text
        return self._validator

    def _from_text(self, msg: Message, text: str | bytes | bytearray, validator: SchemaValidator | None) -> Any:
        if self.action not in ("", "obj"):
            # "str" keeps the text. Validation parses msg[property] outside Node-RED's
            # try block, so invalid JSON fails as a thrown SyntaxError.
            if validator is None:
                return msg
            current = msg.get(self.property, UNDEFINED)
            try:
                parsed = jsjson.parse(_text_of(current))
            except jsjson.JSONParseError as exc:
                text = '"undefined" is not valid JSON' if current is UNDEFINED else str(exc)
                self.error(JSError(text, name="SyntaxError"), msg)
                return PENDING
            return self._validated(msg, validator, parsed)

        try:
            set_property(msg, self.property, jsjson.parse(_text_of(text)))
        except (jsjson.JSONParseError, PropertyExpressionError) as exc:
            self.error(str(exc), msg)
            return PENDING
        if validator is None:
            return msg
        # Node-RED validates msg[property], the top-level key named by the whole property text.
        return self._validated(msg, validator, msg.get(self.property, UNDEFINED))

    def _from_value(self, msg: Message, value: Any, validator: SchemaValidator | None) -> Any:
        if self.action not in ("", "str"):
            return msg if validator is None else self._validated(msg, validator, value)
        if validator is not None and not self._check(msg, validator, value):
            return PENDING
        try:
            set_property(msg, self.property, jsjson.stringify(value, self.indent))
        except (RecursionError, ValueError):
            self.error("Failed to convert payload", msg)
            return PENDING
        if validator is not None:
            msg.pop("schema", None)
        return msg

    def _validated(self, msg: Message, validator: SchemaValidator, value: Any) -> Any:
        """Return ``msg`` without ``schema`` when ``value`` is valid, else report the errors."""
        if not self._check(msg, validator, value):
            return PENDING
        msg.pop("schema", None)
        return msg

    def _check(self, msg: Message, validator: SchemaValidator, value: Any) -> bool:
        errors = validator.validate(value)
        if not errors:
            return True
        msg["schemaError"] = errors
        self.error(f"JSON Schema error: {errors_text(errors)}", msg)
        return False


def _text_of(value: Any) -> str:
    """Return what ``JSON.parse`` reads from a value: a Buffer's UTF-8 text, else ``String(value)``."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return to_js_string(value)
