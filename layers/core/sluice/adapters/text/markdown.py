"""Markdown: ATX and setext headings, fenced code, paragraphs, lists, YAML front matter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sluice.adapters.text.decoding import decode_text, empty_file_error, title_from_source
from sluice.domain.models import Block, ParsedDocument

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---`` YAML front matter from the body; keeps simple ``key: value`` pairs."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            return _simple_yaml(lines[1:end]), "\n".join(lines[end + 1 :])
    return {}, text


def _simple_yaml(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith((" ", "\t", "-", "#")):
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields


def inline_text(text: str) -> str:
    """Drop the markup a reader does not see: link targets, images, bold markers."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return _EMPHASIS.sub(r"\2", text)


@dataclass
class _State:
    blocks: list[Block] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    paragraph: list[str] = field(default_factory=list)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.headings)

    def flush(self) -> None:
        if not self.paragraph:
            return
        text = "\n".join(self.paragraph).strip()
        self.paragraph = []
        if text:
            kind = "list" if _LIST_ITEM.match(text) else "table" if text.startswith("|") else "paragraph"
            self.blocks.append(Block(text=inline_text(text), heading_path=self.path, kind=kind))

    def heading(self, level: int, title: str) -> None:
        self.flush()
        title = inline_text(title.strip())
        if not title:
            return
        self.headings = [(lv, t) for lv, t in self.headings if lv < level] + [(level, title)]
        self.blocks.append(Block(text=title, heading_path=self.path, kind="heading"))


class MarkdownParser:
    """``.md`` files; headings build each block's ``heading_path``."""

    media_type = "text/markdown"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        meta, body = split_front_matter(decode_text(data, source).replace("\r\n", "\n").replace("\r", "\n"))
        state = _State()
        lines = body.split("\n")
        i = 0
        while i < len(lines):
            i = self._line(state, lines, i)
        state.flush()
        if not state.blocks:
            raise empty_file_error(source)
        title = meta.get("title") or _first_heading(state.blocks) or title_from_source(source)
        return ParsedDocument(title=title, blocks=state.blocks, media_type=self.media_type)

    def _line(self, state: _State, lines: list[str], i: int) -> int:
        """Consume the construct starting at line ``i``; return the next line index."""
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            return _code_block(state, lines, i, fence.group(1))
        atx = _ATX.match(line)
        if atx:
            state.heading(len(atx.group(1)), atx.group(2) or "")
        elif _SETEXT.match(line) and state.paragraph:
            title = " ".join(state.paragraph)
            state.paragraph = []
            state.heading(1 if line.strip().startswith("=") else 2, title)
        elif not line.strip():
            state.flush()
        elif _SETEXT.match(line) or line.strip() in ("***", "___"):
            state.flush()  # a thematic break
        else:
            state.paragraph.append(line)
        return i + 1


def _code_block(state: _State, lines: list[str], start: int, fence: str) -> int:
    state.flush()
    end = start + 1
    closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
    while end < len(lines) and not closing.match(lines[end]):
        end += 1
    code = "\n".join(lines[start + 1 : end]).strip("\n")
    if code.strip():
        state.blocks.append(Block(text=code, heading_path=state.path, kind="code"))
    return end + 1


def _first_heading(blocks: list[Block]) -> str:
    return next((b.text for b in blocks if b.kind == "heading"), "")
