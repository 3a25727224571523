"""JSON Schema validation for the json node, reporting errors as Ajv 8 does.

Node-RED 4.1.8 validates with Ajv 8 (``allErrors``, draft-07 plus the
draft-06 meta-schema, strict mode, no formats registered). This module
validates with the ``jsonschema`` library and rewrites its errors into Ajv's
objects (``instancePath``, ``schemaPath``, ``keyword``, ``params``,
``message``), in Ajv's order, so ``msg.schemaError`` and the error text
(:func:`errors_text`) match.

Ajv's strict mode refuses to compile schemas with unknown keywords, any
``format`` (Node-RED registers no formats), the old ``id`` keyword, or a
``$schema`` other than draft-07 or draft-06; :class:`SchemaValidator` raises
:class:`SchemaCompileError` for those, as for schemas that are not valid
against their meta-schema or have unresolvable references.

NOTE: error order follows Ajv's keyword order at each schema level; for
errors at different depths under ``additionalProperties``/``patternProperties``
schemas it may differ from Ajv's.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing.exceptions import Unresolvable

from runtime.jsvalues import UNDEFINED, number_to_string

_DRAFT7_URIS = frozenset({"http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-07/schema#"})
_DRAFT6_URIS = frozenset({"http://json-schema.org/draft-06/schema", "http://json-schema.org/draft-06/schema#"})

# Ajv 8's draft-07 vocabulary (core, validation, applicator, metadata, content).
_KNOWN_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$defs", "$vocabulary", "$comment", "definitions", "$ref",
        "type", "nullable", "const", "enum",
        "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf",
        "maxLength", "minLength", "pattern",
        "maxProperties", "minProperties", "required",
        "maxItems", "minItems", "uniqueItems",
        "not", "anyOf", "oneOf", "allOf", "if", "then", "else",
        "propertyNames", "additionalProperties", "dependencies", "properties", "patternProperties",
        "additionalItems", "items", "contains",
        "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
        "contentMediaType", "contentEncoding", "contentSchema",
    }
)  # fmt: skip

# Keywords whose value is a schema, a list of schemas, or a map of schemas.
_SCHEMA_KEYWORDS = frozenset({"not", "if", "then", "else", "propertyNames", "additionalProperties", "additionalItems", "contains"})
_SCHEMA_LIST_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "items"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "dependencies", "definitions", "$defs"})

# Ajv evaluates keywords in groups (untyped, number, string, array, object) and,
# inside a group, in the order its vocabularies add them.
_KEYWORD_RANK = {
    keyword: rank
    for rank, keyword in enumerate(
        [
            "$ref", "const", "enum", "not", "anyOf", "oneOf", "allOf", "if", "then", "else",
            "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf", "@number",
            "maxLength", "minLength", "pattern", "@string",
            "maxItems", "minItems", "additionalItems", "items", "contains", "uniqueItems", "@array",
            "maxProperties", "minProperties", "required", "propertyNames", "additionalProperties",
            "dependencies", "properties", "patternProperties", "@object",
        ]
    )
}  # fmt: skip
_GROUP_KEYWORDS = {
    "number": {"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf"},
    "string": {"maxLength", "minLength", "pattern"},
    "array": {"maxItems", "minItems", "additionalItems", "items", "contains", "uniqueItems"},
    "object": {"maxProperties", "minProperties", "required", "propertyNames", "additionalProperties",
               "dependencies", "properties", "patternProperties"},
}  # fmt: skip
_LIMIT_COMPARISONS = {"maximum": "<=", "minimum": ">=", "exclusiveMaximum": "<", "exclusiveMinimum": ">"}
_LIMIT_NOUNS = {
    "maxLength": ("more", "characters"), "minLength": ("fewer", "characters"),
    "maxItems": ("more", "items"), "minItems": ("fewer", "items"),
    "maxProperties": ("more", "properties"), "minProperties": ("fewer", "properties"),
}  # fmt: skip

SortKey = tuple[Any, ...]
Path = tuple[Any, ...]
Keyed = tuple[SortKey, dict[str, Any]]

# Sorts after every keyword rank and index: the error of an applicator follows its subschemas' errors.
_LAST = float("inf")


class SchemaCompileError(ValueError):
    """A schema that Ajv 8 in strict mode would not compile."""


def errors_text(errors: list[dict[str, Any]]) -> str:
    """Join errors as Ajv's ``errorsText`` does: ``data/a must be string, data must ...``."""
    return ", ".join(f"data{error['instancePath']} {error['message']}" for error in errors)


