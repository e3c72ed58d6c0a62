from __future__ import annotations

from pathlib import Path

import pytest

from carepulse.config import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_SAMPLE = REPO.parent / "shared" / "data" / "twcs_sample_1k.csv"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "wh" / "carepulse.duckdb")


@pytest.fixture
def shared_sample() -> Path:
    """The real 1,000-tweet TWCS sample beside the checkout (../shared); CI copies it there too."""
    assert SHARED_SAMPLE.exists(), f"the shared TWCS sample is expected at {SHARED_SAMPLE}"
    return SHARED_SAMPLE
