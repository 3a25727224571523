"""Mustache templates rendered as mustache.js 4.2.0 renders them (the engine of Node-RED 4.1.8).

Node-RED's template, trigger and http request nodes use it.

Templates are parsed once with pystache's parser (:func:`compile_template`,
cached by source). Rendering follows mustache.js where pystache differs:

- values print with JavaScript's ``String()``: ``12`` not ``12.0``, ``true``,
  ``[object Object]``, arrays joined with commas; ``null``/``undefined`` print nothing;
- ``{{name}}`` escapes ``& < > " ' / ` =`` with mustache.js's entity table;
- names resolve as mustache.js's ``Context.lookup`` does: a dotted name is
  looked up whole in each context from the innermost out, and only counts as
  found when its last segment exists;
- sections use JavaScript truthiness (``{}`` is true, ``NaN`` false), render
  once for ``true`` without pushing it, and iterate arrays only;
- partials render as nothing, since no partials are registered.

A template made only of text and variable tags renders through a
precompiled fast path, without pystache per message. Sections and partials
render through pystache's ``RenderEngine`` with hooks for the rules above.
Both paths give the same output.

NOTE: the fast path and the name list read pystache 0.6's parse tree
(``ParsedTemplate._parse_tree`` and its node classes). pystache does not
document them, so a pystache upgrade must be checked against these tests.

Callers adapt name resolution with ``fallback`` (called for names that no
context has, e.g. Node-RED's ``{{flow.x}}``) and ``escape_root_strings``
(JSON-escape strings found in the root view, as Node-RED's template node
does for JSON output).

Error handling: :class:`MustacheError` carries mustache.js's message text
(``Unclosed section "a" at 7``) for templates mustache.js rejects, and for
lookups that throw in JavaScript (a name read on a ``null`` list item).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from pystache import parser as _pystache_parser
from pystache.renderengine import RenderEngine

from runtime.jsvalues import UNDEFINED, js_truthy, to_js_string

Fallback = Callable[[str], Any]

# mustache.js 4.2.0 ``entityMap``.
_HTML_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "/": "&#x2F;",
    "`": "&#x60;",
    "=": "&#x3D;",
}
_HTML_ESCAPE_RE = re.compile(r"[&<>\"'`=/]")

# Node-RED's template node escapes these in msg strings when the output is JSON.
_JSON_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\b": "\\b"})

# Parse-tree node classes that render without looking anything up.
_SILENT_NODES = (_pystache_parser._CommentNode, _pystache_parser._ChangeNode)


class MustacheError(ValueError):
    """A template mustache.js rejects, or a lookup that throws in JavaScript; the text is mustache.js's."""


def escape_html(text: str) -> str:
    """Escape text for ``{{name}}`` with mustache.js's entity table."""
    return _HTML_ESCAPE_RE.sub(lambda match: _HTML_ENTITIES[match.group(0)], text)


def to_text(value: Any) -> str:
    """Convert a value as mustache.js prints it: ``String(value)``, nothing for null and undefined."""
    if value is None or value is UNDEFINED:
        return ""
    if value.__class__ is str:
        return value
    return to_js_string(value)


class Template:
    """One parsed template; see the module docstring for the rendering rules."""

    def __init__(self, source: str) -> None:
        check_syntax(source)
        self.source = source
        try:
            self._parsed = _pystache_parser.parse(source, raise_on_mismatch=True)
        except _pystache_parser.ParsingError as exc:
            # check_syntax accepts only what mustache.js accepts, so this is a pystache limitation.
            raise MustacheError(str(exc)) from exc
        self.names = frozenset(_tag_names(self._parsed._parse_tree))
        self._pieces = _fast_pieces(self._parsed._parse_tree)

    @property
    def is_simple(self) -> bool:
        """Return whether the template has only text and variable tags (the fast path)."""
        return self._pieces is not None

    def render(self, view: Any, *, fallback: Fallback | None = None, escape_root_strings: bool = False) -> str:
        """Render against ``view`` (the root context, usually a message)."""
        if self._pieces is not None:
            return _render_pieces(self._pieces, view, fallback, escape_root_strings)
        stack = _ContextStack(view, fallback, escape_root_strings)
        return str(self._parsed.render(_ENGINE, stack))