class SchemaValidator:
    """One compiled schema; :meth:`validate` returns Ajv-shaped errors."""

    def __init__(self, schema: Any) -> None:
        if not isinstance(schema, (dict, bool)):
            raise SchemaCompileError("schema must be object or boolean")
        validator_class = _validator_class(schema)
        _check_strict(schema)
        try:
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise SchemaCompileError(f"schema is invalid: {exc.message}") from exc
        self.schema = schema
        self._validator = validator_class(schema)
        self._pointers = _schema_pointers(schema)
        self._check_references(schema)

    def _check_references(self, schema: Any) -> None:
        for ref in _references(schema):
            try:
                self._validator.evolve(schema={"$ref": ref}).is_valid(None)
            except Unresolvable as exc:
                raise SchemaCompileError(f"can't resolve reference {ref}") from exc

    def validate(self, value: Any) -> list[dict[str, Any]]:
        """Validate a message value; return Ajv's error objects, empty when valid."""
        instance = _as_json_value(value)
        keyed = list(self._convert_all(self.schema, instance, (), ()))
        keyed.sort(key=lambda pair: pair[0])
        return [error for _, error in keyed]

    # -- conversion to Ajv errors -------------------------------------------------------

    def _convert_all(self, base: Any, instance: Any, instance_prefix: Path, key_prefix: SortKey) -> Iterator[Keyed]:
        """Validate ``instance`` against ``base`` (the root schema or a subschema) and convert the errors."""
        errors = self._validator.evolve(schema=base).iter_errors(instance)
        seen: dict[tuple[Any, ...], int] = {}
        wrappers: dict[tuple[Any, ...], Keyed] = {}
        for error in errors:
            yield from self._convert(error, _Run(instance_prefix, key_prefix, base, instance, seen, wrappers))
        yield from wrappers.values()

    def _convert(self, error: ValidationError, run: _Run) -> Iterator[Keyed]:
        keyword = error.validator
        instance_path = run.instance_prefix + tuple(error.absolute_path)
        steps = _walk(list(error.absolute_schema_path), run.base, tuple(error.absolute_path), run.instance, error.instance)
        key = run.key_prefix + tuple(step.rank for step in steps)
        schema_path = self._schema_path(error, run)

        def make(params: dict[str, Any], message: str, **extra: Any) -> dict[str, Any]:
            body = {"instancePath": _pointer(instance_path), "schemaPath": _fragment(schema_path),
                    "keyword": keyword if keyword is not None else "false schema", "params": params, "message": message}  # fmt: skip
            body.update(extra)
            return body

        # Errors under then/else and propertyNames are followed by one error for the keyword itself.
        self._add_wrappers(error, steps, instance_path, run)

        if keyword is None:
            instance_path, schema_path = self._false_schema_location(error, run, instance_path)
            body = _error_body(instance_path, schema_path, "false schema", {}, "boolean schema is false")
            # Ajv appends the keyword name without encoding its space.
            body["schemaPath"] += "/false schema"
            yield key, body
        elif keyword == "required":
            yield from _counted(error, run.seen, key, schema_path, instance_path, _missing_required(error), make)
        elif keyword == "dependencies":
            yield from _counted(error, run.seen, key, schema_path, instance_path, _missing_dependencies(error), make)
        elif keyword == "additionalProperties":
            for index, extra_key in enumerate(_additional_properties(error)):
                yield key + (index,), make({"additionalProperty": extra_key}, "must NOT have additional properties")
        elif keyword in ("anyOf", "oneOf", "contains"):
            yield from self._applicator(error, instance_path, key, make)
        else:
            params, message = _simple_error(error)
            under_names = any(step.is_keyword and step.part == "propertyNames" for step in steps)
            extra = {"propertyName": error.instance} if under_names else {}
            yield key, make(params, message, **extra)

    def _applicator(self, error: ValidationError, instance_path: Path, key: SortKey, make: Any) -> Iterator[Keyed]:
        """Convert anyOf, oneOf and contains: their subschema errors first, then their own."""
        keyword = error.validator
        if keyword == "contains":
            for index, item in enumerate(error.instance):
                yield from self._convert_all(error.validator_value, item, instance_path + (index,), key + (index,))
            yield key + (_LAST,), make({"minContains": 1}, "must contain at least 1 valid item(s)")
            return

        passing = []
        for index, subschema in enumerate(error.validator_value):
            sub_errors = list(self._convert_all(subschema, error.instance, instance_path, key + (index,)))
            if not sub_errors:
                passing.append(index)
            yield from sub_errors
        if keyword == "anyOf":
            yield key + (_LAST,), make({}, "must match a schema in anyOf")
        else:
            # Ajv names the first two passing subschemas, or null when none passed.
            shown = passing[:2] if passing else None
            yield key + (_LAST,), make({"passingSchemas": shown}, "must match exactly one schema in oneOf")

    def _add_wrappers(self, error: ValidationError, steps: list[_Step], instance_path: Path, run: _Run) -> None:
        for position, step in enumerate(steps):
            if not step.is_keyword or step.part not in ("then", "else", "propertyNames"):
                continue
            owner = self._pointers.get(id(step.schema), ())
            wrapper_key: tuple[Any, ...]
            rank_prefix = run.key_prefix + tuple(previous.rank for previous in steps[:position])
            if step.part == "propertyNames":
                wrapper_key = (instance_path, owner, step.part, error.instance)
                sort_key = rank_prefix + (step.rank, steps[position + 1].rank, _LAST)
                body = _error_body(instance_path, owner + ("propertyNames",), "propertyNames",
                                   {"propertyName": error.instance}, "property name must be valid")  # fmt: skip
            else:
                wrapper_key = (instance_path, owner, step.part)
                sort_key = rank_prefix + (step.rank, _LAST)
                body = _error_body(instance_path, owner + ("if",), "if",
                                   {"failingKeyword": step.part}, f'must match "{step.part}" schema')  # fmt: skip
            run.wrappers.setdefault(wrapper_key, (sort_key, body))

    def _false_schema_location(self, error: ValidationError, run: _Run, instance_path: Path) -> tuple[Path, Path]:
        """Locate a ``false`` subschema, which jsonschema reports without the property it applies to."""
        schema_path = self._pointers.get(id(run.base), ()) + tuple(error.absolute_schema_path)
        if not error.absolute_schema_path or error.absolute_schema_path[-1] != "properties":
            return instance_path, schema_path
        owner = _child_at(run.base, tuple(error.absolute_schema_path)[:-1])
        parent = _child_at(run.instance, tuple(error.absolute_path))
        properties = owner.get("properties", {}) if isinstance(owner, dict) else {}
        names = [name for name, sub in properties.items() if sub is False and isinstance(parent, dict) and name in parent]
        location = (instance_path, schema_path)
        index = run.seen.get(location, 0)
        run.seen[location] = index + 1
        if index >= len(names):
            return instance_path, schema_path
        return instance_path + (names[index],), schema_path + (names[index],)

    def _schema_path(self, error: ValidationError, run: _Run) -> Path:
        """Return Ajv's schemaPath parts: where the failing keyword sits, $ref targets included."""
        owner = self._pointers.get(id(error.schema)) if isinstance(error.schema, dict) else None
        if owner is None:
            # A boolean schema has no identity to look up; its path within the run locates it.
            return self._pointers.get(id(run.base), ()) + tuple(error.absolute_schema_path)
        if error.validator is None:
            return owner
        return owner + (error.validator,)


