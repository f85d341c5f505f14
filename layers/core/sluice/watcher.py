"""Keeps the index in step with a folder while ``sluice serve`` runs.

``FolderWatcher`` first syncs the folder (ingest what is new or changed, drop
what is gone), then follows file-system events. Events are debounced per path:
an editor's save or a copy in progress makes a burst of events, and only the
file's state once the burst is over is ingested. Whatever the event, the
worker asks ``IngestService.ingest``, which reads the file as it is now and
deletes the document when the file is gone, so a lost or reordered event
cannot leave the index out of step.

The observer thread only records paths; one worker thread ingests, so queries
served meanwhile are never blocked by parsing or embedding.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from sluice.domain.models import DocumentOutcome, IngestReport
from sluice.services.ingest import IngestService

log = logging.getLogger("sluice.watcher")

SIDECAR_SUFFIX = ".metadata.json"
TEMP_SUFFIXES = (".tmp", ".temp", ".swp", ".swx", ".swo", ".part", ".partial", ".crdownload", ".download", "~")
TEMP_PREFIXES = ("~$", ".#", "#")
RESYNC = "\0resync"
"""The queue key for "sync the whole folder again" (a folder appeared, moved or vanished)."""

Hold = Callable[[str], AbstractContextManager[object]]


class FolderWatcher:
    """Syncs ``folder`` into the index, then applies every later change to it until ``stop``."""

    def __init__(
        self,
        ingest: IngestService,
        folder: Path,
        *,
        ignore: Sequence[Path] = (),
        debounce_s: float = 0.5,
        on_outcome: Callable[[DocumentOutcome], None] | None = None,
        on_synced: Callable[[IngestReport], None] | None = None,
        progress: Callable[[DocumentOutcome], None] | None = None,
        hold: Hold | None = None,
    ) -> None:
        """``hold(source)`` serialises work on one source with other writers (the API's uploads and deletes)."""
        self.root = folder.resolve()
        self.synced = threading.Event()
        self._ingest = ingest
        self._ignore = [p.resolve() for p in ignore]
        self._debounce_s = debounce_s
        self._on_outcome = on_outcome
        self._on_synced = on_synced
        self._progress = progress
        self._hold = hold or (lambda _source: nullcontext())
        self._due: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._worker: threading.Thread | None = None

    def start(self, sync: bool = True) -> None:
        """Start following events, then (on the worker thread) sync the folder unless ``sync`` is false."""
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root} is not a folder; give a folder to watch")
        observer = Observer()
        observer.schedule(_Handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._worker = threading.Thread(target=self._run, args=(sync,), name="sluice-watcher", daemon=True)
        self._worker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop following events; a document being ingested is finished first, pending events are dropped."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout_s)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout_s)

    def notice(self, path: str) -> None:
        """Schedule ``path`` (a file, or ``RESYNC``) for ingesting once its events have been quiet for a while."""
        key = path if path == RESYNC else self._source_of(path)
        if key is None:
            return
        with self._cond:
            self._due[key] = time.monotonic() + self._debounce_s
            self._cond.notify_all()

    def ignored(self, path: Path) -> bool:
        """Hidden files and folders, temp files, the state folder and anything outside the watched folder."""
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            return True
        if any(part.startswith(".") for part in relative.parts):
            return True
        if any(path == p or p in path.parents for p in self._ignore):
            return True
        name = path.name
        return name.lower().endswith(TEMP_SUFFIXES) or name.startswith(TEMP_PREFIXES)

    def _source_of(self, path: str) -> str | None:
        resolved = Path(path).resolve()
        if resolved.name.endswith(SIDECAR_SUFFIX):  # x.pdf.metadata.json describes x.pdf
            resolved = resolved.with_name(resolved.name.removesuffix(SIDECAR_SUFFIX))
        return None if self.ignored(resolved) else resolved.as_posix()

    def _run(self, sync: bool) -> None:
        if sync:
            self._sync(initial=True)
        self.synced.set()
        for source in self._due_sources():
            if source == RESYNC:
                self._sync(initial=False)
            else:
                self._apply(source)

    def _due_sources(self) -> Iterator[str]:
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    ready = sorted(k for k, at in self._due.items() if at <= now)
                    if ready:
                        break
                    wait = min(self._due.values(), default=now + 3600) - now
                    self._cond.wait(timeout=max(wait, 0.01))
                if self._stopping:
                    return
                for key in ready:
                    del self._due[key]
            yield from ready

    def _sync(self, *, initial: bool) -> None:
        try:
            report = self._ingest.sync(self.root.as_posix(), progress=self._progress if initial else None)
        except Exception:  # the watcher must outlive any one failure
            log.exception("folder sync failed", extra={"folder": str(self.root)})
            report = IngestReport()
        if initial:
            if self._on_synced is not None:
                self._on_synced(report)
            return
        for outcome in report.outcomes:
            if outcome.outcome != "unchanged":
                self._report(outcome)

    def _apply(self, source: str) -> None:
        try:
            with self._hold(source):
                outcome = self._ingest.ingest(source)
        except Exception as exc:  # a backend failure on one file must not stop the watcher
            log.exception("watched file not ingested", extra={"source": source})
            outcome = DocumentOutcome(source, "", "failed", reason=str(exc), code=getattr(exc, "code", "error"))
        if outcome.outcome not in ("unchanged", "missing"):
            self._report(outcome)

    def _report(self, outcome: DocumentOutcome) -> None:
        log.info("watched change applied", extra={"source": outcome.source, "outcome": outcome.outcome})
        if self._on_outcome is not None:
            self._on_outcome(outcome)


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into paths for the watcher's queue; runs on the observer thread."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "moved", "deleted", "closed"):
            return
        if event.is_directory:
            # A folder that appears, moves or vanishes says nothing about its files: sync the lot.
            if event.event_type != "modified" and event.event_type != "closed":
                self._watcher.notice(RESYNC)
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self._watcher.notice(_text(path))


def _text(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else path
