"""QueryFunction: the FastAPI app behind the HTTP API, through Mangum.

The caller's tenant comes from the JWT the HTTP API's authorizer verified
(``requestContext.authorizer.jwt.claims``; Mangum keeps the event in
``request.scope["aws.event"]``), never from the request, when the stack is
multi-tenant (``settings.multi_tenant``). Otherwise every caller is
``settings.tenant``, the tenant the ingest function files every document
under (the JWT then only authenticates); so is every caller with auth
disabled (a dev stage only).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import Request
from mangum import Mangum

from sluice.api.app import create_app
from sluice.api.dependencies import tenant
from sluice.bootstrap import Container, bootstrap
from sluice.domain.errors import ConfigurationError
from sluice.events import tenant_from_claims
from sluice.observability import logger, metrics, tracer

container: Container = bootstrap()
app = create_app(container)


def jwt_tenant(request: Request) -> str:
    settings = container.settings
    if settings.auth_disabled or not settings.multi_tenant:
        return settings.tenant
    found = tenant_from_claims(request.scope.get("aws.event") or {}, settings.tenant_claims)
    if found is None:
        raise ConfigurationError(f"the request carries no JWT claim among {list(settings.tenant_claims)}; "
                                 "attach the JWT authorizer to this route or set SLUICE_TENANT_CLAIMS")
    return found


app.dependency_overrides[tenant] = jwt_tenant
asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # responses carry document text
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi(event, context)  # type: ignore[no-any-return]
