"""Measure how exactly the delay node keeps to its rate limit (the delay-rate benchmark flow).

The delay-rate benchmark flow is inject -> function "generate N" -> delay
(rate 1000/s) -> function "count" -> file. This script runs its delay node as configured in that file,
but feeds it from Python and counts deliveries in a Python sink node, so it
measures the rate limiter alone (no function node needed). Like the flow's
generator, it queues every message at the start, in batches of
``FEED_BATCH`` with a pass of the event loop between batches (Node-RED
likewise delivers each generated message through its event loop).

Usage::

    python bench/delay_rate.py [--flow PATH] [--seconds 60]

Prints one JSON line: messages, elapsed_s (first to last delivery),
achieved_rate_per_s ((delivered - 1) / elapsed, the flow's formula),
configured_rate_per_s, error_percent, the min/max deliveries counted in each
whole second after the first delivery, and the 1-minute load average at start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from runtime.engine import Runtime  # noqa: E402
from runtime.graph import build_flow_set  # noqa: E402
from runtime.message import Message  # noqa: E402
from runtime.node import Node  # noqa: E402
from runtime.registry import NodeRegistry, default_registry  # noqa: E402
from runtime.settings import Settings  # noqa: E402

# Messages handed to the delay node per event-loop pass while feeding.
FEED_BATCH = 500

DEFAULT_FLOW = REPO_ROOT.parent / "shared" / "bench" / "flows" / "delay-rate.json"


class CountingSink(Node):
    """Record the loop time of every delivery; resolve ``finished`` after ``expected`` of them."""

    type_name = "bench-counter"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.times: list[float] = []
        self.expected = 0
        self.finished: asyncio.Future[None] | None = None

    def on_input(self, msg: Message) -> None:
        self.times.append(time.monotonic())
        if len(self.times) == self.expected and self.finished is not None:
            self.finished.set_result(None)
        return None


def delay_flow(flow_path: Path) -> tuple[list[dict[str, Any]], str]:
    """Return a flow with the benchmark's delay node wired to a counting sink, and the delay node id."""
    objects = json.loads(flow_path.read_text(encoding="utf-8"))
    tab = next(obj for obj in objects if obj["type"] == "tab")
    delay = dict(next(obj for obj in objects if obj["type"] == "delay"))
    delay["wires"] = [["counter"]]
    counter = {"id": "counter", "type": CountingSink.type_name, "z": tab["id"], "x": 0, "y": 0, "wires": []}
    return [tab, delay, counter], delay["id"]


async def run(flow_path: Path, seconds: float) -> dict[str, Any]:
    load_at_start = os.getloadavg()[0]
    objects, delay_id = delay_flow(flow_path)
    builtin = default_registry()
    registry = NodeRegistry({name: builtin.get(name) for name in builtin.types()})  # type: ignore[misc]
    registry.add(CountingSink)

    with tempfile.TemporaryDirectory() as data_dir:
        runtime = Runtime(Settings(data_dir=Path(data_dir)), registry=registry)
        runtime.load(build_flow_set(objects))
        await runtime.start()
        delay = runtime.get_node(delay_id)
        sink = runtime.get_node("counter")
        assert isinstance(sink, CountingSink) and delay is not None
        rate_per_s = 1000 / delay.rate_ms  # type: ignore[attr-defined]

        # One message more than the rate fills the run: the first passes at once.
        count = int(rate_per_s * seconds) + 1
        sink.expected = count
        sink.finished = asyncio.get_running_loop().create_future()
        for index in range(count):
            runtime.inject(delay_id, {"payload": {"id": index, "name": f"user{index}", "channel": "sms"}})
            if index % FEED_BATCH == FEED_BATCH - 1:
                await asyncio.sleep(0)
        await asyncio.wait_for(sink.finished, timeout=seconds * 2 + 30)
        await runtime.stop()

    times = sink.times
    elapsed_s = times[-1] - times[0]
    per_second = [0] * int(elapsed_s)
    for stamp in times:
        slot = int(stamp - times[0])
        if slot < len(per_second):
            per_second[slot] += 1
    achieved = (len(times) - 1) / elapsed_s
    return {
        "messages": len(times),
        "elapsed_s": round(elapsed_s, 4),
        "configured_rate_per_s": rate_per_s,
        "achieved_rate_per_s": round(achieved, 2),
        "error_percent": round((achieved / rate_per_s - 1) * 100, 3),
        "per_second_min": min(per_second) if per_second else None,
        "per_second_max": max(per_second) if per_second else None,
        "python": sys.version.split()[0],
        "loadavg_start": round(load_at_start, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Measure the delay node's rate limit accuracy.")
    parser.add_argument("--flow", type=Path, default=DEFAULT_FLOW, help="benchmark flow file with one delay node")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run in seconds (default 60)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.flow, args.seconds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
