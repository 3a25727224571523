"""The csv node: errors that name the line, large payloads, and both parser modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.flows import FlowRun, flow_of


def csv_node(**options: Any) -> dict[str, Any]:
    node = {"id": "c", "type": "csv", "spec": "rfc", "sep": ",", "hdrin": True, "hdrout": "none", "multi": "mult",
            "ret": "\\n", "temp": "", "skip": "0", "strings": True, "include_empty_strings": "",
            "include_null_values": ""}
    node.update(options)
    return node


async def test_csv_bad_header_error_names_line_and_column(tmp_path: Path) -> None:
    async with FlowRun(flow_of(csv_node(skip="1")), tmp_path) as run:
        run.inject("c", {"payload": 'comment\nname,ag"e\nbob,3\n'})
        await run.settle()
        error = run.received("caught")[0]["error"]["message"]
        assert error == "UnquotedQuoteError: Quote found in the middle of an unquoted field at line 2, column 8"
        assert run.received() == []


async def test_csv_rejects_number_payload(tmp_path: Path) -> None:
    async with FlowRun(flow_of(csv_node()), tmp_path) as run:
        run.inject("c", {"payload": 42})
        await run.settle()
        assert run.received("caught")[0]["error"]["message"] == "Error: This node only handles CSV strings or js objects."


async def test_csv_parses_crlf_with_byte_order_mark(tmp_path: Path) -> None:
    async with FlowRun(flow_of(csv_node()), tmp_path) as run:
        run.inject("c", {"payload": "\ufeffid,name\r\n1,ann\r\n2,bob\r\n"})
        await run.settle()
        message = run.received()[0]
        # Node-RED keeps the byte order mark in the first column name.
        assert message["payload"] == [{"\ufeffid": 1, "name": "ann"}, {"\ufeffid": 2, "name": "bob"}]
        assert message["columns"] == "\ufeffid,name"


async def test_csv_parses_ten_megabyte_payload(tmp_path: Path) -> None:
    row_count = 200_000
    lines = ["id,text,score"] + [f'{i},"row {i}, quoted",{i / 4}' for i in range(row_count)]
    text = "\n".join(lines) + "\n"
    assert len(text) > 5_000_000
    async with FlowRun(flow_of(csv_node()), tmp_path) as run:
        run.inject("c", {"payload": text})
        await run.settle()
        rows = run.received()[0]["payload"]
        assert len(rows) == row_count
        assert rows[0] == {"id": 0, "text": "row 0, quoted", "score": 0}
        assert rows[-1] == {"id": row_count - 1, "text": f"row {row_count - 1}, quoted", "score": (row_count - 1) / 4}


async def test_csv_one_message_per_row_carries_parts(tmp_path: Path) -> None:
    async with FlowRun(flow_of(csv_node(multi="one")), tmp_path) as run:
        run.inject("c", {"payload": "a\n1\n2\n", "_msgid": "in"})
        await run.settle()
        received = run.received()
        assert [m["payload"] for m in received] == [{"a": 1}, {"a": 2}]
        assert [m["parts"] for m in received] == [{"id": "in", "index": 0, "count": 2}, {"id": "in", "index": 1, "count": 2}]


async def test_csv_header_once_until_reset(tmp_path: Path) -> None:
    node = csv_node(hdrin="", hdrout="once", temp="a,b", ret="\\r\\n")
    async with FlowRun(flow_of(node), tmp_path) as run:
        run.inject("c", {"payload": {"a": 1, "b": "x,y"}})
        run.inject("c", {"payload": {"a": 2, "b": 'q"'}})
        run.inject("c", {"payload": [{"a": 3}], "reset": True})
        await run.settle()
        assert [m["payload"] for m in run.received()] == ['a,b\r\n1,"x,y"\r\n', '2,"q"""\r\n', "a,b\r\n3,\r\n"]


async def test_csv_legacy_mode_warns_on_unclosed_quote(tmp_path: Path) -> None:
    node = csv_node()
    del node["spec"]
    async with FlowRun(flow_of(node), tmp_path) as run:
        run.inject("c", {"payload": 'a,b\n1,"open\n'})
        await run.settle()
        assert run.log_texts("warn") == ["Malformed CSV data - output probably corrupt."]


async def test_csv_bad_template_stops_input(tmp_path: Path) -> None:
    async with FlowRun(flow_of(csv_node(hdrin="", temp='a,"b')), tmp_path) as run:
        run.inject("c", {"payload": "1,2"})
        await run.settle()
        assert run.received() == []
        assert run.log_texts("warn") == ["Malformed columns template."]
