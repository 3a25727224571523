"""The debug node's log output, which replaces Node-RED's debug sidebar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import FlowHarness, node, tab


async def debug_log_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture, payload: Any, **props: Any) -> list[str]:
    """Send one message through a debug node and return what it logged."""
    caplog.set_level(logging.INFO, logger="outwire.node.debug")
    async with FlowHarness(tmp_path, [tab(), node("d1", "debug", [], complete="payload", **props)]) as harness:
        harness.inject("d1", {"payload": payload})
        await harness.runtime.wait_idle()
    return [record.getMessage() for record in caplog.records if record.name == "outwire.node.debug"]


async def test_debug_cuts_long_string_as_sidebar_does(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = await debug_log_lines(tmp_path, caplog, "x" * 5000)

    assert lines == ["msg.payload: " + "x" * 1000 + "..."]


async def test_debug_logs_short_string_whole(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = await debug_log_lines(tmp_path, caplog, "x" * 1000)

    assert lines == ["msg.payload: " + "x" * 1000]


async def test_debug_logs_whole_string_to_console(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = await debug_log_lines(tmp_path, caplog, "x" * 5000, console="true", tosidebar=False)

    assert lines == ["x" * 5000]
