"""CSV and JSON: each row or record becomes a readable line such as ``name: X; price: 3``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sluice.adapters.text.decoding import decode_text, empty_file_error, title_from_source
from sluice.domain.errors import CorruptDocumentError, EmptyDocumentError
from sluice.domain.models import Block, ParsedDocument

ROWS_PER_BLOCK = 10
"""Rows grouped into one block; the chunker splits a block again at row boundaries."""


def render_pairs(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{key}: {value}" for key, value in pairs if value != "")


def _group(lines: list[tuple[tuple[str, ...], str]]) -> list[Block]:
    """Consecutive lines with the same heading path, ``ROWS_PER_BLOCK`` to a block."""
    blocks: list[Block] = []
    run: list[str] = []
    for index, (path, line) in enumerate(lines):
        run.append(line)
        next_path = lines[index + 1][0] if index + 1 < len(lines) else None
        if len(run) == ROWS_PER_BLOCK or next_path != path:
            blocks.append(Block(text="\n".join(run), heading_path=path, kind="table"))
            run = []
    return blocks


class CsvParser:
    """``.csv`` files with a header row; the delimiter (, ; tab |) is detected."""

    media_type = "text/csv"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        text = decode_text(data, source)
        try:
            rows = [row for row in csv.reader(io.StringIO(text), _dialect(text)) if any(c.strip() for c in row)]
        except csv.Error as exc:
            raise CorruptDocumentError(
                f"the CSV file could not be read ({exc}); check its quoting, save it again as CSV and upload it",
            ) from exc
        if len(rows) < 2:
            raise empty_file_error(source) if not rows else _header_only()
        header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
        no_path: tuple[str, ...] = ()
        lines = [(no_path, line) for line in (render_pairs(_row_pairs(header, row)) for row in rows[1:]) if line]
        if not lines:
            raise _header_only()
        return ParsedDocument(title=title_from_source(source), blocks=_group(lines), media_type=self.media_type)


def _header_only() -> EmptyDocumentError:
    return EmptyDocumentError("the CSV file has a header but no data rows; add rows and upload it again")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _row_pairs(header: list[str], row: list[str]) -> list[tuple[str, str]]:
    names = header + [f"column {i + 1}" for i in range(len(header), len(row))]
    return [(name, " ".join(value.split())) for name, value in zip(names, row, strict=False)]


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Key paths and scalar values: ``{"a": {"b": 1}}`` -> ``("a.b", "1")``; string lists joined."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        yield prefix or "value", ", ".join(_scalar(v) for v in value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix or "value", _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(str(value).split())


def records(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """One line per record: list items are records; a dict's lists of objects are records of their own."""
    if isinstance(value, list):
        for item in value:
            yield from records(item, path)
        return
    if not isinstance(value, dict):
        yield path, render_pairs(list(flatten(value)))
        return
    plain = {k: v for k, v in value.items() if not _is_record_list(v)}
    if plain:
        yield path, render_pairs(list(flatten(plain)))
    for key, item in value.items():
        if _is_record_list(item):
            yield from records(item, (*path, str(key)))


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class JsonParser:
    """``.json`` documents and ``.jsonl`` (JSON Lines) files."""

    def __init__(self, lines: bool = False) -> None:
        self.lines = lines
        self.media_type = "application/jsonl" if lines else "application/json"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        text = decode_text(data, source)
        values = self._load(text)
        lines = [(path, line) for value in values for path, line in records(value) if line]
        if not lines:
            raise empty_file_error(source)
        return ParsedDocument(title=title_from_source(source), blocks=_group(lines), media_type=self.media_type)

    def _load(self, text: str) -> list[Any]:
        if not self.lines:
            return [_loads(text, 0)]
        return [_loads(line, n) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _loads(text: str, line: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {line}" if line else f"line {exc.lineno}, column {exc.colno}"
        raise CorruptDocumentError(
            f"the file is not valid JSON ({exc.msg} at {where}); "
            "fix it (a JSON validator shows where) and upload it again",
        ) from exc
