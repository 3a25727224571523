"""Runtime settings: defaults, then a TOML settings file, then ``OUTWIRE_*`` variables, then flags.

Each setting has one name used everywhere: the TOML key, the environment
variable (``OUTWIRE_`` + upper case) and the command-line flag (dashes).
Example ``outwire.toml``::

    data_dir = "/var/lib/outwire"
    log_level = "INFO"
    function_timeout_s = 30
    context_default_store = "file"

    [function_global_context]
    region = "EU"
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "OUTWIRE_"


class SettingsError(ValueError):
    """A setting with an invalid value; the message names the setting and its source."""


@dataclass
class Settings:
    """Every runtime setting with its default; units are in the names."""

    data_dir: Path = field(default_factory=lambda: Path.cwd() / ".outwire")
    log_level: str = "INFO"
    # Store for contacts and campaigns: mongodb://… or sqlite:///path. Empty means
    # a SQLite file in data_dir.
    store_url: str = ""

    # Context stores: "memory" is always there; "file" persists under data_dir/context.
    context_default_store: str = "memory"
    context_flush_interval_s: float = 30.0
    function_global_context: dict[str, Any] = field(default_factory=dict)

    # Function node limits. A run that passes the time limit, or a node whose
    # JavaScript heap passes the memory limit, fails with a node error. Node-RED
    # has no default time limit; a hung loop would stall every flow here, so the
    # default stops it after 30 s, which no reasonable per-message function reaches.
    function_timeout_s: float = 30.0
    function_memory_limit_mb: int = 256
    function_external_modules: bool = False

    # Node-RED gives each node 15 s to close before it logs and moves on.
    node_close_timeout_s: float = 15.0

    # Most messages a join, sort or batch node may hold while it waits for the
    # rest of a sequence (Node-RED's nodeMessageBufferMaxLength); 0 means no limit,
    # Node-RED's default. Past it the node drops the messages it keeps and reports an error.
    node_message_buffer_max_length: int = 0

    # HTTP server for http-in nodes (runtime/httpserver.py). It starts when a
    # flow has an http-in node or http_port is set; port 0 then takes a free
    # port, which is logged. http_node_root prefixes every http-in path.
    http_port: int = 0
    http_host: str = "127.0.0.1"
    http_node_root: str = "/"
    # Largest request body an http-in node accepts; larger ones get 413. Node-RED's
    # default limit (apiMaxLength) is 5 MB.
    http_max_body_bytes: int = 5 * 1024 * 1024
    # CORS for http-in routes, as Node-RED's httpNodeCors: {} is off, else keys
    # origin ("*" or a list), methods, allowedHeaders, credentials, maxAge (s).
    http_node_cors: dict[str, Any] = field(default_factory=dict)
    # Default wait for an http request node's response (Node-RED's httpRequestTimeout, 120 s).
    http_request_timeout_s: float = 120.0

    def resolved_store_url(self) -> str:
        """Return the contact store URL, defaulting to SQLite in the data directory."""
        if self.store_url:
            return self.store_url
        return f"sqlite:///{self.data_dir / 'outwire.db'}"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}

# Numbers must be finite and 0 or more, with these exceptions. A close or
# request timeout of 0 s would fail every node or request at once, and
# QuickJS reads a heap limit of 0 as no limit at all.
_GREATER_THAN_ZERO = frozenset({"node_close_timeout_s", "http_request_timeout_s"})
_LEAST_VALUES = {"function_memory_limit_mb": 1}
_MAX_PORT = 65535
_CHOICES = {
    "log_level": ("DEBUG", "INFO", "WARNING", "ERROR"),
    "context_default_store": ("memory", "file"),
}


def load_settings(
    settings_file: str | Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Build settings from the defaults, a settings file, the environment and flags.

    ``settings_file`` defaults to ``$OUTWIRE_SETTINGS`` when that is set.
    ``overrides`` contains command-line values; ``None`` entries are skipped.
    """
    environ = dict(os.environ) if environ is None else environ
    settings = Settings()

    settings_file = settings_file or environ.get(ENV_PREFIX + "SETTINGS")
    if settings_file:
        for key, value in _read_settings_file(Path(settings_file)).items():
            _apply(settings, key, value, f"settings file {settings_file}")

    for name in _FIELDS:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            _apply(settings, name, environ[env_name], f"environment variable {env_name}")

    for key, value in (overrides or {}).items():
        if value is not None:
            _apply(settings, key, value, f"option --{key.replace('_', '-')}")
    return settings


def _read_settings_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} not found; check OUTWIRE_SETTINGS or --settings") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(
            f"settings file {path} cannot be read ({exc.strerror}); give the path of a TOML file with --settings"
        ) from exc


def _apply(settings: Settings, key: str, value: Any, source: str) -> None:
    spec = _FIELDS.get(key)
    if spec is None:
        known = ", ".join(sorted(_FIELDS))
        raise SettingsError(f"{source}: unknown setting {key!r}; known settings: {known}")
    setattr(settings, key, _convert(key, spec.type, value, source))


def _convert(key: str, declared: Any, value: Any, source: str) -> Any:
    try:
        converted = _convert_type(str(declared), value)
        _check_bounds(key, converted)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: invalid value {value!r} for {key} ({exc})") from exc
    return converted


def _convert_type(kind: str, value: Any) -> Any:
    if kind == "Path":
        return Path(value).expanduser()
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return _to_bool(value)
    if kind.startswith("dict"):
        parsed = json.loads(value) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ValueError("expected a table or JSON object")
        return parsed
    return str(value)


def _check_bounds(key: str, value: Any) -> None:
    if key in _CHOICES:
        choices = _CHOICES[key]
        checked = value.upper() if key == "log_level" else value
        if checked not in choices:
            raise ValueError(f"expected {', '.join(choices[:-1])} or {choices[-1]}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    least = _LEAST_VALUES.get(key, 0)
    if key == "http_port":
        if not 0 <= value <= _MAX_PORT:
            raise ValueError(f"expected a port number from 0 to {_MAX_PORT}")
    elif key in _GREATER_THAN_ZERO:
        if value <= 0:
            raise ValueError("expected a number greater than 0")
    elif value < least:
        raise ValueError(f"expected a number of {least} or more")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
