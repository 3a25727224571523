"""Split, join, sort and batch cases recorded from Node-RED 4.1.8, beyond the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.recorded import case_files, check_recorded_case


@pytest.mark.looptime
@pytest.mark.parametrize("path", case_files(Path(__file__).parent / "recorded"))
async def test_sequence_case_matches_node_red(path: Path) -> None:
    await check_recorded_case(path)
