"""The ``http request`` node: call an HTTP endpoint and send the response on.

The URL is the node's ``url`` (``{{mustache}}`` rendered against the message)
or ``msg.url``; without a scheme it gets ``http://`` (``https://`` with a
tls-config node). The method is the node's, or ``msg.method`` with method
``use``. Headers come from ``msg.headers``, overridden by the node's header
list. The body is ``msg.payload`` (objects as JSON, or URL-encoded for that
content type, or multipart for ``multipart/form-data``); with ``paytoqs`` a GET
sends an object payload as the query string (``query``) or body (``body``).

The response message carries ``msg.statusCode``, ``msg.headers`` (lower-case
names), ``msg.responseUrl``, ``msg.redirectList``, ``msg.responseCookies``
and ``msg.payload`` as text (``ret: txt``), a Buffer (``bin``) or parsed JSON
(``obj``; text that is not JSON stays text with a "JSON parse error" warning).
Errors are reported as Node-RED 4.1.8 (got) reports them: a node error with
the message, ``msg.payload`` = ``"<error> : <url>"``, ``msg.statusCode`` =
the error code (``ECONNREFUSED``, ``ETIMEDOUT``...), and the message is still
sent unless ``senderr`` is set.

Timeout: ``msg.requestTimeout`` (ms), else the ``http_request_timeout_s``
setting (Node-RED's ``httpRequestTimeout``, 120 s).
"""

from __future__ import annotations

import asyncio
import base64
import errno
import re
import ssl
from typing import Any

import aiohttp
from yarl import URL

from nodes.network.httpheaders import (
    REQUEST_NODE_HEADER,
    encode_uri_component,
    extract_cookies,
    find_header,
    headers_hash,
    pop_header,
    response_headers,
    update_header,
)
from nodes.network.httpquery import stringify_query
from runtime import jsjson
from runtime.jsvalues import UNDEFINED, JSError, to_js_number, to_js_string
from runtime.message import Message
from runtime.mustache import render
from runtime.node import PENDING, Node
from runtime.registry import register

# Node-RED 4.1.8 sets got's maxRedirects to 21.
MAX_REDIRECTS = 21

NOOVERRIDE_WARNING = (
    "Warning: msg properties can no longer override set node properties. See bit.ly/nr-override-msg-props"
)

_PERCENT_RE = re.compile(r"%.?.?")