class _Run:
    """State shared by the errors of one validation run."""

    __slots__ = ("instance_prefix", "key_prefix", "base", "instance", "seen", "wrappers")

    def __init__(self, instance_prefix: Path, key_prefix: SortKey, base: Any, instance: Any,
                 seen: dict[tuple[Any, ...], int], wrappers: dict[tuple[Any, ...], Keyed]) -> None:  # fmt: skip
        self.instance = instance
        self.instance_prefix = instance_prefix
        self.key_prefix = key_prefix
        self.base = base
        self.seen = seen
        self.wrappers = wrappers


class _Step:
    """One element of a jsonschema error path: a keyword or a child name/index, with its rank."""

    __slots__ = ("part", "is_keyword", "schema", "rank")

    def __init__(self, part: Any, is_keyword: bool, schema: Any, rank: Any) -> None:
        self.part = part
        self.is_keyword = is_keyword
        self.schema = schema
        self.rank = rank


def _walk(path: list[Any], base: Any, instance_path: Path, instance: Any, leaf: Any = None) -> list[_Step]:
    """Follow an error's schema path from ``base``, ranking each step as Ajv orders its checks.

    Keywords rank by Ajv's keyword order, and ``properties`` children by
    schema order. Children that stand for data members (``items``,
    ``additionalProperties``, ``patternProperties``) rank by the members'
    order in ``instance``.
    ``leaf`` is the failing value, the property name under ``propertyNames``.
    """
    steps = []
    schema = base
    data_index = 0
    position = 0
    while position < len(path):
        part = path[position]
        position += 1
        if not isinstance(part, str) or not isinstance(schema, dict):
            steps.append(_Step(part, False, schema, _child_rank(part, schema)))
            schema = _child(schema, part)
            continue

        steps.append(_Step(part, True, schema, _keyword_rank(part, schema)))
        container = schema.get(part)
        if part in ("properties", "patternProperties", "dependencies", "definitions", "$defs") and position < len(path):
            # The next element names a child schema of this map.
            child = path[position]
            position += 1
            steps.append(_Step(child, False, container, _child_rank(child, container)))
            container = _child(container, child)
            if part == "properties":
                data_index += 1
                instance = _child(instance, child)
        elif part in ("items", "additionalItems") and isinstance(container, list) and position < len(path):
            child = path[position]
            position += 1
            steps.append(_Step(child, False, container, child))
            container = _child(container, child)
            data_index += 1
            instance = _child(instance, child)
        if part == "propertyNames":
            # Ajv checks one name at a time, so order by the name's place in the data.
            steps.append(_Step(leaf, False, instance, _child_rank(leaf, instance)))
        if part in ("patternProperties", "additionalProperties") or (part in ("items", "additionalItems") and isinstance(schema.get(part), dict)):
            # These apply their schema to many data members; order by the member's place in the data.
            member = instance_path[data_index] if data_index < len(instance_path) else None
            steps.append(_Step(member, False, instance, _child_rank(member, instance)))
            instance = _child(instance, member)
            data_index += 1
        schema = container
    return steps


