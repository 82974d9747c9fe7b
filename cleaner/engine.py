"""The rule engine: passes of the kinds in a fixed order, blank lines in one place."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import CleanerError
from .kinds import Doc, DropBlock, DropLine, Rule, Strip, TruncateTail
from .rules import DEFAULT_TIMEOUT, _cached_bundled, load_folder, matches_selector
from .prefilter import MEMO_MAX, Prefilter  # MEMO_MAX: lines remembered (see RuleSet.apply)
from .text import Line, coarse_keys, normalise_doc, prose_regions

MAX_PASSES = 8
# the pre-pass is built once a rule set has cleaned this much text: small jobs
# (one file, a test) do not pay for it, corpora get it after a few documents.
# Measured on the bundled rules: building it takes 0.2 s and it saves about 3 s
# per million characters, so it pays for itself after some 70,000
AUTO_PREFILTER_CHARS = 64_000


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
    """Positions of the first and last prose lines of a list of lines (len, -1 if none).

    The engine computes the same on its own document model (``Doc.regions``);
    this form serves tools that work on :func:`cleaner.text.split_lines`.
    """
    return prose_regions(len(lines), lambda pos: not lines[pos].blank and lines[pos].prose)


def _split(text: str) -> tuple[list[str], list[str]]:
    """Line texts (without endings) and endings, as the engine has always split them."""
    texts = text.split("\n")
    if texts[-1] == "":
        texts.pop()  # the text ended with a newline
        endings = ["\n"] * len(texts)
    else:
        endings = ["\n"] * (len(texts) - 1) + [""]
    if "\r" in text:
        for i, t in enumerate(texts):
            if endings[i] and t.endswith("\r"):
                texts[i] = t[:-1]
                endings[i] = "\r\n"
    return texts, endings


class _Passes:
    """What one ``apply`` call carries from one pass to the next.

    Which rules the pre-pass names for a line depends on that line alone, and
    it remembers lines it has seen (``Prefilter.lines_for``), so a later pass
    pays only for the lines a ``strip`` rule cut; whether a line occurs twice
    is looked at again only while none does.
    """

    def __init__(self) -> None:
        # whether some line long enough for a dedupe rule (min_chars) occurs twice,
        # ignoring whitespace (and case, if a dedupe rule ignores it)
        self.dups = False
        self.settled = False  # set by a pass after which another would find nothing


def _one_pass(
    text: str,
    index: list[int],
    rules: Sequence[Rule],
    prefilter: Prefilter | None,
    ends_nl: bool,
    passes: _Passes | None = None,
    memo: dict | None = None,
) -> tuple[str, list[int], list[Removal]]:
    """One pass of every rule; returns the new text, its lines' original numbers, removals."""
    view = normalise_doc(text)
    norms = list(map(str.strip, view.split("\n")))  # the view's lines, stripped
    flagged = None
    dups = True  # whether a dedupe rule may find anything
    coarse = None  # (folded, the lines' coarse keys) (see text.coarse_keys), if made here
    if prefilter is not None:
        passes = passes or _Passes()
        if prefilter.dedupe and not passes.dups:  # a cut line may have become a copy
            # (case-folded only if a dedupe rule ignores case: folding costs a third)
            coarse = (prefilter.dedupe_fold, coarse_keys(view, prefilter.dedupe_fold))
            passes.dups = coarse[1] is None or _repeats(coarse[1], norms, prefilter.dedupe_min_chars)
        dups = passes.dups
        flagged = prefilter.lines_for(norms)
        if not flagged and not prefilter.always and not dups:
            return text, index, []  # nothing any rule could touch: no further work
    texts, endings = _split(text)
    del norms[len(texts):]  # a final newline leaves an empty view line
    filtered = prefilter.filtered if prefilter else frozenset()
    doc = Doc(texts, endings, index, norms, flagged, filtered, memo, coarse)
    for rule in rules:
        # a rule the pre-pass narrows, with no line flagged for it, has nothing to do
        if flagged is not None and rule.id in filtered and rule.id not in flagged:
            continue
        if not dups and rule.kind == "dedupe":
            continue
        rule.apply(doc)
    if not doc.dropped and not doc.cuts:
        return text, index, []
    if passes is not None and not doc.cuts and not any(map(doc.prose, doc.dropped)):
        # another pass would find nothing but what the dedupe rules find: every line
        # left is as it was (no cut), so rules that read one line decide as before; no
        # prose line went, so the head and tail regions are the same; a block or a tail
        # cut only loses lines. While no line long enough for a dedupe rule occurs
        # twice, none can fire however close the copies come; else they are asked
        # again, on the lines left (what the next pass would show them), and whatever
        # they find is put back
        passes.settled = not dups or not _dedupes_more(doc, rules)
    removals = [Removal(rule, line_index + 1, cut, (s, e)) for line_index, rule, s, e, cut in doc.cuts]
    for pos, rid in sorted(doc.dropped.items()):
        removals.append(Removal(rid, index[pos] + 1, doc.before_cut.get(pos, texts[pos])))
    kept = _tidy(doc)
    out = "".join(texts[p] + endings[p] for p in kept)
    if not ends_nl and kept:
        last = endings[kept[-1]]
        if last:
            out = out[: -len(last)]
    return out, [index[p] for p in kept], removals


