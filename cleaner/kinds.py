"""The closed set of rule kinds: one class each, dispatched from ``KINDS``.

A kind never deletes or joins lines itself. It is handed the current lines of
a document (with the prose region already computed) and answers which lines
it removes (``Doc.drop``) or which spans it cuts (``Doc.cut``); blank-line
bookkeeping happens once, in :mod:`cleaner.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


from .errors import RuleTimeout
from .text import Line

WHERE = ("anywhere", "head", "tail", "edges")


@dataclass
class Doc:
    """The state of one cleaning pass over a document."""

    lines: list[Line]
    first_prose: int  # position of the first prose line (len(lines) if none)
    last_prose: int  # position of the last prose line (-1 if none)
    dropped: dict[int, str] = field(default_factory=dict)  # position -> rule id
    cuts: list[tuple[int, str, int, int, str]] = field(default_factory=list)

    def in_region(self, pos: int, where: str) -> bool:
        if where == "anywhere":
            return True
        if self.last_prose < 0:  # no prose at all: no edges to speak of
            return False
        head = pos < self.first_prose
        tail = pos > self.last_prose
        if where == "head":
            return head
        if where == "tail":
            return tail
        return head or tail

    def live(self):
        """Positions and lines not yet dropped and not blank."""
        for pos, line in enumerate(self.lines):
            if pos not in self.dropped and not line.blank:
                yield pos, line

    def drop(self, pos: int, rule_id: str) -> None:
        self.dropped.setdefault(pos, rule_id)


@dataclass
class Pattern:
    """One compiled pattern with the rule it belongs to, run under a timeout."""

    source: str
    compiled: Any
    rule_id: str
    timeout: float

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


@dataclass
class DropLine(Rule):
    """Drop a line that fully matches a pattern and no exception."""

    patterns: list[Pattern] = field(default_factory=list)
    exceptions: list[Pattern] = field(default_factory=list)
    where: str = "anywhere"
    max_words: int | None = None

    kind: ClassVar[str] = "drop-line"
    order: ClassVar[int] = 30
    keys: ClassVar[dict] = {
        "patterns": ("patterns", True),
        "exceptions": ("patterns", False),
        "where": ("where", False),
        "max_words": ("int", False),
    }

    def apply(self, doc: Doc) -> None:
        for pos, line in list(doc.live()):
            if not doc.in_region(pos, self.where):
                continue
            if self.max_words is not None and line.words > self.max_words:
                continue
            if any_full(self.patterns, line) and not any_full(self.exceptions, line):
                doc.drop(pos, self.id)


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

    def apply(self, doc: Doc) -> None:
        for pos, line in list(doc.live()):
            if not doc.in_region(pos, self.where) or any_full(self.exceptions, line):
                continue
            spans = []
            for pat in self.patterns:
                spans.extend(m.span() for m in pat.finditer(line) if m.end() > m.start())
            if not spans:
                continue
            spans = _merge(spans)
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
            new = Line(line.index, new_text, line.ending)
            doc.lines[pos] = new
            if new.blank:
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
        n = len(doc.lines)
        pos = 0
        while pos < n:
            line = doc.lines[pos]
            if (
                pos in doc.dropped
                or line.blank
                or not doc.in_region(pos, self.where)
                or not any_full(self.headers, line)
            ):
                pos += 1
                continue
            doc.drop(pos, self.id)
            taken, nxt = 0, pos + 1
            while nxt < n and taken < self.max_lines:
                cand = doc.lines[nxt]
                if cand.blank:
                    nxt += 1
                    continue
                if not (any_full(self.items, cand) or any_full(self.headers, cand)):
                    if cand.prose or cand.words > self.max_words:
                        break
                doc.drop(nxt, self.id)
                taken += 1
                nxt += 1
            pos = nxt


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
        before = 0
        for pos, line in enumerate(doc.lines):
            if pos in doc.dropped:
                continue
            if before >= self.min_chars_before and not line.blank and any_full(self.patterns, line):
                for p in range(pos, len(doc.lines)):
                    if not doc.lines[p].blank:
                        doc.drop(p, self.id)
                return
            before += len(line.norm)


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
        seen: dict[str, int] = {}  # key -> ordinal (among live lines) of the latest copy
        for ordinal, (pos, line) in enumerate(list(doc.live())):
            if len(line.norm) < self.min_chars:
                continue
            if self.max_words is not None and line.words > self.max_words:
                continue
            key = line.norm.casefold() if self.ignorecase else line.norm
            key = " ".join(key.split())
            prev = seen.get(key)
            seen[key] = ordinal
            if prev is None or (self.max_gap is not None and ordinal - prev > self.max_gap):
                continue
            if not doc.in_region(pos, self.where):
                continue
            if not any_full(self.exceptions, line):
                doc.drop(pos, self.id)


KINDS: dict[str, type[Rule]] = {
    cls.kind: cls for cls in (DropLine, Strip, DropBlock, TruncateTail, Dedupe)
}
