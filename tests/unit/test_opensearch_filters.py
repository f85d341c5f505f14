"""Bedrock Knowledge Bases filters translated to OpenSearch query DSL."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.adapters.aws.opensearch_vector_index import field_of, keyword_query, knn_query, to_query
from sluice.domain.filters import Condition, Group, parse_filter

CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"equals": {"key": "team", "value": "legal"}}, {"term": {"metadata.team": "legal"}}),
    ({"equals": {"key": "draft", "value": True}}, {"term": {"metadata.draft": True}}),
    ({"notEquals": {"key": "year", "value": 2021}}, {"bool": {"must_not": [{"term": {"metadata.year": 2021}}]}}),
    ({"greaterThan": {"key": "year", "value": 2021}}, {"range": {"metadata.year": {"gt": 2021}}}),
    ({"greaterThanOrEquals": {"key": "year", "value": 2021}}, {"range": {"metadata.year": {"gte": 2021}}}),
    ({"lessThan": {"key": "ratio", "value": 0.75}}, {"range": {"metadata.ratio": {"lt": 0.75}}}),
    ({"lessThanOrEquals": {"key": "year", "value": 2021}}, {"range": {"metadata.year": {"lte": 2021}}}),
    ({"in": {"key": "team", "value": ["legal", "sales"]}}, {"terms": {"metadata.team": ["legal", "sales"]}}),
    ({"notIn": {"key": "year", "value": [2024]}}, {"bool": {"must_not": [{"terms": {"metadata.year": [2024]}}]}}),
    ({"startsWith": {"key": "source", "value": "docs/legal/"}}, {"prefix": {"source": "docs/legal/"}}),
    ({"listContains": {"key": "tags", "value": "nda"}}, {"term": {"metadata.tags": "nda"}}),
    ({"stringContains": {"key": "title", "value": "Plan"}}, {"wildcard": {"title.keyword": {"value": "*Plan*"}}}),
    ({"equals": {"key": "document_id", "value": "abc"}}, {"term": {"document_id": "abc"}}),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[next(iter(raw)) for raw, _ in CASES])
def test_each_operator(raw: dict[str, Any], expected: dict[str, Any]) -> None:
    parsed = parse_filter(raw)
    assert parsed is not None
    assert to_query(parsed) == expected


def test_every_comparison_operator_is_covered() -> None:
    from sluice.domain.filters import COMPARISONS

    assert {next(iter(raw)) for raw, _ in CASES} == set(COMPARISONS)


def test_and_all_is_a_bool_filter_and_or_all_a_should_with_one_match() -> None:
    either = {"orAll": [{"equals": {"key": "team", "value": "legal"}}, {"lessThan": {"key": "year", "value": 2020}}]}
    parsed = parse_filter({"andAll": [either, {"notIn": {"key": "year", "value": [2024]}}]})
    assert parsed is not None

    assert to_query(parsed) == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [{"term": {"metadata.team": "legal"}}, {"range": {"metadata.year": {"lt": 2020}}}],
                        "minimum_should_match": 1,
                    }
                },
                {"bool": {"must_not": [{"terms": {"metadata.year": [2024]}}]}},
            ]
        }
    }


def test_string_contains_escapes_wildcard_characters() -> None:
    query = to_query(Condition("stringContains", "note", "50% * off? a\\b"))
    assert query == {"wildcard": {"metadata.note": {"value": "*50% \\* off\\? a\\\\b*"}}}


def test_builtin_fields_win_over_metadata_keys_and_other_keys_are_metadata() -> None:
    assert [field_of(key) for key in ("source", "document_id", "title")] == ["source", "document_id", "title.keyword"]
    assert field_of("year") == "metadata.year" and field_of("a.b") == "metadata.a.b"


def test_deep_nesting_keeps_its_shape() -> None:
    leaf = Condition("equals", "team", "x")
    tree = Group("orAll", (Group("andAll", (leaf, leaf)), Group("orAll", (leaf, Group("andAll", (leaf, leaf))))))
    term = {"term": {"metadata.team": "x"}}
    both = {"bool": {"filter": [term, term]}}

    assert to_query(tree) == {
        "bool": {
            "should": [both, {"bool": {"should": [term, both], "minimum_should_match": 1}}],
            "minimum_should_match": 1,
        }
    }


def test_searches_always_filter_on_the_tenant_first() -> None:
    condition = Condition("equals", "team", "x")
    keyword = keyword_query("report", 5, "acme", condition)
    assert keyword is not None
    assert keyword["query"]["bool"]["filter"] == [{"term": {"tenant": "acme"}}, {"term": {"metadata.team": "x"}}]
    knn = knn_query([1.0, 0.0], 5, "acme")["query"]["knn"]["vector"]
    assert knn["filter"] == {"bool": {"filter": [{"term": {"tenant": "acme"}}]}}


@pytest.mark.parametrize("text", ["", "   ", "?!", "\n\t"])
def test_queries_without_words_are_not_sent(text: str) -> None:
    assert keyword_query(text, 5, "acme") is None


def test_a_query_of_only_stopwords_keeps_them() -> None:
    query = keyword_query("what is it", 5, "acme")
    assert query is not None
    assert query["query"]["bool"]["must"][0]["multi_match"]["query"] == "what is it"
