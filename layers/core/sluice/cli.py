"""The ``sluice`` command: ingest, search, ask, status, delete, reset, serve."""

from __future__ import annotations

import json
import logging
import logging.config
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sluice import presenters as show
from sluice.bootstrap import Container, bootstrap
from sluice.domain.errors import NotFoundError, SluiceError
from sluice.domain.filters import parse_filter
from sluice.domain.models import DocumentOutcome, DocumentStatus, IngestReport, SearchMode
from sluice.settings import Settings

if TYPE_CHECKING:
    from sluice.watcher import FolderWatcher

log = logging.getLogger("sluice.cli")
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


@app.command()
def serve(
    state: StateOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    watch: Annotated[
        Path | None, typer.Option("--watch", help="A folder to ingest now and keep in step while serving.")
    ] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log one JSON object per line.")] = False,
) -> None:
    """Serve the API and the web page; with --watch, ingest a folder and follow its changes."""
    import uvicorn

    from sluice.api.app import create_app

    if watch is not None and not watch.is_dir():
        show.error(f"--watch {watch} is not a folder; give a folder of documents")
        raise typer.Exit(2)
    log_config = _log_config(json_logs)
    if json_logs:  # from the start, so nothing but JSON reaches the terminal
        logging.config.dictConfig(log_config)
    say = (lambda message: log.info(message)) if json_logs else show.info
    with _container(state) as c:
        say("Loading the embedding model and the index…")
        c.embedder.embed_query("warm up")  # load the model now, not on the first question
        c.ingest.recover()
        api = create_app(c)
        watcher = _start_watcher(c, watch, api.state.wiring.source_locks.hold, json_logs) if watch else None
        shown = "localhost" if host in ("127.0.0.1", "::1") else host
        say(f"Sluice is serving on http://{shown}:{port} (Ctrl-C to stop)")
        try:
            uvicorn.run(api, host=host, port=port, log_config=log_config, access_log=not json_logs)
        finally:
            if watcher is not None:
                watcher.stop()


def _start_watcher(c: Container, folder: Path, hold: Any, quiet: bool) -> FolderWatcher:
    """Sync ``folder`` with a progress bar and a summary, then follow its changes, on a background thread."""
    from sluice.watcher import FolderWatcher

    screen = ExitStack()
    progress = screen.enter_context(show.ingest_progress(quiet=quiet))
    progress.add(sum(1 for _ in c.blobs.list(str(folder.resolve()))))
    where = show.display_source(str(folder.resolve()))

    def synced(report: IngestReport) -> None:
        screen.close()
        if quiet:
            log.info("folder synced", extra={"folder": where, **{k: v for k, v in show.ingest_json(report).items()
                                                                   if k != "documents"}})
            return
        show.ingest_summary(report)
        show.info(f"Watching {where} for changes")

    def changed(outcome: DocumentOutcome) -> None:
        style = {"failed": "red", "indexed": "green", "deleted": "yellow"}.get(outcome.outcome, "dim")
        reason = f": {outcome.reason}" if outcome.reason else ""
        show.info(f"[{style}]{outcome.outcome:>9}[/] {show.display_source(outcome.source)}{reason}")

    watcher = FolderWatcher(c.ingest, folder, ignore=[c.settings.state_dir], progress=progress.advance,
                            on_synced=synced, on_outcome=None if quiet else changed, hold=hold)
    watcher.start()
    return watcher


def _log_config(json_logs: bool) -> dict[str, Any]:
    """uvicorn's logging, plus the project's loggers; one JSON object per line with ``json_logs``."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    # In the terminal the watcher's changes are printed as they happen; JSON logs carry them instead.
    level = "INFO" if json_logs else "WARNING"
    config["loggers"]["sluice"] = {"handlers": ["default"], "level": level, "propagate": False}
    if json_logs:
        fmt = {"()": "sluice.cli.JsonLogFormatter"}
        config["formatters"] = {"default": fmt, "access": fmt}
    return config


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's structured keys."""

    _PLAIN = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"time": round(record.created, 3), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        data.update({k: v for k, v in vars(record).items() if k not in self._PLAIN})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


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


@app.command("eval")
def eval_(
    dataset: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")],
    mode: Annotated[str, typer.Option("--mode", help="hybrid, vector, keyword or all.")] = "all",
    split: Annotated[str, typer.Option("--split", help="Which qrels/<split>.tsv to use.")] = "test",
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate N queries, picked at even steps.")] = None,
    corpus_limit: Annotated[
        int | None, typer.Option("--corpus-limit", help="Ingest only the judged documents plus N others.")
    ] = None,
    answer_limit: Annotated[int, typer.Option("--answer-limit", help="Questions to answer (answers.jsonl).")] = 500,
    depth: Annotated[int, typer.Option("--depth", help="Chunks retrieved per query, mapped to documents.")] = 300,
    as_json: JsonOpt = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write report.md and PNG charts here.")] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="State folder (default ~/.cache/sluice/eval/<dataset>-<config>).")
    ] = None,
) -> None:
    """Measure retrieval (nDCG@10, recall, MRR, latency) and answer quality on a BEIR dataset."""
    from sluice.evaluation.cli import run_eval

    run_eval(dataset, mode=mode, split=split, limit=limit, corpus_limit=corpus_limit, answer_limit=answer_limit,
             depth=depth, as_json=as_json, report=report, state=state)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