@functools.lru_cache(maxsize=256)
def compile_template(source: str) -> Template:
    """Parse ``source`` once; repeated sources (``msg.template``) reuse the parsed template."""
    return Template(source)


def render(template: str, view: Any) -> str:
    """Render ``template`` against ``view`` (usually a message) as ``mustache.render`` does.

    Raises :class:`MustacheError` for a template mustache.js rejects.
    """
    return compile_template(template).render(view)


# -- lookups -------------------------------------------------------------------------


def _member(value: Any, key: str) -> Any:
    """Read ``value[key]`` for a message value, undefined where JavaScript has nothing."""
    if isinstance(value, dict):
        return value.get(key, UNDEFINED)
    if isinstance(value, (list, str, bytes, bytearray)):
        if key == "length":
            return len(value)
        if key.isdigit() and str(int(key)) == key and int(key) < len(value):
            return value[int(key)]
    return UNDEFINED


def _has_property(value: Any, key: str) -> bool:
    """Return ``key in value`` for an object, or ``hasOwnProperty`` for a string (mustache.js's hit test)."""
    if isinstance(value, dict):
        return key in value
    if isinstance(value, (list, str, bytes, bytearray)):
        return key == "length" or (key.isdigit() and str(int(key)) == key and int(key) < len(value))
    return False


def _lookup_in(view: Any, name: str, dotted: list[str] | None) -> tuple[bool, Any]:
    """Look ``name`` up in one context; return (found, value)."""
    if dotted is None:
        if view is None or view is UNDEFINED:
            shown = "null" if view is None else "undefined"
            raise MustacheError(f"Cannot read properties of {shown} (reading '{name}')")
        return _has_property(view, name) and not isinstance(view, str), _member(view, name)

    value = view
    found = False
    last = len(dotted) - 1
    for index, key in enumerate(dotted):
        if value is None or value is UNDEFINED:
            break
        if index == last:
            found = _has_property(value, key)
        value = _member(value, key)
    return found, value


def _split_name(name: str) -> list[str] | None:
    # mustache.js treats a name as dotted only when the dot is not its first character.
    return name.split(".") if name.find(".") > 0 else None


# -- fast path: text and variables only -------------------------------------------------


def _fast_pieces(tree: list[Any]) -> list[Any] | None:
    """Compile a parse tree of text and variable tags; None when it has sections or partials."""
    pieces: list[Any] = []
    for node in tree:
        if isinstance(node, str):
            pieces.append(node)
        elif isinstance(node, _SILENT_NODES):
            continue
        elif isinstance(node, (_pystache_parser._EscapeNode, _pystache_parser._LiteralNode)):
            escaped = isinstance(node, _pystache_parser._EscapeNode)
            pieces.append((escaped, node.key, _split_name(node.key)))
        else:
            return None
    return pieces


def _render_pieces(pieces: list[Any], view: Any, fallback: Fallback | None, escape_root_strings: bool) -> str:
    out = []
    for piece in pieces:
        if piece.__class__ is str:
            out.append(piece)
            continue
        escaped, name, dotted = piece
        value = _lookup_root(view, name, dotted)
        if value is UNDEFINED:
            value = fallback(name) if fallback is not None else UNDEFINED
        elif escape_root_strings and value.__class__ is str:
            value = value.translate(_JSON_STRING_ESCAPES)

        text = to_text(value)
        if escaped and _HTML_ESCAPE_RE.search(text) is not None:
            text = escape_html(text)
        out.append(text)
    return "".join(out)


