"""The function node beyond the conformance corpus: limits, hostile code, the sandbox boundary."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from runtime.jsvalues import JSError
from runtime.settings import Settings
from tests.support.flows import node, received, running_flow, tab


def function_flow(func: str, **props: Any) -> list[dict[str, Any]]:
    return [
        tab(),
        node("f1", "function", [["out"]], func=func, outputs=1, **props),
        node("out", "sink"),
        node("k1", "catch", [["caught"]], scope=None),
        node("caught", "sink"),
    ]


async def run_one(tmp_path: Path, func: str, msg: dict[str, Any], *, settings: Settings | None = None,
                  **props: Any) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    logs: list[dict[str, Any]] = []
    async with running_flow(function_flow(func, **props), tmp_path, settings=settings) as runtime:
        runtime.log_listeners.append(logs.append)
        runtime.inject("f1", msg)
        await runtime.wait_idle()
        return received(runtime, "out"), received(runtime, "caught"), logs


async def test_function_stops_runaway_loop_at_node_timeout(tmp_path: Path) -> None:
    out, caught, _ = await run_one(tmp_path, "while (true) {}", {"payload": 1}, timeout=0.1)

    assert out == []
    assert len(caught) == 1
    assert caught[0]["error"]["message"] == "Error: Script execution timed out after 100ms"
    assert caught[0]["error"]["code"] == "ERR_SCRIPT_EXECUTION_TIMEOUT"


async def test_function_stops_runaway_loop_at_settings_timeout_when_node_has_none(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, function_timeout_s=0.2)

    out, caught, _ = await run_one(tmp_path, "for (;;) { Math.random(); }", {"payload": 1}, settings=settings)

    assert out == []
    assert caught[0]["error"]["message"] == "Error: Script execution timed out after 200ms"


async def test_function_context_stays_usable_after_timeout(tmp_path: Path) -> None:
    flow = function_flow("if (msg.payload === 'spin') { while (true) {} } return msg;", timeout=0.1)
    async with running_flow(flow, tmp_path) as runtime:
        runtime.inject("f1", {"payload": "spin"})
        runtime.inject("f1", {"payload": "ok"})
        await runtime.wait_idle()

        assert [m["payload"] for m in received(runtime, "out")] == ["ok"]
        assert len(received(runtime, "caught")) == 1


async def test_function_reports_memory_limit_as_node_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, function_memory_limit_mb=16)
    body = "const a = []; while (true) { a.push(new Array(100000).fill(1)); }"

    out, caught, logs = await run_one(tmp_path, body, {"payload": 1}, settings=settings)

    assert out == []
    messages = [c["error"]["message"] for c in caught] + [str(entry["msg"]) for entry in logs]
    assert any("function_memory_limit_mb" in text for text in messages), messages


async def test_function_stops_deep_recursion_with_range_error(tmp_path: Path) -> None:
    out, caught, _ = await run_one(tmp_path, "function f(n) { return f(n + 1); } return f(0);", {"payload": 1})

    assert out == []
    assert len(caught) == 1
    assert "RangeError" in caught[0]["error"]["message"] or "stack" in caught[0]["error"]["message"]


async def test_function_sees_no_require_process_or_host_functions(tmp_path: Path) -> None:
    body = (
        "msg.payload = [typeof require, typeof process, typeof __host_flush, typeof __host_ctx_get,"
        " typeof __outwire, typeof std, typeof os];"
        "return msg;"
    )
    out, _, _ = await run_one(tmp_path, body, {"payload": 0})

    assert out[0]["payload"] == ["undefined"] * 7


async def test_function_rejects_external_modules_at_start(tmp_path: Path) -> None:
    logs: list[dict[str, Any]] = []
    flow = function_flow("return msg;", libs=[{"var": "fs", "module": "fs"}])
    async with running_flow(flow, tmp_path, logs=logs) as runtime:
        assert runtime.get_node("f1") is None

    errors = [entry for entry in logs if entry["id"] == "f1" and entry["level"] == "error"]
    assert len(errors) == 1
    assert str(errors[0]["msg"]) == "Error: Function node not allowed to load external modules"


async def test_function_logs_external_module_error_with_node_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flow = function_flow("return msg;", libs=[{"var": "fs", "module": "fs"}])
    with caplog.at_level(logging.ERROR, logger="outwire"):
        async with running_flow(flow, tmp_path):
            pass

    records = [r for r in caplog.records if getattr(r, "node_id", None) == "f1"]
    assert records, "no log record names node f1"
    assert "not allowed to load external modules" in records[0].getMessage()


async def test_function_logs_external_module_error_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = function_flow("return msg;", libs=[{"var": "fs", "module": "fs"}])
    with caplog.at_level(logging.ERROR, logger="outwire"):
        async with running_flow(flow, tmp_path):
            pass

    [record] = [r for r in caplog.records if getattr(r, "node_id", None) == "f1"]
    assert record.exc_info is None


async def test_function_buffer_round_trips_bytes(tmp_path: Path) -> None:
    body = "msg.payload = Buffer.concat([msg.payload, Buffer.from('!')]); msg.hex = msg.payload.toString('hex'); return msg;"

    out, _, _ = await run_one(tmp_path, body, {"payload": bytearray(b"hi")})

    assert out[0]["payload"] == bytearray(b"hi!")
    assert isinstance(out[0]["payload"], bytearray)
    assert out[0]["hex"] == "686921"


async def test_function_in_place_buffer_change_reaches_python_bytearray(tmp_path: Path) -> None:
    original = bytearray(b"abc")

    out, _, _ = await run_one(tmp_path, "msg.payload[0] = 0x5a; return msg;", {"payload": original})

    assert out[0]["payload"] is original
    assert original == bytearray(b"Zbc")


async def test_function_keeps_large_integers_exact(tmp_path: Path) -> None:
    body = "flow.set('big', msg.payload); msg.payload = [flow.get('big'), flow.get('big') + 1]; return msg;"

    out, _, _ = await run_one(tmp_path, body, {"payload": 1796420861414})

    assert out[0]["payload"] == [1796420861414, 1796420861415]


async def test_function_sees_flow_context_written_by_other_node_between_messages(tmp_path: Path) -> None:
    flow = [
        tab(),
        node("f1", "function", [["out"]], func="msg.payload = flow.get('k'); return msg;", outputs=1),
        node("out", "sink"),
    ]
    async with running_flow(flow, tmp_path) as runtime:
        runtime.contexts.flow_scope("t1").set("k", "first")
        runtime.inject("f1", {})
        await runtime.wait_idle()
        runtime.contexts.flow_scope("t1").set("k", "second")
        runtime.inject("f1", {})
        await runtime.wait_idle()

        assert [m["payload"] for m in received(runtime, "out")] == ["first", "second"]


async def test_function_node_context_written_back_after_each_message(tmp_path: Path) -> None:
    body = "context.set('count', (context.get('count') || 0) + 1); return null;"
    async with running_flow(function_flow(body), tmp_path) as runtime:
        for _ in range(3):
            runtime.inject("f1", {})
        await runtime.wait_idle()
        f1 = runtime.get_node("f1")
        assert f1 is not None

        assert f1.context().get("count") == 3


async def test_function_timer_callback_sends_later(tmp_path: Path) -> None:
    body = "setTimeout(() => { node.send({payload: 'late'}); }, 20); return {payload: 'now'};"
    async with running_flow(function_flow(body), tmp_path) as runtime:
        runtime.inject("f1", {"_msgid": "m1"})
        await runtime.wait_idle()

        payloads = [m["payload"] for m in received(runtime, "out")]
        assert payloads == ["now", "late"]
        assert all(m["_msgid"] == "m1" for m in received(runtime, "out"))


async def test_function_close_cancels_pending_timers(tmp_path: Path) -> None:
    body = "setTimeout(() => { node.send({payload: 'never'}); }, 5000); return null;"
    async with running_flow(function_flow(body), tmp_path) as runtime:
        runtime.inject("f1", {})
        await asyncio.sleep(0.01)
        assert runtime.busy
    assert not runtime.busy


async def test_function_syntax_error_is_logged_and_node_ignores_input(tmp_path: Path) -> None:
    logs: list[dict[str, Any]] = []
    async with running_flow(function_flow("return msg +;"), tmp_path, logs=logs) as runtime:
        runtime.inject("f1", {"payload": 1})
        await runtime.wait_idle()
        assert received(runtime, "out") == []
        assert received(runtime, "caught") == []

    errors = [entry["msg"] for entry in logs if entry["id"] == "f1" and entry["level"] == "error"]
    assert len(errors) == 1
    assert isinstance(errors[0], JSError)
    assert errors[0].name == "SyntaxError"
    assert errors[0].message.endswith("(body:line 1)")


async def test_function_circular_message_gives_clear_error(tmp_path: Path) -> None:
    out, caught, _ = await run_one(tmp_path, "msg.self = msg; return msg;", {"payload": 1})

    assert out == []
    assert len(caught) == 1
    assert "circular" in caught[0]["error"]["message"]


async def test_function_console_goes_to_python_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="outwire.node.function"):
        await run_one(tmp_path, "console.log('hello %s', 'there'); return null;", {})

    assert any(r.getMessage() == "console.log: hello there" for r in caplog.records)
