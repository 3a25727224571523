"""The file nodes: ``file`` writes (appends, overwrites or deletes) a file, ``file in`` reads one.

The file name comes from ``filename`` as a typed value (``filenameType``:
str, msg, env, flow, global, jsonata...); flows saved before Node-RED 3 have no
type and mean ``msg.filename`` when the name is empty, the literal name
otherwise. Both nodes set ``msg.filename``.

File I/O runs in a worker thread so the event loop keeps delivering. Each
node handles its messages one at a time in arrival order, as Node-RED does,
and closing a ``file`` node waits until its queued writes are done.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import collections
import errno
import os
from pathlib import Path
from typing import Any

from runtime import jsjson
from runtime.jsvalues import UNDEFINED, JSError, to_js_string
from runtime.message import Message, clone_message
from runtime.node import PENDING, Node
from runtime.registry import register
from runtime.typed import TypedValue

# Node-RED waits 333 ms before it shows a file name taken from the message as status.
FILENAME_STATUS_DELAY_S = 0.333

# Node.js fs.createReadStream reads 64 KiB chunks; "stream" mode sends one message per chunk.
STREAM_CHUNK_BYTES = 64 * 1024

# iconv-lite encoding names that Python spells differently.
_ENCODING_ALIASES = {"none": "utf-8", "utf8": "utf-8", "ucs2": "utf-16-le", "binary": "latin-1", "utf16le": "utf-16-le"}


class FileError(Exception):
    """A file operation failed; ``str()`` is the text Node-RED logs (``Error: ENOENT: ...``)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def fs_error_text(exc: OSError, syscall: str = "open") -> str:
    """Format an OSError as Node.js prints a failed fs call: ``Error: ENOENT: no such file or directory, open '/x'``."""
    code = errno.errorcode.get(exc.errno or 0, "EIO")
    reason = (exc.strerror or str(exc)).lower()
    target = f", {syscall} '{exc.filename}'" if exc.filename else ""
    return f"Error: {code}: {reason}{target}"


def encode_text(text: str, encoding: str) -> bytes:
    """Encode ``text`` as iconv-lite does for the file node's ``encoding`` setting."""
    name = _ENCODING_ALIASES.get(encoding.lower(), encoding)
    if name == "base64":
        return base64.b64decode(text + "=" * (-len(text) % 4))
    if name == "hex":
        return bytes.fromhex(text)
    try:
        return text.encode(codecs.lookup(name).name)
    except LookupError:
        raise FileError(f"Error: Encoding not recognized: '{encoding}'; choose one the file node lists") from None


def decode_bytes(data: bytes, encoding: str) -> str:
    """Decode file content as iconv-lite does (``none`` is UTF-8 with replacement characters)."""
    name = _ENCODING_ALIASES.get(encoding.lower(), encoding)
    if name == "base64":
        return base64.b64encode(data).decode("ascii")
    if name == "hex":
        return data.hex()
    try:
        return data.decode(codecs.lookup(name).name, errors="replace")
    except LookupError:
        raise FileError(f"Error: Encoding not recognized: '{encoding}'; choose one the file node lists") from None


