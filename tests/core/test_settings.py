"""Settings come from CONVREC_* variables only."""

from pathlib import Path

import pytest

from convrec.core.errors import UserError
from convrec.core.llm import make_provider
from convrec.core.settings import Settings


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONVREC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONVREC_PORT", "9001")
    settings = Settings()
    assert settings.data_dir == tmp_path and settings.port == 9001
    assert settings.host == "127.0.0.1"
    assert settings.checkpoint_path == tmp_path / "conversations.sqlite"
    assert settings.describe()["CONVREC_PORT"] == "9001"


def test_bad_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVREC_PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_unknown_provider_lists_choices() -> None:
    settings = Settings.model_construct(llm_provider="gpt-9")
    with pytest.raises(UserError, match="choose one of: offline"):
        make_provider(settings, offline=object())  # type: ignore[arg-type]
