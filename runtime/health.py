"""Health and metrics endpoints for ops, served by the runtime's HTTP server.

``GET /health`` answers 200 with a small JSON body while the flows run and
503 while they start or stop, for container health checks and load
balancers. ``GET /metrics`` answers in the Prometheus text format. Both
paths are reserved: an ``http in`` node cannot take them.
"""

from __future__ import annotations

import resource
import time
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from runtime.engine import Runtime

HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"


class OpsEndpoints:
    """Answer the reserved ops paths for one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.started_at = time.monotonic()

    def handles(self, method: str, path: str) -> bool:
        return method in ("get", "head") and path in (HEALTH_PATH, METRICS_PATH)

    async def respond(self, path: str) -> web.Response:
        if path == HEALTH_PATH:
            return self.health()
        return self.metrics()

    def health(self) -> web.Response:
        runtime = self.runtime
        running = runtime.started and not runtime.stopping
        body = {
            "status": "ok" if running else "unavailable",
            "flows": len(runtime.flows),
            "nodes": len(runtime.nodes),
            "queued_messages": runtime.router.pending,
        }
        return web.json_response(body, status=200 if running else 503)

    def metrics(self) -> web.Response:
        runtime = self.runtime
        # ru_maxrss is in KiB on Linux.
        peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        lines = [
            "# HELP outwire_messages_delivered_total Messages delivered to node inputs.",
            "# TYPE outwire_messages_delivered_total counter",
            f"outwire_messages_delivered_total {runtime.router.delivered}",
            "# HELP outwire_queued_messages Deliveries waiting in the run queue.",
            "# TYPE outwire_queued_messages gauge",
            f"outwire_queued_messages {runtime.router.pending}",
            "# HELP outwire_nodes Running nodes, subflow inner nodes included.",
            "# TYPE outwire_nodes gauge",
            f"outwire_nodes {len(runtime.nodes)}",
            "# HELP outwire_flows Running flows (tabs).",
            "# TYPE outwire_flows gauge",
            f"outwire_flows {len(runtime.flows)}",
            "# HELP outwire_uptime_seconds Seconds since the HTTP server started.",
            "# TYPE outwire_uptime_seconds gauge",
            f"outwire_uptime_seconds {time.monotonic() - self.started_at:.3f}",
            "# HELP process_peak_resident_memory_bytes Peak resident set size of the process.",
            "# TYPE process_peak_resident_memory_bytes gauge",
            f"process_peak_resident_memory_bytes {peak_rss_bytes}",
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")
