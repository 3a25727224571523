"""A persistent context store: JSON files on disk with an in-memory cache.

Layout under the store's directory, as Node-RED's ``localfilesystem`` store
lays it out: ``global/global.json`` for the global scope,
``<flow id>/flow.json`` for a flow and ``<flow id>/<node id>.json`` for a
node. Values are written in tagged JSON (see ``runtime.encoding``), so
Buffers, Dates and NaN survive a restart.

Reads and writes hit the cache. Changed scopes are written every
``flush_interval_s`` and when the store closes, each through a temporary file
and a rename, so a crash leaves either the old or the new file, never half of
one. A write lost to a crash is at most ``flush_interval_s`` old.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from runtime.context.memory import MemoryStore
from runtime.encoding import decode, encode

log = logging.getLogger("outwire.runtime")

# Node-RED's localfilesystem store flushes every 30 s by default.
DEFAULT_FLUSH_INTERVAL_S = 30.0


class FileStore(MemoryStore):
    """Cache context in memory and persist it to one JSON file per scope."""

    def __init__(self, directory: str | Path, *, flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.flush_interval_s = flush_interval_s
        self._dirty: set[str] = set()
        self._deleted: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.directory.glob("*/*.json")):
            scope = self._scope_for(path)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                # Keep the unreadable file for inspection and start that scope empty.
                log.error(
                    "context file %s is unreadable (%s); scope %s starts empty and the file is "
                    "kept as %s.corrupt",
                    path, exc, scope, path.name,
                )
                path.replace(path.with_suffix(".json.corrupt"))
                continue
            if isinstance(data, dict):
                self.scopes()[scope] = decode(data)
        if self.flush_interval_s > 0:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically())

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None
        self.flush()

    def set(self, scope: str, key: str, value: Any) -> None:
        super().set(scope, key, value)
        self._dirty.add(scope)

    def delete(self, scope: str) -> None:
        super().delete(scope)
        self._dirty.discard(scope)
        self._deleted.add(scope)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                self.flush()
            except OSError:
                log.error("context flush to %s failed; will retry", self.directory, exc_info=True)

    def flush(self) -> None:
        """Write every changed scope to disk now.

        Error handling: an OSError is raised after the scopes not written yet
        are marked changed again, so no change is dropped.
        """
        for scope in sorted(self._deleted):
            self._path_for(scope).unlink(missing_ok=True)
        self._deleted.clear()
        dirty, self._dirty = sorted(self._dirty), set()
        for index, scope in enumerate(dirty):
            try:
                self._write_scope(scope)
            except OSError:
                self._dirty.update(dirty[index:])
                raise

    def _write_scope(self, scope: str) -> None:
        data = self.scopes().get(scope)
        path = self._path_for(scope)
        if not data:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(encode(data), handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    def _path_for(self, scope: str) -> Path:
        if scope == "global":
            return self.directory / "global" / "global.json"
        if ":" in scope:
            node_id, _, flow_id = scope.partition(":")
            return self.directory / _safe(flow_id) / f"{_safe(node_id)}.json"
        return self.directory / _safe(scope) / "flow.json"

    def _scope_for(self, path: Path) -> str:
        folder, stem = path.parent.name, path.stem
        if folder == "global" and stem == "global":
            return "global"
        if stem == "flow":
            return folder
        return f"{stem}:{folder}"


def _safe(name: str) -> str:
    # Ids come from flow files; keep them from leaving the store's directory.
    cleaned = name.replace("/", "_").replace("\\", "_")
    return "_" if cleaned in ("", ".", "..") else cleaned
