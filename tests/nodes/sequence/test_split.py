"""Split node behaviour beyond the recordings: stream tails, missing input, bad configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, log_texts, settle


def split_node(**options: Any) -> dict[str, Any]:
    node = {"id": "s", "type": "split", "splt": "\\n", "spltType": "str", "arraySplt": 1, "arraySpltType": "len",
            "stream": False, "addname": "", "property": "payload"}
    node.update(options)
    return node


async def test_split_stream_carries_tail_to_next_message(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(split_node(stream=True))) as run:
        run.inject("s", {"payload": "one\ntw"})
        run.inject("s", {"payload": "o\nthr"})
        run.inject("s", {"payload": "ee\n"})
        await settle(run)
        received = run.received("out")
        assert [m["payload"] for m in received] == ["one", "two", "three"]
        assert [m["parts"]["index"] for m in received] == [0, 1, 2]
        assert all("count" not in m["parts"] for m in received)


async def test_split_gives_each_part_new_msgid(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(split_node())) as run:
        run.inject("s", {"payload": "a\nb", "_msgid": "original"})
        await settle(run)
        ids = [m["_msgid"] for m in run.received("out")]
        sequence_ids = {m["parts"]["id"] for m in run.received("out")}
        assert len(set(ids)) == 2
        assert "original" not in ids
        assert len(sequence_ids) == 1
        assert sequence_ids.isdisjoint(ids)


async def test_split_pushes_existing_parts_down(tmp_path: Path) -> None:
    outer = {"id": "outer", "index": 1, "count": 2}
    async with FlowHarness(tmp_path, flow_of(split_node(splt=","))) as run:
        run.inject("s", {"payload": "x,y", "parts": dict(outer)})
        await settle(run)
        assert [m["parts"]["parts"] for m in run.received("out")] == [outer, outer]


async def test_split_ignores_message_without_property(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(split_node(property="data"))) as run:
        run.inject("s", {"payload": "a\nb"})
        await settle(run)
        assert run.received("out") == []
        assert run.received("caught") == []


async def test_split_reports_null_payload_as_type_error(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(split_node())) as run:
        run.inject("s", {"payload": None})
        await settle(run)
        error = run.received("caught")[0]["error"]["message"]
        assert error == "TypeError: Cannot convert undefined or null to object"


async def test_split_logs_invalid_binary_separator(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(split_node(spltType="bin", splt="{}"))) as run:
        run.inject("s", {"payload": "abc"})
        await settle(run)
        assert run.received("out") == []
        assert log_texts(run, "error") == ["Invalid split property: Error: not an array"]


async def test_split_large_array_keeps_order(tmp_path: Path) -> None:
    values = list(range(20000))
    async with FlowHarness(tmp_path, flow_of(split_node(arraySplt=1000))) as run:
        run.inject("s", {"payload": values})
        await settle(run)
        chunks = [m["payload"] for m in run.received("out")]
        assert len(chunks) == 20
        assert [v for chunk in chunks for v in chunk] == values
