"""The shared HTTP server: a service of the runtime, with routes that change on redeploy."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from runtime.engine import Runtime
from runtime.httpserver import http_server
from runtime.settings import Settings


async def hello(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    return web.Response(text=f"hello {params.get('name')}")


async def test_server_serves_routes_under_node_root(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path, http_node_root="/api"))
    server = http_server(runtime)
    server.add_route("get", "/hi/:name", hello)
    await runtime.start()
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{server.port}/api/hi/ann") as response:
                assert await response.text() == "hello ann"
            async with client.get(f"http://127.0.0.1:{server.port}/hi/ann") as response:
                assert response.status == 404
    finally:
        await runtime.stop()


async def test_removed_route_gives_404(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    server = http_server(runtime)
    route = server.add_route("get", "/hi/:name", hello)
    await runtime.start()
    try:
        server.remove_route(route)
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{server.url}/hi/ann") as response:
                assert response.status == 404
    finally:
        await runtime.stop()


async def test_server_is_one_service_per_runtime(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))

    assert http_server(runtime) is http_server(runtime)
    assert runtime.get_service("http") is http_server(runtime)
