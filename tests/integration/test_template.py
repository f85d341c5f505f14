"""template.yaml: linted by cfn-lint, sam validate --lint and checkov, and in step with the code it deploys.

The tools live in their own virtual environments (`make tools`): aws-sam-cli pins its dependencies and checkov
pins an old boto3, so neither may share the project's. A test whose tool is missing is skipped and says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluice.adapters.aws.dynamodb_document_registry import table_definition
from sluice.adapters.aws.dynamodb_feedback_store import TTL_ATTRIBUTE
from sluice.adapters.aws.dynamodb_feedback_store import table_definition as feedback_table_definition

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub...) read as {"Fn::X": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # type: ignore[no-any-return]


def tool(name: str, venv: str) -> str:
    path = ROOT / venv / "bin" / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed; `make tools` installs it into {venv}/")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_registry_table_is_the_one_the_adapter_expects(template: dict[str, Any]) -> None:
    declared = template["Resources"]["RegistryTable"]["Properties"]
    expected = table_definition("ignored")
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert declared[key] == expected[key], key
    assert declared["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert declared["SSESpecification"] == {"SSEEnabled": True}


def test_feedback_table_is_the_one_the_adapter_expects_with_ttl(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    declared = resources["FeedbackTable"]["Properties"]
    expected = feedback_table_definition("ignored")
    for key in ("KeySchema", "AttributeDefinitions", "BillingMode"):
        assert declared[key] == expected[key], key
    assert declared["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert declared["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    statements = resources["QueryFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert any(s["Resource"] == {"Fn::GetAtt": "FeedbackTable.Arn"} for s in statements)
    env = resources["QueryFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLUICE_FEEDBACK_TABLE"] == {"Ref": "FeedbackTable"}


def test_only_the_ingest_function_carries_the_parsers_layer(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert template["Globals"]["Function"]["Layers"] == [{"Ref": "CoreLayer"}]
    assert resources["IngestFunction"]["Properties"]["Layers"] == [{"Ref": "ParsersLayer"}]
    assert "Layers" not in resources["QueryFunction"]["Properties"]
    core, parsers = (requirements(ROOT / f"layers/{name}/requirements.txt") for name in ("core", "parsers"))
    assert parsers == {"pypdfium2", "python-docx", "selectolax"}
    assert not core & parsers


def requirements(path: Path) -> set[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return {re.split(r"[<>=\[ ]", line)[0] for line in lines if line and not line.startswith("#")}


def test_dashboard_body_is_infra_dashboard_json(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    source = (ROOT / "infra" / "dashboard.json").read_text()
    assert body.strip() == source.strip(), "copy infra/dashboard.json into the Dashboard's DashboardBody"
    widgets = json.loads(source)["widgets"]
    titles = " ".join(w["properties"].get("title", "") for w in widgets)
    for topic in ("Ingest flow", "Failures", "Query latency", "tokens", "cost"):
        assert topic in titles


def test_ingest_queue_outlives_six_function_timeouts(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    timeout = resources["IngestFunction"]["Properties"]["Timeout"]
    assert resources["IngestQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    event = resources["IngestFunction"]["Properties"]["Events"]["IngestQueue"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_cfn_lint() -> None:
    result = run(tool("cfn-lint", ".venv-tools"), str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint() -> None:
    result = run(tool("sam", ".venv-tools"), "validate", "--lint", "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_with_every_skip_justified(template: dict[str, Any]) -> None:
    for name, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{name} skips {skip['id']} without a reason"
    checkov = tool("checkov", ".venv-checkov")
    result = run(checkov, "-f", str(TEMPLATE), "--framework", "cloudformation", "--skip-download", "--compact",
                 "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
