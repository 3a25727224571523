"""One function node's JavaScript context: QuickJS (quickjs-ng) with Node-RED's function-node globals.

The sandbox owns a ``quickjs.Context``, loads ``prelude.js`` into it and
turns what the JavaScript side reports (sends, logs, status, errors, done)
into calls on the node. User code sees ``msg``, ``node``, ``context``,
``flow``, ``global``, ``env``, ``RED.util``, ``util``, ``Buffer``,
``console`` and the timer functions; it cannot reach Python, the file
system or the network, and ``require``/``process`` do not exist.

Limits: each entry into JavaScript (one message, one timer callback) may run
for ``timeout_s`` seconds; the context's heap may not pass
``memory_limit_bytes``. Passing either fails that run with a node error and
leaves the context usable for the next message.

Invariant: the context is only used from the event loop's thread; quickjs-ng
contexts must not move between threads.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
import quickjs

from runtime.encoding import TAG, decode, encode_special
from runtime.js import interrupt
from runtime.jsvalues import UNDEFINED, JSError, JSOpaque, JSRegExp

if TYPE_CHECKING:
    from nodes.function.function import FunctionNode

log = logging.getLogger("outwire.node.function")

_PRELUDE = resources.files("runtime.js").joinpath("prelude.js").read_text(encoding="utf-8")
_VENDOR_FILES = {"buffer": "buffer.js", "base64-js": "base64-js.js", "ieee754": "ieee754.js"}
_VENDOR_CACHE: dict[str, str] = {}

_TIMEOUT_CODE = "ERR_SCRIPT_EXECUTION_TIMEOUT"

# Values with a tagged-JSON form of their own (see runtime.encoding).
_TAGGED_TYPES = (bytes, memoryview, _dt.datetime, JSRegExp, JSError, JSOpaque)
_QJS_LOCATION_RE = re.compile(r"<eval>:(\d+):(\d+)")
_INTERRUPTED = "InternalError: interrupted"
_OUT_OF_MEMORY = "out of memory"


_warned_no_deadline = False


def _warn_no_deadline() -> None:
    global _warned_no_deadline
    _warned_no_deadline = True
    log.warning(
        "this quickjs-ng build does not allow a run deadline; function nodes run without "
        "function_timeout_s, so a runaway loop will stall the runtime"
    )


def _vendor_source(name: str) -> str:
    if name not in _VENDOR_CACHE:
        filename = _VENDOR_FILES[name]
        _VENDOR_CACHE[name] = resources.files("runtime.js").joinpath("vendor").joinpath(filename).read_text(encoding="utf-8")
    return _VENDOR_CACHE[name]


class ScriptError(Exception):
    """JavaScript that failed to compile; ``js_error`` is the SyntaxError as a message value."""

    def __init__(self, js_error: JSError) -> None:
        super().__init__(str(js_error))
        self.js_error = js_error


class JSBridge:
    """Convert message values to and from the text that crosses into QuickJS.

    Buffers keep their identity across a run: each bytearray sent in gets a
    reference number, and a Buffer that comes back with that number is the
    same bytearray again (with any in-place changes copied into it).
    """

    def __init__(self) -> None:
        self.refs: dict[int, Any] = {}
        self._next_ref = 1
        self._tagged = False

    def clear_refs(self) -> None:
        self.refs.clear()

    def _ref(self, obj: Any) -> int:
        ref = self._next_ref
        self._next_ref += 1
        self.refs[ref] = obj
        return ref

    def _special(self, value: Any) -> Any:
        self._tagged = True
        if isinstance(value, bytearray):
            return {TAG: "Buffer", "data": list(value), "ref": self._ref(value)}
        if isinstance(value, _TAGGED_TYPES) or value is UNDEFINED:
            return encode_special(value)
        # Anything else (an HTTP request, a client handle) goes in as a
        # placeholder and comes back as the same Python object.
        view = getattr(value, "js_view", None)
        return {TAG: "ref", "id": self._ref(value), "view": view() if callable(view) else {}}

    def to_js(self, value: Any) -> tuple[str, bool]:
        """Return ``(json_text, tagged)`` for a value going into JavaScript."""
        self._tagged = False
        text = orjson.dumps(value, default=self._special, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS)
        if b"null" in text:
            # orjson writes NaN and Infinity as null; redo with the exact encoder.
            self._tagged = False
            exact = self._encode_exact(value)
            text = orjson.dumps(exact, option=orjson.OPT_NON_STR_KEYS)
        return text.decode("utf-8"), self._tagged

    def _encode_exact(self, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            self._tagged = True
            if math.isnan(value):
                return {TAG: "number", "value": "NaN"}
            return {TAG: "number", "value": "Infinity" if value > 0 else "-Infinity"}
        if value is None or isinstance(value, (str, bool, int, float)):
            return value
        if isinstance(value, dict):
            return {k: self._encode_exact(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._encode_exact(v) for v in value]
        return self._special(value)

    def from_js(self, value: Any, tagged: bool) -> Any:
        """Turn a parsed JSON value from JavaScript into message values."""
        if not tagged:
            return value
        return self._revive(value)

    def _revive(self, value: Any) -> Any:
        if isinstance(value, dict):
            tag = value.get(TAG)
            if tag is None:
                return {k: self._revive(v) for k, v in value.items()}
            if tag == "Buffer" and "ref" in value and value["ref"] in self.refs:
                return self.refs[value["ref"]]
            if tag == "ref":
                return self.refs.get(value.get("id"), {})
            return decode(value)
        if isinstance(value, list):
            return [self._revive(v) for v in value]
        return value

    def apply_buffer_updates(self, updates: list[Any]) -> None:
        for ref, data in updates:
            target = self.refs.get(ref)
            if isinstance(target, bytearray):
                target[:] = bytes(data)


def host_value(bridge: JSBridge, value: Any) -> Any:
    """Encode a context or env value for the prelude's ``decodeResult``."""
    if value is UNDEFINED:
        return "u"
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        # quickjs-ng converts a Python int to a 32-bit JavaScript integer,
        # silently wrapping larger ones; a float carries up to 2**53 exactly.
        return value if -(2**31) <= value < 2**31 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else "t" + bridge.to_js(value)[0]
    if isinstance(value, str):
        return "s" + value
    text, tagged = bridge.to_js(value)
    return ("t" if tagged else "j") + text


