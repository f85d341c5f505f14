"""The ``sluice`` command: ingest, search, ask, status, delete, reset."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from sluice import presenters as show
from sluice.bootstrap import Container, bootstrap
from sluice.domain.errors import NotFoundError, SluiceError
from sluice.domain.filters import parse_filter
from sluice.domain.models import DocumentOutcome, DocumentStatus, IngestReport, SearchMode
from sluice.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Grounded search and answers over your documents.")

StateOpt = Annotated[Path | None, typer.Option("--state", help="State folder (default .sluice or SLUICE_STATE_DIR).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
KOpt = Annotated[int | None, typer.Option("--k", "-k", help="How many passages to return.")]
_FILTER_HELP = 'Metadata filter as JSON, e.g. {"equals": {"key": "team", "value": "ops"}}.'
FilterOpt = Annotated[str | None, typer.Option("--filter", help=_FILTER_HELP)]


@contextmanager
def _container(state: Path | None) -> Iterator[Container]:
    settings = Settings(state_dir=state) if state else Settings()
    container = bootstrap(settings)
    try:
        yield container
    except SluiceError as exc:
        show.error(exc.message)
        raise typer.Exit(2) from exc
    finally:
        container.close()


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files or folders to ingest.")],
    state: StateOpt = None,
    as_json: JsonOpt = False,
    sync: Annotated[bool, typer.Option("--sync", help="Also remove documents whose files are gone.")] = False,
) -> None:
    """Parse, chunk, embed and index documents; unchanged files are skipped."""
    with _container(state) as c:
        report = IngestReport()
        c.ingest.recover()
        with show.ingest_progress(quiet=as_json) as progress:
            for path in paths:
                _ingest_path(c, path, sync, report, progress)
        if as_json:
            _emit(show.ingest_json(report))
        else:
            show.ingest_summary(report)
        if report.failed:
            raise typer.Exit(1)


def _ingest_path(c: Container, path: str, sync: bool, report: IngestReport, progress: show.Progress) -> None:
    resolved = Path(path).resolve()
    if not resolved.exists():
        reason = f"{path} does not exist; check the path and try again"
        report.outcomes.append(DocumentOutcome(path, "", "failed", reason=reason, code="not_found"))
        return
    sources = [info.source for info in c.blobs.list(str(resolved))]
    progress.add(len(sources))
    calls = c.ingest.embedding_calls
    if sync:
        part = c.ingest.sync(resolved.as_posix(), progress=progress.advance)
    else:
        part = c.ingest.ingest_many(sources, progress=progress.advance)
    report.outcomes.extend(part.outcomes)
    report.embedding_calls += c.ingest.embedding_calls - calls
    report.seconds += part.seconds


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    state: StateOpt = None,
    as_json: JsonOpt = False,
    mode: Annotated[SearchMode, typer.Option("--mode", help="hybrid, vector or keyword.")] = SearchMode.HYBRID,
    k: KOpt = None,
    filter: FilterOpt = None,
) -> None:
    """Find the passages that best match QUERY."""
    with _container(state) as c:
        result = c.query.search(query, tenant=c.settings.tenant, k=k, mode=mode, filter=_filter(filter))
        if as_json:
            _emit(show.search_json(result))
        else:
            show.search_table(result)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="Your question; leave out for an interactive prompt.")] = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
    k: KOpt = None,
    filter: FilterOpt = None,
) -> None:
    """Answer QUESTION from the documents, with citations."""
    with _container(state) as c:
        parsed = _filter(filter)
        if question is not None:
            answer = c.query.answer(question, tenant=c.settings.tenant, k=k, filter=parsed)
            _emit(show.answer_json(answer)) if as_json else show.answer_text(answer)
            return
        show.prompt_intro()
        while (line := show.prompt()) is not None:
            if line.strip():
                try:
                    show.answer_text(c.query.answer(line, tenant=c.settings.tenant, k=k, filter=parsed))
                except SluiceError as exc:
                    show.error(exc.message)


@app.command()
def status(
    document: Annotated[str | None, typer.Argument(help="A document id or file path.")] = None,
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show every document's status, or one document's details."""
    with _container(state) as c:
        if document:
            record = _find(c, document)
            chunks = c.index.chunks_of(record.document_id) if record.status is DocumentStatus.INDEXED else []
            _emit(show.record_json(record, len(chunks))) if as_json else show.record_detail(record, len(chunks))
            return
        records = list(_all_records(c))
        _emit(show.status_json(records)) if as_json else show.status_table(records)


@app.command()
def delete(
    document: Annotated[str, typer.Argument(help="A document id or file path.")],
    state: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a document's chunks from the index (the file itself is left alone)."""
    with _container(state) as c:
        record = _find(c, document)
        outcome = c.ingest.delete(record.source)
        if as_json:
            _emit({"deleted": outcome.outcome == "deleted", "document": record.document_id, "source": record.source})
        else:
            show.deleted(outcome)


@app.command()
def reset(
    state: StateOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete the state folder: index, registry and uploads."""
    folder = state or Settings().state_dir
    if not yes and not as_json and not typer.confirm(f"Delete {folder} and everything indexed in it?"):
        raise typer.Exit(1)
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    if as_json:
        _emit({"reset": existed, "state": str(folder)})
    else:
        show.info(f"Removed {folder}" if existed else "Nothing to remove")


def _filter(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return parse_filter(json.loads(raw))
    except json.JSONDecodeError as exc:
        show.error(f"--filter is not valid JSON: {exc.msg} at position {exc.pos}")
        raise typer.Exit(2) from exc


def _find(c: Container, document: str) -> Any:
    from sluice.domain.ids import document_id

    record = c.registry.get(document)
    if record is None and (Path(document).exists() or "/" in document or "." in document):
        record = c.registry.get(document_id(c.settings.tenant, Path(document).resolve().as_posix()))
    if record is None:
        raise NotFoundError(f"no document {document!r}; run `sluice status` to list them")
    return record


def _all_records(c: Container) -> Iterator[Any]:
    cursor = None
    while True:
        page, cursor = c.registry.list(c.settings.tenant, limit=500, cursor=cursor)
        yield from page
        if cursor is None:
            return


def main() -> None:
    app()


if __name__ == "__main__":
    main()
