"""Running a rule's own examples (used by ``cleaner test`` and the test suite)."""

from __future__ import annotations

from dataclasses import dataclass

from .engine import RuleSet
from .kinds import Rule


@dataclass
class ExampleFailure:
    rule: str
    index: int
    name: str
    problem: str
    expected: str
    got: str

    def __str__(self) -> str:
        label = f"examples[{self.index}]" + (f" ({self.name})" if self.name else "")
        return (
            f"{self.rule}: {label}: {self.problem}\n"
            f"  expected: {self.expected!r}\n"
            f"  got:      {self.got!r}"
        )


def check_examples(rule: Rule) -> list[ExampleFailure]:
    """Run each example with this rule alone; also check it is idempotent."""
    alone = RuleSet([rule])
    failures = []
    for i, ex in enumerate(rule.examples):
        src = ex["in"]
        expected = ex.get("out", src)
        got = alone.apply(src).text
        name = ex.get("name", "")
        if got != expected:
            problem = "changed text that must stay" if "out" not in ex else "wrong output"
            failures.append(ExampleFailure(rule.id, i, name, problem, expected, got))
            continue
        again = alone.apply(got).text
        if again != got:
            failures.append(ExampleFailure(rule.id, i, name, "not idempotent", got, again))
    return failures
