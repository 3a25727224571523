"""Replay the Node-RED 4.1.8 conformance corpus through Outwire, one test per case.

The corpus is read from ``$OUTWIRE_CONFORMANCE_DIR`` or from
``../shared/conformance`` beside the checkout; without it every case is
skipped with one line saying where it was looked for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.run import REPO_ROOT, corpus_dir, load_comparator, run_file

CORPUS = corpus_dir()
CASES = sorted((CORPUS / "cases").rglob("*.json")) if CORPUS else []

if CORPUS is None:
    pytestmark = pytest.mark.skip(
        reason=(
            "conformance corpus not found: set OUTWIRE_CONFORMANCE_DIR or place it at "
            f"{REPO_ROOT.parent / 'shared' / 'conformance'}"
        )
    )


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="module")
def comparator():  # type: ignore[no-untyped-def]
    assert CORPUS is not None
    return load_comparator(CORPUS)


@pytest.mark.parametrize("case_path", CASES or [None], ids=[_case_id(p) for p in CASES] or ["no-corpus"])
def test_conformance_case_matches_node_red(case_path: Path | None, comparator) -> None:  # type: ignore[no-untyped-def]
    if case_path is None:
        pytest.skip("conformance corpus not found")
    case, capture, errors = run_file(case_path, comparator)
    assert errors == [], f"{case['name']}: " + "; ".join(errors[:5])


def test_corpus_has_the_recorded_case_count() -> None:
    if CORPUS is None:
        pytest.skip("conformance corpus not found")
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    total = sum(1 for _ in (CORPUS / "cases").rglob("*.json"))
    assert f"**{total}**" in readme, f"corpus holds {total} cases, but its README counts another total"
    assert all(json.loads(p.read_text(encoding="utf-8"))["format"] == 1 for p in CASES)
