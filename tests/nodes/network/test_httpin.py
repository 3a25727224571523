"""The http in and http response nodes, answering a real aiohttp client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from runtime.httpserver import compile_path, http_server
from runtime.message import Message
from runtime.node import Node
from runtime.settings import Settings
from tests.support.harness import FlowHarness, node, sink, tab


class DescribeRequestNode(Node):
    """Replace the payload with what the flow saw of the request (stands in for a change node)."""

    type_name = "test-describe-request"

    def on_input(self, msg: Message) -> Message:
        req = msg["req"]
        msg["payload"] = {
            "payload": _plain(msg.get("payload")),
            "params": req["params"],
            "query": req["query"],
            "method": req["method"],
            "path": req["path"],
            "cookies": req["cookies"],
            "files": [
                {"fieldname": f["fieldname"], "originalname": f["originalname"], "size": f["size"]}
                for f in req.get("files") or []
            ],
            "content_type": req["headers"].get("content-type"),
        }
        return msg


def _plain(value: Any) -> Any:
    return {"buffer": list(value)} if isinstance(value, bytearray) else value


def http_in(url: str, method: str = "get", wires: list[list[str]] | None = None, **props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"url": url, "method": method, "upload": False, "swaggerDoc": ""}
    config.update(props)
    return node("in1", "http in", wires or [["describe"]], **config)


def http_response(**props: Any) -> dict[str, Any]:
    return node("out1", "http response", [], statusCode=props.pop("statusCode", ""), headers=props.pop("headers", {}), **props)


def describe_flow(url: str, method: str = "get", **props: Any) -> list[dict[str, Any]]:
    return [tab(), http_in(url, method, **props), node("describe", DescribeRequestNode.type_name, [["out1"]]), http_response()]


def harness_for(tmp_path: Path, flow: list[dict[str, Any]], **settings: Any) -> FlowHarness:
    harness = FlowHarness(tmp_path, flow, settings=Settings(data_dir=tmp_path, **settings))
    harness.runtime.registry.add(DescribeRequestNode)
    return harness


def base_url(harness: FlowHarness) -> str:
    return http_server(harness.runtime).url


async def test_get_route_passes_params_and_query(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/user/:id")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.get(base_url(harness) + "/user/42?x=1&y=2&y=3&z[a]=1", headers={"Cookie": "sid=abc"}) as response:
                assert response.status == 200
                assert response.content_type == "application/json"
                body = await response.json()

    assert body["params"] == {"id": "42"}
    assert body["query"] == {"x": "1", "y": ["2", "3"], "z": {"a": "1"}}
    assert body["payload"] == body["query"]
    assert body["cookies"] == {"sid": "abc"}
    assert body["method"] == "GET"


async def test_post_json_body_is_parsed(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/echo", "post")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/echo", json={"a": [1, 2]}) as response:
                body = await response.json()

    assert body["payload"] == {"a": [1, 2]}


@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        ("application/x-www-form-urlencoded", b"a=1&b=2&b=3", {"a": "1", "b": ["2", "3"]}),
        ("text/plain", b"hello", "hello"),
        ("application/foo", b"abc", "abc"),
        ("application/octet-stream", b"abc", {"buffer": [97, 98, 99]}),
        ("image/png", b"\x89P", {"buffer": [137, 80]}),
    ],
)
async def test_post_body_types(tmp_path: Path, content_type: str, data: bytes, expected: Any) -> None:
    async with harness_for(tmp_path, describe_flow("/echo", "post")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/echo", data=data, headers={"Content-Type": content_type}) as response:
                body = await response.json()

    assert body["payload"] == expected


async def test_large_text_body_arrives_whole(tmp_path: Path) -> None:
    text = "x" * 2_000_000
    flow = [tab(), http_in("/big", "post", wires=[["out1"]]), http_response()]
    async with harness_for(tmp_path, flow) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/big", data=io.BytesIO(text.encode()), headers={"Content-Type": "text/plain"}) as response:
                assert len(await response.text()) == len(text)


async def test_skip_body_parsing_keeps_buffer(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/raw", "post", skipBodyParsing=True)) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/raw", json={"a": 1}) as response:
                body = await response.json()

    assert body["payload"] == {"buffer": list(b'{"a": 1}')}


async def test_bad_json_body_gives_500_and_warning(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/echo", "post")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/echo", data=b"{bad", headers={"Content-Type": "application/json"}) as response:
                assert response.status == 500
                assert await response.text() == "Internal Server Error"

    assert [(entry["level"], str(entry["msg"])) for entry in harness.logs] == [
        ("warn", "SyntaxError: Expected property name or '}' in JSON at position 1")
    ]


async def test_deeply_nested_json_body_gives_500_and_warning(tmp_path: Path) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    async with harness_for(tmp_path, describe_flow("/echo", "post")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/echo", data=body, headers={"Content-Type": "application/json"}) as response:
                assert response.status == 500
                assert await response.text() == "Internal Server Error"

    assert [(entry["level"], str(entry["msg"])) for entry in harness.logs] == [
        ("warn", "SyntaxError: JSON nested too deeply to parse")
    ]


async def test_client_gone_before_whole_body_warns_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness_for(tmp_path, describe_flow("/echo", "post")) as harness:
        server = http_server(harness.runtime)
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npart")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        await writer.wait_closed()
        # Let the server notice the closed connection while the flows still run.
        await asyncio.sleep(0.2)

    assert [(entry["level"], str(entry["msg"])) for entry in harness.logs] == [
        ("warn", "BadRequestError: request aborted")
    ]
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_oversized_body_gives_413_and_warning(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/echo", "post"), http_max_body_bytes=1000) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/echo", data=b"x" * 1001, headers={"Content-Type": "text/plain"}) as response:
                assert response.status == 413

    assert [(entry["level"], str(entry["msg"])) for entry in harness.logs] == [
        ("warn", "PayloadTooLargeError: request entity too large")
    ]


async def test_upload_puts_files_in_request(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/up", "post", upload=True)) as harness:
        form = aiohttp.FormData()
        form.add_field("field", "val")
        form.add_field("file", b"content", filename="a.txt", content_type="text/plain")
        async with aiohttp.ClientSession() as client:
            async with client.post(base_url(harness) + "/up", data=form) as response:
                body = await response.json()

    assert body["payload"] == {"field": "val"}
    assert body["files"] == [{"fieldname": "file", "originalname": "a.txt", "size": 7}]


async def test_unknown_path_gives_express_404(tmp_path: Path) -> None:
    async with harness_for(tmp_path, describe_flow("/known")) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.get(base_url(harness) + "/nothing") as response:
                assert response.status == 404
                assert "<pre>Cannot GET /nothing</pre>" in await response.text()


class SetResponseNode(Node):
    """Set status, headers, cookies and payload from the node's config (stands in for a change node)."""

    type_name = "test-set-response"

    def on_input(self, msg: Message) -> Message:
        msg.update(self.config["set"])
        return msg