def _child_at(container: Any, path: Path) -> Any:
    for part in path:
        container = _child(container, part)
    return container


def _child(container: Any, part: Any) -> Any:
    if isinstance(container, dict):
        return container.get(part)
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return container[part]
    return None


def _counted(error: ValidationError, seen: dict[tuple[Any, ...], int], key: SortKey, schema_path: Path,
             instance_path: Path, missing: list[tuple[dict[str, Any], str]], make: Any) -> Iterator[Keyed]:  # fmt: skip
    """Emit the n-th of the errors jsonschema reports one by one for one keyword (required, dependencies)."""
    location = (instance_path, schema_path)
    index = seen.get(location, 0)
    seen[location] = index + 1
    if index < len(missing):
        params, message = missing[index]
        yield key + (index,), make(params, message)


def _error_body(instance_path: Path, schema_path: Path, keyword: str, params: dict[str, Any], message: str) -> dict[str, Any]:
    return {"instancePath": _pointer(instance_path), "schemaPath": _fragment(schema_path),
            "keyword": keyword, "params": params, "message": message}  # fmt: skip


def _keyword_rank(keyword: str, schema: Any) -> Any:
    if keyword != "type":
        return _KEYWORD_RANK.get(keyword, len(_KEYWORD_RANK))
    # Ajv checks a single type inside its keyword group when the schema has
    # keywords of that group, and before all keywords otherwise.
    declared = schema.get("type") if isinstance(schema, dict) else None
    group = "number" if declared == "integer" else declared
    if isinstance(group, str) and group in _GROUP_KEYWORDS and _GROUP_KEYWORDS[group] & set(schema):
        return _KEYWORD_RANK["@" + group]
    return -1