def _lookup_root(view: Any, name: str, dotted: list[str] | None) -> Any:
    """Look a name up in the root context only; undefined when it is missing.

    The same result as :func:`_lookup_in`, with a shortcut for the usual
    case of a message made of dicts.
    """
    if name == ".":
        return view
    if dotted is None:
        if view.__class__ is dict:
            return view.get(name, UNDEFINED)
    else:
        value = view
        for key in dotted[:-1]:
            if value.__class__ is not dict:
                break
            value = value.get(key, UNDEFINED)
        else:
            if value.__class__ is dict:
                return value.get(dotted[-1], UNDEFINED)
    found, value = _lookup_in(view, name, dotted)
    return value if found else UNDEFINED


# -- full rendering through pystache --------------------------------------------------------


class _SameContext:
    """Pushed for a ``true`` section: mustache.js renders it without a new context."""


_SAME_CONTEXT = _SameContext()


class _ContextStack:
    """The context stack pystache's section nodes push to and pop from, with mustache.js lookups."""

    def __init__(self, view: Any, fallback: Fallback | None, escape_root_strings: bool) -> None:
        self.views: list[Any] = [view]
        self.fallback = fallback
        self.escape_root_strings = escape_root_strings

    def push(self, view: Any) -> None:
        self.views.append(view)

    def pop(self) -> Any:
        return self.views.pop()

    def lookup(self, name: str) -> Any:
        views = [view for view in self.views if view is not _SAME_CONTEXT]
        if name == ".":
            return views[-1]
        dotted = _split_name(name)
        value: Any = UNDEFINED
        for depth in range(len(views) - 1, -1, -1):
            found, value = _lookup_in(views[depth], name, dotted)
            if found:
                break
            value = UNDEFINED

        if value is UNDEFINED:
            return self.fallback(name) if self.fallback is not None else UNDEFINED
        # Node-RED JSON-escapes only in its root context, not inside sections.
        if self.escape_root_strings and len(views) == 1 and value.__class__ is str:
            return value.translate(_JSON_STRING_ESCAPES)
        return value


class _TruthyEmptyObject(dict):  # type: ignore[type-arg]  # stands for any empty object
    """An empty object, truthy as in JavaScript (pystache's inverted sections test Python truthiness)."""

    def __bool__(self) -> bool:
        return True


class _TruthyEmptyBuffer(bytearray):
    """An empty Buffer, truthy as in JavaScript."""

    def __bool__(self) -> bool:
        return True


class _FalsyNaN(float):
    """NaN, falsy as in JavaScript."""

    def __bool__(self) -> bool:
        return False


def _with_js_truthiness(value: Any) -> Any:
    """Return ``value``, or a stand-in whose Python truthiness is JavaScript's where they differ."""
    kind = value.__class__
    if kind is dict and not value:
        return _TruthyEmptyObject()
    if kind is float and math.isnan(value):
        return _FalsyNaN(value)
    if (kind is bytearray or kind is bytes) and not value:
        return _TruthyEmptyBuffer()
    return value


class _MustacheJSEngine(RenderEngine):  # type: ignore[misc]  # pystache ships no type hints
    """pystache's engine with mustache.js's lookup, section and conversion rules."""

    def __init__(self) -> None:
        super().__init__(
            literal=str,
            escape=escape_html,
            resolve_context=lambda stack, name: _with_js_truthiness(stack.lookup(name)),
            resolve_partial=lambda name: "",
            to_str=to_text,
        )

    def fetch_string(self, context: _ContextStack, name: str) -> str:
        # Reads the value itself, not the truthiness stand-in of resolve_context;
        # _EscapeNode escapes the text afterwards (numbers have nothing to escape).
        return to_text(context.lookup(name))

    def fetch_section_data(self, context: _ContextStack, name: str) -> list[Any]:
        value = context.lookup(name)
        if not js_truthy(value):
            return []
        if isinstance(value, list):
            return value
        if value is True:
            return [_SAME_CONTEXT]
        return [value]


