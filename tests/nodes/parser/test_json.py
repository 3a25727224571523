"""json node behaviour beyond the conformance corpus: schemas, actions, error paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.flows import FlowRun, catch_to, sink, start_flow

SCHEMA = {"type": "object", "required": ["a"], "properties": {"a": {"type": "number", "maximum": 5}}}


def json_node(**config: Any) -> dict[str, Any]:
    return {"id": "j1", "type": "json", "name": "", "property": "payload", "action": "", "pretty": False,
            "wires": [["out"]], **config}  # fmt: skip


async def run_json(tmp_path: Path, node: dict[str, Any], *messages: dict[str, Any]) -> FlowRun:
    run = await start_flow(tmp_path, [node, sink("out"), *catch_to("caught")])
    await run.inject("j1", *messages)
    await run.stop()
    return run


async def test_json_valid_schema_removes_msg_schema(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(), {"payload": '{"a": 1}', "schema": SCHEMA})

    received = run.received("out")[0]
    assert received["payload"] == {"a": 1}
    assert "schema" not in received


async def test_json_schema_failure_sets_schema_error(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(), {"payload": '{"a": 9}', "schema": SCHEMA})

    caught = run.received("caught")[0]
    assert run.received("out") == []
    assert caught["error"]["message"] == "JSON Schema error: data/a must be <= 5"
    assert caught["schemaError"] == [
        {"instancePath": "/a", "schemaPath": "#/properties/a/maximum", "keyword": "maximum",
         "params": {"comparison": "<=", "limit": 5}, "message": "must be <= 5"}
    ]  # fmt: skip


async def test_json_stringify_validates_before_converting(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(), {"payload": {}, "schema": SCHEMA})

    caught = run.received("caught")[0]
    assert caught["payload"] == {}
    assert caught["error"]["message"] == "JSON Schema error: data must have required property 'a'"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "email"},
        {"foo": 1},
        "not a schema",
        {"$schema": "http://json-schema.org/draft-04/schema#"},
        {"type": "no-such-type"},
        {"$ref": "#/definitions/missing"},
    ],
)
async def test_json_uncompilable_schema_is_error(tmp_path: Path, schema: Any) -> None:
    run = await run_json(tmp_path, json_node(), {"payload": "{}", "schema": schema})

    assert [msg["error"]["message"] for msg in run.received("caught")] == ["JSON Schema error: failed to compile schema"]


async def test_json_str_action_reports_invalid_text_as_syntax_error(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(action="str"), {"payload": "{bad", "schema": SCHEMA})

    message = run.received("caught")[0]["error"]["message"]
    assert message.startswith("SyntaxError: ")


async def test_json_str_action_passes_text_without_schema(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(action="str"), {"payload": "{bad"})

    assert run.received("out")[0]["payload"] == "{bad"


async def test_json_str_action_stringifies_buffer_members(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(action="str"), {"payload": {"a": bytearray(b"\x01")}})

    assert run.received("out")[0]["payload"] == '{"a":{"type":"Buffer","data":[1]}}'


async def test_json_missing_property_passes_message(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(property="data.x"), {"data": {}})

    assert run.received("out")[0]["data"] == {}
    assert run.received("caught") == []


async def test_json_missing_parent_is_type_error(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(property="a.b"), {"payload": 1})

    assert run.received("caught")[0]["error"]["message"] == "TypeError: Cannot read properties of undefined (reading 'b')"


async def test_json_pretty_prints_with_four_spaces(tmp_path: Path) -> None:
    run = await run_json(tmp_path, json_node(pretty=True), {"payload": [1, {"a": []}]})

    assert run.received("out")[0]["payload"] == '[\n    1,\n    {\n        "a": []\n    }\n]'
