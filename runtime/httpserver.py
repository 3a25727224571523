"""The HTTP server that ``http in`` nodes share: one aiohttp application per runtime.

Nodes call :func:`http_server` while they are built and add their routes;
the runtime starts the server after every node has started and stops it
before any node closes (see ``Runtime.add_service``). Routes can change
while the server runs (a redeploy), so aiohttp sees a single catch-all
route and :class:`HttpServer` matches requests against its own table, in the
order routes were added, as Express does in Node-RED.

Path patterns follow Express 4: ``/user/:id`` captures one segment,
``:id?`` an optional one, ``*`` anything; matching ignores case and a
trailing slash. ``http_node_root`` prefixes every path.

Settings: ``http_host``, ``http_port`` (0 takes a free port),
``http_node_root``, ``http_node_cors``.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web

from runtime.health import OpsEndpoints
from runtime.log import runtime_log

if TYPE_CHECKING:
    from runtime.engine import Runtime

SERVICE_NAME = "http"

RouteHandler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]

# The page Express's final handler sends for a path that no route matches.
_NOT_FOUND_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
    "</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
)

# The cors package's defaults, which Node-RED's httpNodeCors setting uses.
_CORS_DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"

_PARAM_RE = re.compile(r"(/)?:(\w+)(\?)?|\*|([.+()$^\[\]{}|\\])")


@dataclass
class Route:
    """One http-in route: a method (lower case) and a compiled Express path."""

    method: str
    path: str
    pattern: re.Pattern[str]
    param_names: list[str]
    handler: RouteHandler

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method and not (method == "head" and self.method == "get"):
            return None
        found = self.pattern.match(path)
        if found is None:
            return None
        return {
            name: urllib.parse.unquote(value)
            for name, value in zip(self.param_names, found.groups())
            if value is not None
        }


def compile_path(path: str) -> tuple[re.Pattern[str], list[str]]:
    """Compile an Express 4 route path (``/a/:b/:c?/*``) to a regex and its parameter names."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        slash, name, optional, literal = match.groups()
        if literal:
            return "\\" + literal
        if name is None:
            names.append("0")
            return "(.*)"
        names.append(name)
        segment = "([^/]+?)"
        prefix = "/" if slash else ""
        if optional:
            return f"(?:{prefix}{segment})?"
        return f"{prefix}{segment}"

    body = _PARAM_RE.sub(replace, path.rstrip("/"))
    return re.compile(f"^{body}/?$", re.IGNORECASE), names


class HttpServer:
    """The shared aiohttp server of one runtime (see the module docstring)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.host = settings.http_host
        self.requested_port = settings.http_port
        self.root = "/" + settings.http_node_root.strip("/") if settings.http_node_root.strip("/") else ""
        self.cors: dict[str, Any] = dict(settings.http_node_cors)
        self.max_body_bytes = settings.http_max_body_bytes
        self.port: int | None = None
        self._routes: list[Route] = []
        self._runner: web.AppRunner | None = None
        # Requests waiting for an http response node. Stopping the server completes them with 503.
        self.pending: set[asyncio.Future[web.StreamResponse]] = set()
        self.ops = OpsEndpoints(runtime)

    # -- routes ----------------------------------------------------------------

    def add_route(self, method: str, path: str, handler: RouteHandler) -> Route:
        """Add a route for ``path`` under ``http_node_root``; earlier routes win on overlap."""
        full_path = self.root + ("/" + path.lstrip("/"))
        pattern, names = compile_path(full_path)
        route = Route(method.lower(), full_path, pattern, names, handler)
        self._routes.append(route)
        return route

    def remove_route(self, route: Route) -> None:
        if route in self._routes:
            self._routes.remove(route)

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``http_host:http_port``; a port of 0 takes a free one."""
        if self._runner is not None:
            return
        # The body limit is enforced by the http-in nodes, which report it as Node-RED does.
        app = web.Application(client_max_size=self.max_body_bytes + 1)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1] if runner.addresses else self.requested_port
        runtime_log.info("HTTP server for http-in nodes listening on http://%s:%d%s", self.host, self.port, self.root or "/")

    async def stop(self) -> None:
        """Complete waiting requests with 503 and stop listening."""
        for waiter in list(self.pending):
            if not waiter.done():
                waiter.set_result(web.Response(status=503, text="Service Unavailable: the flows are stopping"))
        self.pending.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            runtime_log.info("HTTP server for http-in nodes stopped")

    @property
    def url(self) -> str:
        """Return the base URL of http-in routes, e.g. ``http://127.0.0.1:1880``."""
        return f"http://{self.host}:{self.port}{self.root}"

    # -- requests ------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.method.lower()
        path = request.path
        if self.ops.handles(method, path):
            return await self.ops.respond(path)
        if self.cors and method == "options":
            return self._preflight(request)
        for route in list(self._routes):
            params = route.match(method, path)
            if params is not None:
                response = await route.handler(request, params)
                self._add_cors_headers(request, response)
                return response
        page = _NOT_FOUND_PAGE.format(method=request.method, path=_escape_html(path))
        return web.Response(status=404, text=page, content_type="text/html", headers={"X-Content-Type-Options": "nosniff"})

    def _allowed_origin(self, request: web.Request) -> str | None:
        origin = self.cors.get("origin", "*")
        if origin == "*" or origin is True:
            return "*"
        requested = request.headers.get("Origin")
        allowed = origin if isinstance(origin, list) else [origin]
        return requested if requested in allowed else None

    def _add_cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if not self.cors or response.prepared:
            return
        origin = self._allowed_origin(request)
        if origin is not None:
            response.headers.setdefault("Access-Control-Allow-Origin", origin)
        if self.cors.get("credentials"):
            response.headers.setdefault("Access-Control-Allow-Credentials", "true")

    def _preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        self._add_cors_headers(request, response)
        methods = self.cors.get("methods", _CORS_DEFAULT_METHODS)
        response.headers["Access-Control-Allow-Methods"] = methods if isinstance(methods, str) else ",".join(methods)
        allowed_headers = self.cors.get("allowedHeaders") or request.headers.get("Access-Control-Request-Headers")
        if allowed_headers:
            headers = allowed_headers if isinstance(allowed_headers, str) else ",".join(allowed_headers)
            response.headers["Access-Control-Allow-Headers"] = headers
        if self.cors.get("maxAge") is not None:
            response.headers["Access-Control-Max-Age"] = str(self.cors["maxAge"])
        return response


def http_server(runtime: Runtime) -> HttpServer:
    """Return the runtime's HTTP server, registering it as a service on first use."""
    existing = runtime.get_service(SERVICE_NAME)
    if isinstance(existing, HttpServer):
        return existing
    server = HttpServer(runtime)
    runtime.add_service(SERVICE_NAME, server)
    return server


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
