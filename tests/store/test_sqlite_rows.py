"""Splitting an import batch into rows SQLite inserts as they are and rows it merges."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from runtime.store.merge import StoredFields, plan_batch
from runtime.store.models import ContactRow, EncodedRows
from runtime.store.sqlite_rows import created_history_prefix, split_batch


def _rows(*identifiers: str) -> EncodedRows:
    return EncodedRows.from_rows([
        ContactRow(identifier, {"phone": identifier}, line) for line, identifier in enumerate(identifiers, start=2)
    ])


def test_split_batch_inserts_all_rows_when_all_new() -> None:
    split = split_batch(_rows("+1", "+2"), {}, first_seq=10)

    assert split.new_values == ["+1", '{"phone":"+1"}', 10, 2, "+2", '{"phone":"+2"}', 11, 3]
    assert split.new_count == 2
    assert split.merge_rows == []
    assert split.merge_seqs == {}


def test_split_batch_numbers_new_identifiers_in_first_appearance_order() -> None:
    existing = {"+2": StoredFields(fields={"phone": "+2"}, revision=0)}

    split = split_batch(_rows("+1", "+2", "+3", "+1", "+4"), existing, first_seq=10)

    assert split.new_values == ["+3", '{"phone":"+3"}', 11, 4, "+4", '{"phone":"+4"}', 12, 6]
    assert split.new_count == 2
    assert [(row.identifier, row.line) for row in split.merge_rows] == [("+1", 2), ("+2", 3), ("+1", 5)]
    assert split.merge_seqs == {"+1": 10}


def test_created_history_prefix_matches_plan_batch() -> None:
    now = datetime(2026, 12, 4, 9, 30, 15, 123000, tzinfo=UTC)
    (plan,), _ = plan_batch([ContactRow("+1", {}, 42)], {}, upload_id="abc123", now=now, first_seq=1)

    text = created_history_prefix(now, "abc123") + "42}]"

    assert text == orjson.dumps(plan.history).decode()
