"""The ops endpoints: /health and /metrics on the runtime's HTTP server."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from runtime.httpserver import http_server
from runtime.settings import Settings
from tests.support.flows import node, running_flow, tab


async def test_health_answers_ok_while_flows_run(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, http_port=0)
    async with running_flow([tab(), node("c1", "comment")], tmp_path, settings=settings) as runtime:
        server = http_server(runtime)
        await server.start()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/health") as response:
                body = await response.json()
                status = response.status

    assert status == 200
    assert body["status"] == "ok"
    assert body["nodes"] == 1


async def test_metrics_report_delivered_messages(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, http_port=0)
    flow = [tab(), node("j1", "junction", [["s1"]]), node("s1", "sink")]
    async with running_flow(flow, tmp_path, settings=settings) as runtime:
        runtime.inject("j1", {"payload": 1})
        await runtime.wait_idle()
        server = http_server(runtime)
        await server.start()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/metrics") as response:
                text = await response.text()

    assert "outwire_messages_delivered_total 1\n" in text
    assert "outwire_nodes 2\n" in text