@register
class HttpRequestNode(Node):
    """Call an HTTP endpoint for each message (see the module docstring)."""

    type_name = "http request"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.url = config.get("url") or ""
        self.url_template = "{{" in self.url
        self.method = config.get("method") or "GET"
        self.ret = config.get("ret") or "txt"
        paytoqs = config.get("paytoqs")
        self.payload_to_query = paytoqs is True or paytoqs == "query"
        self.payload_to_body = paytoqs == "body"
        self.send_errors_only_to_catch = bool(config.get("senderr"))
        self.header_rules: list[dict[str, Any]] = list(config.get("headers") or [])
        self.auth_type = config.get("authType") or "basic"
        self.credentials: dict[str, Any] = dict(config.get("credentials") or {})
        self.keep_alive = bool(config.get("persist"))
        self.timeout_ms = self.runtime.settings.http_request_timeout_s * 1000
        self.tls_id = config.get("tls") or ""
        # NOTE: the "proxy" config node and the http_proxy environment variables are not
        # supported yet, so requests always go direct. Credentials come from the node's
        # "credentials" object in the flow file (Node-RED keeps them in flows_cred.json).
        self._connector: aiohttp.TCPConnector | None = None
        self._in_flight = 0

    async def close(self, removed: bool) -> None:
        if self._connector is not None:
            await self._connector.close()
            self._connector = None
        self.status({})

    def on_input(self, msg: Message) -> Any:
        self._in_flight += 1
        self.status({"fill": "blue", "shape": "dot", "text": "httpin.status.requesting"})
        url = self._url_for(msg)
        if url is None:
            self._in_flight -= 1
            return None
        self.runtime.start_task(self._request(msg, url), name=f"http request {self.id}")
        return PENDING

    # -- building the request ---------------------------------------------------

    def _url_for(self, msg: Message) -> str | None:
        """Return the URL to call, or None after reporting why there is none."""
        url = self.url or msg.get("url")
        if msg.get("url") and self.url and self.url != msg.get("url"):
            self.warn(NOOVERRIDE_WARNING)
        if self.url_template:
            url = render(self.url, msg)
        if not url:
            self.error("No url specified", msg)
            self.done(msg)
            return None
        url = to_js_string(url)
        if "://" in url and not url.startswith("http"):
            self.warn("non-http transport requested")
            self.status({"fill": "red", "shape": "ring", "text": "httpin.errors.invalid-transport"})
            self.done(msg)
            return None
        if not url.startswith(("http://", "https://")):
            url = ("https://" if self.tls_id else "http://") + url
        return _escape_stray_percent(url)

    def _method_for(self, msg: Message) -> str:
        method = self.method.upper() or "GET"
        if msg.get("method") and self.method != "use":
            self.warn(NOOVERRIDE_WARNING)
        if msg.get("method") and self.method == "use":
            method = to_js_string(msg["method"]).upper()
        return method

    def _timeout_s(self, msg: Message) -> float:
        timeout_ms = self.timeout_ms or 5000
        requested = msg.get("requestTimeout", UNDEFINED)
        if requested is not UNDEFINED:
            number = to_js_number(requested)
            if number != number:
                self.warn("Timeout value is not a valid number, ignoring")
            elif number < 1:
                self.warn("Timeout value is negative, ignoring")
            else:
                timeout_ms = number
        return timeout_ms / 1000

    def _headers_for(self, msg: Message) -> dict[str, str]:
        headers: dict[str, Any] = {}
        received = msg.get("headers")
        if isinstance(received, dict):
            if REQUEST_NODE_HEADER in received:
                expected = received.pop(REQUEST_NODE_HEADER)
                if headers_hash(received) == expected:
                    del msg["headers"]
                    received = None
            for name, value in (received or {}).items():
                update_header(headers, name, value)
        for rule in self.header_rules:
            name = self._rule_part(rule, "key", msg)
            if name:
                update_header(headers, to_js_string(name), self._rule_part(rule, "value", msg))
        return {name: to_js_string(value) for name, value in headers.items()}

    @staticmethod
    def _rule_part(rule: dict[str, Any], part: str, msg: Message) -> Any:
        kind = rule.get(f"{part}Type")
        value = rule.get(f"{part}Value")
        if kind == "other":
            return value
        if kind == "msg":
            from runtime.propertypath import get_property

            try:
                found = get_property(msg, to_js_string(value))
            except Exception:  # noqa: BLE001 - Node-RED ignores a header it cannot read
                return None
            return None if found is UNDEFINED else found
        return kind

    def _add_cookies_and_auth(self, msg: Message, url: str, headers: dict[str, str]) -> None:
        cookie_pairs = []
        existing = pop_header(headers, "cookie")
        if existing:
            cookie_pairs.append(existing)
        cookies = msg.get("cookies")
        if isinstance(cookies, dict):
            for name, spec in cookies.items():
                if spec is None or (isinstance(spec, dict) and spec.get("value") is None):
                    continue  # clearing a cookie is for http response nodes
                value = spec.get("value") if isinstance(spec, dict) else spec
                encode = not (isinstance(spec, dict) and spec.get("encode") is False)
                text = to_js_string(value)
                cookie_pairs.append(f"{name}={encode_uri_component(text) if encode else text}")
        if cookie_pairs:
            headers["Cookie"] = "; ".join(cookie_pairs)

        parsed = URL(url)
        user = self.credentials.get("user") or parsed.user or ""
        password = self.credentials.get("password") or parsed.password or ""
        if self.auth_type == "basic" and (user or password):
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif self.auth_type == "bearer" and (self.credentials or user or password):
            headers["Authorization"] = f"Bearer {password}"

    def _body_for(self, msg: Message, method: str, url: str, headers: dict[str, str]) -> tuple[str, Any]:
        """Return the URL (with a query from the payload) and the body to send."""
        payload = msg.get("payload", UNDEFINED)
        if payload is UNDEFINED:
            return url, None
        if method == "GET" and self.payload_to_query:
            if not isinstance(payload, dict):
                raise _InvalidPayload()
            query = stringify_query(payload)
            if url.endswith("?"):
                separator = ""
            elif "?" in url:
                separator = "&"
            else:
                separator = "?"
            return url + separator + query, None
        if method == "GET" and self.payload_to_body:
            return url, _encode_payload(payload, headers, force_json=True)
        if method in ("GET", "HEAD"):
            return url, None
        if find_header(headers, "content-type") == "multipart/form-data" and isinstance(payload, dict):
            pop_header(headers, "content-type")
            return url, _form_data(payload)
        return url, _encode_payload(payload, headers)

    # -- sending ------------------------------------------------------------------

    async def _request(self, msg: Message, url: str) -> None:
        try:
            method = self._method_for(msg)
            timeout_s = self._timeout_s(msg)
            headers = self._headers_for(msg)
            self._add_cookies_and_auth(msg, url, headers)
            url, body = self._body_for(msg, method, url, headers)
            ssl_option = self._ssl_option(msg)
        except _InvalidPayload:
            self._in_flight -= 1
            self.error("Invalid payload", msg)
            self.done(msg)
            return

        follow = bool(msg["followRedirects"]) if "followRedirects" in msg else True
        try:
            response, payload, history = await self._fetch(method, url, headers, body, timeout_s, follow, ssl_option)
        except Exception as exc:  # noqa: BLE001 - every request failure is reported on the message
            self._report_failure(msg, url, exc, timeout_s)
            return
        self._send_response(msg, response, payload, history)

    async def _fetch(
        self, method: str, url: str, headers: dict[str, str], body: Any, timeout_s: float, follow: bool, ssl_option: Any
    ) -> tuple[aiohttp.ClientResponse, bytes, tuple[aiohttp.ClientResponse, ...]]:
        if self._connector is None or self._connector.closed:
            self._connector = aiohttp.TCPConnector(force_close=not self.keep_alive)
        middlewares: tuple[aiohttp.DigestAuthMiddleware, ...] = ()
        if self.auth_type == "digest" and self.credentials:
            middlewares = (aiohttp.DigestAuthMiddleware(self.credentials.get("user") or "", self.credentials.get("password") or ""),)
        # A fresh cookie jar per request, as Node-RED's got call has: cookies set by
        # redirect responses reach the next hop, but never a later request.
        async with aiohttp.ClientSession(
            connector=self._connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            middlewares=middlewares,
        ) as session:
            async with session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=follow,
                max_redirects=MAX_REDIRECTS,
                ssl=ssl_option,
            ) as response:
                payload = await response.read()
                return response, payload, response.history

    def _ssl_option(self, msg: Message) -> Any:
        if self.tls_id:
            tls = self.runtime.get_node(self.tls_id)
            if tls is not None and hasattr(tls, "ssl_context"):
                return tls.ssl_context()
            return True
        if "rejectUnauthorized" not in msg:
            return True
        value = msg["rejectUnauthorized"]
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            self.warn("msg.rejectUnauthorized should be a boolean")
            return True
        return True if value else False

    # -- the response ---------------------------------------------------------------

    def _send_response(
        self, msg: Message, response: aiohttp.ClientResponse, payload: bytes, history: tuple[aiohttp.ClientResponse, ...]
    ) -> None:
        headers = response_headers(response)
        msg["statusCode"] = response.status
        msg["headers"] = headers
        msg["responseUrl"] = str(response.url)
        msg["redirectList"] = [_redirect_info(hop) for hop in history]
        msg["retry"] = 0
        if "set-cookie" in headers:
            msg["responseCookies"] = extract_cookies(headers["set-cookie"])
        headers[REQUEST_NODE_HEADER] = headers_hash(headers)

        if self.ret == "bin":
            msg["payload"] = bytearray(payload)
        else:
            text = payload.decode("utf-8", errors="replace")
            msg["payload"] = text
            if self.ret == "obj":
                try:
                    msg["payload"] = jsjson.parse("{}" if response.status == 204 else text)
                except jsjson.JSONParseError:
                    self.warn("JSON parse error")

        self._in_flight -= 1
        if self._in_flight == 0:
            self.status({})
        self.send(msg)
        self.done(msg)

    def _report_failure(self, msg: Message, url: str, exc: Exception, timeout_s: float) -> None:
        error = request_error(exc, timeout_s)
        if error.code == "ETIMEDOUT":
            self.error("no response from server", msg)
            self.status({"fill": "red", "shape": "ring", "text": "common.notification.errors.no-response"})
        else:
            self.error(error, msg)
            self.status({"fill": "red", "shape": "ring", "text": error.code})
        msg["payload"] = f"{error} : {url}"
        if error.code is not None:
            msg["statusCode"] = error.code
        else:
            msg.pop("statusCode", None)
        if not self.send_errors_only_to_catch:
            self.send(msg)
        self._in_flight -= 1
        self.done(msg)


