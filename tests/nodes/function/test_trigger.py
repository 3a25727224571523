"""The trigger node beyond the conformance corpus, on looptime's virtual clock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import FlowHarness, node, sink, tab

pytestmark = pytest.mark.looptime


def trigger_node(wires: list[list[str]] | None = None, **props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "op1": "1",
        "op2": "0",
        "op1type": "str",
        "op2type": "str",
        "duration": "200",
        "extend": False,
        "overrideDelay": False,
        "units": "ms",
        "reset": "",
        "bytopic": "all",
        "topic": "topic",
        "outputs": 1,
    }
    config.update(props)
    return node("tr", "trigger", wires or [["out"]], **config)


def now() -> float:
    return asyncio.get_running_loop().time()


async def test_zero_duration_waits_for_reset(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(duration="0"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "a"})
        await asyncio.sleep(60)
        harness.inject("tr", {"payload": "ignored"})
        harness.inject("tr", {"reset": True})
        harness.inject("tr", {"payload": "b"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1", "1"]


async def test_negative_duration_resends_until_reset(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(duration="-1", units="s", op1="ping"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("tr", {"payload": "go"})
        await asyncio.sleep(3.5)
        harness.inject("tr", {"reset": True})
        await asyncio.sleep(5)

    assert harness.payloads("out") == ["ping"] * 4
    assert harness.arrival_times("out", since=start) == pytest.approx([0, 1, 2, 3], abs=0.01)


@pytest.mark.parametrize(
    ("op2", "op2type", "expected"),
    [("5", "num", 5), ("true", "bool", True), ('{"a":[1]}', "json", {"a": [1]}), ("null", "val", None)],
)
async def test_second_value_types(tmp_path: Path, op2: str, op2type: str, expected: Any) -> None:
    flow = [tab(), trigger_node(op2=op2, op2type=op2type), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1", expected]


async def test_nul_second_value_sends_nothing(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op2type="nul"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(1)
        harness.inject("tr", {"payload": "y"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1", "1"]


async def test_date_second_value_is_epoch_ms(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op2type="date", op2="0"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(1)

    stamp = harness.payloads("out")[1]
    assert isinstance(stamp, int)
    assert stamp > 1_600_000_000_000


async def test_seconds_unit_scales_duration(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(duration="2", units="s"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(3)

    assert harness.arrival_times("out", since=start) == pytest.approx([0, 2], abs=0.01)


async def test_flow_context_second_value_read_at_end(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op2="state", op2type="flow"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.runtime.get_node("tr").context().flow.set("state", "before")  # type: ignore[union-attr]
        harness.inject("tr", {"payload": "x"})
        harness.runtime.get_node("tr").context().flow.set("state", "after")  # type: ignore[union-attr]
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1", "after"]


async def test_latest_message_per_topic(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op1type="pay", op2type="payl", bytopic="topic"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "a1", "topic": "a"})
        harness.inject("tr", {"payload": "b1", "topic": "b"})
        harness.inject("tr", {"payload": "a2", "topic": "a"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["a1", "b1", "a2", "b1"]


async def test_extend_restarts_wait(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(extend=True, op2type="payl"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        start = now()
        harness.inject("tr", {"payload": "first"})
        await asyncio.sleep(0.15)
        harness.inject("tr", {"payload": "second"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1", "second"]
    assert harness.arrival_times("out", since=start) == pytest.approx([0, 0.35], abs=0.01)


async def test_numeric_payload_matches_reset_text(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(reset="0"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": 5})
        harness.inject("tr", {"payload": 0})
        await asyncio.sleep(1)

    assert harness.payloads("out") == ["1"]


async def test_template_escapes_html(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op1="got {{payload}}", op2="raw {{{payload}}}"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "<b>"})
        await asyncio.sleep(1)

    # op2 is rendered when the first message arrives, before op1 replaces the payload.
    assert harness.payloads("out") == ["got &lt;b&gt;", "raw <b>"]


async def test_invalid_json_first_value_is_error(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(op1="{bad", op1type="json"), sink("out")]
    async with FlowHarness(tmp_path, flow) as harness:
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(1)

    assert harness.payloads("out") == []
    assert [entry["level"] for entry in harness.logs] == ["error"]


async def test_stop_cancels_pending_second_message(tmp_path: Path) -> None:
    flow = [tab(), trigger_node(duration="1", units="s"), sink("out")]
    harness = FlowHarness(tmp_path, flow)
    async with harness:
        harness.inject("tr", {"payload": "x"})
        await asyncio.sleep(0.5)

    await asyncio.sleep(2)
    assert harness.payloads("out") == ["1"]
    assert not harness.runtime.busy