_ENGINE = _MustacheJSEngine()


def _tag_names(tree: list[Any]) -> set[str]:
    """Collect every variable and section name in a parse tree, nested sections included."""
    names: set[str] = set()
    for node in tree:
        key = getattr(node, "key", None)
        if isinstance(key, str):
            names.add(key)
        section = getattr(node, "parsed", None) or getattr(node, "parsed_section", None)
        if section is not None:
            names |= _tag_names(section._parse_tree)
    return names


# -- syntax check with mustache.js's errors ---------------------------------------------------

_TAG_TYPE_RE = re.compile(r"#|\^|/|>|\{|&|=|!")
_WHITE_RE = re.compile(r"\s*")
_SPACE_RE = re.compile(r"\s+")
_EQUALS_RE = re.compile(r"\s*=")
_CURLY_RE = re.compile(r"\s*\}")


def check_syntax(source: str) -> None:
    """Raise :class:`MustacheError` where mustache.js's ``parseTemplate`` throws, with its message.

    A scan of tags only, following mustache.js 4.2.0's scanner so that the
    positions in the messages are the same.
    """
    opening, closing, closing_curly = _tag_patterns(["{{", "}}"])
    sections: list[str] = []
    pos = 0
    while pos < len(source):
        found = opening.search(source, pos)
        if found is None:
            break
        start = found.start()
        pos = found.end()

        tag_type_match = _TAG_TYPE_RE.match(source, pos)
        tag_type = tag_type_match.group(0) if tag_type_match else "name"
        pos = tag_type_match.end() if tag_type_match else pos
        pos = _WHITE_RE.match(source, pos).end()  # type: ignore[union-attr]  # \s* always matches

        value, pos = _scan_tag_value(source, pos, tag_type, closing, closing_curly)
        end = closing.match(source, pos)
        if end is None:
            raise MustacheError(f"Unclosed tag at {pos}")
        pos = end.end()

        if tag_type in ("#", "^"):
            sections.append(value)
        elif tag_type == "/":
            if not sections:
                raise MustacheError(f'Unopened section "{value}" at {start}')
            open_section = sections.pop()
            if open_section != value:
                raise MustacheError(f'Unclosed section "{open_section}" at {start}')
        elif tag_type == "=":
            opening, closing, closing_curly = _tag_patterns(_SPACE_RE.split(value)[:2])
    if sections:
        raise MustacheError(f'Unclosed section "{sections[-1]}" at {len(source)}')


def _scan_tag_value(
    source: str, pos: int, tag_type: str, closing: re.Pattern[str], closing_curly: re.Pattern[str]
) -> tuple[str, int]:
    """Scan a tag's value the way mustache.js's Scanner does; return (value, new position)."""
    if tag_type == "=":
        value, pos = _scan_until(source, pos, _EQUALS_RE)
        equals = _EQUALS_RE.match(source, pos)
        pos = equals.end() if equals else pos
        _, pos = _scan_until(source, pos, closing)
        return value, pos
    if tag_type == "{":
        value, pos = _scan_until(source, pos, closing_curly)
        curly = _CURLY_RE.match(source, pos)
        pos = curly.end() if curly else pos
        _, pos = _scan_until(source, pos, closing)
        return value, pos
    return _scan_until(source, pos, closing)


def _scan_until(source: str, pos: int, pattern: re.Pattern[str]) -> tuple[str, int]:
    found = pattern.search(source, pos)
    end = len(source) if found is None else found.start()
    return source[pos:end], end


def _tag_patterns(tags: list[str]) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    if len(tags) != 2:
        raise MustacheError(f"Invalid tags: {','.join(tags)}")
    open_tag, close_tag = (re.escape(tag) for tag in tags)
    return (
        re.compile(open_tag + r"\s*"),
        re.compile(r"\s*" + close_tag),
        re.compile(r"\s*" + re.escape("}" + tags[1])),
    )