class _FileNodeBase(Node):
    """The file name handling and in-order worker shared by both file nodes."""

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        filename = config.get("filename") or ""
        filename_type = config.get("filenameType") or ""
        if not filename_type:
            # Flows from before Node-RED 3: an empty name meant msg.filename.
            filename, filename_type = ("filename", "msg") if not filename else (filename, "str")
        self.filename_from_message = not config.get("filename")
        self._filename = TypedValue(filename, filename_type, self)
        self.encoding = config.get("encoding") or "none"
        self._pending: collections.deque[Message] = collections.deque()
        self._worker: asyncio.Task[None] | None = None
        self._status_timer: asyncio.TimerHandle | None = None

    def on_input(self, msg: Message) -> Any:
        self._pending.append(msg)
        if self._worker is None:
            self._worker = self.runtime.start_task(self._work(), name=f"{self.type} {self.id}")
        return PENDING

    async def _work(self) -> None:
        try:
            while self._pending:
                msg = self._pending[0]
                try:
                    await self.handle(msg)
                except Exception as exc:  # noqa: BLE001 - reported against the message, the queue goes on
                    self.done(msg, exc)
                self._pending.popleft()
        finally:
            self._worker = None

    async def handle(self, msg: Message) -> None:
        raise NotImplementedError

    def filename_for(self, msg: Message) -> str:
        value = self._filename.evaluate(msg)
        if value is None or value is UNDEFINED:
            return ""
        return value if isinstance(value, str) else to_js_string(value)

    def show_filename_later(self, filename: str) -> None:
        if self.filename_from_message and self._status_timer is None:
            self._status_timer = self.runtime.call_later(FILENAME_STATUS_DELAY_S, self._show_filename, filename)

    def _show_filename(self, filename: str) -> None:
        self._status_timer = None
        self.status({"fill": "grey", "shape": "dot", "text": filename})

    async def close(self, removed: bool) -> None:
        if self._worker is not None:
            await asyncio.shield(self._worker)
        self.runtime.cancel_timer(self._status_timer)
        self._status_timer = None
        self.status({})


@register
class FileNode(_FileNodeBase):
    """Write ``msg.payload`` to a file (append or overwrite), or delete the file; then pass the message on.

    Objects are written as JSON, numbers and booleans as text, Buffers as
    bytes. ``appendNewline`` adds ``\\n`` after text (not after Buffers, nor
    after the last part of a split string). ``createDir`` creates missing
    directories. Failures are node errors with Node-RED's texts
    (``failed to write to file: Error: ENOENT: ...``).
    """

    type_name = "file"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.mode = to_js_string(config.get("overwriteFile", "false"))
        self.append_newline = bool(config.get("appendNewline"))
        self.create_dir = bool(config.get("createDir"))

    async def handle(self, msg: Message) -> None:
        filename = self.filename_for(msg)
        msg["filename"] = filename
        self.show_filename_later(filename)
        if filename == "":
            self.warn("No filename specified")
            self.done(msg)
            return

        if self.mode == "delete":
            await self._delete(msg, filename)
            return
        payload = msg.get("payload", UNDEFINED)
        if payload is UNDEFINED:
            self.done(msg)
            return
        data = self._encode(msg, payload)
        await self._write(msg, filename, data)

    async def _delete(self, msg: Message, filename: str) -> None:
        try:
            await asyncio.to_thread(os.unlink, filename)
        except OSError as exc:
            self.done(msg, FileError(f"failed to delete file: {fs_error_text(exc, 'unlink')}"))
            return
        self.debug(f"deleted file: {filename}")
        self.send(msg)
        self.done(msg)

    def _encode(self, msg: Message, payload: Any) -> bytes:
        if isinstance(payload, (bytes, bytearray)):
            return bytes(payload)
        if isinstance(payload, (dict, list)) or payload is None:
            text = jsjson.stringify(payload)
        else:
            text = to_js_string(payload)
        parts = msg.get("parts")
        last_text_part = (
            isinstance(parts, dict)
            and parts.get("type") == "string"
            and isinstance(parts.get("index"), int)
            and parts.get("count") == parts["index"] + 1
        )
        if self.append_newline and not last_text_part:
            text += os.linesep
        encoding = (msg.get("encoding") or "none") if self.encoding == "setbymsg" else self.encoding
        return encode_text(text, to_js_string(encoding))

    async def _write(self, msg: Message, filename: str, data: bytes) -> None:
        overwrite = self.mode == "true"
        path = Path(filename)
        if self.create_dir:
            try:
                await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            except OSError as exc:
                self.done(msg, FileError(f"failed to create file: {fs_error_text(exc, 'mkdir')}"))
                return
        try:
            await asyncio.to_thread(_write_bytes, path, data, overwrite)
        except OSError as exc:
            verb = "write to" if overwrite else "append to"
            self.done(msg, FileError(f"failed to {verb} file: {fs_error_text(exc)}"))
            return
        self.send(msg)
        self.done(msg)