def host_argument(bridge: JSBridge, arg: Any) -> Any:
    """Decode an argument the prelude's ``encodeArg`` produced."""
    if not isinstance(arg, str):
        if isinstance(arg, float) and arg.is_integer() and abs(arg) < 2**53:
            return int(arg)
        return arg
    kind, body = arg[:1], arg[1:]
    if kind == "u":
        return UNDEFINED
    if kind == "s":
        return body
    parsed = orjson.loads(body)
    return bridge.from_js(parsed, TAG in body)


class FunctionSandbox:
    """The QuickJS context of one function node and the host functions it calls."""

    def __init__(
        self,
        node: FunctionNode,
        *,
        timeout_s: float,
        memory_limit_bytes: int,
        on_events: Callable[[str], None],
    ) -> None:
        self.node = node
        self.bridge = JSBridge()
        self.timeout_s = timeout_s
        self._on_events = on_events
        self._context = quickjs.Context()
        self._context.set_memory_limit(memory_limit_bytes)
        if not interrupt.install(self._context) and not _warned_no_deadline:
            _warn_no_deadline()
        self._register_host_functions()
        self._context.eval(_PRELUDE)
        api = "globalThis.__outwire"
        self._configure = self._context.eval(api + ".configure")
        self._compile = self._context.eval(api + ".compile")
        self._run = self._context.eval(api + ".run")
        self._run_setup = self._context.eval(api + ".runSetup")
        self._run_close = self._context.eval(api + ".runClose")
        self._fire_timer = self._context.eval(api + ".fireTimer")
        self._take_events = self._context.eval(api + ".takeEvents")
        self._write_back = self._context.eval(api + ".writeBack")
        self._context.eval("delete globalThis.__outwire")
        self._timers: dict[int, Any] = {}
        self._scopes: dict[str, Any] | None = None
        self._contexts = node.runtime.contexts
        self._running = False

    # -- host functions, called from JavaScript (_never_raise wraps each one) --

    def _register_host_functions(self) -> None:
        functions = {
            "__host_flush": self._host_flush,
            "__host_ctx_get": self._host_ctx_get,
            "__host_ctx_set": self._host_ctx_set,
            "__host_ctx_keys": self._host_ctx_keys,
            "__host_env": self._host_env,
            "__host_timer": self._host_timer,
            "__host_clear_timer": self._host_clear_timer,
            "__host_console": self._host_console,
            "__host_vendor": _vendor_source,
            "__host_node_set": self._host_node_set,
        }
        for name, function in functions.items():
            self._context.add_callable(name, _never_raise(function, self.node))

    def _host_flush(self, text: str) -> None:
        self._on_events(text)

    def _scope(self, scope: str) -> Any:
        scopes = self._scopes
        if scopes is None:
            context = self.node.context()
            scopes = self._scopes = {"node": context, "flow": context.flow, "global": context.global_}
        return scopes[scope]

    def _host_ctx_get(self, scope: str, key: Any, store: Any) -> Any:
        value = self._scope(scope).get(host_argument(self.bridge, key), store)
        return host_value(self.bridge, value)

    def _host_ctx_set(self, scope: str, key: Any, value: Any, store: Any) -> None:
        self._scope(scope).set(host_argument(self.bridge, key), host_argument(self.bridge, value), store)

    def _host_node_set(self, key: str, value: Any) -> None:
        # The write-back of the node's own cached context (see prelude.js).
        self._scope("node").set(key, host_argument(self.bridge, value))

    def _host_ctx_keys(self, scope: str, store: Any) -> str:
        return orjson.dumps(self._scope(scope).keys(store)).decode("utf-8")

    def _host_env(self, name: str) -> Any:
        return host_value(self.bridge, self.node.get_setting(name))

    def _host_timer(self, timer_id: float, delay_ms: float, repeat: bool) -> None:
        timer_id = int(timer_id)
        delay_s = max(float(delay_ms), 1.0 if repeat else 0.0) / 1000.0
        self._timers[timer_id] = self.node.runtime.call_later(delay_s, self._timer_fired, timer_id, delay_s, repeat)

    def _host_clear_timer(self, timer_id: float) -> None:
        self.node.runtime.cancel_timer(self._timers.pop(int(timer_id), None))

    def _host_console(self, level: str, text: str) -> None:
        python_level = {"error": logging.ERROR, "warn": logging.WARNING, "debug": logging.DEBUG}.get(level, logging.INFO)
        log.log(python_level, "console.%s: %s", level, text, extra=self.node.log_extra())

    # -- entry points ------------------------------------------------------

    def configure(self, info: dict[str, Any], want_done_msg: bool, *, lazy_node_writes: bool = False) -> None:
        """Pass node details to the prelude; see :meth:`write_back` for ``lazy_node_writes``."""
        self._configure(orjson.dumps(info).decode("utf-8"), want_done_msg, lazy_node_writes)

    def write_back(self) -> None:
        """Copy the node context values JavaScript changed into the context store.

        With ``lazy_node_writes`` the prelude keeps them until this is called;
        the node's context object calls it before every read from Python.
        """
        if self._running:
            return  # a read made from inside JavaScript; the prelude orders those itself
        self._running = True
        try:
            self._write_back()
        finally:
            self._running = False

    def compile(self, source: str, uses_done: bool, *, mentions_node: bool = True, kind: str = "body") -> None:
        """Compile the wrapped user function; raise :class:`ScriptError` on a syntax error."""
        try:
            self._compile(source, uses_done, mentions_node)
        except quickjs.JSException as exc:
            raise ScriptError(_syntax_error(exc, kind)) from None

    def check_syntax(self, source: str, kind: str) -> None:
        """Compile ``source`` without keeping it; raise :class:`ScriptError` on a syntax error."""
        try:
            self._context.eval("(function () { return " + source + "; })")
        except quickjs.JSException as exc:
            raise ScriptError(_syntax_error(exc, kind)) from None

    def run(self, text: str | None, tagged: bool, msg_id: Any, call_id: int, tracked: bool) -> None:
        """Run the user function for one message; events go to ``on_events``."""
        self._enter(self._run, text, tagged, msg_id, call_id, tracked, self._contexts.version)

    def run_setup(self, source: str) -> None:
        self._enter(self._run_setup, source)

    def run_close(self, source: str | None) -> None:
        self._enter(self._run_close, source)
        for handle in self._timers.values():
            self.node.runtime.cancel_timer(handle)
        self._timers.clear()

    def _timer_fired(self, timer_id: int, delay_s: float, repeat: bool) -> None:
        if repeat:
            self._timers[timer_id] = self.node.runtime.call_later(delay_s, self._timer_fired, timer_id, delay_s, repeat)
        else:
            self._timers.pop(timer_id, None)
        self._enter(self._fire_timer, timer_id, self._contexts.version)

    @property
    def has_timers(self) -> bool:
        return bool(self._timers)

    def _enter(self, function: Any, *args: Any) -> None:
        """Call into JavaScript under the time limit, then run queued promise jobs."""
        context = self._context
        interrupt.set_deadline(self.timeout_s)
        self._running = True
        try:
            text = function(*args)
            if text is not None:
                self._on_events(text)
            if context.execute_pending_job():
                while context.execute_pending_job():
                    pass
                text = self._take_events()
                if text is not None:
                    self._on_events(text)
        except quickjs.JSException as exc:
            self._after_abort()
            raise self._limit_error(exc) from None
        except quickjs.StackOverflow:
            self._after_abort()
            raise JSError("Maximum call stack size exceeded", name="RangeError") from None
        finally:
            self._running = False
            interrupt.clear_deadline()

    def _after_abort(self) -> None:
        # What the run queued before it was stopped still happened, as in Node-RED.
        interrupt.clear_deadline()
        try:
            text = self._take_events()
        except quickjs.JSException:
            text = None
        self._context.gc()
        if text is not None:
            self._on_events(text)

    def _limit_error(self, exc: quickjs.JSException) -> JSError:
        text = str(exc)
        if text.startswith(_INTERRUPTED):
            limit_ms = round(self.timeout_s * 1000)
            return JSError(f"Script execution timed out after {limit_ms}ms", code=_TIMEOUT_CODE)
        if _OUT_OF_MEMORY in text:
            return memory_limit_error()
        first = text.split("\n", 1)[0]
        name, _, message = first.partition(": ")
        return JSError(message or first, name=name if message else "Error")

    def close(self) -> None:
        for handle in self._timers.values():
            self.node.runtime.cancel_timer(handle)
        self._timers.clear()
        self.bridge.clear_refs()


