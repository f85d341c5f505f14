"""Query words: the stopwords every index drops and the highlights every index reports.

Shared by the local index and OpenSearch so both backends treat a query's words
the same way.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how if in into is it its"
    " may might must not of on or our should so such than that the their them then there these they this"
    " those to was we were what when where which who why will with would you your".split()
)
WORD = re.compile(r"\w+")

HighlightWords = list[tuple[str, re.Pattern[str]]]


def highlight_words(query: str, stopwords: frozenset[str] = STOPWORDS) -> HighlightWords:
    """Query words worth showing (3+ letters, no stopwords), each matched at the start of a word."""
    words = dict.fromkeys(w for w in WORD.findall(query.lower()) if len(w) >= 3 and w not in stopwords)
    return [(word, re.compile(rf"\b{re.escape(word)}")) for word in words]


def highlights(words: HighlightWords, text: str) -> tuple[str, ...]:
    """The highlight words found in ``text``."""
    lowered = text.lower()
    return tuple(word for word, pattern in words if word in lowered and pattern.search(lowered))
