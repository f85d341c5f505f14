"""S3 notifications and HTTP API events -> domain inputs (sluice.events)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sluice.events import (
    UnrecognisedEventError,
    decode_key,
    object_changes,
    source_of,
    tenant_from_claims,
)

EVENTS = Path(__file__).parent.parent / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def with_object(name: str, *, event_name: str | None = None, **obj: Any) -> dict[str, Any]:
    event = copy.deepcopy(load(name))
    record = event["Records"][0]
    if event_name:
        record["eventName"] = event_name
    record["s3"]["object"].update(obj)
    return event


def test_keys_are_url_decoded_plus_is_space_and_percent_2f_is_slash() -> None:
    assert decode_key("reports/Q1+2025%2Fsummary+%281%29.pdf") == "reports/Q1 2025/summary (1).pdf"
    assert decode_key("a%2Bb.txt") == "a+b.txt"
    assert decode_key("caf%C3%A9.md") == "café.md"


def test_created_event_ingests_the_decoded_key_at_its_sequencer() -> None:
    [change] = object_changes(json.dumps(load("s3_object_created.json")))
    assert change.action == "ingest"
    assert change.source == "reports/Q1 2025/summary (1).pdf"
    assert change.version == "00683D6A1349B2C4F1"
    assert change.event_name == "ObjectCreated:Put"


def test_removed_event_deletes() -> None:
    [change] = object_changes(load("s3_object_removed.json"))
    assert (change.action, change.source, change.version) == (
        "delete", "reports/Q1 2025/summary (1).pdf", "00683D6B7A5E0F9D22")


def test_unversioned_delete_deletes_but_removing_one_version_rechecks_the_key() -> None:
    unversioned = with_object("s3_object_removed.json", event_name="ObjectRemoved:Delete")
    del unversioned["Records"][0]["s3"]["object"]["versionId"]
    assert object_changes(unversioned)[0].action == "delete"
    # Deleting a noncurrent version leaves the current one: ingest re-reads the key and deletes only if it is gone.
    one_version = with_object("s3_object_removed.json", event_name="ObjectRemoved:Delete")
    assert object_changes(one_version)[0].action == "ingest"


@pytest.mark.parametrize("name", ["ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
                                  "ObjectCreated:Post"])
def test_every_created_event_ingests(name: str) -> None:
    assert object_changes(with_object("s3_object_created.json", event_name=name))[0].action == "ingest"


def test_test_event_is_ignored() -> None:
    assert object_changes(json.dumps(load("s3_test_event.json"))) == []


@pytest.mark.parametrize("event_name", ["ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated"])
def test_a_sidecar_change_reingests_its_document_without_a_version(event_name: str) -> None:
    event = with_object("s3_object_created.json", event_name=event_name, key="docs/x.pdf.metadata.json",
                        sequencer="00683D6C00000000FF")
    [change] = object_changes(event)
    # Sequencers order the events of one key only: the sidecar's says nothing about the document's.
    assert (change.action, change.source, change.version, change.key) == (
        "ingest", "docs/x.pdf", "", "docs/x.pdf.metadata.json")


def test_folder_keys_other_events_and_keys_outside_the_prefix_are_ignored() -> None:
    assert object_changes(with_object("s3_object_created.json", key="reports%2F")) == []
    assert object_changes(with_object("s3_object_created.json", event_name="ObjectRestore:Completed")) == []
    assert object_changes(with_object("s3_object_created.json", key="other/a.pdf"), prefix="docs") == []
    [inside] = object_changes(with_object("s3_object_created.json", key="docs/a+b.pdf"), prefix="docs")
    assert inside.source == "a b.pdf"


def test_source_of() -> None:
    assert source_of("a/b.pdf") == "a/b.pdf"
    assert source_of("a/b.pdf.metadata.json") == "a/b.pdf"
    assert source_of("docs/a.pdf", "docs/") == source_of("docs/a.pdf", "docs") == "a.pdf"
    assert source_of(".metadata.json") == ".metadata.json"
    assert source_of("a/") is None


@pytest.mark.parametrize("body", ["not json", "[1, 2]", json.dumps({"hello": "world"}),
                                  json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})])
def test_a_message_that_is_not_an_s3_notification_is_an_error(body: str) -> None:
    with pytest.raises(UnrecognisedEventError):
        object_changes(body)


def test_tenant_comes_from_the_first_present_claim() -> None:
    event = load("http_api_search.json")
    assert tenant_from_claims(event, ("custom:tenant", "tenant", "sub")) == "acme"
    del event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant"]
    assert tenant_from_claims(event, ("custom:tenant", "tenant", "sub")) == "7d2f0c1e-9a8b-4c3d-8e7f-6a5b4c3d2e1f"
    del event["requestContext"]["authorizer"]
    assert tenant_from_claims(event, ("custom:tenant", "tenant", "sub")) is None


def test_each_change_carries_the_tenant_of_its_key_in_a_multi_tenant_stack() -> None:
    from sluice.domain.tenancy import Tenancy
    from sluice.events import change_of

    def record(key: str) -> dict[str, object]:
        return {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key, "sequencer": "0A"}}}

    multi = Tenancy("default", multi=True)
    assert change_of(record("tenants/acme/q1+report.pdf"), tenancy=multi).tenant == "acme"  # type: ignore[union-attr]
    sidecar = change_of(record("tenants/acme/a.pdf.metadata.json"), tenancy=multi)
    assert sidecar is not None and (sidecar.source, sidecar.tenant) == ("tenants/acme/a.pdf", "acme")
    for outside in ("loose.pdf", "tenants/acme", "tenants//a.pdf", "tenantsacme/a.pdf"):
        assert change_of(record(outside), tenancy=multi) is None, outside
    single = change_of(record("tenants/acme/a.pdf"), tenancy=Tenancy("default"))
    assert single is not None and single.tenant == "default"


def test_uploads_go_under_the_callers_prefix_only_in_a_multi_tenant_stack() -> None:
    from sluice.domain.errors import InvalidRequestError
    from sluice.domain.tenancy import Tenancy

    multi, single = Tenancy("default", multi=True), Tenancy("default")
    assert multi.upload_source("acme", "a.pdf") == "tenants/acme/uploads/a.pdf"
    assert multi.tenant_of(multi.upload_source("acme", "a.pdf")) == "acme"
    assert multi.is_upload("tenants/acme/uploads/a.pdf", "acme") and not multi.is_upload("tenants/acme/a.pdf", "acme")
    assert single.upload_source("acme", "a.pdf") == "uploads/a.pdf" and single.tenant_of("x/y.pdf") == "default"
    with pytest.raises(InvalidRequestError):
        multi.upload_source("a/b", "a.pdf")
