"""The function node: run the flow designer's JavaScript for each message.

The body runs in the node's own QuickJS context (``runtime.js.sandbox``) with
Node-RED's function-node API. What the body returns is sent as if by
``node.send(result, false)``; every message sent carries the input's
``_msgid``. A body that never calls ``node.done()`` is done when it returns
(or when its promise settles). Setup code (``initialize``) runs at start;
messages that arrive before it finishes wait and then run in order.
Cleanup code (``finalize``) runs when the flow stops.

External modules (``libs``) are not available: a node that lists any fails
at start with Node-RED's message.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import orjson

from runtime.encoding import TAG
from runtime.js.sandbox import FunctionSandbox, ScriptError, is_out_of_memory, memory_limit_error
from runtime.jsvalues import JSError
from runtime.message import Message
from runtime.node import PENDING, Node
from runtime.registry import register

# Calls whose done() has not arrived yet are remembered so errors and
# complete nodes get the right message. A body that never calls node.done()
# would keep them forever; past this many the oldest are forgotten.
MAX_TRACKED_CALLS = 10_000

_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_DONE_CALL_RE = re.compile(r"node\.done\s*\(\s*\)")
_AWAIT_RE = re.compile(r"\bawait\b")
# A body that never names msg (or could reach it indirectly) does not need
# the message copied into JavaScript at all.
_MSG_REFERENCE_RE = re.compile(r"\bmsg\b|\barguments\b|\beval\b|\bFunction\b")
_NODE_REFERENCE_RE = re.compile(r"\bnode\b|\barguments\b|\beval\b|\bFunction\b")

_RESOLVING, _RESOLVED, _FAILED = "resolving", "resolved", "failed"


def _wrap(body: str, *, is_async: bool, params: str) -> str:
    # The body starts on line 2, so a JavaScript line number minus one is the
    # line in the editor, as Node-RED reports it.
    return f"({'async ' if is_async else ''}function ({params}) {{\n{body}\n}})"


@register
class FunctionNode(Node):
    """Run JavaScript for each message in a QuickJS sandbox."""

    type_name = "function"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        settings = self.runtime.settings
        if (config.get("libs") or []) and not settings.function_external_modules:
            raise JSError("Function node not allowed to load external modules")

        self.func = config.get("func") or ""
        self.output_count = _to_int(config.get("outputs"), 1)
        node_timeout_s = _to_float(config.get("timeout"))
        self.timeout_s = node_timeout_s if node_timeout_s > 0 else settings.function_timeout_s
        self.setup_source = (config.get("initialize") or "").strip()
        self.close_source = (config.get("finalize") or "").strip()

        code = _COMMENT_RE.sub("", self.func)
        self.uses_done = bool(_DONE_CALL_RE.search(code))
        self.is_async = bool(_AWAIT_RE.search(code))
        self.uses_msg = bool(_MSG_REFERENCE_RE.search(self.func))
        self.tracked = self.is_async or self.uses_done

        self._state = _RESOLVED
        self._waiting: deque[Message] = deque()
        self._inflight: dict[int, Message] = {}
        self._next_call = 1
        self._current: tuple[int, Message] | None = None
        self._broken = False

        self.sandbox = FunctionSandbox(
            self,
            timeout_s=self.timeout_s,
            memory_limit_bytes=settings.function_memory_limit_mb * 1024 * 1024,
            on_events=self._handle_events,
        )
        self._compile()

    def _compile(self) -> None:
        try:
            self.sandbox.compile(
                _wrap(self.func, is_async=self.is_async, params="msg, node"),
                self.uses_done,
                mentions_node=bool(_NODE_REFERENCE_RE.search(self.func)),
            )
            if self.setup_source:
                self.sandbox.check_syntax(_wrap(self.setup_source, is_async=True, params="node"), "setup")
            if self.close_source:
                self.sandbox.check_syntax(_wrap(self.close_source, is_async=False, params="node"), "cleanup")
        except ScriptError as exc:
            # Node-RED logs the error and keeps the node, which then ignores input.
            self._broken = True
            self.error(exc.js_error)

    def source_name(self) -> str:
        return self.name

    async def start(self) -> None:
        info = {"id": self.id, "name": self.name, "path": f"{self.flow.path}/{self.alias or self.id}",
                "outputCount": self.output_count}
        lazy = self.runtime.contexts.default == "memory"
        self.sandbox.configure(info, self.id in self.flow.complete_map, lazy_node_writes=lazy)
        if lazy:
            self.context().before_access = self.sandbox.write_back
        if self.setup_source and not self._broken:
            self._state = _RESOLVING
            try:
                self.sandbox.run_setup(_wrap(self.setup_source, is_async=True, params="node"))
            except JSError as err:
                self._setup_finished(err)

    # -- input ---------------------------------------------------------------

    def receive(self, msg: Message) -> None:
        # Overrides Node.receive: sends, done and errors all arrive as events
        # from the sandbox, so the generic send-then-done step has nothing to do.
        if self._state is _RESOLVED and not self._broken:
            self._run(msg)
        elif self._state is _RESOLVING and not self._broken:
            self._waiting.append(msg)

    def on_input(self, msg: Message) -> Any:
        self.receive(msg)
        return PENDING

    def _run(self, msg: Message) -> None:
        call_id = self._next_call
        self._next_call += 1
        if self.tracked:
            self._track(call_id, msg)
        self._current = (call_id, msg)
        sandbox = self.sandbox
        try:
            if self.uses_msg:
                text, tagged = sandbox.bridge.to_js(msg)
                sandbox.run(text, tagged, None, call_id, self.tracked)
            else:
                sandbox.run(None, False, msg.get("_msgid"), call_id, self.tracked)
        except JSError as err:
            self._inflight.pop(call_id, None)
            self.done(msg, err)
        except (TypeError, ValueError) as exc:
            # The message could not be turned into JSON for the sandbox.
            self._inflight.pop(call_id, None)
            self.done(msg, f"cannot pass the message to JavaScript: {exc}")
        finally:
            self._current = None
        if sandbox.bridge.refs and not self._inflight and not sandbox.has_timers:
            sandbox.bridge.clear_refs()

    def _track(self, call_id: int, msg: Message) -> None:
        self._inflight[call_id] = msg
        if len(self._inflight) > MAX_TRACKED_CALLS:
            oldest = next(iter(self._inflight))
            del self._inflight[oldest]

    def _original(self, call_id: int) -> Message | None:
        msg = self._inflight.pop(call_id, None)
        if msg is None and self._current is not None and self._current[0] == call_id:
            msg = self._current[1]
        return msg

    # -- events from JavaScript ----------------------------------------------

    def _handle_events(self, text: str) -> None:
        events = orjson.loads(text)
        tagged = TAG in text
        bridge = self.sandbox.bridge
        for event in events:
            if type(event) is dict:
                # A single message for port 0 (see sendResults in prelude.js).
                self.send(bridge.from_js(event, tagged) if tagged else event)
                continue
            kind = event[0]
            if kind == "s":
                self.send(bridge.from_js(event[1], tagged) if tagged else event[1])
            elif kind == "d":
                self._on_done(event[1], event[2], event[3], tagged)
            elif kind == "x":
                self._on_failure(event[1], event[2], event[3], tagged)
            elif kind == "l":
                self._log_entry(event[1], bridge.from_js(event[2], tagged))
            elif kind == "r":
                msg = bridge.from_js(event[2], tagged) if event[2] is not None else None
                self.error(bridge.from_js(event[1], tagged), msg)
            elif kind == "t":
                self.status(bridge.from_js(event[1], tagged))
            elif kind == "e":
                self.error(event[1])
            elif kind == "b":
                bridge.apply_buffer_updates(event[1])
            elif kind == "i":
                self._setup_finished(bridge.from_js(event[1], tagged) if event[1] is not None else None)

    def _on_done(self, call_id: int, error: Any, msg_value: Any, tagged: bool) -> None:
        original = self._original(call_id)
        bridge = self.sandbox.bridge
        msg = bridge.from_js(msg_value, tagged) if msg_value is not None else original
        if msg is None:
            return
        if error is not None:
            self.error(bridge.from_js(error, tagged), msg)
        elif self.flow.has_complete_nodes:
            self.flow.handle_complete(self, msg)

    def _on_failure(self, call_id: int, error: Any, msg_value: Any, tagged: bool) -> None:
        original = self._original(call_id)
        bridge = self.sandbox.bridge
        err = bridge.from_js(error, tagged)
        if is_out_of_memory(err):
            err = memory_limit_error()
        if msg_value is not None:
            msg = bridge.from_js(msg_value, tagged)
        else:
            # The body never saw the message; Node-RED would still have stored
            # a thrown Error in msg.error before reporting it.
            msg = original
            if msg is not None and isinstance(err, JSError):
                msg["error"] = err
        self.error(err, msg)

    def _setup_finished(self, error: Any) -> None:
        if error is not None:
            self._state = _FAILED
            self._waiting.clear()
            self.error(error)
            return
        self._state = _RESOLVED
        while self._waiting:
            self._run(self._waiting.popleft())

    # -- stopping --------------------------------------------------------------

    async def close(self, removed: bool) -> None:
        try:
            if not self._broken:
                self.sandbox.run_close(
                    _wrap(self.close_source, is_async=False, params="node") if self.close_source else None
                )
        except JSError as err:
            self.error(err)
        finally:
            self.sandbox.close()
            self._inflight.clear()
            self._waiting.clear()


def _to_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _to_float(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0
