"""Checks on names and values before anything reaches a store."""

from __future__ import annotations

import pytest

from runtime.store.models import (
    Campaign,
    ContactRow,
    CustomField,
    EncodedRows,
    StoreValueError,
    check_field_name,
    check_field_value,
)


@pytest.mark.parametrize("name", ["$where", "a.b", "", "1st", "x" * 65, "first name"])
def test_check_field_name_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(StoreValueError, match="invalid field name"):
        check_field_name(name)


def test_check_field_value_rejects_containers() -> None:
    with pytest.raises(StoreValueError, match="invalid value for field 'tier': expected a string, number"):
        check_field_value("tier", {"$gt": ""})
    with pytest.raises(StoreValueError, match="got list"):
        check_field_value("tier", ["a"])


def test_custom_field_rejects_predefined_name() -> None:
    with pytest.raises(StoreValueError, match="custom field 'email' has the name of a predefined field"):
        CustomField("email", "string")


def test_custom_field_rejects_unknown_type() -> None:
    with pytest.raises(StoreValueError, match="invalid type 'money'; use one of string, number"):
        CustomField("budget", "money")


def test_custom_field_enum_needs_values() -> None:
    with pytest.raises(StoreValueError, match="enum field 'tier' needs at least one value"):
        CustomField("tier", "enum")


def test_campaign_rejects_unknown_identifier_field() -> None:
    with pytest.raises(StoreValueError, match="invalid identifier field 'first_name'; use one of phone"):
        Campaign(name="spring", identifier_field="first_name")


def test_campaign_rejects_colon_in_name() -> None:
    with pytest.raises(StoreValueError, match="invalid campaign name 'a:b'"):
        Campaign(name="a:b")


def test_encoded_rows_round_trip_value_types() -> None:
    rows = [
        ContactRow("+1", {"phone": "+1", "score": 4, "ratio": 4.0, "vip": True, "name": "Chloé"}, 2),
        ContactRow("+2", {"phone": "+2"}, 3),
    ]

    encoded = EncodedRows.from_rows(rows)

    assert encoded.decode() == rows
    assert [type(value) for value in encoded[0].fields.values()] == [str, int, float, bool, str]
    assert encoded.repeated == frozenset()


def test_encoded_rows_lists_repeated_identifiers() -> None:
    rows = [ContactRow("+1", {}, 2), ContactRow("+2", {}, 3), ContactRow("+1", {}, 4), ContactRow("+3", {}, 5)]

    assert EncodedRows.from_rows(rows).repeated == frozenset({"+1"})


def test_encoded_rows_reject_container_value() -> None:
    with pytest.raises(StoreValueError, match="invalid value for field 'tier'"):
        EncodedRows.from_rows([ContactRow("+1", {"tier": {"$gt": ""}}, 2)])


def test_encoded_rows_reject_non_string_identifier() -> None:
    with pytest.raises(StoreValueError, match="invalid identifier 7: expected a string, got int"):
        EncodedRows.from_rows([ContactRow(7, {}, 2)])  # type: ignore[arg-type]  # the check under test
