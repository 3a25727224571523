"""Start and stop a FerretDB server (MongoDB wire protocol over SQLite) for tests and benchmarks.

:func:`find_ferretdb` looks for the binary in ``$OUTWIRE_FERRETDB``, on
``PATH``, in ``$(go env GOPATH)/bin`` and in the cache that
``.ci/install-ferretdb.sh`` builds into. :class:`FerretDBServer` runs it on a
free port of 127.0.0.1 with telemetry disabled, in a temporary directory, and
stops it by its process id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

FERRETDB_VERSION = "v1.24.2"
# FerretDB with an empty SQLite directory starts in well under a second here;
# 30 s leaves room for a loaded CI machine.
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class FerretDBUnavailable(RuntimeError):
    """No usable FerretDB binary; the message says how to get one."""


def find_ferretdb() -> Path:
    """Return the path of a FerretDB binary, or raise FerretDBUnavailable."""
    candidates: list[Path] = []
    if os.environ.get("OUTWIRE_FERRETDB"):
        candidates.append(Path(os.environ["OUTWIRE_FERRETDB"]))
    on_path = shutil.which("ferretdb")
    if on_path:
        candidates.append(Path(on_path))
    gopath = _go_path()
    if gopath:
        candidates.append(Path(gopath) / "bin" / "ferretdb")
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache_dir = Path(os.environ.get("OUTWIRE_CACHE_DIR") or cache_home / "outwire")
    candidates.append(cache_dir / f"ferretdb-{FERRETDB_VERSION}" / "ferretdb")

    broken: list[str] = []
    for candidate in candidates:
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        if _runs(candidate):
            return candidate
        broken.append(str(candidate))
    detail = f" ({', '.join(broken)} failed to print its version)" if broken else ""
    raise FerretDBUnavailable(
        f"no working FerretDB {FERRETDB_VERSION} binary found{detail}; "
        "build one with: bash .ci/install-ferretdb.sh, or set OUTWIRE_TEST_MONGODB_URL"
    )


def _go_path() -> str | None:
    if shutil.which("go") is None:
        return None
    try:
        completed = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def _runs(binary: Path) -> bool:
    try:
        completed = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30,
            env={**os.environ, "DO_NOT_TRACK": "1"},
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode == 0 and "version:" in completed.stdout


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FerretDBServer:
    """One FerretDB process with its own SQLite directory; use as a context manager."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.port = 0
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="outwire-ferretdb-")
        directory = Path(self._directory.name)
        self.port = free_port()
        self._log_path = directory / "ferretdb.log"
        command = [
            str(self.binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{directory}/",
            f"--state-dir={directory}",
            f"--listen-addr=127.0.0.1:{self.port}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=WARN",
        ]
        with open(self._log_path, "wb") as log_file:
            self._process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT,
                env={**os.environ, "DO_NOT_TRACK": "1"},
            )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"FerretDB exited with status {self._process.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"FerretDB did not listen on port {self.port} within {STARTUP_TIMEOUT_S} s")

    def log_tail(self, size_bytes: int = 2000) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_bytes()[-size_bytes:].decode(errors="replace")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._process = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def __enter__(self) -> FerretDBServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
