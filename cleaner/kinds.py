"""The closed set of rule kinds: one class each, dispatched from ``KINDS``.

A kind never deletes or joins lines itself. It is handed the current lines of
a document (with the prose region already computed) and answers which lines
it removes (``Doc.drop``) or which spans it cuts (``Doc.cut``); blank-line
bookkeeping happens once, in :mod:`cleaner.engine`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import regex

from .errors import RuleTimeout
from .text import Line, coarse_keys, is_prose, prose_regions, word_count

WHERE = ("anywhere", "head", "tail", "edges")


class Doc:
    """The state of one cleaning pass over a document.

    Lines are positions; a :class:`Line` (normalised view, offsets, word count)
    is only built for the positions a rule looks at. ``flagged`` holds the
    positions the RE2 pre-pass flagged; rules in ``filtered`` only look at
    those, other rules at every line.
    """

    def __init__(
        self,
        texts: list[str],
        endings: list[str],
        index: list[int],
        norms: list[str],
        flagged: dict[str, list[int] | None] | None,
        filtered: frozenset[str],
        memo: dict | None = None,
        coarse: tuple[bool, list[bytes] | None] | None = None,
    ):
        self.texts = texts
        self.endings = endings
        self.index = index
        self.norms = norms  # stripped normalised views, one per line
        self.n = len(texts)
        # rule id -> flagged line positions (None: its region), for the rules in
        # ``filtered``; a filtered rule missing from it has nothing to look at
        self.flagged = flagged
        self.filtered = filtered
        # (rule id, line view) -> what a line rule decided on such a line (see
        # RuleSet.apply); shared between passes and documents
        self.memo = {} if memo is None else memo
        self.dropped: dict[int, str] = {}  # position -> rule id
        self.cuts: list[tuple[int, str, int, int, str]] = []
        self.before_cut: dict[int, str] = {}  # position -> text before a strip rule cut it
        self._lines: dict[int, Line] = {}
        self._prose: dict[int, bool] = {}
        self._regions: tuple[int, int] | None = None
        self._keys: dict[tuple, list[tuple[int, int, str]]] = {}
        # case-folded or not -> coarse keys of the lines (text.coarse_keys), made by the
        # engine or when first needed; None when they cannot be made (a rare space)
        self._coarse: dict[bool, list[bytes] | None] = dict([coarse]) if coarse else {}
        self.regions  # noqa: B018 - computed before any rule changes a line

    # --- lines ---------------------------------------------------------------------------

    def line(self, pos: int) -> Line:
        line = self._lines.get(pos)
        if line is None:
            line = self._lines[pos] = Line(self.index[pos], self.texts[pos], self.endings[pos])
        return line

    def blank(self, pos: int) -> bool:
        return not self.norms[pos]

    def prose(self, pos: int) -> bool:
        p = self._prose.get(pos)
        if p is None:
            p = self._prose[pos] = is_prose(self.norms[pos])
        return p

    def set_text(self, pos: int, text: str) -> Line:
        self.before_cut.setdefault(pos, self.texts[pos])
        self.texts[pos] = text
        line = self._lines[pos] = Line(self.index[pos], text, self.endings[pos])
        self.norms[pos] = line.norm
        for fold, keys in self._coarse.items():
            if keys is not None:
                key = coarse_keys(line.norm, fold)
                if key is None:
                    self._coarse[fold] = None
                else:
                    keys[pos] = key[0]
        self._prose.pop(pos, None)
        return line

    def candidates(self, rule: "Rule"):
        """Positions a rule should look at, not dropped and not blank: the lines the
        pre-pass flagged for it (or every line), within its region."""
        where = getattr(rule, "where", "anywhere")
        if self.flagged is not None and rule.id in self.filtered:
            lines = self.flagged.get(rule.id, ())
            positions = self._region_positions(where) if lines is None else lines
        else:
            positions = self._region_positions(where)
        dropped, norms, n = self.dropped, self.norms, self.n
        for pos in positions:
            if pos < n and pos not in dropped and norms[pos]:
                yield pos

    def _region_positions(self, where: str):
        if where == "anywhere":
            return range(self.n)
        first, last = self.regions
        if last < 0:
            return ()
        if where == "head":
            return range(0, first)
        if where == "tail":
            return range(last + 1, self.n)
        return [*range(0, first), *range(last + 1, self.n)]

    def live(self):
        """All positions not dropped and not blank."""
        dropped, norms = self.dropped, self.norms
        for pos in range(self.n):
            if pos not in dropped and norms[pos]:
                yield pos

    # --- regions ---------------------------------------------------------------------------

    @property
    def regions(self) -> tuple[int, int]:
        """Positions of the first and last prose lines (n, -1 if none), computed once."""
        if self._regions is None:
            self._regions = prose_regions(self.n, lambda p: bool(self.norms[p]) and self.prose(p))
        return self._regions

    def in_region(self, pos: int, where: str) -> bool:
        if where == "anywhere":
            return True
        first, last = self.regions
        if last < 0:  # no prose at all: no edges to speak of
            return False
        head = pos < first
        tail = pos > last
        if where == "head":
            return head
        if where == "tail":
            return tail
        return head or tail

    def drop(self, pos: int, rule_id: str) -> None:
        self.dropped.setdefault(pos, rule_id)

    def copies(self, ignorecase: bool) -> list[tuple[int, int, str]]:
        """(ordinal among live lines, position, key) of the live lines whose key
        occurs more than once, in order. A key is a line's view with whitespace runs
        as one space, case-folded with ``ignorecase``. Remembered until a line is
        dropped or cut (both dedupe rules read the same).

        Keys are only built for lines that may be copies: a coarser key (the view
        with no whitespace at all, case-folded for ``ignorecase``), made for the
        whole document at once, must occur twice first."""
        state = (ignorecase, len(self.dropped), len(self.cuts))
        found = self._keys.get(state)
        if found is not None:
            return found
        norms = self.norms
        live = list(self.live())
        # case-folded coarse keys serve either way; others only when case counts
        folded = ignorecase or True in self._coarse
        if folded not in self._coarse:
            self._coarse[folded] = coarse_keys("\n".join(norms), folded)
        coarse = self._coarse[folded]
        if coarse is None:
            maybe = live  # a space the coarse key would keep: every line may be a copy
        else:
            counts = Counter(coarse[p] for p in live)
            maybe = [p for p in live if counts[coarse[p]] > 1]
        fold = str.casefold if ignorecase else str
        keys = {p: " ".join(fold(norms[p]).split()) for p in maybe}
        counts = Counter(keys.values())
        ordinal = {p: o for o, p in enumerate(live)} if maybe else {}
        found = self._keys[state] = [(ordinal[p], p, k) for p, k in keys.items() if counts[k] > 1]
        return found


@dataclass
class Pattern:
    """One compiled pattern with the rule it belongs to, run under a timeout."""

    source: str
    compiled: Any
    rule_id: str
    timeout: float
    line: int = 0  # where the pattern starts in its rule file (0: unknown)

    def fullmatch(self, line: Line) -> bool:
        try:
            return self.compiled.fullmatch(line.norm, timeout=self.timeout) is not None
        except TimeoutError:
            raise RuleTimeout(self.rule_id, line.index + 1, self.timeout) from None

    def finditer(self, line: Line):
        try:
            return list(self.compiled.finditer(line.norm, timeout=self.timeout))
        except TimeoutError:
            raise RuleTimeout(self.rule_id, line.index + 1, self.timeout) from None


def any_full(patterns: list[Pattern], line: Line) -> bool:
    return any(p.fullmatch(line) for p in patterns)


@dataclass
class Rule:
    """Common part of every kind. Subclasses declare their own keys."""

    id: str
    path: str
    message: str
    examples: list[dict]
    ignorecase: bool = False
    lang: list[str] = field(default_factory=lambda: ["en"])
    metadata: dict = field(default_factory=dict)

    kind: ClassVar[str] = ""
    order: ClassVar[int] = 0
    # key -> (type, required); common keys are handled by the loader
    keys: ClassVar[dict[str, tuple[str, bool]]] = {}

    @property
    def group(self) -> str:
        return self.id.rsplit(".", 1)[0] if "." in self.id else ""

    def apply(self, doc: Doc) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


_WORD_RUN = regex.compile(r"[\p{L}'’]+")


@dataclass
class DropLine(Rule):
    """Drop a line that fully matches a pattern and no exception.

    ``exception_words`` is a word list (a set lookup, far cheaper than a big
    regex alternation): a line holding any of these words, case-insensitively,
    as a whole word (a maximal run of letters and apostrophes) is an exception.
    """

    patterns: list[Pattern] = field(default_factory=list)
    exceptions: list[Pattern] = field(default_factory=list)
    exception_words: frozenset[str] = frozenset()
    where: str = "anywhere"
    max_words: int | None = None

    kind: ClassVar[str] = "drop-line"
    order: ClassVar[int] = 30
    keys: ClassVar[dict] = {
        "patterns": ("patterns", True),
        "exceptions": ("patterns", False),
        "exception_words": ("words", False),
        "where": ("where", False),
        "max_words": ("int", False),
    }

    def has_exception_word(self, norm: str) -> bool:
        return bool(self.exception_words) and any(
            w.lower() in self.exception_words for w in _WORD_RUN.findall(norm)
        )

    def apply(self, doc: Doc) -> None:
        memo, rid = doc.memo, self.id
        for pos in list(doc.candidates(self)):
            if not doc.in_region(pos, self.where):
                continue
            norm = doc.norms[pos]
            if self.max_words is not None and word_count(norm) > self.max_words:
                continue
            hit = memo.get((rid, norm))
            if hit is None:
                line = doc.line(pos)
                hit = memo[rid, norm] = (
                    any_full(self.patterns, line)
                    and not any_full(self.exceptions, line)
                    and not self.has_exception_word(line.norm)
                )
            if hit:
                doc.drop(pos, rid)


@dataclass
class Strip(Rule):
    """Remove spans inside a line; a line left with nothing in it goes."""

    patterns: list[Pattern] = field(default_factory=list)
    exceptions: list[Pattern] = field(default_factory=list)
    where: str = "anywhere"

    kind: ClassVar[str] = "strip"
    order: ClassVar[int] = 40
    keys: ClassVar[dict] = {
        "patterns": ("patterns", True),
        "exceptions": ("patterns", False),
        "where": ("where", False),
    }

    def spans(self, line: Line) -> list[tuple[int, int]]:
        """Merged spans of the line's view to cut (none if an exception matches)."""
        if any_full(self.exceptions, line):
            return []
        spans = []
        for pat in self.patterns:
            spans.extend(m.span() for m in pat.finditer(line) if m.end() > m.start())
        return _merge(spans) if spans else []

    def apply(self, doc: Doc) -> None:
        memo, rid = doc.memo, self.id
        for pos in list(doc.candidates(self)):
            if not doc.in_region(pos, self.where):
                continue
            norm = doc.norms[pos]
            spans = memo.get((rid, norm))
            if spans is None:
                spans = memo[rid, norm] = self.spans(doc.line(pos))
            if not spans:
                continue
            line = doc.line(pos)
            pieces, prev, removed = [], 0, []
            for s, e in spans:
                os_, oe = line.original_span(s, e)
                pieces.append(line.text[prev:os_])
                removed.append((os_, oe, line.text[os_:oe]))
                prev = oe
            pieces.append(line.text[prev:])
            new_text = "".join(pieces)
            for os_, oe, txt in removed:
                doc.cuts.append((line.index, self.id, os_, oe, txt))
            if doc.set_text(pos, new_text).blank:
                doc.drop(pos, self.id)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out = [spans[0]]
    for s, e in spans[1:]:
        if s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


