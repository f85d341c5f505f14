"""Which tenant a document belongs to, and where a tenant's uploads are stored.

Two layouts, one per deployment (``Settings.multi_tenant``):

- single tenant (the default): every document belongs to the configured
  tenant, wherever its key is, and every caller is that tenant (a JWT then
  only authenticates);
- multi-tenant: a document's tenant is the first path segment under
  ``tenants/`` (``tenants/acme/reports/q1.pdf`` belongs to ``acme``); keys
  outside ``tenants/<tenant>/`` belong to nobody and are not ingested. Each
  caller's tenant comes from their JWT, and their uploads go under their own
  prefix, so the ingest side derives the same tenant from the key.

Sources are keys relative to the documents prefix, as ``BlobSource`` sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sluice.domain.errors import InvalidRequestError

TENANTS_ROOT = "tenants/"
UPLOADS_FOLDER = "uploads/"


@dataclass(frozen=True)
class Tenancy:
    """The tenant rules of one deployment."""

    default: str
    """The tenant of every document and caller in single-tenant mode."""
    multi: bool = False

    def tenant_of(self, source: str) -> str | None:
        """The tenant that owns ``source``; ``None`` for a key outside ``tenants/<tenant>/`` in multi-tenant mode."""
        if not self.multi:
            return self.default
        if not source.startswith(TENANTS_ROOT):
            return None
        tenant, slash, rest = source[len(TENANTS_ROOT) :].partition("/")
        return tenant if tenant and slash and rest else None

    def upload_source(self, tenant: str, name: str) -> str:
        """Where the API stores an upload named ``name`` for ``tenant``."""
        if self.multi and (not tenant or "/" in tenant):
            raise InvalidRequestError(
                f"the tenant {tenant!r} cannot name a folder (it is empty or has a '/'); "
                "give callers a tenant claim without slashes"
            )
        folder = f"{TENANTS_ROOT}{tenant}/{UPLOADS_FOLDER}" if self.multi else UPLOADS_FOLDER
        return folder + name

    def is_upload(self, source: str, tenant: str) -> bool:
        """Whether ``source`` is a key the API stored for ``tenant`` (see ``upload_source``)."""
        return source.startswith(self.upload_source(tenant, ""))
