"""Recorded Node-RED 4.1.8 behaviour of the change, switch, range, template and json nodes.

Each file under ``cases/`` is a conformance case (the corpus format: flow,
inputs, and what Node-RED 4.1.8 produced, recorded with the corpus's
recorder). They cover corners beyond the shared corpus and are judged by the
corpus's own comparator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.run import _Environment, corpus_dir, judge, load_comparator, run_case

CASES = sorted((Path(__file__).parent / "cases").rglob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[f"{path.parent.name}/{path.stem}" for path in CASES])
async def test_recorded_case_matches_node_red(path: Path) -> None:
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("conformance corpus not found; set OUTWIRE_CONFORMANCE_DIR to run recorded cases")
    case = json.loads(path.read_text(encoding="utf-8"))

    with _Environment(case.get("env") or {}):
        capture = await run_case(case)

    assert judge(case, capture, load_comparator(corpus)) == []
