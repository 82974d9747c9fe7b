"""Malformed rule files fail with the exact error a person needs (file, line, key)."""

from __future__ import annotations

import pytest

from cleaner.errors import RuleError
from cleaner.rules import load_rule_file

from .conftest import FIXTURES

BAD = sorted((FIXTURES / "bad-rules").glob("*.yaml"))


def test_there_are_bad_rule_fixtures():
    assert len(BAD) >= 8


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_rule_error(path):
    expected = path.with_suffix(".err").read_text(encoding="utf-8").strip()
    with pytest.raises(RuleError) as info:
        load_rule_file(path, f"bad-rules.{path.stem}")
    assert str(info.value) == expected.replace("{path}", str(path))
