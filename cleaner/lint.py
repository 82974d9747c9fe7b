"""Rule lint: patterns that are slow, fragile or cannot be narrowed by the pre-pass.

``lint(rules)`` returns warnings naming the rule file and the line the pattern
starts on. ``cleaner test`` prints them; they never stop a rule from loading.

- a quantified group whose body is an unbounded repeat and otherwise optional
  (``(?:\\w+\\s*)+``): the backtracking engine can take exponential time on a line
  that almost matches;
- a large counted repeat inside another repeat (``(?:\\w{1,30}\\s){0,9}``): a
  multiplied count makes big automata, and the pre-pass relaxes it;
- ASCII-only letter classes (``[A-Z]``, ``[a-z]``) in rules that match names
  (bylines, credits, captions, bios, reporting): "Šimon Øyvind" has no ASCII
  capital; use ``\\p{Lu}`` / ``\\p{Ll}``;
- ``\\p{Lu}`` / ``\\p{Ll}`` in a rule with ``ignorecase: true``: case is ignored,
  so they match any letter;
- a rule the pre-pass cannot narrow (no literal, no solid beginning): it looks
  at every line of its region (correct, but slower on big corpora).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import regex

from .kinds import Pattern, Rule

NAME_GROUPS = ("bylines", "credits", "captions", "bios", "reporting")
BIG_COUNT = 8  # counted repeats above this are relaxed by the pre-pass


@dataclass(frozen=True)
class LintWarning:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.rule}: {self.message}"


def _patterns(rule: Rule) -> list[Pattern]:
    out: list[Pattern] = []
    for key in ("patterns", "headers", "items", "exceptions"):
        out.extend(getattr(rule, key, None) or [])
    return out


def _parse(pattern: Pattern, ignorecase: bool):
    """The pattern as RE2 text read by Python's parser, counts kept (or None)."""
    from .prefilter import Untranslatable, parse_translation, translate

    try:
        t = translate(pattern.source, ignorecase, expand=True, mark=False, relax=False)
    except (Untranslatable, ValueError, IndexError):
        return None
    return parse_translation(t)


def _can_be_empty(items) -> bool:
    from re._constants import AT, BRANCH, MAX_REPEAT, MIN_REPEAT, SUBPATTERN

    for op, arg in items:
        if op is AT:
            continue
        if op in (MAX_REPEAT, MIN_REPEAT):
            if arg[0] == 0 or _can_be_empty(arg[2]):
                continue
            return False
        if op is SUBPATTERN:
            if _can_be_empty(arg[-1]):
                continue
            return False
        if op is BRANCH:
            if any(_can_be_empty(b) for b in arg[1]):
                continue
            return False
        return False
    return True


def _walk(items, found: set[str], inside_repeat: bool = False) -> None:
    from re._constants import BRANCH, MAX_REPEAT, MAXREPEAT, MIN_REPEAT, SUBPATTERN

    for op, arg in items:
        if op in (MAX_REPEAT, MIN_REPEAT):
            lo, hi, body = arg
            if inside_repeat and hi is not MAXREPEAT and hi > BIG_COUNT:
                found.add("counted")
            if hi is MAXREPEAT or hi > 1:
                body = list(body)
                # the body: one unbounded repeat, everything else optional
                flat = body[0][1][-1] if len(body) == 1 and body[0][0] is SUBPATTERN else body
                flat = list(flat)
                for k, (iop, iarg) in enumerate(flat):
                    if iop in (MAX_REPEAT, MIN_REPEAT) and iarg[1] is MAXREPEAT and iarg[0] >= 1:
                        if _can_be_empty(flat[:k] + flat[k + 1:]):
                            found.add("nested")
            _walk(body, found, inside_repeat or hi is MAXREPEAT or hi > 1)
        elif op is SUBPATTERN:
            _walk(arg[-1], found, inside_repeat)
        elif op is BRANCH:
            for b in arg[1]:
                _walk(b, found, inside_repeat)


_ASCII_LETTERS = regex.compile(r"(?<!\\)\[(?:\^)?[^\]]*(?:A-Z|a-z)")
_UNICODE_CASE = regex.compile(r"\\p\{(?:Lu|Ll|Lt|Upper|Lower)\}|\\p(?:Lu|Ll)")


def lint(rules: Iterable[Rule]) -> list[LintWarning]:
    rules = list(rules)
    out: list[LintWarning] = []
    for r in rules:
        for p in _patterns(r):
            items = _parse(p, r.ignorecase)
            found: set[str] = set()
            if items is not None:
                _walk(items, found)
            if "nested" in found:
                out.append(LintWarning(r.path, p.line, r.id,
                    "a repeated group whose body is an unbounded repeat and otherwise optional "
                    "(like (?:\\w+\\s*)+) can backtrack for a very long time on a line that almost matches"))
            if "counted" in found:
                out.append(LintWarning(r.path, p.line, r.id,
                    f"a counted repeat above {{{BIG_COUNT}}} inside another repeat multiplies into a big automaton "
                    "(the pre-pass relaxes it; prefer a bounded line length guard such as max_words)"))
            if r.id.split(".")[0] in NAME_GROUPS and _ASCII_LETTERS.search(p.source):
                out.append(LintWarning(r.path, p.line, r.id,
                    "ASCII-only letter class ([A-Z] / [a-z]) in a rule that matches names: "
                    "use \\p{Lu} / \\p{Ll} so names like Šimon or Øyvind match"))
            if r.ignorecase and _UNICODE_CASE.search(p.source):
                out.append(LintWarning(r.path, p.line, r.id,
                    "\\p{Lu} / \\p{Ll} with ignorecase: true matches letters of either case"))
    out.extend(prepass_warnings(rules))
    return out


def prepass_warnings(rules: list[Rule]) -> list[LintWarning]:
    """Rules the RE2 pre-pass cannot narrow (needs google-re2; none without it)."""
    from .engine import RuleSet

    pf = RuleSet(rules, prefilter=True).prefilter
    if pf is None:
        return []
    by_id = {r.id: r for r in rules}
    out = []
    for rid, why in sorted({**pf.weak, **pf.untranslatable}.items()):
        r = by_id[rid]
        where = getattr(r, "where", "anywhere")
        cost = "the lines above and below the article" if where != "anywhere" else "every line"
        first = _patterns(r)[0].line if _patterns(r) else 0
        out.append(LintWarning(r.path, first, rid,
            f"the pre-pass cannot narrow this rule ({why}): it looks at {cost} (correct, but slower)"))
    return out
