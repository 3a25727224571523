"""Template node behaviour beyond the conformance corpus: errors, outputs, compile-once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pystache import parser as pystache_parser

from runtime import mustache
from tests.support.flows import FlowRun, catch_to, sink, start_flow


def template_node(template: Any, **config: Any) -> dict[str, Any]:
    base = {"id": "t", "type": "template", "name": "", "field": "payload", "fieldType": "msg",
            "syntax": "mustache", "template": template, "output": "str", "wires": [["out"]]}  # fmt: skip
    return {**base, **config}


async def run_template(tmp_path: Path, node: dict[str, Any], *messages: dict[str, Any], **options: Any) -> FlowRun:
    run = await start_flow(tmp_path, [node, sink("out"), *catch_to("caught")], **options)
    await run.inject("t", *messages)
    await run.stop()
    return run


def errors(run: FlowRun) -> list[str]:
    return [msg["error"]["message"] for msg in run.received("caught")]


async def test_template_parses_node_template_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real_parse = pystache_parser.parse

    def counting_parse(source: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(source)
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(pystache_parser, "parse", counting_parse)
    mustache.compile_template.cache_clear()
    source = "Hello {{payload.name}} #{{count}}"
    run = await run_template(tmp_path, template_node(source), *({"payload": {"name": "W"}, "count": n} for n in range(5)))

    assert [msg["payload"] for msg in run.received("out")] == [f"Hello W #{n}" for n in range(5)]
    assert parsed == [source]


def test_template_benchmark_template_takes_fast_path() -> None:
    assert mustache.compile_template("Hello {{payload.name}}").is_simple
    assert not mustache.compile_template("{{#a}}x{{/a}}").is_simple


async def test_template_reports_unclosed_section_per_message(tmp_path: Path) -> None:
    run = await run_template(tmp_path, template_node("{{#a}}x{{/b}}"), {"payload": 1}, {"payload": 2})

    assert errors(run) == ['Unclosed section "a" at 7', 'Unclosed section "a" at 7']
    assert run.received("out") == []


async def test_template_uses_msg_template_when_node_template_empty(tmp_path: Path) -> None:
    run = await run_template(tmp_path, template_node(""), {"template": "T {{payload}}", "payload": 1}, {"payload": 2})

    assert [msg["payload"] for msg in run.received("out")] == ["T 1", ""]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (5, "this.tail.search is not a function"),
        (None, 'Invalid template! Template should be a "string" but "object" was given as the first argument for mustache#render(template, view, partials)'),
    ],
)
async def test_template_rejects_non_string_msg_template(tmp_path: Path, template: Any, message: str) -> None:
    run = await run_template(tmp_path, template_node(""), {"template": template, "payload": 1})

    assert errors(run) == [message]


async def test_template_json_output_escapes_message_strings(tmp_path: Path) -> None:
    node = template_node('{"v":"{{payload}}","items":[{{#list}}"{{.}}",{{/list}}"end"]}', output="json")
    run = await run_template(tmp_path, node, {"payload": "a\\b\nc\td", "list": ["plain"]})

    assert run.received("out")[0]["payload"] == {"v": "a\\b\nc\td", "items": ["plain", "end"]}


async def test_template_invalid_json_output_is_v8_error(tmp_path: Path) -> None:
    run = await run_template(tmp_path, template_node("{not json {{payload}}", output="json"), {"payload": "x"})

    assert errors(run) == ["Expected property name or '}' in JSON at position 1"]


async def test_template_yaml_output_uses_yaml_1_2_types(tmp_path: Path) -> None:
    node = template_node("a: {{payload}}\nb: yes\nc: 0o17\nd: [1, 2]", output="yaml")
    run = await run_template(tmp_path, node, {"payload": "hello"})

    assert run.received("out")[0]["payload"] == {"a": "hello", "b": "yes", "c": 15, "d": [1, 2]}


async def test_template_plain_syntax_parses_json(tmp_path: Path) -> None:
    run = await run_template(tmp_path, template_node('{"a": {{x}}}', syntax="plain", output="json"), {"payload": 0})

    # Plain text is not rendered, so the braces reach JSON.parse.
    assert errors(run) == ["Expected property name or '}' in JSON at position 7"]


async def test_template_stores_into_global_context_store(tmp_path: Path) -> None:
    node = template_node("v={{payload}}", field="#:(memory)::saved", fieldType="global")
    run = await start_flow(tmp_path, [node, sink("out")])
    await run.inject("t", {"payload": 7})
    stored = run.runtime.contexts.global_scope.get("saved")
    await run.stop()

    assert stored == "v=7"
    assert run.received("out")[0]["payload"] == 7


async def test_template_reads_context_and_env_inside_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTWIRE_TEST_E", "EV")
    node = template_node("{{#payload}}{{global.g}}-{{env.OUTWIRE_TEST_E}}-{{y}};{{/payload}}")
    run = await run_template(tmp_path, node, {"payload": [1, {"y": "Y"}]}, global_context={"g": "G"})

    assert run.received("out")[0]["payload"] == "G-EV-;G-EV-Y;"


async def test_template_invalid_field_is_error(tmp_path: Path) -> None:
    run = await run_template(tmp_path, template_node("x", field="a..b"), {"payload": 1})

    assert errors(run) == ["Invalid property expression: unexpected . at position 2"]