@dataclass
class DropBlock(Rule):
    """A header line plus the short teaser lines under it.

    The block goes on over blank lines, lines matching ``items`` and short
    lines that do not read as prose, and ends at the first line that reads as
    prose or has more than ``max_words`` words, or after ``max_lines`` lines.
    """

    headers: list[Pattern] = field(default_factory=list)
    items: list[Pattern] = field(default_factory=list)
    where: str = "anywhere"
    max_lines: int = 12
    max_words: int = 16

    kind: ClassVar[str] = "drop-block"
    order: ClassVar[int] = 20
    keys: ClassVar[dict] = {
        "headers": ("patterns", True),
        "items": ("patterns", False),
        "where": ("where", False),
        "max_lines": ("int", False),
        "max_words": ("int", False),
    }

    def apply(self, doc: Doc) -> None:
        n = doc.n
        resume = 0  # positions before this belong to a block already taken
        for pos in list(doc.candidates(self)):
            if pos < resume or pos in doc.dropped:
                continue
            if not doc.in_region(pos, self.where) or not any_full(self.headers, doc.line(pos)):
                continue
            doc.drop(pos, self.id)
            taken, nxt = 0, pos + 1
            while nxt < n and taken < self.max_lines:
                if doc.blank(nxt):
                    nxt += 1
                    continue
                cand = doc.line(nxt)
                if not (any_full(self.items, cand) or any_full(self.headers, cand)):
                    if cand.prose or cand.words > self.max_words:
                        break
                doc.drop(nxt, self.id)
                taken += 1
                nxt += 1
            resume = nxt


