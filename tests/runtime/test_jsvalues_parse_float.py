"""JavaScript's parseFloat, as the delay and trigger nodes read msg.delay and msg.rate."""

from __future__ import annotations

import math
from typing import Any

import pytest

from runtime.jsvalues import parse_float


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12px", 12),
        (" 1e3 ", 1000),
        ("-.5x", -0.5),
        ("+3.", 3),
        ("1e", 1),
        ("0x10", 0),
        ("Infinity", math.inf),
        ([5], 5),
        (250, 250),
        (2.5, 2.5),
    ],
)
def test_parse_float_reads_numeric_prefix(value: Any, expected: float) -> None:
    assert parse_float(value) == expected


@pytest.mark.parametrize("value", ["abc", "", True, None, {}])
def test_parse_float_gives_nan_without_number(value: Any) -> None:
    assert math.isnan(parse_float(value))
