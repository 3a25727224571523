"""The ``http in`` and ``http response`` nodes: serve HTTP endpoints from a flow.

``http in`` adds a route (``method``, ``url`` with Express ``:param``
patterns) to the runtime's HTTP server and sends one message per request:
``msg.req`` (headers, params, query, cookies, body, method, url, path, ip,
hostname, protocol, and files for uploads), ``msg.res`` (the live response)
and ``msg.payload`` (the query for GET, the parsed body otherwise). ``msg.req``
and ``msg.res`` are shared between message clones, never copied.

Bodies are parsed as Node-RED 4.1.8 parses them: JSON (``application/json``,
``*/*+json``), URL-encoded forms, multipart with ``upload`` (fields in the
payload, files in ``msg.req.files``), text (text/*, XML, other application
types) as a string, and other types (octet-stream, images...) as a Buffer;
``skipBodyParsing`` keeps every body a Buffer. Invalid JSON is answered as
Node-RED answers it: the node warns with the parse error and the client gets
500 Internal Server Error. A body over ``http_max_body_bytes`` gets 413 and
the node warns ``PayloadTooLargeError: request entity too large``. A client
that closes the connection before the whole body arrives makes the node warn
``BadRequestError: request aborted``, as Node-RED's body parser does.

NOTE: Node-RED 4.1.8 answers an oversized JSON or form body with 500 (its
route error handler replaces body-parser's 413) and reads text and binary
bodies without any limit. Here every body type has the limit, and the
client gets the 413 status that names the problem.

``http response`` completes ``msg.res`` with ``msg.payload`` (objects as
JSON, Buffers as bytes, other values as text), the status code (node
setting, else ``msg.statusCode``, else 200), headers (node settings win over
``msg.headers``) and ``msg.cookies``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from nodes.network.httpquery import parse_query
from nodes.network.httpheaders import REQUEST_NODE_HEADER, headers_hash
from runtime import jsjson
from runtime.httpserver import Route, http_server
from runtime.jsvalues import UNDEFINED, JSError, to_js_number, to_js_string
from runtime.message import Message, generate_id
from runtime.node import Node
from runtime.registry import register

_BODY_METHODS = frozenset({"post", "put", "patch", "delete"})
_BINARY_APPLICATION_TYPES = frozenset({"octet-stream", "cbor", "x-protobuf"})


class HttpResponse:
    """The live response behind ``msg.res``: the http response node completes it once."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.future: asyncio.Future[web.StreamResponse] = asyncio.get_running_loop().create_future()

    @property
    def done(self) -> bool:
        return self.future.done()

    def complete(self, response: web.StreamResponse) -> bool:
        """Send ``response`` to the client; return False when the request already has a response."""
        if self.future.done():
            return False
        self.future.set_result(response)
        return True

    def __repr__(self) -> str:
        return f"<HttpResponse {self.request.method} {self.request.path_qs}>"


class _BodyError(Exception):
    def __init__(self, warning: Any, status: int, text: str) -> None:
        super().__init__(text)
        self.warning = warning
        self.status = status
        self.text = text


