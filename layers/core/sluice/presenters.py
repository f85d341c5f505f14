"""How the CLI shows results: rich tables for people, plain dicts for ``--json``."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from sluice.domain.models import Answer, DocumentOutcome, DocumentRecord, Hit, IngestReport, SearchResult

out = Console()
err = Console(stderr=True)


def display_source(source: str) -> str:
    """A path relative to the working folder when it is under it."""
    try:
        return os.path.relpath(source) if source.startswith(os.getcwd()) else source
    except ValueError:
        return source


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")


def info(message: str) -> None:
    out.print(message)


class Progress:
    """A progress bar on stderr that the services advance per document."""

    def __init__(self, bar: RichProgress | None) -> None:
        self._bar = bar
        self._task = bar.add_task("Ingesting", total=0) if bar else None

    def add(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            total = self._bar.tasks[0].total or 0
            self._bar.update(self._task, total=total + n)

    def advance(self, outcome: DocumentOutcome) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=f"{outcome.outcome:>9} {Path(outcome.source).name}")


@contextmanager
def ingest_progress(quiet: bool) -> Iterator[Progress]:
    if quiet:
        yield Progress(None)
        return
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with RichProgress(*columns, console=err, transient=True) as bar:
        yield Progress(bar)


def ingest_json(report: IngestReport) -> dict[str, Any]:
    return {
        "indexed": report.count("indexed"),
        "unchanged": report.count("unchanged"),
        "deleted": report.count("deleted"),
        "failed": [{"source": o.source, "reason": o.reason, "code": o.code} for o in report.failed],
        "chunks": report.chunks,
        "embedding_calls": report.embedding_calls,
        "embedding_tokens": report.tokens,
        "seconds": round(report.seconds, 3),
        "documents": [
            {"source": o.source, "document": o.document_id, "outcome": o.outcome, "chunks": o.chunks,
             "embedded": o.embedded, "tokens": o.tokens, "seconds": round(o.seconds, 3), "reason": o.reason}
            for o in report.outcomes
        ],
    }


def ingest_summary(report: IngestReport) -> None:
    table = Table(title="Ingest", show_lines=False)
    for column in ("document", "outcome", "chunks", "tokens", "seconds", "reason"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        style = {"failed": "red", "indexed": "green", "deleted": "yellow"}.get(o.outcome, "dim")
        table.add_row(display_source(o.source), f"[{style}]{o.outcome}[/]", str(o.chunks or ""), str(o.tokens or ""),
                      f"{o.seconds:.2f}" if o.seconds else "", o.reason)
    out.print(table)
    failed = len(report.failed)
    out.print(
        f"{report.count('indexed')} indexed, {report.count('unchanged')} unchanged, {report.count('deleted')} deleted, "
        f"{failed} failed; {report.chunks} chunks, {report.embedding_calls} embedding calls, {report.seconds:.1f} s"
    )
    if failed:
        error(f"{failed} document{'s' if failed != 1 else ''} failed; the reasons are in the table above")


def hit_json(hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {
        "document": c.document_id, "source": c.source, "title": c.title, "page": c.page_start,
        "page_end": c.page_end, "heading_path": list(c.heading_path), "score": round(hit.score, 6), "text": c.text,
        "chunk": c.chunk_id, "highlights": list(hit.highlights), "metadata": c.metadata,
    }


def search_json(result: SearchResult) -> dict[str, Any]:
    return {"mode": result.mode.value, "hits": [hit_json(h) for h in result.hits], "timings_ms": result.timings}


def search_table(result: SearchResult) -> None:
    if not result.hits:
        out.print("No matching passages.")
        return
    for n, hit in enumerate(result.hits, 1):
        c = hit.chunk
        where = display_source(c.source) + (f", page {c.page_start}" if c.page_start else "")
        out.print(f"[bold]{n}.[/] [cyan]{where}[/]  [dim]{hit.score:.4f}[/]")
        text = c.text if len(c.text) < 400 else c.text[:400] + "…"
        out.print(f"   {text}\n", highlight=False)


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "answered": answer.answered,
        "answer_id": answer.answer_id,
        "citations": [
            {"marker": c.marker, "document": c.document_id, "source": c.source, "title": c.title, "page": c.page,
             "quote": c.quote}
            for c in answer.citations
        ],
        "usage": answer.usage.__dict__,
        "timings_ms": answer.timings,
    }


def answer_text(answer: Answer) -> None:
    out.print(answer.text, highlight=False)
    for c in answer.citations:
        where = display_source(c.source) + (f", page {c.page}" if c.page else "")
        out.print(f"  [bold][{c.marker}][/] [cyan]{where}[/]: [italic]“{c.quote}”[/]", highlight=False)


def prompt_intro() -> None:
    out.print("Ask a question about your documents (empty line or Ctrl-D to quit).")


def prompt() -> str | None:
    try:
        line = out.input("[bold green]?[/] ")
    except (EOFError, KeyboardInterrupt):
        return None
    return line if line.strip() else None


def record_json(record: DocumentRecord, indexed_chunks: int) -> dict[str, Any]:
    data = {**record.__dict__, "status": record.status.value, "indexed_chunks": indexed_chunks}
    data["document"] = data.pop("document_id")
    return data


def record_detail(record: DocumentRecord, indexed_chunks: int) -> None:
    for key, value in record_json(record, indexed_chunks).items():
        if value not in ("", None, {}):
            out.print(f"[bold]{key:>16}[/] {value}", highlight=False)


def status_json(records: Sequence[DocumentRecord]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    return {"counts": counts, "documents": [record_json(r, r.chunk_count) for r in records]}


def status_table(records: Sequence[DocumentRecord]) -> None:
    table = Table(title=f"{len(records)} documents")
    for column in ("document", "source", "status", "chunks", "reason"):
        table.add_column(column, overflow="fold")
    for r in sorted(records, key=lambda r: r.source):
        style = {"failed": "red", "indexed": "green"}.get(r.status.value, "dim")
        table.add_row(r.document_id, display_source(r.source), f"[{style}]{r.status.value}[/]", str(r.chunk_count),
                      r.error)
    out.print(table)


def deleted(outcome: DocumentOutcome) -> None:
    if outcome.outcome == "deleted":
        out.print(f"Deleted {display_source(outcome.source)} from the index.")
    else:
        out.print(f"{display_source(outcome.source)} was already deleted.")
