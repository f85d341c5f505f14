import pytest

from sluice.domain.errors import FilterError
from sluice.domain.filters import parse_filter

DOC = {"team": "legal", "year": 2023, "draft": False, "tags": ["contract", "emea"], "source": "/docs/a.pdf"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"equals": {"key": "team", "value": "legal"}}, True),
        ({"equals": {"key": "team", "value": "ops"}}, False),
        ({"notEquals": {"key": "team", "value": "ops"}}, True),
        ({"notEquals": {"key": "missing", "value": "x"}}, True),
        ({"greaterThan": {"key": "year", "value": 2022}}, True),
        ({"greaterThan": {"key": "year", "value": 2023}}, False),
        ({"greaterThanOrEquals": {"key": "year", "value": 2023}}, True),
        ({"lessThan": {"key": "year", "value": 2023}}, False),
        ({"lessThanOrEquals": {"key": "year", "value": 2023}}, True),
        ({"in": {"key": "team", "value": ["ops", "legal"]}}, True),
        ({"notIn": {"key": "team", "value": ["ops", "legal"]}}, False),
        ({"startsWith": {"key": "source", "value": "/docs/"}}, True),
        ({"listContains": {"key": "tags", "value": "emea"}}, True),
        ({"listContains": {"key": "tags", "value": "apac"}}, False),
        ({"stringContains": {"key": "team", "value": "ega"}}, True),
        ({"equals": {"key": "draft", "value": False}}, True),
        ({"equals": {"key": "year", "value": "2023"}}, False),
        ({"greaterThan": {"key": "team", "value": 1}}, False),
        ({"equals": {"key": "missing", "value": "x"}}, False),
        (
            {"andAll": [{"equals": {"key": "team", "value": "legal"}}, {"lessThan": {"key": "year", "value": 2000}}]},
            False,
        ),
        (
            {"orAll": [{"equals": {"key": "team", "value": "ops"}}, {"listContains": {"key": "tags", "value": "emea"}}]},  # noqa: E501
            True,
        ),
    ],
)
def test_operators_follow_the_bedrock_knowledge_base_semantics(raw, expected):
    parsed = parse_filter(raw)
    assert parsed is not None
    assert parsed.matches(DOC) is expected


def test_no_filter_means_everything():
    assert parse_filter(None) is None
    assert parse_filter({}) is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"like": {"key": "a", "value": "b"}}, "unknown filter operator 'like'"),
        ({"equals": {"key": "a"}}, "exactly 'key' and 'value'"),
        ({"equals": {"key": "", "value": 1}}, "non-empty string"),
        ({"greaterThan": {"key": "year", "value": "2020"}}, "must be a number"),
        ({"in": {"key": "team", "value": []}}, "non-empty list"),
        ({"andAll": [{"equals": {"key": "a", "value": 1}}]}, "at least two"),
        ({"andAll": [{"equals": {"key": "a", "value": 1}}, {"nope": {}}]}, "filter.andAll[1]"),
        ({"equals": {"key": "a", "value": 1}, "in": {"key": "a", "value": [1]}}, "exactly one operator"),
        ("team=legal", "exactly one operator"),
    ],
)
def test_bad_filters_say_what_is_wrong(raw, says):
    with pytest.raises(FilterError) as err:
        parse_filter(raw)
    assert says in str(err.value)