@register
class HttpInNode(Node):
    """Turn HTTP requests on one route into messages (see the module docstring)."""

    type_name = "http in"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.url = config.get("url") or ""
        self.method = (config.get("method") or "get").lower()
        self.upload = bool(config.get("upload"))
        self.skip_body_parsing = bool(config.get("skipBodyParsing"))
        self._route: Route | None = None
        if not self.url:
            self.warn("missing path")
            return
        if not self.url.startswith("/"):
            self.url = "/" + self.url
        self.server = http_server(self.runtime)
        self._route = self.server.add_route(self.method, self.url, self._handle_request)

    async def close(self, removed: bool) -> None:
        if self._route is not None:
            self.server.remove_route(self._route)
            self._route = None

    async def _handle_request(self, request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        query = parse_query(request.query_string)
        try:
            body, files = await self._read_body(request)
        except _BodyError as exc:
            self.warn(exc.warning)
            return web.Response(status=exc.status, text=exc.text)
        except ConnectionResetError:
            # The client closed the connection before sending the whole body. Node-RED's
            # body parser reports this as a warning; nobody is left to read the 500.
            self.warn(JSError("request aborted", name="BadRequestError"))
            return web.Response(status=500, text="Internal Server Error")

        response = HttpResponse(request)
        msg: Message = {"_msgid": generate_id(), "req": _request_dict(request, params, query, body, files), "res": response}
        if self.method in _BODY_METHODS:
            msg["payload"] = body
        elif self.method == "get":
            msg["payload"] = query

        self.server.pending.add(response.future)
        try:
            self.send(msg)
            return await response.future
        finally:
            self.server.pending.discard(response.future)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]] | None]:
        if self.method not in _BODY_METHODS:
            return {}, None
        content_type = request.content_type.lower()
        if self.upload and self.method == "post" and content_type.startswith("multipart/"):
            return await self._read_multipart(request)
        raw = await self._read_raw(request)
        if self.skip_body_parsing:
            return bytearray(raw), None
        if content_type == "application/json" or content_type.endswith("+json"):
            return _parse_json_body(raw, request.charset), None
        if content_type == "application/x-www-form-urlencoded":
            return parse_query(raw.decode(request.charset or "utf-8", errors="replace")), None
        if _is_text(content_type) or not request.headers.get("Content-Type"):
            return raw.decode(request.charset or "utf-8", errors="replace"), None
        return bytearray(raw), None

    async def _read_raw(self, request: web.Request) -> bytes:
        limit = self.server.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise _too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    async def _read_multipart(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        fields: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        total = 0
        reader = await request.multipart()
        async for part in reader:
            data = await part.read(decode=False)  # type: ignore[union-attr]
            total += len(data)
            if total > self.server.max_body_bytes:
                raise _too_large()
            if part.filename is None:  # type: ignore[union-attr]
                _append_field(fields, part.name or "", data.decode("utf-8", errors="replace"))  # type: ignore[union-attr]
                continue
            files.append({
                "fieldname": part.name,  # type: ignore[union-attr]
                "originalname": part.filename,  # type: ignore[union-attr]
                "encoding": part.headers.get("Content-Transfer-Encoding", "7bit"),  # type: ignore[union-attr]
                "mimetype": part.headers.get("Content-Type", "application/octet-stream"),  # type: ignore[union-attr]
                "buffer": bytearray(data),
                "size": len(data),
            })
        return fields, files


def _too_large() -> _BodyError:
    return _BodyError(
        JSError("request entity too large", name="PayloadTooLargeError"), 413, "Payload Too Large"
    )


def _parse_json_body(raw: bytes, charset: str | None) -> Any:
    """Parse a JSON body as body-parser's strict mode does: only an object or array, empty is ``{}``."""
    text = raw.decode(charset or "utf-8", errors="replace")
    stripped = text.lstrip(" \t\n\r")
    if not stripped:
        return {}
    if stripped[0] not in "{[":
        # body-parser reports a leading value that is not an object or array with the
        # error JSON.parse gives for "#", the "#" replaced by that character.
        message = _json_error("#").replace("#", stripped[0], 1)
        raise _BodyError(JSError(message, name="SyntaxError"), 500, "Internal Server Error")
    try:
        return jsjson.parse(text)
    except jsjson.JSONParseError as exc:
        raise _BodyError(JSError(str(exc), name="SyntaxError"), 500, "Internal Server Error") from None


def _json_error(text: str) -> str:
    try:
        jsjson.parse(text)
    except jsjson.JSONParseError as exc:
        return str(exc)
    return "Unexpected token"


def _is_text(content_type: str) -> bool:
    main, _, sub = content_type.partition("/")
    if main == "text" or sub == "xml" or sub.endswith("+xml"):
        return True
    return main == "application" and sub not in _BINARY_APPLICATION_TYPES


def _append_field(fields: dict[str, Any], name: str, value: str) -> None:
    if name not in fields:
        fields[name] = value
    elif isinstance(fields[name], list):
        fields[name].append(value)
    else:
        fields[name] = [fields[name], value]


def _request_dict(
    request: web.Request, params: dict[str, str], query: Any, body: Any, files: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Build ``msg.req``: the parts of Express's request object that flows read."""
    headers: dict[str, Any] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key in headers:
            # Node.js joins repeated headers with ", " except set-cookie, which becomes a list.
            headers[key] = headers[key] + [value] if key == "set-cookie" else f"{headers[key]}, {value}"
        else:
            headers[key] = [value] if key == "set-cookie" else value
    peer = request.transport.get_extra_info("peername") if request.transport else None
    req: dict[str, Any] = {
        "headers": headers,
        "params": params,
        "query": query,
        "cookies": {name: morsel for name, morsel in request.cookies.items()},
        "body": body,
        "method": request.method,
        "url": request.path_qs,
        "originalUrl": request.path_qs,
        "path": request.path,
        "ip": peer[0] if peer else request.remote,
        "hostname": (request.host or "").rsplit(":", 1)[0],
        "protocol": request.scheme,
    }
    if files is not None:
        req["files"] = files
    return req


@register
class HttpResponseNode(Node):
    """Send the HTTP response for ``msg.res`` (see the module docstring)."""

    type_name = "http response"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.headers: dict[str, Any] = dict(config.get("headers") or {})
        status = to_js_number(config.get("statusCode") or 0)
        self.status_code = int(status) if isinstance(status, (int, float)) and status == status and status else 0

    def on_input(self, msg: Message) -> None:
        handle = msg.get("res")
        if not isinstance(handle, HttpResponse):
            self.warn("No response object")
            return None
        headers = dict(self.headers)
        for name, value in _message_headers(msg).items():
            headers.setdefault(name, value)
        status = self.status_code or _int_or_zero(msg.get("statusCode")) or 200
        response = build_response(status, headers, msg.get("payload", UNDEFINED))
        _set_cookies(response, msg.get("cookies"))
        handle.complete(response)
        return None


def _message_headers(msg: Message) -> dict[str, Any]:
    headers = msg.get("headers")
    if not isinstance(headers, dict):
        return {}
    if REQUEST_NODE_HEADER in headers:
        # Headers an http request node received are not sent back unchanged.
        expected = headers.pop(REQUEST_NODE_HEADER)
        if headers_hash(headers) == expected:
            del msg["headers"]
            return {}
    return headers


def _int_or_zero(value: Any) -> int:
    try:
        return int(str(value).strip().split(".")[0])
    except ValueError:
        return 0


def build_response(status: int, headers: dict[str, Any], payload: Any) -> web.Response:
    """Build the response Express's ``res.send``/``res.jsonp`` would send for ``payload``."""
    header_list: list[tuple[str, str]] = []
    content_type = None
    for name, value in headers.items():
        if name.lower() == "content-length":
            continue  # aiohttp sets it from the body it sends
        values = value if isinstance(value, list) else [value]
        for item in values:
            if name.lower() == "content-type":
                content_type = to_js_string(item)
            else:
                header_list.append((name, to_js_string(item)))

    if isinstance(payload, (bytes, bytearray)):
        body = bytes(payload)
        content_type = content_type or "application/octet-stream"
    else:
        if isinstance(payload, (dict, list, bool, dt.datetime)) or payload is None:
            text = jsjson.stringify(payload)
            content_type = content_type or "application/json"
        else:
            text = "" if payload is UNDEFINED else to_js_string(payload)
            content_type = content_type or "text/html"
        body = text.encode("utf-8")
        if "charset=" not in content_type.lower():
            content_type += "; charset=utf-8"
    header_list.append(("Content-Type", content_type))
    response = web.Response(status=status, body=body)
    for name, value in header_list:
        response.headers.add(name, value)
    return response


def _set_cookies(response: web.Response, cookies: Any) -> None:
    """Set or clear cookies as Express's ``res.cookie``/``res.clearCookie`` do (maxAge in ms)."""
    if not isinstance(cookies, dict):
        return
    for name, spec in cookies.items():
        options = spec if isinstance(spec, dict) else {}
        path = to_js_string(options.get("path") or "/")
        domain = options.get("domain")
        if spec is None or (isinstance(spec, dict) and spec.get("value", UNDEFINED) is None):
            response.del_cookie(name, path=path, domain=domain)
            continue
        value = to_js_string(options.get("value", "")) if isinstance(spec, dict) else to_js_string(spec)
        kwargs: dict[str, Any] = {"path": path, "domain": domain}
        if options.get("maxAge") is not None:
            kwargs["max_age"] = int(to_js_number(options["maxAge"]) // 1000)
        if options.get("expires") is not None:
            kwargs["expires"] = to_js_string(options["expires"])
        for key, flag in (("secure", "secure"), ("httpOnly", "httponly")):
            if options.get(key):
                kwargs[flag] = True
        if options.get("sameSite"):
            kwargs["samesite"] = to_js_string(options["sameSite"])
        response.set_cookie(name, value, **kwargs)
