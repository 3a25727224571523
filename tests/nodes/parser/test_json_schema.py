"""Ajv-shaped errors from the jsonschema-based validator (expectations recorded from Ajv 8.18)."""

from __future__ import annotations

from typing import Any

import pytest

from nodes.parser.json_schema import SchemaCompileError, SchemaValidator, errors_text


def texts(schema: Any, data: Any) -> str:
    return errors_text(SchemaValidator(schema).validate(data))


@pytest.mark.parametrize(
    ("schema", "data", "expected"),
    [
        (
            {"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string", "minLength": 3}},
             "additionalProperties": False},
            {"a": "x", "d": 1, "e": 2},
            "data must have required property 'b', data must NOT have additional properties, "
            "data must NOT have additional properties, data/a must NOT have fewer than 3 characters",
        ),
        ({"type": "number", "minimum": 5, "maximum": 10, "multipleOf": 3}, 4, "data must be >= 5, data must be multiple of 3"),
        ({"anyOf": [{"type": "string"}, {"type": "number", "minimum": 3}]}, 1,
         "data must be string, data must be >= 3, data must match a schema in anyOf"),
        ({"type": "number", "enum": [1], "minimum": 5}, "x",
         "data must be equal to one of the allowed values, data must be number"),
        ({"items": {"type": "number"}, "uniqueItems": True, "minItems": 5}, [1, "a", 1],
         "data must NOT have fewer than 5 items, data/1 must be number, "
         "data must NOT have duplicate items (items ## 2 and 0 are identical)"),
        ({"if": {"type": "string"}, "then": {"minLength": 3}}, "a",
         'data must NOT have fewer than 3 characters, data must match "then" schema'),
        ({"propertyNames": {"maxLength": 2}}, {"abc": 1, "de": 2},
         "data must NOT have more than 2 characters, data property name must be valid"),
        ({"properties": {"a": {"$ref": "#/definitions/x"}}, "definitions": {"x": {"type": "string"}}}, {"a": 1},
         "data/a must be string"),
    ],
)  # fmt: skip
def test_schema_errors_text_matches_ajv(schema: Any, data: Any, expected: str) -> None:
    assert texts(schema, data) == expected


def test_schema_error_objects_match_ajv() -> None:
    errors = SchemaValidator({"patternProperties": {"^x": {"type": "string"}}}).validate({"xy": 1})

    assert errors == [
        {"instancePath": "/xy", "schemaPath": "#/patternProperties/%5Ex/type", "keyword": "type",
         "params": {"type": "string"}, "message": "must be string"}
    ]  # fmt: skip


def test_schema_one_of_names_first_two_passing() -> None:
    errors = SchemaValidator({"oneOf": [{"type": "number"}, {"type": "integer"}, {"minimum": 0}]}).validate(1)

    assert errors[-1]["params"] == {"passingSchemas": [0, 1]}


def test_schema_false_subschema_error() -> None:
    errors = SchemaValidator({"properties": {"a": False}}).validate({"a": 1})

    assert errors == [
        {"instancePath": "/a", "schemaPath": "#/properties/a/false schema", "keyword": "false schema",
         "params": {}, "message": "boolean schema is false"}
    ]  # fmt: skip


def test_schema_valid_data_has_no_errors() -> None:
    assert SchemaValidator({"type": "object"}).validate({"a": 1}) == []


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"format": "email"}, 'unknown format "email"'),
        ({"bogus": 1}, 'strict mode: unknown keyword: "bogus"'),
        ({"id": "x"}, 'NOT SUPPORTED: keyword "id"'),
        ({"$schema": "https://json-schema.org/draft/2020-12/schema"}, "no schema with key or ref"),
        ({"type": 5}, "schema is invalid"),
        ({"$ref": "#/nowhere"}, "can't resolve reference"),
        (3, "schema must be object or boolean"),
    ],
)
def test_schema_rejects_what_ajv_strict_mode_rejects(schema: Any, reason: str) -> None:
    with pytest.raises(SchemaCompileError, match=reason):
        SchemaValidator(schema)


def test_schema_accepts_draft_06() -> None:
    validator = SchemaValidator({"$schema": "http://json-schema.org/draft-06/schema#", "type": "string"})

    assert validator.validate(1)[0]["message"] == "must be string"
