"""What endpoints ask for: the caller's tenant and the services, as ``Annotated`` aliases.

``tenant`` is the seam for identity: locally it is ``settings.tenant``; behind
API Gateway, ``app.dependency_overrides[tenant]`` swaps in one that reads the
authorizer's JWT claims. It never comes from the request body.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request

from sluice.bootstrap import Container
from sluice.ports import BlobSource, DocumentRegistry, FeedbackStore
from sluice.services.ingest import IngestService
from sluice.services.query import QueryService
from sluice.services.uploads import DocumentUploads
from sluice.settings import Settings


class Wiring:
    """The container behind a lock, so concurrent first requests build each adapter once."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self._lock = threading.Lock()
        self.source_locks = KeyedLocks()

    def get(self, name: str) -> Any:
        if name in self.container.__dict__:
            return self.container.__dict__[name]
        with self._lock:
            return getattr(self.container, name)


class KeyedLocks:
    """One lock per key (a source), created on demand and dropped when nobody holds it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


def wiring(request: Request) -> Wiring:
    return request.app.state.wiring  # type: ignore[no-any-return]


def tenant(request: Request) -> str:
    """The caller's tenant: the local settings' tenant (see the module docstring for AWS)."""
    return wiring(request).container.settings.tenant


def settings(request: Request) -> Settings:
    return wiring(request).container.settings


def query_service(request: Request) -> QueryService:
    return wiring(request).get("query")  # type: ignore[no-any-return]


def ingest_service(request: Request) -> IngestService:
    return wiring(request).get("ingest")  # type: ignore[no-any-return]


def uploads(request: Request) -> DocumentUploads:
    return wiring(request).get("uploads")  # type: ignore[no-any-return]


def registry(request: Request) -> DocumentRegistry:
    return wiring(request).get("registry")  # type: ignore[no-any-return]


def blobs(request: Request) -> BlobSource:
    return wiring(request).get("blobs")  # type: ignore[no-any-return]


def model_id(request: Request) -> str:
    """The generator's model id, reported with each answer."""
    return str(wiring(request).get("generator").model_id)


def feedback_store(request: Request) -> FeedbackStore:
    return wiring(request).get("feedback")  # type: ignore[no-any-return]


Tenant = Annotated[str, Depends(tenant)]
SettingsDep = Annotated[Settings, Depends(settings)]
WiringDep = Annotated[Wiring, Depends(wiring)]
QueryDep = Annotated[QueryService, Depends(query_service)]
IngestDep = Annotated[IngestService, Depends(ingest_service)]
UploadsDep = Annotated[DocumentUploads, Depends(uploads)]
RegistryDep = Annotated[DocumentRegistry, Depends(registry)]
BlobsDep = Annotated[BlobSource, Depends(blobs)]
FeedbackDep = Annotated[FeedbackStore, Depends(feedback_store)]
ModelDep = Annotated[str, Depends(model_id)]
