"""Run a flow file in a real Node-RED 4.1.8, for differential tests against Outwire.

``OUTWIRE_NODE_RED_DIR`` names an installed ``node-red`` package (the folder
with ``red.js``; ``.ci/install-node-red.sh`` prints it). Node-RED starts
with a throw-away user directory, listens only on 127.0.0.1, has telemetry
and external modules off, and is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SETTINGS_JS = """module.exports = {
    uiHost: "127.0.0.1",
    uiPort: %(port)d,
    flowFile: "flows.json",
    credentialSecret: false,
    logging: { console: { level: "warn", metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    externalModules: {},
    functionExternalModules: false,
    editorTheme: { projects: { enabled: false }, palette: { catalogues: [] } }
};
"""


class NodeRedUnavailable(RuntimeError):
    """No Node-RED install to run against."""


def node_red_dir() -> Path:
    """Return the installed node-red package, or raise :class:`NodeRedUnavailable`."""
    configured = os.environ.get("OUTWIRE_NODE_RED_DIR")
    if not configured:
        raise NodeRedUnavailable("OUTWIRE_NODE_RED_DIR is not set (bash .ci/install-node-red.sh prints it)")
    path = Path(configured)
    if not (path / "red.js").is_file():
        raise NodeRedUnavailable(f"{path} has no red.js; install node-red@4.1.8 there")
    if shutil.which("node") is None:
        raise NodeRedUnavailable("node is not on PATH")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_in_node_red(flow_file: Path, work_dir: Path, *, done: Path, timeout_s: float = 60.0,
                    settle_s: float = 1.0, env: dict[str, str] | None = None) -> str:
    """Run ``flow_file`` in Node-RED with ``work_dir`` as its working directory.

    Waits until the file ``done`` exists and has not changed for ``settle_s``
    seconds, then stops Node-RED and returns its log output.
    """
    package = node_red_dir()
    user_dir = work_dir / ".node-red"
    user_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(flow_file, user_dir / "flows.json")
    port = _free_port()
    (user_dir / "settings.js").write_text(SETTINGS_JS % {"port": port}, encoding="utf-8")

    process = subprocess.Popen(
        ["node", str(package / "red.js"), "-u", str(user_dir), "-p", str(port)],
        cwd=work_dir, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_until_settled(done, process, timeout_s, settle_s)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return output


def _wait_until_settled(path: Path, process: subprocess.Popen[str], timeout_s: float, settle_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last_change = None
    last_size = -1
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("Node-RED exited early:\n" + (process.stdout.read() if process.stdout else ""))
        size = path.stat().st_size if path.exists() else -1
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif size >= 0 and last_change is not None and time.monotonic() - last_change >= settle_s:
            return
        time.sleep(0.1)
    raise TimeoutError(f"Node-RED did not write {path} within {timeout_s:.0f} s")
