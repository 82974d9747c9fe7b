"""Rule lint: warnings name the file and line, and never stop a rule from loading."""

from __future__ import annotations

import textwrap

import pytest

from cleaner.lint import lint
from cleaner.rules import load_folder

from .conftest import RULES


def write_rule(folder, name: str, body: str):
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def warnings_for(tmp_path, name: str, body: str) -> list[str]:
    write_rule(tmp_path, name, body)
    return [str(w) for w in lint(load_folder(tmp_path))]


RULE = """
kind: drop-line
message: test rule
{extra}
patterns:
  - '{pattern}'
examples:
  - in: "{bad}\\nThe council met on Tuesday and said the bridge would open in spring.\\n"
    out: "The council met on Tuesday and said the bridge would open in spring.\\n"
  - in: "The council met on Tuesday and said the bridge would open in spring.\\n"
"""


def test_nested_quantifier_is_reported_with_file_and_line(tmp_path):
    got = warnings_for(tmp_path, "cta/nested", RULE.format(extra="", pattern=r"Share(?:\s*\w+)+", bad="Share this"))
    assert any("cta/nested.yaml:5: cta.nested:" in w and "backtrack" in w for w in got), got


def test_counted_repeat_inside_a_repeat(tmp_path):
    got = warnings_for(tmp_path, "cta/counted", RULE.format(extra="", pattern=r"Share(?: \w{1,30}){1,5}", bad="Share this"))
    assert any("counted repeat" in w for w in got), got


def test_ascii_letter_class_in_a_name_rule(tmp_path):
    got = warnings_for(tmp_path, "bylines/ascii", RULE.format(extra="", pattern=r"By [A-Z][a-z]+ [A-Z][a-z]+", bad="By Jane Doe"))
    assert any("ASCII-only letter class" in w for w in got), got
    # the same class outside the name groups is not a name rule
    got = warnings_for(tmp_path / "other", "cta/ascii", RULE.format(extra="", pattern=r"Share [A-Z][a-z]+", bad="Share Now"))
    assert not any("ASCII-only" in w for w in got), got


def test_unicode_case_class_under_ignorecase(tmp_path):
    got = warnings_for(tmp_path, "cta/icase", RULE.format(extra="ignorecase: true", pattern=r"share \p{Lu}\w+", bad="Share Now"))
    assert any("ignorecase" in w for w in got), got


def test_rule_the_prepass_cannot_narrow(tmp_path):
    pytest.importorskip("re2")
    got = warnings_for(tmp_path, "labels/echo", RULE.format(extra="", pattern=r"(?P<a>\w+) (?P=a)", bad="Menu Menu"))
    assert any("pre-pass cannot narrow" in w and "every line" in w for w in got), got


def test_a_plain_rule_has_no_warnings(tmp_path):
    got = warnings_for(tmp_path, "cta/plain", RULE.format(extra="", pattern=r"Share this article", bad="Share this article"))
    assert got == []


def test_cleaner_test_prints_warnings_and_still_passes(tmp_path):
    from typer.testing import CliRunner

    from cleaner.cli import app

    write_rule(tmp_path, "cta/nested", RULE.format(extra="", pattern=r"Share(?:\s*\w+)+", bad="Share this"))
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "cta/nested.yaml:5" in result.output
    assert "1 rules, 2 examples: 2 passed, 0 failed" in result.output


def test_bundled_rules_lint_runs():
    # the bundled set loads and lints without error; every warning names a file
    for w in lint(load_folder(RULES)):
        assert w.path.endswith(".yaml") and w.rule
