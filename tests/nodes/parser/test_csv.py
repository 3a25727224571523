"""The csv node: errors that name the line, large payloads, and both parser modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, log_texts, settle


def csv_node(**options: Any) -> dict[str, Any]:
    node = {"id": "c", "type": "csv", "spec": "rfc", "sep": ",", "hdrin": True, "hdrout": "none", "multi": "mult",
            "ret": "\\n", "temp": "", "skip": "0", "strings": True, "include_empty_strings": "",
            "include_null_values": ""}
    node.update(options)
    return node


async def test_csv_bad_header_error_names_line_and_column(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(csv_node(skip="1"))) as run:
        run.inject("c", {"payload": 'comment\nname,ag"e\nbob,3\n'})
        await settle(run)
        error = run.received("caught")[0]["error"]["message"]
        assert error == "UnquotedQuoteError: Quote found in the middle of an unquoted field at line 2, column 8"
        assert run.received("out") == []


async def test_csv_rejects_number_payload(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(csv_node())) as run:
        run.inject("c", {"payload": 42})
        await settle(run)
        assert run.received("caught")[0]["error"]["message"] == "Error: This node only handles CSV strings or js objects."


async def test_csv_parses_crlf_with_byte_order_mark(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(csv_node())) as run:
        run.inject("c", {"payload": "\ufeffid,name\r\n1,ann\r\n2,bob\r\n"})
        await settle(run)
        message = run.received("out")[0]
        # Node-RED keeps the byte order mark in the first column name.
        assert message["payload"] == [{"\ufeffid": 1, "name": "ann"}, {"\ufeffid": 2, "name": "bob"}]
        assert message["columns"] == "\ufeffid,name"


async def test_csv_parses_ten_megabyte_payload(tmp_path: Path) -> None:
    row_count = 200_000
    lines = ["id,text,score"] + [f'{i},"row {i}, quoted",{i / 4}' for i in range(row_count)]
    text = "\n".join(lines) + "\n"
    assert len(text) > 5_000_000
    async with FlowHarness(tmp_path, flow_of(csv_node())) as run:
        run.inject("c", {"payload": text})
        await settle(run)
        rows = run.received("out")[0]["payload"]
        assert len(rows) == row_count
        assert rows[0] == {"id": 0, "text": "row 0, quoted", "score": 0}
        assert rows[-1] == {"id": row_count - 1, "text": f"row {row_count - 1}, quoted", "score": (row_count - 1) / 4}


async def test_csv_one_message_per_row_carries_parts(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(csv_node(multi="one"))) as run:
        run.inject("c", {"payload": "a\n1\n2\n", "_msgid": "in"})
        await settle(run)
        received = run.received("out")
        assert [m["payload"] for m in received] == [{"a": 1}, {"a": 2}]
        assert [m["parts"] for m in received] == [{"id": "in", "index": 0, "count": 2}, {"id": "in", "index": 1, "count": 2}]


async def test_csv_header_once_until_reset(tmp_path: Path) -> None:
    node = csv_node(hdrin="", hdrout="once", temp="a,b", ret="\\r\\n")
    async with FlowHarness(tmp_path, flow_of(node)) as run:
        run.inject("c", {"payload": {"a": 1, "b": "x,y"}})
        run.inject("c", {"payload": {"a": 2, "b": 'q"'}})
        run.inject("c", {"payload": [{"a": 3}], "reset": True})
        await settle(run)
        assert [m["payload"] for m in run.received("out")] == ['a,b\r\n1,"x,y"\r\n', '2,"q"""\r\n', "a,b\r\n3,\r\n"]


async def test_csv_legacy_mode_warns_on_unclosed_quote(tmp_path: Path) -> None:
    node = csv_node()
    del node["spec"]
    async with FlowHarness(tmp_path, flow_of(node)) as run:
        run.inject("c", {"payload": 'a,b\n1,"open\n'})
        await settle(run)
        assert log_texts(run, "warn") == ["Malformed CSV data - output probably corrupt."]


async def test_csv_bad_template_stops_input(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(csv_node(hdrin="", temp='a,"b'))) as run:
        run.inject("c", {"payload": "1,2"})
        await settle(run)
        assert run.received("out") == []
        assert log_texts(run, "warn") == ["Malformed columns template."]
