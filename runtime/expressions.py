"""JSONata expressions with the functions Node-RED adds for its nodes.

Expressions are compiled once per node property and evaluated per message.
Node-RED registers ``$flowContext``, ``$globalContext``, ``$env``,
``$moment`` and ``$clone``; the join and sort nodes bind more (``$A``,
``$N``, ``$I``) through ``bindings``. As in Node-RED, an expression that
mentions ``msg`` on its own is evaluated against ``{"msg": msg}`` (legacy
mode), any other against the message itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import jsonata
from jsonata import jexception
from jsonata.utils import Utils

from runtime.jsvalues import UNDEFINED
from runtime.message import clone_value
from runtime.timefmt import moment_call

if TYPE_CHECKING:
    from runtime.node import Node

_LEGACY_MSG_RE = re.compile(r"(^|[^a-zA-Z0-9_'\".])msg([^a-zA-Z0-9_'\"]|$)")


class ExpressionError(ValueError):
    """A JSONata expression that failed to compile or evaluate; ``code`` is JSONata's (e.g. ``S0201``)."""

    def __init__(self, message: str, *, code: str | None = None, position: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.position = position


class Expression:
    """One compiled JSONata expression bound to the node that evaluates it."""

    def __init__(self, source: str, node: Node | None = None) -> None:
        self.source = source
        self.node = node
        self.legacy = bool(_LEGACY_MSG_RE.search(source))
        try:
            self._compiled = jsonata.Jsonata(source)
        except jexception.JException as exc:
            raise _wrap(exc) from exc
        self._compiled.set_output_convert_nulls(False)
        self._compiled.set_validate_input(False)
        self._compiled.register_lambda("flowContext", self._flow_context)
        self._compiled.register_lambda("globalContext", self._global_context)
        self._compiled.register_lambda("env", self._env)
        self._compiled.register_lambda("moment", _moment)
        self._compiled.register_lambda("clone", clone_value)

    def evaluate(self, msg: Any, bindings: dict[str, Any] | None = None) -> Any:
        """Evaluate against ``msg``; JSONata's "no result" comes back as :data:`UNDEFINED`."""
        data = {"msg": msg} if self.legacy else msg
        try:
            result = self._compiled.evaluate(to_jsonata(data), bindings)
        except jexception.JException as exc:
            raise _wrap(exc) from exc
        except RecursionError as exc:
            raise ExpressionError("Stack overflow error: check for non-terminating recursion", code="U1001") from exc
        return from_jsonata(result)

    def _flow_context(self, key: Any, store: Any = None) -> Any:
        if self.node is None:
            return ""
        return to_jsonata(self.node.context().flow.get(key, store if isinstance(store, str) else None))

    def _global_context(self, key: Any, store: Any = None) -> Any:
        if self.node is None:
            return ""
        return to_jsonata(self.node.context().global_.get(key, store if isinstance(store, str) else None))

    def _env(self, name: Any) -> Any:
        if self.node is None:
            return ""
        value = self.node.get_setting(str(name))
        return "" if value is UNDEFINED else to_jsonata(value)


def _moment(*args: Any) -> Any:
    return moment_call(*[from_jsonata(a) for a in args])


def _wrap(exc: jexception.JException) -> ExpressionError:
    return ExpressionError(str(exc), code=getattr(exc, "error", None), position=getattr(exc, "location", None))


def to_jsonata(value: Any) -> Any:
    """Prepare a message value for the evaluator: drop undefined, Buffers as byte lists."""
    kind = type(value)
    if kind is dict:
        return {k: to_jsonata(v) for k, v in value.items() if v is not UNDEFINED}
    if kind is list:
        return [None if v is UNDEFINED else to_jsonata(v) for v in value]
    if value is UNDEFINED:
        return None
    if kind is bytearray or kind is bytes:
        return list(value)
    return value


def from_jsonata(value: Any) -> Any:
    """Turn an evaluator result into message values (``null`` to None, no result to UNDEFINED)."""
    if value is None:
        return UNDEFINED
    if value is Utils.NULL_VALUE:
        return None
    if isinstance(value, dict):
        return {k: from_jsonata_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonata_item(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def from_jsonata_item(value: Any) -> Any:
    """Like :func:`from_jsonata`, for values inside objects and arrays."""
    if value is None or value is Utils.NULL_VALUE:
        return None
    return from_jsonata(value)