def _write_bytes(path: Path, data: bytes, overwrite: bool) -> None:
    with open(path, "wb" if overwrite else "ab") as handle:
        handle.write(data)


@register
class FileInNode(_FileNodeBase):
    """Read a file into ``msg.payload``.

    ``format``: ``utf8`` gives one string, ``""`` one Buffer, ``lines`` one
    message per line and ``stream`` one message per 64 KiB Buffer chunk, the
    last two with ``msg.parts`` so a join node can rebuild the whole. A read
    failure is a node error; with ``sendError`` (default on) the message also
    goes on without a payload and with ``msg.error``.
    """

    type_name = "file in"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.format = config.get("format") or ""
        self.all_props = bool(config.get("allProps"))
        self.send_error = config.get("sendError", True) is not False

    async def handle(self, msg: Message) -> None:
        filename = self.filename_for(msg)
        for char in "\t\r\n":
            filename = filename.replace(char, "")
        if self.filename_from_message:
            self.status({"fill": "grey", "shape": "dot", "text": filename})
        if filename == "":
            self.warn("No filename specified")
            self.done(msg)
            return
        msg["filename"] = filename

        try:
            data = await asyncio.to_thread(Path(filename).read_bytes)
        except OSError as exc:
            self._report_read_error(msg, exc)
            return

        if self.format == "lines":
            self._send_lines(msg, decode_bytes(data, self.encoding))
        elif self.format == "stream":
            self._send_chunks(msg, data)
        else:
            msg["payload"] = decode_bytes(data, self.encoding) if self.format == "utf8" else bytearray(data)
            self.send(msg)
        self.done(msg)

    def _report_read_error(self, msg: Message, exc: OSError) -> None:
        code = errno.errorcode.get(exc.errno or 0, "EIO")
        error = JSError(fs_error_text(exc).removeprefix("Error: "), code=code)
        self.error(error, msg)
        if self.send_error:
            failed = clone_message(msg)
            failed.pop("payload", None)
            failed["error"] = error
            self.send(failed)
        self.done(msg)

    def _part_message(self, msg: Message, payload: Any, parts: dict[str, Any]) -> Message:
        if self.all_props:
            part = clone_message(msg)
        else:
            part = {"topic": msg.get("topic", UNDEFINED), "filename": msg["filename"]}
        part["payload"] = payload
        part["parts"] = parts
        return part

    def _send_lines(self, msg: Message, text: str) -> None:
        lines = text.split("\n")
        last = len(lines) - 1
        for index, line in enumerate(lines):
            parts: dict[str, Any] = {"index": index, "ch": "\n", "type": "string", "id": msg.get("_msgid")}
            if index == last:
                parts["count"] = last + 1
            self.send(self._part_message(msg, line, parts))

    def _send_chunks(self, msg: Message, data: bytes) -> None:
        count = 0
        for start in range(0, len(data), STREAM_CHUNK_BYTES):
            chunk = data[start : start + STREAM_CHUNK_BYTES]
            parts: dict[str, Any] = {"index": count, "ch": "", "type": "buffer", "id": msg.get("_msgid")}
            count += 1
            if len(chunk) < STREAM_CHUNK_BYTES:
                parts["count"] = count
            self.send(self._part_message(msg, bytearray(chunk), parts))
        if data and len(data) % STREAM_CHUNK_BYTES == 0:
            # The last chunk was a full one, so Node-RED ends the sequence with an empty message.
            self.send({"parts": {"index": count, "count": count, "ch": "", "type": "buffer", "id": msg.get("_msgid")}})
