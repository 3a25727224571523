"""The file and file in nodes, on real files in a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nodes.storage.file import decode_bytes, encode_text
from tests.support.harness import FlowHarness, node, sink, tab


def file_node(**props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "filename": "",
        "filenameType": "str",
        "appendNewline": True,
        "createDir": False,
        "overwriteFile": "false",
        "encoding": "none",
    }
    config.update(props)
    return node("f1", "file", [["out"]], **config)


def file_in_node(**props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"filename": "", "filenameType": "str", "format": "utf8", "encoding": "none"}
    config.update(props)
    return node("r1", "file in", [["out"]], **config)


async def run(tmp_path: Path, flow_node: dict[str, Any], messages: list[dict[str, Any]]) -> FlowHarness:
    harness = FlowHarness(tmp_path, [tab(), flow_node, sink("out")])
    async with harness:
        for msg in messages:
            harness.inject(flow_node["id"], msg)
        await harness.runtime.wait_idle()
    return harness


async def test_file_appends_with_newlines(tmp_path: Path) -> None:
    target = tmp_path / "log.txt"
    harness = await run(tmp_path, file_node(filename=str(target)), [{"payload": "a"}, {"payload": 2}, {"payload": {"k": True}}])

    assert target.read_text() == 'a\n2\n{"k":true}\n'
    assert [msg["filename"] for msg in harness.received("out")] == [str(target)] * 3


async def test_file_overwrites_with_buffer(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old content")
    await run(tmp_path, file_node(filename=str(target), overwriteFile="true"), [{"payload": bytearray(b"\x00\x01")}])

    assert target.read_bytes() == b"\x00\x01"


async def test_file_name_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "bench.json"
    monkeypatch.setenv("OUTWIRE_TEST_OUT", str(target))
    await run(tmp_path, file_node(filename="OUTWIRE_TEST_OUT", filenameType="env", overwriteFile="true"), [{"payload": "{}"}])

    assert target.read_text() == "{}\n"


async def test_file_name_from_message_without_type(tmp_path: Path) -> None:
    target = tmp_path / "legacy.txt"
    await run(tmp_path, file_node(filenameType=""), [{"payload": "x", "filename": str(target)}])

    assert target.read_text() == "x\n"


async def test_file_creates_directories(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.txt"
    await run(tmp_path, file_node(filename=str(target), createDir=True), [{"payload": "deep"}])

    assert target.read_text() == "deep\n"


async def test_file_missing_directory_is_error(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "c.txt"
    harness = await run(tmp_path, file_node(filename=str(target)), [{"payload": "x"}])

    assert harness.payloads("out") == []
    assert [entry["level"] for entry in harness.logs] == ["error"]
    expected = f"failed to append to file: Error: ENOENT: no such file or directory, open '{target}'"
    assert str(harness.logs[0]["msg"]) == expected


async def test_file_deletes_file(tmp_path: Path) -> None:
    target = tmp_path / "gone.txt"
    target.write_text("bye")
    harness = await run(tmp_path, file_node(filename=str(target), overwriteFile="delete"), [{"payload": "x"}])

    assert not target.exists()
    assert harness.payloads("out") == ["x"]


async def test_file_skips_newline_after_last_string_part(tmp_path: Path) -> None:
    target = tmp_path / "parts.txt"
    messages = [
        {"payload": "a", "parts": {"type": "string", "index": 0, "count": 2}},
        {"payload": "b", "parts": {"type": "string", "index": 1, "count": 2}},
    ]
    await run(tmp_path, file_node(filename=str(target)), messages)

    assert target.read_text() == "a\nb"


async def test_file_without_name_warns(tmp_path: Path) -> None:
    harness = await run(tmp_path, file_node(filename="filename", filenameType="msg"), [{"payload": "x"}])

    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("warn", "No filename specified")]


async def test_file_in_reads_utf8_string(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("héllo")
    harness = await run(tmp_path, file_in_node(filename=str(source)), [{"topic": "t"}])

    assert harness.payloads("out") == ["héllo"]


async def test_file_in_reads_single_buffer(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"\xff\x00")
    harness = await run(tmp_path, file_in_node(filename=str(source), format=""), [{}])

    assert harness.payloads("out") == [bytearray(b"\xff\x00")]


async def test_file_in_sends_lines_with_parts(tmp_path: Path) -> None:
    source = tmp_path / "lines.txt"
    source.write_text("one\ntwo\n")
    harness = await run(tmp_path, file_in_node(filename=str(source), format="lines"), [{"_msgid": "m1", "topic": "t"}])

    received = harness.received("out")
    assert [msg["payload"] for msg in received] == ["one", "two", ""]
    assert [msg["parts"]["index"] for msg in received] == [0, 1, 2]
    assert received[-1]["parts"]["count"] == 3
    assert {msg["parts"]["id"] for msg in received} == {"m1"}
    assert {msg["topic"] for msg in received} == {"t"}


async def test_file_in_streams_chunks(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (64 * 1024 * 2))
    harness = await run(tmp_path, file_in_node(filename=str(source), format="stream"), [{}])

    received = harness.received("out")
    assert [len(msg.get("payload", b"")) for msg in received] == [65536, 65536, 0]
    assert received[-1]["parts"] == {"index": 2, "count": 2, "ch": "", "type": "buffer", "id": received[0]["parts"]["id"]}


async def test_file_in_missing_file_sends_error(tmp_path: Path) -> None:
    source = tmp_path / "nope.txt"
    harness = await run(tmp_path, file_in_node(filename=str(source)), [{"payload": "keep"}])

    received = harness.received("out")
    assert len(received) == 1
    assert "payload" not in received[0]
    assert received[0]["error"].code == "ENOENT"
    assert str(harness.logs[0]["msg"]) == f"Error: ENOENT: no such file or directory, open '{source}'"


def test_encodings_follow_iconv_names() -> None:
    assert encode_text("é", "latin1") == b"\xe9"
    assert encode_text("hi", "ucs2") == b"h\x00i\x00"
    assert encode_text("aGk", "base64") == b"hi"
    assert decode_bytes(b"hi", "hex") == "6869"


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(Exception, match="Encoding not recognized: 'klingon'"):
        encode_text("x", "klingon")
