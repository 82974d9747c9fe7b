"""The rule engine: passes of the kinds in a fixed order, blank lines in one place."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import CleanerError
from .kinds import Doc, Rule
from .rules import DEFAULT_TIMEOUT, _cached_bundled, load_folder, matches_selector
from .text import Line, split_lines

MAX_PASSES = 8


@dataclass(frozen=True)
class Removal:
    """One thing a rule removed: a whole line, or a span of a line."""

    rule: str
    line: int  # 1-based line number in the input
    text: str  # the removed text (the whole line, or the span)
    span: tuple[int, int] | None = None  # character offsets within the line, for spans

    def as_dict(self) -> dict:
        d = {"rule": self.rule, "line": self.line, "text": self.text}
        if self.span is not None:
            d["span"] = list(self.span)
        return d


@dataclass(frozen=True)
class Result:
    text: str
    removals: list[Removal]
    # set when the safety valve kept the document: the share of characters the
    # rules would have removed (``removals`` is then empty and ``text`` the input)
    vetoed: float | None = None

    @property
    def changed(self) -> bool:
        return bool(self.removals)

    @property
    def removed_chars(self) -> int:
        return sum(len(r.text) for r in self.removals)


def _regions(lines: list[Line]) -> tuple[int, int]:
    """Positions of the first and last prose lines (len(lines), -1 if none)."""
    first = next((pos for pos, line in enumerate(lines) if not line.blank and line.prose), None)
    if first is None:
        return len(lines), -1
    last = next(pos for pos in range(len(lines) - 1, first - 1, -1) if not lines[pos].blank and lines[pos].prose)
    return first, last


def _one_pass(lines: list[Line], rules: Sequence[Rule]) -> tuple[list[Line], list[Removal]]:
    first, last = _regions(lines)
    doc = Doc(lines=list(lines), first_prose=first, last_prose=last)
    for rule in rules:
        rule.apply(doc)
    removals = [
        Removal(rule, line_index + 1, text, (s, e))
        for line_index, rule, s, e, text in doc.cuts
    ]
    for pos, rid in sorted(doc.dropped.items()):
        removals.append(Removal(rid, lines[pos].index + 1, lines[pos].text))
    if not removals:
        return lines, []
    return _tidy(doc.lines, doc.dropped), removals


def _tidy(before: list[Line], dropped: dict[int, str]) -> list[Line]:
    """Blank-line bookkeeping, in one place.

    Between two kept lines, the original gap comes back unchanged when nothing
    in it was dropped; otherwise the first run of blank lines in it stands for
    the whole gap (or nothing, if the gap had no blank line). Blank lines left
    at the start or end of the document by a removal go too.
    """
    out: list[Line] = []
    gap: list[Line] = []  # blank lines seen since the last kept non-blank line
    gap_dropped = False
    started = False
    for pos, line in enumerate(before):
        if pos in dropped:
            gap_dropped = True
            continue
        if line.blank:
            gap.append(line)
            continue
        if not started:
            if not gap_dropped:
                out.extend(gap)
        elif not gap_dropped:
            out.extend(gap)
        else:
            out.extend(_first_run(gap))
        out.append(line)
        started = True
        gap, gap_dropped = [], False
    if not gap_dropped:
        out.extend(gap)
    return out


def _first_run(gap: list[Line]) -> list[Line]:
    if not gap:
        return []
    run = [gap[0]]
    for line in gap[1:]:
        if line.index != run[-1].index + 1:
            break
        run.append(line)
    return run


def _join(lines: list[Line], original: str) -> str:
    text = "".join(line.text + line.ending for line in lines)
    if not original.endswith("\n") and lines:
        last = lines[-1]
        if last.ending:
            text = text[: -len(last.ending)]
    return text


class RuleSet:
    """An ordered, picklable set of rules. ``apply`` is pure."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda r: (r.order, r.id)))

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def __getitem__(self, rid: str) -> Rule:
        for rule in self.rules:
            if rule.id == rid:
                return rule
        raise KeyError(rid)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def subset(
        self,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        lang: Iterable[str] | None = None,
    ) -> "RuleSet":
        """Rules in the selected ids/groups, not ignored, and for one of ``lang``
        (a rule with ``lang: [any]`` is for every language)."""
        select = list(select or [])
        ignore = list(ignore or [])
        langs = set(lang or [])
        return RuleSet(
            r for r in self.rules
            if (not select or matches_selector(r.id, select))
            and not matches_selector(r.id, ignore)
            and (not langs or "any" in r.lang or langs.intersection(r.lang))
        )

    def apply(self, text: str, max_removed: float | None = None) -> Result:
        """Clean ``text``. With ``max_removed`` (a share in (0, 1]), a document
        where the rules would remove more than that share of its characters is
        left unchanged and the result says so (``vetoed``)."""
        lines = split_lines(text)
        removals: list[Removal] = []
        changed = False
        for _ in range(MAX_PASSES):
            lines, found = _one_pass(lines, self.rules)
            if not found:
                break
            changed = True
            removals.extend(found)
        if not changed:
            return Result(text, [])
        removals.sort(key=lambda r: (r.line, r.span or (0, 0)))
        if max_removed is not None and max_removed < 1:
            share = sum(len(r.text) for r in removals) / max(1, len(text))
            if share > max_removed:
                return Result(text, [], vetoed=share)
        return Result(_join(lines, text), removals)

    def clean(self, text: str) -> str:
        return self.apply(text).text


def load_rules(
    *folders: str | Path,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    bundled: bool | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    lang: Iterable[str] | None = None,
) -> RuleSet:
    """Load rules: the bundled set (cached), plus or instead of the given folders.

    ``load_rules()`` gives the bundled rules; ``load_rules("my/rules")`` the
    given folder alone; ``load_rules("my/rules", bundled=True)`` both.
    ``lang=["de", "en"]`` keeps rules for those languages (and ``any``).
    """
    if bundled is None:
        bundled = not folders
    rules: list[Rule] = list(_cached_bundled(timeout)) if bundled else []
    for folder in folders:
        rules.extend(load_folder(Path(folder), timeout))
    seen: dict[str, str] = {}
    for r in rules:
        if r.id in seen:
            raise CleanerError(f"rule id {r.id} is defined twice: {seen[r.id]} and {r.path}")
        seen[r.id] = r.path
    return RuleSet(rules).subset(select, ignore, lang)


@functools.lru_cache(maxsize=1)
def _default_rules() -> RuleSet:
    return load_rules()


def clean(text: str) -> str:
    """Clean one document with the bundled rules."""
    return _default_rules().apply(text).text
