"""Node cases beyond the conformance corpus, recorded from Node-RED 4.1.8.

Each file in ``cases/`` was run through a real Node-RED 4.1.8 by the corpus
recorder, which wrote its ``expect*`` fields. Outwire must reproduce them
under the corpus's matching rules, with the case's ``env`` set as the corpus
runner sets it. The cases cover behaviour that the corpus leaves out. For the timing nodes: flush and reset in the rate limiter,
per-topic queues with two outputs, status and complete events, trigger extend
with the latest payload, zero and negative trigger durations, and every
deadband and narrowband variant. For the sequence nodes: stream and
fixed-length splits, join accumulate, reset, holes and reduce errors, sort by
JavaScript comparison, and batch limits. For the parser nodes: the legacy CSV
parser and generator, CSV generation, xml, yaml and html. For the function
nodes and json: legacy change configs, switch sequence repair, template
output formats and the json node's Ajv schema errors.

Two files compare error text loosely (``loose_paths``): csv/rfc-parse-bad-header,
because Outwire adds the line and column to the message, and yaml/invalid,
because PyYAML words errors differently from js-yaml.
tests/nodes/parser/test_csv.py and test_yaml.py pin those texts. Three
function-node files do too, where JSONata or PyYAML word an error differently
from jsonata-js or js-yaml: change/invalid-regex, switch/jsonata-exp and
template/yaml-output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.run import _Environment, corpus_dir, judge, load_comparator, run_case

CASES = sorted((Path(__file__).parent / "cases").rglob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
async def test_recorded_case(path: Path) -> None:
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("the conformance corpus (for its matching rules) is not beside this checkout")
    case = json.loads(path.read_text(encoding="utf-8"))

    with _Environment(case.get("env") or {}):
        capture = await run_case(case)

    assert judge(case, capture, load_comparator(corpus)) == []
