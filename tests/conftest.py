from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
RULES = ROOT / "rules"


@pytest.fixture(scope="session")
def bundled():
    from cleaner import load_rules

    return load_rules()
