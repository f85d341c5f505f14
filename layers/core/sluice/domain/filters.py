"""Metadata filters in the Amazon Bedrock Knowledge Bases grammar.

A filter is JSON such as::

    {"andAll": [{"equals": {"key": "team", "value": "legal"}},
                {"greaterThanOrEquals": {"key": "year", "value": 2023}}]}

``parse_filter`` validates it once (``FilterError`` names what is wrong);
``Filter.matches`` evaluates it against one chunk's fields, and the
OpenSearch adapter translates the same tree into query DSL.
Besides user metadata, the fields ``source``, ``document_id`` and ``title``
can be filtered on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

from sluice.domain.errors import FilterError

COMPARISONS = (
    "equals",
    "notEquals",
    "greaterThan",
    "greaterThanOrEquals",
    "lessThan",
    "lessThanOrEquals",
    "in",
    "notIn",
    "startsWith",
    "listContains",
    "stringContains",
)
LOGICAL = ("andAll", "orAll")
BUILTIN_FIELDS = ("source", "document_id", "title")


@dataclass(frozen=True)
class Condition:
    op: str
    key: str
    value: Any

    def matches(self, fields: Mapping[str, Any]) -> bool:
        if self.key not in fields:
            return self.op in ("notEquals", "notIn")
        return _compare(self.op, fields[self.key], self.value)


@dataclass(frozen=True)
class Group:
    op: str
    children: tuple[Filter, ...]

    def matches(self, fields: Mapping[str, Any]) -> bool:
        results = (child.matches(fields) for child in self.children)
        return all(results) if self.op == "andAll" else any(results)


Filter = Union[Condition, Group]


def parse_filter(raw: Any) -> Filter | None:
    """Validate a filter as sent by a client; ``None`` or ``{}`` mean no filter."""
    if raw is None or raw == {}:
        return None
    return _parse(raw, "filter")


def _parse(raw: Any, where: str) -> Filter:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise FilterError(f"{where} must be an object with exactly one operator, e.g. {{\"equals\": {{...}}}}")
    (op, body), = raw.items()
    if op in LOGICAL:
        return _parse_group(op, body, where)
    if op in COMPARISONS:
        return _parse_condition(op, body, where)
    known = ", ".join(COMPARISONS + LOGICAL)
    raise FilterError(f"unknown filter operator {op!r} in {where}; use one of: {known}")


def _parse_group(op: str, body: Any, where: str) -> Group:
    if not isinstance(body, list) or len(body) < 2:
        raise FilterError(f"{op} in {where} takes a list of at least two filters")
    children = tuple(_parse(child, f"{where}.{op}[{n}]") for n, child in enumerate(body))
    return Group(op, children)


def _parse_condition(op: str, body: Any, where: str) -> Condition:
    if not isinstance(body, Mapping) or set(body) != {"key", "value"}:
        raise FilterError(f"{op} in {where} takes an object with exactly 'key' and 'value'")
    key, value = body["key"], body["value"]
    if not isinstance(key, str) or not key:
        raise FilterError(f"{op} in {where}: 'key' must be a non-empty string")
    _check_value(op, value, where)
    return Condition(op, key, value)


def _check_value(op: str, value: Any, where: str) -> None:
    scalar = (str, int, float, bool)
    if op in ("in", "notIn"):
        if not isinstance(value, list) or not value or not all(isinstance(v, scalar) for v in value):
            raise FilterError(f"{op} in {where}: 'value' must be a non-empty list of strings or numbers")
    elif op in ("greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FilterError(f"{op} in {where}: 'value' must be a number")
    elif op in ("startsWith", "stringContains", "listContains"):
        if not isinstance(value, str):
            raise FilterError(f"{op} in {where}: 'value' must be a string")
    elif not isinstance(value, scalar):
        raise FilterError(f"{op} in {where}: 'value' must be a string, number or boolean")


def _compare(op: str, actual: Any, value: Any) -> bool:
    if op == "equals":
        return _same(actual, value)
    if op == "notEquals":
        return not _same(actual, value)
    if op == "in":
        return any(_same(actual, v) for v in value)
    if op == "notIn":
        return not any(_same(actual, v) for v in value)
    if op == "listContains":
        return isinstance(actual, list) and value in actual
    if op == "startsWith":
        return isinstance(actual, str) and actual.startswith(value)
    if op == "stringContains":
        if isinstance(actual, list):
            return any(isinstance(a, str) and value in a for a in actual)
        return isinstance(actual, str) and value in actual
    return _order(op, actual, value)


def _same(actual: Any, value: Any) -> bool:
    if isinstance(actual, list):
        return value in actual
    if isinstance(actual, bool) or isinstance(value, bool):
        return actual is value
    return bool(actual == value)


def _order(op: str, actual: Any, value: float) -> bool:
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    if op == "greaterThan":
        return actual > value
    if op == "greaterThanOrEquals":
        return actual >= value
    if op == "lessThan":
        return actual < value
    return actual <= value