def _child_rank(part: Any, container: Any) -> Any:
    if isinstance(part, int):
        return part
    if isinstance(container, dict):
        return list(container).index(part) if part in container else len(container)
    return 0


# -- errors of single keywords ------------------------------------------------------------


def _simple_error(error: ValidationError) -> tuple[dict[str, Any], str]:
    """Return Ajv's params and message for a keyword that fails on its own."""
    keyword, value = error.validator, error.validator_value
    if keyword is None:
        return {}, "boolean schema is false"

    if keyword == "type":
        shown = ",".join(value) if isinstance(value, list) else value
        return {"type": value}, f"must be {shown}"
    if keyword in _LIMIT_COMPARISONS:
        comparison = _LIMIT_COMPARISONS[keyword]
        return {"comparison": comparison, "limit": value}, f"must be {comparison} {_number_text(value)}"
    if keyword in _LIMIT_NOUNS:
        direction, noun = _LIMIT_NOUNS[keyword]
        return {"limit": value}, f"must NOT have {direction} than {_number_text(value)} {noun}"

    if keyword == "multipleOf":
        return {"multipleOf": value}, f"must be multiple of {_number_text(value)}"
    if keyword == "pattern":
        return {"pattern": value}, f'must match pattern "{value}"'
    if keyword == "enum":
        return {"allowedValues": value}, "must be equal to one of the allowed values"
    if keyword == "const":
        return {"allowedValue": value}, "must be equal to constant"

    if keyword == "not":
        return {}, "must NOT be valid"
    if keyword == "uniqueItems":
        first, second = _duplicate_pair(error)
        return {"i": first, "j": second}, f"must NOT have duplicate items (items ## {second} and {first} are identical)"
    if keyword == "additionalItems":
        limit = len(error.schema.get("items") or [])
        return {"limit": limit}, f"must NOT have more than {limit} items"
    return {}, error.message


def _missing_required(error: ValidationError) -> list[tuple[dict[str, Any], str]]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        ({"missingProperty": name}, f"must have required property '{name}'")
        for name in error.validator_value
        if name not in instance
    ]


def _missing_dependencies(error: ValidationError) -> list[tuple[dict[str, Any], str]]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    found = []
    for name, dependency in error.validator_value.items():
        if name not in instance or not isinstance(dependency, list):
            continue
        words = "property" if len(dependency) == 1 else "properties"
        deps = ", ".join(dependency)
        for missing in dependency:
            if missing not in instance:
                params = {"property": name, "missingProperty": missing, "depsCount": len(dependency), "deps": deps}
                found.append((params, f"must have {words} {deps} when property {name} is present"))
    return found


def _additional_properties(error: ValidationError) -> list[str]:
    schema = error.schema
    declared = schema.get("properties") or {}
    patterns = [re.compile(pattern) for pattern in schema.get("patternProperties") or {}]
    return [
        key for key in error.instance
        if key not in declared and not any(pattern.search(key) for pattern in patterns)
    ]  # fmt: skip


def _duplicate_pair(error: ValidationError) -> tuple[int, int]:
    """Find the pair Ajv reports: the scan from the end, by value for scalar item types."""
    items = error.instance
    item_schema = error.schema.get("items")
    item_types = item_schema.get("type") if isinstance(item_schema, dict) else None
    types = [item_types] if isinstance(item_types, str) else (item_types or [])
    scalar = bool(types) and all(t in ("string", "number", "integer", "boolean", "null") for t in types)
    if scalar:
        last_seen: dict[Any, int] = {}
        for index in range(len(items) - 1, -1, -1):
            marker = (type(items[index]).__name__ if isinstance(items[index], bool) else "", items[index])
            if marker in last_seen:
                return index, last_seen[marker]
            last_seen[marker] = index
    for first in range(len(items) - 1, -1, -1):
        for second in range(first - 1, -1, -1):
            if _json_equal(items[first], items[second]):
                return first, second
    return 0, 0


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _number_text(value: Any) -> str:
    return number_to_string(value) if isinstance(value, (int, float)) else str(value)


