"""Property-based tests of the API against its own OpenAPI document (schemathesis, in-process).

Every operation gets a bounded number of generated requests, valid and invalid;
none may be answered with a 5xx, and every response must be one the document
declares, with the declared content type and body schema.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from sluice.api.app import create_app
from tests.fakes import make_container

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


# Loaded at import: schemathesis's fixture-based loader does not work with this pytest version.
STATE_DIR = Path(tempfile.mkdtemp(prefix="sluice-schema-"))
atexit.register(shutil.rmtree, STATE_DIR, ignore_errors=True)
app = create_app(make_container(STATE_DIR, max_file_bytes=64 * 1024))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
