"""csv, xml, yaml and html cases recorded from Node-RED 4.1.8.

Two recordings compare error text loosely (``loose_paths``): Outwire adds the
line and column to the CSV header error, and PyYAML words YAML errors
differently from js-yaml. test_csv.py and test_yaml.py pin those texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.recorded import case_files, check_recorded_case


@pytest.mark.looptime
@pytest.mark.parametrize("path", case_files(Path(__file__).parent / "recorded"))
async def test_parser_case_matches_node_red(path: Path) -> None:
    await check_recorded_case(path)
