"""The template node: render a Mustache (or plain text) template into a message property or context.

The template is parsed once when the node is built (``msg.template`` is used
only when the node's own template is empty, and parsed templates are cached
by text). Names resolve against the message first. Missing
``{{env.NAME}}``, ``{{flow.key}}``, ``{{global.key}}`` and
``{{flow[store].key}}`` names then read environment variables and context,
once per message. Any other missing name renders as the empty string. Output ``json`` and ``yaml`` parse the
rendered text, and for ``json`` backslashes and control characters in message
strings are escaped first, as Node-RED 4.1.8 does.

Error handling: a template mustache.js rejects, invalid JSON or YAML output,
or a failing context read is a node error with the message (Node-RED reports
the bare message text, e.g. ``Unexpected token 'x', "x" is not valid JSON``),
and the message is not sent.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from nodes.parser.yaml import load_yaml
from runtime import jsjson
from runtime.context import ContextError, parse_store_key
from runtime.jsvalues import UNDEFINED, js_truthy, js_typeof, to_js_string
from runtime.message import Message
from runtime.mustache import MustacheError, Template, compile_template
from runtime.node import PENDING, Node
from runtime.propertypath import PropertyExpressionError, set_path, set_property, static_parts
from runtime.registry import register
from runtime.typed import evaluate_env

# Node-RED's patterns for context and environment names in a template (JavaScript's \w is ASCII).
_CONTEXT_NAME_RE = re.compile(r"^(flow|global)(?:\[([A-Za-z0-9_]+)\])?\.(.+)")
_ENV_NAME_RE = re.compile(r"^env\.(.+)")


class _YAMLOutputError(ValueError):
    """Rendered text that is not valid YAML; the message is the yaml node's js-yaml-style text."""


def _no_fallback(name: str) -> str:
    # Node-RED's template context returns "" for names that nothing defines.
    return ""


@functools.lru_cache(maxsize=256)
def _context_names(names: frozenset[str]) -> tuple[tuple[str, str, str, str | None], ...]:
    """Pick the env/flow/global names of a template: (name, scope, key, store) each."""
    found: list[tuple[str, str, str, str | None]] = []
    for name in sorted(names):
        env = _ENV_NAME_RE.match(name)
        if env:
            found.append((name, "env", env.group(1), None))
            continue
        context = _CONTEXT_NAME_RE.match(name)
        if context:
            found.append((name, context.group(1), context.group(3), context.group(2)))
    return tuple(found)


@register
class TemplateNode(Node):
    """Render the template per message and store the result in ``field``."""

    type_name = "template"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.field = str(config.get("field") or "payload")
        # Missing and null differ: only "" and null let msg.template in.
        self.template_text = config.get("template", UNDEFINED)
        self.syntax = config.get("syntax") or "mustache"
        self.field_type = config.get("fieldType") or "msg"
        self.output_format = config.get("output") or "str"

        self._field_parts: list[Any] | None = None
        if self.field_type == "msg":
            self._field_parts = static_parts(self.field)

        # Parse the node's own template once; a template mustache.js rejects
        # fails each message with the same error, as Node-RED does.
        self._template: Template | None = None
        self._template_error: MustacheError | None = None
        if self.syntax == "mustache" and isinstance(self.template_text, str) and self.template_text:
            try:
                self._template = compile_template(self.template_text)
            except MustacheError as exc:
                self._template_error = exc
        self._context_names = _context_names(self._template.names) if self._template is not None else ()

    def source_name(self) -> Any:
        # Node-RED's template node copies n.name itself, so an unnamed one reports "".
        return self.config.get("name", UNDEFINED)

    def on_input(self, msg: Message) -> Any:
        text = self.template_text
        if "template" in msg and (text == "" or text is None):
            text = msg["template"]

        try:
            if self.syntax == "mustache":
                value: Any = self._render(text, msg)
            else:
                value = text
            return self._store(msg, self._parse_output(value))
        except (MustacheError, jsjson.JSONParseError, _YAMLOutputError, PropertyExpressionError, ContextError) as exc:
            # Node-RED reports err.message, without the error's name.
            self.error(str(exc), msg)
            return PENDING

    def _render(self, text: Any, msg: Message) -> str:
        if text is self.template_text and self._template is not None:
            template, context_names = self._template, self._context_names
        elif text is self.template_text and self._template_error is not None:
            raise self._template_error
        elif isinstance(text, str):
            template = compile_template(text)
            context_names = _context_names(template.names)
        else:
            raise _non_string_template_error(text)

        fallback = self._resolve_context_names(context_names) if context_names else _no_fallback
        return template.render(msg, fallback=fallback, escape_root_strings=self.output_format == "json")

    def _resolve_context_names(self, context_names: tuple[tuple[str, str, str, str | None], ...]) -> Any:
        """Read the env/flow/global values a template names, once per message."""
        resolved: dict[str, Any] = {}
        for name, scope, key, store in context_names:
            if scope == "env":
                resolved[name] = evaluate_env(key, self)
                continue
            context = self.context()
            resolved[name] = (context.flow if scope == "flow" else context.global_).get(key, store)
        return lambda name: resolved.get(name, "")

    def _parse_output(self, text: Any) -> Any:
        if self.output_format == "json":
            return jsjson.parse(text if isinstance(text, str) else to_js_string(text))
        if self.output_format == "yaml":
            try:
                return load_yaml(text if isinstance(text, str) else to_js_string(text))
            except ValueError as exc:
                raise _YAMLOutputError(str(exc)) from exc
        return text

    def _store(self, msg: Message, value: Any) -> Any:
        if self.field_type == "msg":
            parts = self._field_parts
            if parts is not None and len(parts) == 1 and value is not UNDEFINED:
                # A top-level field (msg.payload, usually) needs no path walk.
                msg[str(parts[0])] = value
            elif parts is not None:
                set_path(msg, parts, value, value is not UNDEFINED)
            else:
                set_property(msg, self.field, value)
            return msg
        if self.field_type in ("flow", "global"):
            key, store = parse_store_key(self.field, None)
            context = self.context()
            (context.flow if self.field_type == "flow" else context.global_).set(key, value, store)
            return msg
        # Node-RED has no output for other field types and never finishes the message.
        return PENDING


def _non_string_template_error(text: Any) -> MustacheError:
    """Return the error mustache.js 4.2.0 throws for a template that is not a string."""
    if js_truthy(text):
        # Its parser calls String methods on the value.
        return MustacheError("this.tail.search is not a function")
    shown = "array" if isinstance(text, list) else js_typeof(text)
    return MustacheError(
        f'Invalid template! Template should be a "string" but "{shown}" was given '
        "as the first argument for mustache#render(template, view, partials)"
    )
