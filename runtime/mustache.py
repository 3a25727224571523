"""Mustache rendering with mustache.js 4.2 output, as Node-RED's trigger and http request nodes use it.

pystache does the parsing and rendering; two hooks give mustache.js's output:

* values print as JavaScript's ``String(value)`` (``12`` not ``12.0``, ``true``
  not ``True``, ``[object Object]`` for objects), and null or undefined print
  as nothing;
* ``{{x}}`` escapes mustache.js's table (``& < > " ' / ` =``), not only HTML's.

Missing names render as nothing, and an empty object opens a section, since
``{}`` is truthy in JavaScript.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pystache
from pystache.context import ContextStack, KeyNotFoundError

from runtime.jsvalues import UNDEFINED, to_js_string

# mustache.js 4.2.0 ``entityMap``.
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;"}
)


class _TruthyObject(dict):  # type: ignore[type-arg]  # a view value, keyed like the original
    """An empty JavaScript object: opens a section, since ``{}`` is truthy."""

    def __bool__(self) -> bool:
        return True


class _JSRenderer(pystache.Renderer):  # type: ignore[misc]  # pystache ships no type hints
    def str_coerce(self, val: Any) -> str:
        if val is None or val is UNDEFINED:
            return ""
        return to_js_string(val)

    def _make_resolve_context(self) -> Any:
        def resolve_context(stack: ContextStack, name: str) -> Any:
            try:
                value = stack.get(name)
            except KeyNotFoundError:
                return ""
            if type(value) is dict and not value:
                return _TruthyObject()
            return value

        return resolve_context


@lru_cache(maxsize=1)
def _renderer() -> _JSRenderer:
    return _JSRenderer(escape=lambda text: text.translate(_ESCAPES), missing_tags="ignore")


def render(template: str, view: Any) -> str:
    """Render ``template`` against ``view`` (usually a message) as ``mustache.render`` does."""
    return str(_renderer().render(template, view))
