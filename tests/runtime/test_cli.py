"""The ``outwire run`` command as a user runs it: exit codes, messages, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def outwire(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )


def write_flow(tmp_path: Path, flows: list[dict[str, object]]) -> Path:
    path = tmp_path / "flows.json"
    path.write_text(json.dumps(flows), encoding="utf-8")
    return path


def test_run_lists_every_missing_type_with_node_ids(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [
        {"id": "t1", "type": "tab"},
        {"id": "a", "type": "mqtt in", "z": "t1", "x": 1, "y": 1, "wires": [[]]},
        {"id": "b", "type": "mqtt in", "z": "t1", "x": 1, "y": 1, "wires": [[]]},
        {"id": "c", "type": "serial out", "z": "t1", "x": 1, "y": 1, "wires": []},
    ])

    result = outwire("run", str(flow), "--data-dir", str(tmp_path), cwd=tmp_path)

    assert result.returncode == 1
    assert "mqtt in: used by a, b" in result.stderr
    assert "serial out: used by c" in result.stderr


def test_run_reports_invalid_json_with_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "flows.json"
    path.write_text("[{]", encoding="utf-8")

    result = outwire("run", str(path), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("outwire: ")
    assert "invalid JSON at line 1, column 3" in result.stderr


def test_run_rejects_data_dir_that_is_a_file(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [{"id": "t1", "type": "tab"}])
    (tmp_path / "data").write_text("not a directory", encoding="utf-8")

    result = outwire("run", str(flow), "--exit-when-idle", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("outwire: data directory ")
    assert "data is not usable (File exists); choose a writable directory with --data-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_exits_when_idle_after_flow_finishes(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [
        {"id": "t1", "type": "tab"},
        {"id": "i1", "type": "inject", "z": "t1", "x": 1, "y": 1, "once": True, "onceDelay": 0.05,
         "props": [{"p": "payload", "v": "hello", "vt": "str"}], "wires": [["f1"]]},
        {"id": "f1", "type": "function", "z": "t1", "x": 1, "y": 1, "outputs": 1,
         "func": "global.set('seen', msg.payload, 'file'); return msg;", "wires": [["d1"]]},
        {"id": "d1", "type": "debug", "z": "t1", "x": 1, "y": 1, "wires": []},
    ])

    result = outwire("run", str(flow), "--exit-when-idle", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "msg.payload: hello" in result.stderr
    saved = json.loads((tmp_path / "data" / "context" / "global" / "global.json").read_text())
    assert saved == {"seen": "hello"}


def test_run_reports_failed_context_save_at_stop(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [
        {"id": "t1", "type": "tab"},
        {"id": "i1", "type": "inject", "z": "t1", "x": 1, "y": 1, "once": True, "onceDelay": 0.05,
         "props": [{"p": "payload", "v": "1", "vt": "num"}], "wires": [["f1"]]},
        {"id": "f1", "type": "function", "z": "t1", "x": 1, "y": 1, "outputs": 1,
         "func": "flow.set('seen', msg.payload, 'file'); return null;", "wires": [[]]},
    ])
    # A file where the flow's context folder goes makes saving that scope fail.
    (tmp_path / "data" / "context").mkdir(parents=True)
    (tmp_path / "data" / "context" / "t1").write_text("in the way", encoding="utf-8")

    result = outwire("run", str(flow), "--exit-when-idle", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)

    assert result.returncode == 1
    assert "saving file context under " in result.stderr
    assert "failed (File exists); values changed since the last save are lost" in result.stderr
    assert "stopped all flows" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_stops_gracefully_on_sigterm_and_flushes_file_context(tmp_path: Path) -> None:
    flow = write_flow(tmp_path, [
        {"id": "t1", "type": "tab"},
        {"id": "i1", "type": "inject", "z": "t1", "x": 1, "y": 1, "once": True, "onceDelay": 0.01,
         "repeat": "0.05", "props": [{"p": "payload", "v": "1", "vt": "num"}], "wires": [["f1"]]},
        {"id": "f1", "type": "function", "z": "t1", "x": 1, "y": 1, "outputs": 1,
         "func": "flow.set('ticks', (flow.get('ticks') || 0) + 1); return null;", "wires": [[]]},
    ])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    log_path = tmp_path / "stderr.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "run", str(flow), "--context-store", "file",
             "--data-dir", str(tmp_path / "data")],
            cwd=tmp_path, env=env, stderr=log_file, text=True,
        )
        # Wait for the flows to start (slow under load), then let a few ticks pass.
        deadline = time.monotonic() + 30
        while "flows started: 1 tabs" not in log_path.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    stderr = log_path.read_text(encoding="utf-8")

    assert process.returncode == 0, stderr
    assert "stopping (signal)" in stderr
    saved = json.loads((tmp_path / "data" / "context" / "t1" / "flow.json").read_text())
    assert saved["ticks"] >= 2


def test_run_help_documents_units(tmp_path: Path) -> None:
    result = outwire("run", "--help", cwd=tmp_path)

    assert result.returncode == 0
    assert "(default: 30 s)" in result.stdout
    assert "in MiB" in result.stdout