def _dedupes_more(doc: Doc, rules: Sequence[Rule]) -> bool:
    """Whether the dedupe rules, run again on the lines a pass left (its dropped
    lines are out of their sight: ``Doc.copies`` counts live lines only), would drop
    more. The document is left as it was."""
    before = len(doc.dropped)
    for rule in rules:
        if rule.kind == "dedupe":
            rule.apply(doc)
    added = list(doc.dropped)[before:]  # a dict keeps the order lines were dropped in
    for pos in added:
        del doc.dropped[pos]
    return bool(added)


def _repeats(keys: list[bytes], norms: list[str], least: int = 0) -> bool:
    """Whether a non-blank key occurs twice among lines of at least ``least``
    characters (a dedupe rule passes over shorter lines: ``min_chars``)."""
    if least > 1:
        lines = [key for key, norm in zip(keys, norms) if key and len(norm) >= least]
    else:
        lines = list(filter(None, keys))
    return len(set(lines)) != len(lines)


def _tidy(doc: Doc) -> list[int]:
    """Blank-line bookkeeping, in one place: the positions to keep.

    Between two kept lines, the original gap comes back unchanged when nothing
    in it was dropped; otherwise the first run of blank lines in it stands for
    the whole gap (or nothing, if the gap had no blank line). Blank lines left
    at the start or end of the document by a removal go too.
    """
    out: list[int] = []
    gap: list[int] = []  # blank positions since the last kept non-blank line
    gap_dropped = False
    started = False
    dropped, index = doc.dropped, doc.index
    for pos in range(doc.n):
        if pos in dropped:
            gap_dropped = True
            continue
        if doc.blank(pos):
            gap.append(pos)
            continue
        if not gap_dropped:
            out.extend(gap)
        elif started and gap:
            run = [gap[0]]
            for p in gap[1:]:
                if index[p] != index[run[-1]] + 1:
                    break
                run.append(p)
            out.extend(run)
        out.append(pos)
        started = True
        gap, gap_dropped = [], False
    if not gap_dropped:
        out.extend(gap)
    return out


class RuleSet:
    """An ordered, picklable set of rules. ``apply`` is pure."""

    def __init__(self, rules: Iterable[Rule], prefilter: bool | None = None):
        """``prefilter``: True, False, or None for "once the rule set has seen enough
        text to pay for building it" (about half a second for the bundled rules)."""
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda r: (r.order, r.id)))
        self.use_prefilter = prefilter
        self._prefilter: Prefilter | None = None
        self._built = False
        self._seen = 0  # characters cleaned so far (for the automatic pre-pass)
        self._memo: dict = {}  # (rule id, line view) -> what the rule decided on it

    def __getstate__(self):
        # the compiled RE2 pass does not pickle; it is rebuilt on first use
        return {"rules": self.rules, "use_prefilter": self.use_prefilter}

    def __setstate__(self, state):
        self.rules = state["rules"]
        self.use_prefilter = state["use_prefilter"]
        self._prefilter = None
        self._built = False
        self._seen = 0
        self._memo = {}

    @property
    def prefilter(self) -> Prefilter | None:
        """The RE2 pre-pass over these rules (None without google-re2, or when turned off)."""
        if self.use_prefilter is False or (self.use_prefilter is None and self._seen < AUTO_PREFILTER_CHARS):
            return None
        if self._prefilter is None and not self._built:
            self._built = True
            patterns: dict[str, list[tuple[str, bool, bool]]] = {}
            for r in self.rules:
                if isinstance(r, (DropLine, TruncateTail, Strip)):
                    search = isinstance(r, Strip)
                    patterns[r.id] = [(p.source, r.ignorecase, search) for p in r.patterns]
                elif isinstance(r, DropBlock):
                    patterns[r.id] = [(p.source, r.ignorecase, False) for p in r.headers]
            pf = Prefilter(patterns)
            # rules that must look at lines whatever the pre-pass says: those it cannot
            # narrow (untranslatable, or neither literals nor a head); see cleaner test
            pf.always = [
                r.id for r in self.rules
                if r.id in patterns and r.id not in pf.filtered
            ]
            pf.dedupe = any(r.kind == "dedupe" for r in self.rules)
            pf.dedupe_fold = any(r.kind == "dedupe" and r.ignorecase for r in self.rules)
            pf.dedupe_min_chars = min((r.min_chars for r in self.rules if r.kind == "dedupe"), default=0)
            # a drop-line rule skips a line with more words than this (DropLine.apply)
            pf.max_words = {r.id: r.max_words for r in self.rules
                            if isinstance(r, DropLine) and r.max_words is not None}
            self._prefilter = pf if pf.available else None
        return self._prefilter

    def forget(self) -> None:
        """Forget the lines seen so far (what the rules decided on them, which rules
        the pre-pass named): results never depend on it; a benchmark round that
        should not profit from the rounds before it calls this first."""
        self._memo.clear()
        if self._prefilter is not None:
            self._prefilter.forget()

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
        self._seen += len(text)
        ends_nl = text.endswith("\n")
        index = list(range(text.count("\n") + 1))
        prefilter = self.prefilter
        removals: list[Removal] = []
        current = text
        passes = _Passes()
        memo = self._memo
        if len(memo) > MEMO_MAX:
            memo.clear()
        for _ in range(MAX_PASSES):
            current, index, found = _one_pass(current, index, self.rules, prefilter, ends_nl, passes, memo)
            removals.extend(found)
            if not found or passes.settled:
                break
        if not removals:
            return Result(text, [])
        removals.sort(key=lambda r: (r.line, r.span or (0, 0)))
        if max_removed is not None and max_removed < 1:
            share = sum(len(r.text) for r in removals) / max(1, len(text))
            if share > max_removed:
                return Result(text, [], vetoed=share)
        return Result(current, removals)

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
