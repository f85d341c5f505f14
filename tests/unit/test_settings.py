"""Settings from keyword arguments, then SLUICE_* environment variables, then defaults."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from sluice.domain.errors import ConfigurationError
from sluice.settings import Settings, environment_values

FIELDS = Settings.model_fields


def test_environment_strings_are_validated_like_any_input(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"SLUICE_BACKEND": "aws", "sluice_multi_tenant": "true", "SLUICE_MAX_FILE_BYTES": "4000000",
                        "SLUICE_STATE_DIR": "/tmp/sluice", "SLUICE_EMBEDDING_DIMENSIONS": "256",
                        "SLUICE_TENANT_CLAIMS": '["custom:tenant","sub"]', "OTHER_TENANT": "ignored"}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.backend, settings.multi_tenant, settings.max_file_bytes) == ("aws", True, 4_000_000)
    assert settings.state_dir == Path("/tmp/sluice") and settings.embedding_dimensions == 256
    assert settings.tenant_claims == ("custom:tenant", "sub") and settings.tenant == "default"


def test_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_TENANT", "from-env")
    assert Settings(tenant="given").tenant == "given"
    assert Settings().tenant == "from-env"


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="SLUICE_TENANT_CLAIMS must be JSON"):
        environment_values(FIELDS, {"SLUICE_TENANT_CLAIMS": "sub"})
    with pytest.raises(ValidationError, match="embedding_dimensions"):
        Settings(**environment_values(FIELDS, {"SLUICE_EMBEDDING_DIMENSIONS": "300"}))
