"""Check cases recorded from Node-RED 4.1.8 (in the conformance corpus's format) against Outwire.

Node tests keep extra cases beside them, recorded with the corpus's recorder
from the same Node-RED version, and judge them with the corpus's own rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import run as conformance


def case_files(folder: Path) -> list[Any]:
    """Return pytest params, one per case file in ``folder``, named by the case."""
    files = sorted(folder.glob("*.json"))
    return [pytest.param(path, id=path.stem) for path in files]


async def check_recorded_case(path: Path) -> None:
    """Run one recorded case and fail with the corpus comparator's differences."""
    corpus = conformance.corpus_dir()
    if corpus is None:
        pytest.skip("conformance corpus not found: set OUTWIRE_CONFORMANCE_DIR to judge recorded cases")
    comparator = conformance.load_comparator(corpus)
    case = json.loads(path.read_text(encoding="utf-8"))
    with conformance._Environment(case.get("env") or {}):
        capture = await conformance.run_case(case)
    differences = conformance.judge(case, capture, comparator)
    assert differences == [], f"{case['name']}: " + "\n".join(differences)
