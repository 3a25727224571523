"""Runtime services: started after the nodes, stopped before they close."""

from __future__ import annotations

from pathlib import Path

from runtime.engine import Runtime
from runtime.graph import build_flow_set
from runtime.settings import Settings


class RecordingService:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


async def test_service_starts_and_stops_with_runtime(tmp_path: Path) -> None:
    events: list[str] = []
    runtime = Runtime(Settings(data_dir=tmp_path))
    runtime.load(build_flow_set([{"id": "t", "type": "tab", "label": "t"}]))
    runtime.add_service("recorder", RecordingService(events))

    await runtime.start()
    await runtime.stop()
    await runtime.start()
    await runtime.stop()

    assert events == ["start", "stop", "start", "stop"]


async def test_add_service_keeps_first_registration(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path))
    first = RecordingService([])

    registered = runtime.add_service("shared", first)
    again = runtime.add_service("shared", RecordingService([]))

    assert registered is first
    assert again is first
    assert runtime.get_service("shared") is first
