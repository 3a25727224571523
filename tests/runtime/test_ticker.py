"""The absolute-schedule ticker behind the delay node's rate limit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from runtime.engine import Runtime
from runtime.settings import Settings
from runtime.ticker import MAX_CATCH_UP_S, Ticker


@pytest.mark.looptime
async def test_ticker_keeps_schedule_without_drift(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    loop = asyncio.get_running_loop()
    times: list[float] = []
    ticker = Ticker(runtime, lambda due: times.append(loop.time()))

    start = loop.time()
    ticker.start(0.001)
    await asyncio.sleep(1.0005)
    ticker.stop()

    assert len(times) == 1000
    assert times[-1] - start == pytest.approx(1.0, abs=1e-6)


async def test_ticker_reports_missed_periods_when_late(tmp_path: Path) -> None:
    # A real clock here: the first tick blocks the event loop, so the next one runs late.
    runtime = Runtime(Settings(data_dir=tmp_path))
    dues: list[int] = []
    finished = asyncio.get_running_loop().create_future()

    def on_tick(due: int) -> None:
        dues.append(due)
        if len(dues) == 1:
            time.sleep(0.035)
        if sum(dues) >= 10 and not finished.done():
            ticker.stop()
            finished.set_result(None)

    ticker = Ticker(runtime, on_tick)
    ticker.start(0.01)
    await asyncio.wait_for(finished, timeout=5)

    assert dues[1] >= 3
    assert not ticker.running


async def test_ticker_restarts_schedule_after_long_stall(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    dues: list[int] = []
    finished = asyncio.get_running_loop().create_future()

    def on_tick(due: int) -> None:
        dues.append(due)
        if len(dues) == 1:
            time.sleep(MAX_CATCH_UP_S + 0.2)
        if len(dues) == 3 and not finished.done():
            ticker.stop()
            finished.set_result(None)

    ticker = Ticker(runtime, on_tick)
    ticker.start(0.01)
    await asyncio.wait_for(finished, timeout=10)

    assert dues[1] == 1
