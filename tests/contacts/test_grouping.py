"""Grouping a file's rows by identifier in a temporary SQLite file."""

from __future__ import annotations

from pathlib import Path

from runtime.contacts.grouping import IdentifierGroups
from runtime.store.models import ContactRow


def _row(identifier: str, line: int, **fields: object) -> ContactRow:
    return ContactRow(identifier, {"phone": identifier, **fields}, line)


def test_grouped_batches_order_by_first_appearance(tmp_path: Path) -> None:
    with IdentifierGroups(tmp_path / "rows.db") as groups:
        groups.add([_row("+1", 2), _row("+2", 3), _row("+1", 4, first_name="Ann")])
        groups.add([_row("+3", 5), _row("+2", 6), _row("+1", 7)])

        batches = list(groups.grouped_batches(100))

    assert len(batches) == 1
    assert [(row.identifier, row.line) for row in batches[0]] == [
        ("+1", 2), ("+1", 4), ("+1", 7), ("+2", 3), ("+2", 6), ("+3", 5),
    ]
    assert batches[0][1].fields == {"phone": "+1", "first_name": "Ann"}


def test_grouped_batches_never_split_an_identifier(tmp_path: Path) -> None:
    rows = [_row(f"+{index % 5}", index + 2) for index in range(40)]
    with IdentifierGroups(tmp_path / "rows.db") as groups:
        groups.add(rows)

        batches = list(groups.grouped_batches(3))

    identifiers_per_batch = [{row.identifier for row in batch} for batch in batches]
    assert len(batches) == 5
    for index, identifiers in enumerate(identifiers_per_batch):
        others = set().union(*identifiers_per_batch[:index], *identifiers_per_batch[index + 1:])
        assert not identifiers & others
    assert sum(len(batch) for batch in batches) == 40


def test_grouped_batches_keep_value_types(tmp_path: Path) -> None:
    fields = {"score": 4, "ratio": 4.0, "vip": True, "huge": 10**30, "note": '{"$gt": ""}'}
    with IdentifierGroups(tmp_path / "rows.db") as groups:
        groups.add([ContactRow("+1", fields, 2)])

        (batch,) = list(groups.grouped_batches(10))

    assert batch[0].fields == fields
    assert [type(value) for value in batch[0].fields.values()] == [int, float, bool, int, str]


def test_grouped_batches_empty_when_nothing_added(tmp_path: Path) -> None:
    with IdentifierGroups(tmp_path / "rows.db") as groups:
        assert list(groups.grouped_batches(10)) == []