def memory_limit_error() -> JSError:
    """Return the error for a function that passed its heap limit."""
    return JSError(
        "the function used more memory than its limit (function_memory_limit_mb); "
        "reduce what it keeps or raise the limit",
        name="RangeError",
    )


def is_out_of_memory(error: Any) -> bool:
    """Tell QuickJS's out-of-memory error, as JavaScript code can catch and rethrow it."""
    return isinstance(error, JSError) and error.name == "InternalError" and _OUT_OF_MEMORY in error.message


def _syntax_error(exc: quickjs.JSException, kind: str) -> JSError:
    text = str(exc)
    first = text.split("\n", 1)[0]
    name, _, message = first.partition(": ")
    location = _QJS_LOCATION_RE.search(text)
    line = int(location.group(1)) - 1 if location else 0
    return JSError(f"{message or first} ({kind}:line {max(line, 1)})", name=name if message else "SyntaxError")


def _never_raise(function: Callable[..., Any], node: Any) -> Callable[..., Any]:
    # A Python exception escaping into QuickJS corrupts the call; report it
    # as a JavaScript-visible error value instead.
    def guarded(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # noqa: BLE001 - see comment above
            log.error("host function %s failed", getattr(function, "__name__", "?"), exc_info=True, extra=node.log_extra())
            return "e" + f"{type(exc).__name__}: {exc}"

    return guarded
