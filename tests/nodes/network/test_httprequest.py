"""The http request node against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from nodes.network.httpheaders import extract_cookies, headers_hash
from tests.support.harness import FlowHarness, node, sink, tab


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {"method": request.method, "headers": dict(request.headers), "body": body.decode(), "query": request.raw_path.partition("?")[2]}
    )


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(text="late")


async def redirect(request: web.Request) -> web.Response:
    response = web.Response(status=302, headers={"Location": "/text"})
    response.set_cookie("a", "b")
    return response


async def digest(request: web.Request) -> web.Response:
    authorization = request.headers.get("Authorization", "")
    if not authorization.startswith("Digest "):
        challenge = 'Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5'
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})
    return web.Response(text=authorization)


def build_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/text", text)
    app.router.add_get("/json", json_body)
    app.router.add_get("/empty", empty)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/digest", digest)
    return app


async def text(request: web.Request) -> web.Response:
    return web.Response(text="not json", headers={"X-Thing": "1"})


async def json_body(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def empty(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def start_server(ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, str]:
    # Cancel a handler when its client goes away, so the slow route does not hold up cleanup.
    runner = web.AppRunner(build_app(), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"


@pytest.fixture
async def server() -> AsyncIterator[str]:
    runner, url = await start_server()
    yield url
    await runner.cleanup()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def request_node(url: str = "", **props: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "method": "GET", "ret": "txt", "paytoqs": "ignore", "url": url, "tls": "", "persist": False,
        "proxy": "", "insecureHTTPParser": False, "authType": "", "senderr": False, "headers": [],
    }
    config.update(props)
    return node("rq", "http request", [["out"]], **config)


async def call(tmp_path: Path, request: dict[str, Any], msg: dict[str, Any], *extra: dict[str, Any]) -> FlowHarness:
    harness = FlowHarness(tmp_path, [tab(), request, sink("out"), *extra])
    async with harness:
        harness.inject("rq", msg)
        await harness.runtime.wait_idle()
    return harness


async def test_get_text_response(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/text"), {"payload": "ignored"})

    msg = harness.received("out")[0]
    assert msg["payload"] == "not json"
    assert msg["statusCode"] == 200
    assert msg["headers"]["x-thing"] == "1"
    assert msg["responseUrl"] == server + "/text"
    assert msg["redirectList"] == []
    stamp = msg["headers"].pop("x-node-red-request-node")
    assert stamp == headers_hash(msg["headers"])
    assert [status for _, status in harness.statuses][:2] == [
        {"fill": "blue", "shape": "dot", "text": "httpin.status.requesting"},
        {},
    ]


async def test_obj_return_parses_json(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/json", ret="obj"), {})

    assert harness.payloads("out") == [{"ok": True}]


async def test_obj_return_keeps_text_and_warns(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/text", ret="obj"), {})

    assert harness.payloads("out") == ["not json"]
    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("warn", "JSON parse error")]


async def test_obj_return_204_is_empty_object(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/empty", ret="obj"), {})

    assert harness.payloads("out") == [{}]


async def test_bin_return_is_buffer(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/text", ret="bin"), {})

    assert harness.payloads("out") == [bytearray(b"not json")]


async def test_post_object_as_json(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/echo", method="POST", ret="obj"), {"payload": {"a": 1}})

    echoed = harness.payloads("out")[0]
    assert echoed["method"] == "POST"
    assert echoed["headers"]["Content-Type"] == "application/json"
    assert json.loads(echoed["body"]) == {"a": 1}


async def test_use_method_and_templated_url(tmp_path: Path, server: str) -> None:
    request = request_node(server + "/{{{path}}}", method="use", ret="obj")
    harness = await call(tmp_path, request, {"method": "put", "path": "echo", "payload": "body text"})

    echoed = harness.payloads("out")[0]
    assert echoed["method"] == "PUT"
    assert echoed["body"] == "body text"


async def test_payload_to_query_string(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/echo?x=1", ret="obj", paytoqs="query"), {"payload": {"a": "b c", "n": [1, 2]}})

    assert harness.payloads("out")[0]["query"] == "x=1&a=b%20c&n=1&n=2"


async def test_node_headers_override_message_headers(tmp_path: Path, server: str) -> None:
    rules = [{"keyType": "other", "keyValue": "X-Custom", "valueType": "other", "valueValue": "node"}]
    request = request_node(server + "/echo", ret="obj", headers=rules)
    harness = await call(tmp_path, request, {"headers": {"x-custom": "msg", "X-Other": "kept"}})

    headers = harness.payloads("out")[0]["headers"]
    assert headers["X-Custom"] == "node"
    assert headers["X-Other"] == "kept"


@pytest.mark.parametrize(
    ("auth_type", "credentials", "expected"),
    [("basic", {"user": "u", "password": "p"}, "Basic dTpw"), ("bearer", {"password": "tok"}, "Bearer tok")],
)
async def test_authorization_header(tmp_path: Path, server: str, auth_type: str, credentials: dict[str, str], expected: str) -> None:
    request = request_node(server + "/echo", ret="obj", authType=auth_type, credentials=credentials)
    harness = await call(tmp_path, request, {})

    assert harness.payloads("out")[0]["headers"]["Authorization"] == expected


async def test_digest_auth_answers_challenge(tmp_path: Path, server: str) -> None:
    request = request_node(server + "/digest", authType="digest", credentials={"user": "u", "password": "p"})
    harness = await call(tmp_path, request, {})

    msg = harness.received("out")[0]
    assert msg["statusCode"] == 200
    assert msg["payload"].startswith('Digest username="u", realm="test", nonce="abc123"')


async def test_redirect_is_followed_and_listed(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/redirect"), {})

    msg = harness.received("out")[0]
    assert msg["payload"] == "not json"
    assert msg["responseUrl"] == server + "/text"
    assert msg["redirectList"] == [{"location": "/text", "cookies": {"a": {"value": "b", "Path": "/"}}}]


async def test_follow_redirects_off_returns_302(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/redirect"), {"followRedirects": False})

    msg = harness.received("out")[0]
    assert msg["statusCode"] == 302
    assert msg["responseCookies"] == {"a": {"value": "b", "Path": "/"}}


async def test_slow_server_times_out(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/slow"), {"requestTimeout": 200})

    msg = harness.received("out")[0]
    assert msg["statusCode"] == "ETIMEDOUT"
    assert msg["payload"] == f"TimeoutError: Timeout awaiting 'request' for 200ms : {server}/slow"
    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("error", "no response from server")]
    assert ("rq", {"fill": "red", "shape": "ring", "text": "common.notification.errors.no-response"}) in harness.statuses


async def test_refused_connection_reports_code(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    catch = node("c1", "catch", [["caught"]], scope=None, uncaught=False)
    harness = await call(tmp_path, request_node(url), {}, catch, sink("caught"))

    msg = harness.received("out")[0]
    assert msg["statusCode"] == "ECONNREFUSED"
    assert msg["payload"] == f"RequestError: connect ECONNREFUSED 127.0.0.1:{port} : {url}"
    error = harness.received("caught")[0]["error"]
    assert error["message"] == f"RequestError: connect ECONNREFUSED 127.0.0.1:{port}"
    assert error["code"] == "ECONNREFUSED"


async def test_send_errors_only_to_catch(tmp_path: Path) -> None:
    harness = await call(tmp_path, request_node("http://127.0.0.1:1/x", senderr=True), {})

    assert harness.received("out") == []
    assert [entry["level"] for entry in harness.logs] == ["error"]


async def test_invalid_timeout_warns(tmp_path: Path, server: str) -> None:
    harness = await call(tmp_path, request_node(server + "/text"), {"requestTimeout": "soon"})

    assert harness.payloads("out") == ["not json"]
    assert ("warn", "Timeout value is not a valid number, ignoring") in [(e["level"], e["msg"]) for e in harness.logs]


async def test_missing_url_is_error(tmp_path: Path) -> None:
    harness = await call(tmp_path, request_node(""), {})

    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("error", "No url specified")]


async def test_non_http_scheme_warns(tmp_path: Path) -> None:
    harness = await call(tmp_path, request_node("ftp://127.0.0.1/file"), {})

    assert harness.received("out") == []
    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("warn", "non-http transport requested")]


async def test_self_signed_server_rejected_without_tls_config(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    runner, url = await start_server(context)
    try:
        harness = await call(tmp_path, request_node(url + "/text"), {})
    finally:
        await runner.cleanup()

    assert harness.received("out")[0]["statusCode"] == "DEPTH_ZERO_SELF_SIGNED_CERT"


@pytest.mark.parametrize("verify", [True, False])
async def test_tls_config_trusts_given_ca(tmp_path: Path, certificate: tuple[Path, Path], verify: bool) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    runner, url = await start_server(context)
    ca = str(certificate[0]) if verify else ""
    tls = {"id": "tls1", "type": "tls-config", "cert": "", "key": "", "ca": ca, "verifyservercert": verify}
    try:
        harness = await call(tmp_path, request_node(url + "/text", tls="tls1"), {}, tls)
    finally:
        await runner.cleanup()

    assert harness.payloads("out") == ["not json"]


async def test_tls_config_without_key_is_error(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    tls = {"id": "tls1", "type": "tls-config", "cert": str(certificate[0]), "key": "", "ca": "", "verifyservercert": True}
    harness = FlowHarness(tmp_path, [tab(), tls])
    async with harness:
        pass

    assert [(entry["level"], entry["msg"]) for entry in harness.logs] == [("error", "No certificate/key file provided")]


def test_extract_cookies_reads_attributes() -> None:
    cookies = extract_cookies(["sid=a%20b; Path=/; HttpOnly", "bad", "=x"])

    assert cookies == {"sid": {"value": "a b", "Path": "/"}}