@dataclass
class TruncateTail(Rule):
    """Cut from a marker line to the end of the document."""

    patterns: list[Pattern] = field(default_factory=list)
    min_chars_before: int = 500

    kind: ClassVar[str] = "truncate-tail"
    order: ClassVar[int] = 10
    keys: ClassVar[dict] = {
        "patterns": ("patterns", True),
        "min_chars_before": ("int", False),
    }

    def apply(self, doc: Doc) -> None:
        before, counted = 0, 0  # characters (of lines not dropped) before position ``counted``
        for pos in list(doc.candidates(self)):
            before += sum(len(doc.norms[p]) for p in range(counted, pos) if p not in doc.dropped)
            counted = pos
            if before >= self.min_chars_before and any_full(self.patterns, doc.line(pos)):
                for p in range(pos, doc.n):
                    if not doc.blank(p):
                        doc.drop(p, self.id)
                return


@dataclass
class Dedupe(Rule):
    """Drop a later copy of an earlier line (a headline or caption printed twice).

    Only copies at most ``max_gap`` non-blank lines after the previous copy,
    and inside ``where``, go; lines matching ``exceptions`` never go.
    """

    exceptions: list[Pattern] = field(default_factory=list)
    where: str = "anywhere"
    min_chars: int = 20
    max_words: int | None = None
    max_gap: int | None = None

    kind: ClassVar[str] = "dedupe"
    order: ClassVar[int] = 50
    keys: ClassVar[dict] = {
        "exceptions": ("patterns", False),
        "where": ("where", False),
        "min_chars": ("int", False),
        "max_words": ("int", False),
        "max_gap": ("int", False),
    }

    def apply(self, doc: Doc) -> None:
        norms = doc.norms
        seen: dict[str, int] = {}  # key -> ordinal (among live lines) of the latest copy
        # a line that occurs once is neither a copy nor copied: only the others
        for ordinal, pos, key in doc.copies(self.ignorecase):
            norm = norms[pos]
            if len(norm) < self.min_chars:
                continue
            if self.max_words is not None and word_count(norm) > self.max_words:
                continue
            prev = seen.get(key)
            seen[key] = ordinal
            if prev is None or (self.max_gap is not None and ordinal - prev > self.max_gap):
                continue
            if not doc.in_region(pos, self.where):
                continue
            if not any_full(self.exceptions, doc.line(pos)):
                doc.drop(pos, self.id)


KINDS: dict[str, type[Rule]] = {
    cls.kind: cls for cls in (DropLine, Strip, DropBlock, TruncateTail, Dedupe)
}
