"""HTML pages: the readable content, without navigation, scripts and other boilerplate."""

from __future__ import annotations

from typing import Any

from selectolax.lexbor import LexborHTMLParser

from sluice.adapters.text.decoding import decode_text, empty_file_error, title_from_source
from sluice.domain.models import Block, ParsedDocument

BOILERPLATE_TAGS = ("nav", "script", "style", "footer", "header", "aside", "noscript", "form", "svg", "template")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LEAF_BLOCKS = {"p": "paragraph", "pre": "code", "dt": "paragraph", "dd": "paragraph", "figcaption": "paragraph"}
_INLINE = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    ]
)


class _Walker:
    """Walks the DOM in document order, emitting blocks at block-level boundaries."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.buffer: list[str] = []
        self.kind = "paragraph"

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.headings)

    def emit(self, text: str, kind: str) -> None:
        if text.strip():
            self.blocks.append(Block(text=text.strip(), heading_path=self.path, kind=kind))

    def flush(self) -> None:
        text, self.buffer = "".join(self.buffer), []
        self.emit(text, self.kind)

    def walk(self, node: Any) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buffer.append(child.text(deep=False) or "")
            elif tag in _INLINE:
                self.buffer.append(child.text(deep=True) or "")
            elif tag == "br":
                self.buffer.append("\n")
            elif tag in _HEADINGS:
                self.heading(_HEADINGS[tag], child.text(deep=True, separator=" ") or "")
            elif tag in _LEAF_BLOCKS:
                self.flush()
                self.emit(child.text(deep=True), _LEAF_BLOCKS[tag])
            elif tag == "table":
                self.flush()
                self.emit(_table_text(child), "table")
            elif not tag.startswith(("-", "!")):
                self.container(child, "list" if tag == "li" else self.kind)

    def container(self, node: Any, kind: str) -> None:
        self.flush()
        outer, self.kind = self.kind, kind
        self.walk(node)
        self.flush()
        self.kind = outer

    def heading(self, level: int, title: str) -> None:
        self.flush()
        title = " ".join(title.split())
        if title:
            self.headings = [(lv, t) for lv, t in self.headings if lv < level] + [(level, title)]
            self.emit(title, "heading")


def _table_text(table: Any) -> str:
    rows = []
    for row in table.css("tr"):
        cells = [" ".join((cell.text(deep=True, separator=" ") or "").split()) for cell in row.css("th, td")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


class HtmlParser:
    """``.html`` / ``.htm`` pages; ``<title>`` is the title, h1-h6 build ``heading_path``."""

    media_type = "text/html"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        tree = LexborHTMLParser(decode_text(data, source))
        title_node = tree.css_first("title")
        title = " ".join((title_node.text() if title_node else "").split())
        tree.strip_tags(list(BOILERPLATE_TAGS))
        walker = _Walker()
        if tree.body is not None:
            walker.walk(tree.body)
            walker.flush()
        if not walker.blocks:
            raise empty_file_error(source)
        if not title:
            title = next((b.text for b in walker.blocks if b.kind == "heading"), "") or title_from_source(source)
        return ParsedDocument(title=title, blocks=walker.blocks, media_type=self.media_type)
