"""Secrets from the environment or an untracked file: made once, private, stable; a short one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepulse.core.errors import ConfigError
from carepulse.core.local_secrets import local_secret


def test_made_once_private_and_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CP_TEST_SECRET", raising=False)
    first = local_secret(tmp_path, "CP_TEST_SECRET", ".secret")
    assert len(first) >= 32 and first == local_secret(tmp_path, "CP_TEST_SECRET", ".secret")
    assert (tmp_path / ".secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("CP_TEST_SECRET", "x" * 40)
    assert local_secret(tmp_path, "CP_TEST_SECRET", ".secret") == "x" * 40  # the environment wins


def test_short_secrets_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CP_TEST_SECRET", "short")
    with pytest.raises(ConfigError, match="too short"):
        local_secret(tmp_path, "CP_TEST_SECRET", ".secret")
    monkeypatch.delenv("CP_TEST_SECRET")
    (tmp_path / ".weak").write_text("abc\n", encoding="ascii")
    with pytest.raises(ConfigError, match="no usable secret"):
        local_secret(tmp_path, "CP_TEST_SECRET", ".weak")
