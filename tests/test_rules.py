"""Every bundled rule: its own examples, and its own golden fixture.

Test ids are rule ids, so ``pytest -k credits.photo-credit-line`` runs one rule.
A rule without a fixture fails, and so does a fixture without a rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner import RuleSet, load_rules
from cleaner.checks import check_examples

from .conftest import FIXTURES, RULES

ALL = load_rules(RULES, bundled=False)
IDS = [r.id for r in ALL]
# fixtures/<group>/<name>.in.txt belongs to rule <group>.<name>; these folders are not rules
NOT_RULE_FOLDERS = {"articles", "bad-rules", "cli"}


def fixture_paths(rule_id: str) -> tuple[Path, Path]:
    base = FIXTURES.joinpath(*rule_id.split("."))
    return base.with_name(base.name + ".in.txt"), base.with_name(base.name + ".out.txt")


def test_bundled_rules_load_and_are_many():
    assert len(ALL) >= 1
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("rule_id", IDS)
def test_examples(rule_id):
    failures = check_examples(ALL[rule_id])
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("rule_id", IDS)
def test_golden(rule_id, file_regression):
    src, golden = fixture_paths(rule_id)
    assert src.is_file(), f"rule {rule_id} has no fixture {src.relative_to(FIXTURES.parent)}"
    text = src.read_bytes().decode("utf-8")
    alone = RuleSet([ALL[rule_id]])
    result = alone.apply(text)
    assert result.removals, f"rule {rule_id} does not fire on its own fixture"
    assert {r.rule for r in result.removals} == {rule_id}
    file_regression.check(result.text, fullpath=golden, encoding="utf-8", newline="")
    assert golden.read_bytes() == result.text.encode("utf-8")
    assert alone.apply(result.text).text == result.text, "not idempotent on its golden"


def test_every_fixture_has_a_rule():
    orphans = []
    for f in FIXTURES.rglob("*.in.txt"):
        rel = f.relative_to(FIXTURES)
        if rel.parts[0] in NOT_RULE_FOLDERS:
            continue
        rid = ".".join(rel.with_name(rel.name[: -len(".in.txt")]).parts)
        if rid not in IDS:
            orphans.append(str(rel))
    for f in FIXTURES.rglob("*.out.txt"):
        if not f.with_name(f.name[: -len(".out.txt")] + ".in.txt").exists():
            orphans.append(str(f.relative_to(FIXTURES)))
    assert not orphans, f"fixtures without a rule: {orphans}"


ARTICLES = sorted((FIXTURES / "articles").glob("*.in.txt"))


def test_there_are_whole_article_fixtures():
    assert len(ARTICLES) >= 5


@pytest.mark.parametrize("src", ARTICLES, ids=[p.name[: -len(".in.txt")] for p in ARTICLES])
def test_article_golden(src, file_regression):
    """Whole articles through every bundled rule."""
    text = src.read_bytes().decode("utf-8")
    result = ALL.apply(text)
    golden = src.with_name(src.name[: -len(".in.txt")] + ".out.txt")
    file_regression.check(result.text, fullpath=golden, encoding="utf-8", newline="")
    assert golden.read_bytes() == result.text.encode("utf-8")
    assert ALL.apply(result.text).text == result.text, "not idempotent"
    if src.name.startswith("clean-"):
        assert result.text == text and not result.removals, "an already clean article comes back byte for byte"
