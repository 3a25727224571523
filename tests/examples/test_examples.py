"""The example flows, run with ``outwire run`` as a user would, and side by side with Node-RED.

Each example writes its results to files in the working directory. The
expected files under ``expected/<example>/`` were written by Node-RED 4.1.8
running the same flow; the differential test runs Node-RED again (when
``OUTWIRE_NODE_RED_DIR`` names an install) and compares both outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nodered import NodeRedUnavailable, node_red_dir, run_in_node_red

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
EXPECTED = Path(__file__).parent / "expected"

# Each example and the file it writes last (Node-RED runs until it settles).
CASES = {
    "appointment-reminders": "reminders.txt",
    "payment-collections": "collections-summary.json",
    "survey-followup": "survey-followups.csv",
}


def run_outwire(example: str, work_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "run", str(EXAMPLES / f"{example}.json"),
         "--exit-when-idle", "--data-dir", str(work_dir / ".outwire")],
        cwd=work_dir, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=120,
    )


def output_files(work_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(work_dir.iterdir()) if p.is_file()}


@pytest.mark.parametrize("example", sorted(CASES))
def test_example_writes_what_node_red_wrote(example: str, tmp_path: Path) -> None:
    result = run_outwire(example, tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted((EXPECTED / example).iterdir())}
    assert output_files(tmp_path) == expected


@pytest.mark.parametrize("example", sorted(CASES))
def test_example_matches_live_node_red(example: str, tmp_path: Path) -> None:
    try:
        node_red_dir()
    except NodeRedUnavailable as exc:
        pytest.skip(f"Node-RED differential run skipped: {exc}")
    node_red_work = tmp_path / "node-red"
    outwire_work = tmp_path / "outwire"
    node_red_work.mkdir()
    outwire_work.mkdir()

    run_in_node_red(EXAMPLES / f"{example}.json", node_red_work, done=node_red_work / CASES[example])
    result = run_outwire(example, outwire_work)

    assert result.returncode == 0, result.stderr[-3000:]
    assert output_files(outwire_work) == output_files(node_red_work)