class _InvalidPayload(Exception):
    pass


def request_error(exc: Exception, timeout_s: float) -> JSError:
    """Describe a failed request as got does in Node-RED 4 (name, message and ``code``)."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return JSError(f"Timeout awaiting 'request' for {round(timeout_s * 1000)}ms", name="TimeoutError", code="ETIMEDOUT")
    if isinstance(exc, aiohttp.TooManyRedirects):
        return JSError(f"Redirected {MAX_REDIRECTS} times. Aborting.", name="MaxRedirectsError", code="ERR_TOO_MANY_REDIRECTS")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = getattr(exc.certificate_error, "verify_message", None) or str(exc.certificate_error)
        return JSError(reason, name="RequestError", code=_certificate_code(reason))
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return JSError(f"getaddrinfo ENOTFOUND {exc.host}", name="RequestError", code="ENOTFOUND")
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = errno.errorcode.get(exc.os_error.errno or 0, "ECONNRESET")
        return JSError(f"connect {code} {exc.host}:{exc.port}", name="RequestError", code=code)
    if isinstance(exc, (aiohttp.InvalidURL, ValueError)):
        return JSError("Invalid URL", name="RequestError", code="ERR_INVALID_URL")
    if isinstance(exc, ssl.SSLError):
        return JSError(str(exc), name="RequestError", code="EPROTO")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return JSError("socket hang up", name="RequestError", code="ECONNRESET")
    return JSError(str(exc) or type(exc).__name__, name="RequestError", code=None)


def _certificate_code(reason: str) -> str:
    # OpenSSL's wording mapped to the codes Node.js puts on TLS errors.
    lowered = reason.lower()
    if "self-signed certificate in certificate chain" in lowered or "self signed certificate in certificate chain" in lowered:
        return "SELF_SIGNED_CERT_IN_CHAIN"
    if "self-signed" in lowered or "self signed" in lowered:
        return "DEPTH_ZERO_SELF_SIGNED_CERT"
    if "unable to get local issuer" in lowered:
        return "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
    if "expired" in lowered:
        return "CERT_HAS_EXPIRED"
    if "hostname mismatch" in lowered:
        return "ERR_TLS_CERT_ALTNAME_INVALID"
    return "UNABLE_TO_VERIFY_LEAF_SIGNATURE"


def _redirect_info(hop: aiohttp.ClientResponse) -> dict[str, Any]:
    info: dict[str, Any] = {"location": hop.headers.get("Location")}
    cookies = hop.headers.getall("Set-Cookie", [])
    if cookies:
        info["cookies"] = extract_cookies(list(cookies))
    return info


def _encode_payload(payload: Any, headers: dict[str, str], *, force_json: bool = False) -> bytes:
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (int, float)) and not isinstance(payload, bool):
        return to_js_string(payload).encode("utf-8")
    if not force_json and find_header(headers, "content-type") == "application/x-www-form-urlencoded":
        return stringify_query(payload).encode("utf-8")
    if not force_json and find_header(headers, "content-type") is None:
        headers["Content-Type"] = "application/json"
    return str(jsjson.stringify(payload)).encode("utf-8")


def _form_data(payload: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in payload.items():
        if value is None or value is UNDEFINED:
            continue
        if isinstance(value, (str, bytes, bytearray)):
            form.add_field(name, bytes(value) if isinstance(value, bytearray) else value)
        elif isinstance(value, dict) and "value" in value:
            options = value.get("options") or {}
            data = value["value"]
            form.add_field(
                name,
                bytes(data) if isinstance(data, bytearray) else data,
                filename=options.get("filename"),
                content_type=options.get("contentType"),
            )
        else:
            form.add_field(name, str(jsjson.stringify(value)))
    return form


def _escape_stray_percent(url: str) -> str:
    """Escape ``%`` signs in the query that do not start a ``%XX`` escape, as Node-RED does for got."""
    if "?" not in url:
        return url
    base, _, query = url.partition("?")
    if not query:
        return url

    def fix(match: re.Match[str]) -> str:
        text = match.group(0)
        if re.match(r"^%[a-fA-F0-9]{2}", text):
            return text
        return text.replace("%", "%25", 1)

    return base + "?" + _PERCENT_RE.sub(fix, query)


__all__ = ["HttpRequestNode", "request_error"]