async def test_response_sets_status_headers_and_cookies(tmp_path: Path) -> None:
    settings = {
        "payload": 42,
        "statusCode": 201,
        "headers": {"X-Thing": "1"},
        "cookies": {"c1": {"value": "v", "maxAge": 60000, "path": "/x"}, "gone": None},
    }
    flow = [
        tab(),
        http_in("/num", wires=[["set"]]),
        node("set", SetResponseNode.type_name, [["out1"]], set=settings),
        http_response(),
    ]
    harness = harness_for(tmp_path, flow)
    harness.runtime.registry.add(SetResponseNode)
    async with harness:
        async with aiohttp.ClientSession() as client:
            async with client.get(base_url(harness) + "/num") as response:
                assert response.status == 201
                assert await response.text() == "42"
                assert response.headers["Content-Type"] == "text/html; charset=utf-8"
                assert response.headers["X-Thing"] == "1"
                cookies = response.headers.getall("Set-Cookie")

    assert any(c.startswith("c1=v;") and "Max-Age=60" in c and "Path=/x" in c for c in cookies)
    assert any(c.startswith('gone="";') or c.startswith("gone=;") for c in cookies)


async def test_node_status_code_wins(tmp_path: Path) -> None:
    flow = [tab(), http_in("/s", wires=[["out1"]]), http_response(statusCode="404", headers={"content-type": "text/plain"})]
    async with harness_for(tmp_path, flow) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.get(base_url(harness) + "/s?a=1") as response:
                assert response.status == 404
                assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
                assert await response.json(content_type=None) == {"a": "1"}


async def test_response_without_request_warns(tmp_path: Path) -> None:
    async with harness_for(tmp_path, [tab(), http_response(), sink("unused")]) as harness:
        harness.inject("out1", {"payload": "x"})
        await harness.runtime.wait_idle()

    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("warn", "No response object")]


async def test_missing_path_warns(tmp_path: Path) -> None:
    async with harness_for(tmp_path, [tab(), http_in("")]) as harness:
        pass

    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("warn", "missing path")]


async def test_cors_preflight_and_header(tmp_path: Path) -> None:
    cors = {"origin": "*", "methods": "GET,POST"}
    async with harness_for(tmp_path, describe_flow("/c"), http_node_cors=cors) as harness:
        async with aiohttp.ClientSession() as client:
            preflight_headers = {"Origin": "http://example.test", "Access-Control-Request-Headers": "x-a"}
            async with client.options(base_url(harness) + "/c", headers=preflight_headers) as response:
                assert response.status == 204
                assert response.headers["Access-Control-Allow-Methods"] == "GET,POST"
                assert response.headers["Access-Control-Allow-Headers"] == "x-a"
            async with client.get(base_url(harness) + "/c") as response:
                assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_stop_answers_waiting_request_with_503(tmp_path: Path) -> None:
    flow = [tab(), http_in("/hang", wires=[["held"]]), sink("held")]
    harness = harness_for(tmp_path, flow)
    async with aiohttp.ClientSession() as client:
        async with harness:
            url = base_url(harness) + "/hang"
            request = asyncio.ensure_future(client.get(url))
            while not harness.received("held"):
                await asyncio.sleep(0.01)
        response = await asyncio.wait_for(request, timeout=5)
        assert response.status == 503
        response.release()


def test_express_path_patterns() -> None:
    pattern, names = compile_path("/a/:b/:c?")
    assert names == ["b", "c"]
    assert pattern.match("/A/1/") is not None
    assert pattern.match("/a/1/2").groups() == ("1", "2")  # type: ignore[union-attr]
    assert pattern.match("/a") is None


async def test_fan_out_shares_request_and_response(tmp_path: Path) -> None:
    flow = [tab(), http_in("/both", wires=[["copy", "out1"]]), sink("copy"), http_response()]
    async with harness_for(tmp_path, flow) as harness:
        async with aiohttp.ClientSession() as client:
            async with client.get(base_url(harness) + "/both?q=1") as response:
                assert response.status == 200

        copy = harness.received("copy")[0]

    assert copy["payload"] == {"q": "1"}
    # The response node got a clone; it completed the same response object.
    assert copy["res"].done