# -- compile checks ----------------------------------------------------------------------------


def _validator_class(schema: Any) -> Any:
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    if declared is None or declared in _DRAFT7_URIS:
        return jsonschema.Draft7Validator
    if declared in _DRAFT6_URIS:
        return jsonschema.Draft6Validator
    raise SchemaCompileError(f'no schema with key or ref "{declared}"')


def _check_strict(schema: Any) -> None:
    """Raise where Ajv's strict mode rejects a keyword, walking every subschema."""
    for subschema in _subschemas(schema):
        for keyword in subschema:
            if keyword == "id":
                raise SchemaCompileError('NOT SUPPORTED: keyword "id", use "$id" for schema ID')
            if keyword == "format":
                raise SchemaCompileError(f'unknown format "{subschema[keyword]}" ignored in schema')
            if keyword not in _KNOWN_KEYWORDS:
                raise SchemaCompileError(f'strict mode: unknown keyword: "{keyword}"')


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    yield schema
    for keyword, value in schema.items():
        if keyword in _SCHEMA_KEYWORDS:
            yield from _subschemas(value)
        elif keyword in _SCHEMA_LIST_KEYWORDS:
            for item in value if isinstance(value, list) else [value]:
                yield from _subschemas(item)
        elif keyword in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for item in value.values():
                yield from _subschemas(item)


def _references(schema: Any) -> Iterator[str]:
    for subschema in _subschemas(schema):
        ref = subschema.get("$ref")
        if isinstance(ref, str):
            yield ref


def _schema_pointers(schema: Any, path: tuple[Any, ...] = ()) -> dict[int, tuple[Any, ...]]:
    """Map each subschema object (by identity) to its location in the root schema."""
    pointers: dict[int, tuple[Any, ...]] = {}
    if not isinstance(schema, dict):
        return pointers
    pointers[id(schema)] = path
    for keyword, value in schema.items():
        if keyword in _SCHEMA_KEYWORDS:
            pointers.update(_schema_pointers(value, path + (keyword,)))
        elif keyword in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for index, item in enumerate(value):
                pointers.update(_schema_pointers(item, path + (keyword, index)))
        elif keyword in _SCHEMA_LIST_KEYWORDS:
            pointers.update(_schema_pointers(value, path + (keyword,)))
        elif keyword in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, item in value.items():
                pointers.update(_schema_pointers(item, path + (keyword, name)))
    return pointers


def _pointer(parts: tuple[Any, ...]) -> str:
    """Return a JSON pointer, as Ajv writes instancePath."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _fragment(parts: tuple[Any, ...]) -> str:
    """Return a URI fragment pointer, as Ajv writes schemaPath (``encodeURIComponent`` per segment)."""
    return "#" + "".join("/" + quote(str(part).replace("~", "~0").replace("/", "~1"), safe="-_.!~*'()") for part in parts)


class _UndefinedData:
    """Undefined as validated data: no JSON type matches it, so only ``type`` and the like fail."""


def _as_json_value(value: Any) -> Any:
    """Convert a message value to the data Ajv validates: Buffers and Dates are objects, undefined members are absent."""
    if value is UNDEFINED:
        return _UndefinedData()
    if isinstance(value, dict):
        return {key: _as_json_value(item) for key, item in value.items() if item is not UNDEFINED}
    if isinstance(value, list):
        return [None if item is UNDEFINED else _as_json_value(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return {str(index): byte for index, byte in enumerate(value)}
    if isinstance(value, _dt.datetime) or not isinstance(value, (str, int, float, bool, type(None))):
        return {}
    return value
