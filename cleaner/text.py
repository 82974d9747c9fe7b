"""Lines, the normalised view used for matching, and prose detection.

A document is split on ``\\n`` only; ``\\r`` before it belongs to the line
ending. Every line keeps its original text, and matching happens on a
normalised copy (NFKC, no-break and other odd spaces as plain spaces, format
characters such as the zero-width space removed). A map from normalised
offsets back to original offsets lets a ``strip`` rule remove exactly the
original characters of the span it matched.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable


# Characters dropped from the matching view: Unicode format characters (Cf:
# zero-width space and joiners, soft hyphen, BOM, bidi marks) are handled by
# category; these are the odd spaces NFKC leaves alone.
_SPACES = {"\u00a0", "\u2007", "\u202f", "\u3000", "\t", "\x0b", "\x0c", "\u1680"}


def normalise_char(ch: str) -> str:
    if ch in _SPACES:
        return " "
    if unicodedata.category(ch) == "Cf":
        return ""
    return unicodedata.normalize("NFKC", ch)


class _ViewTable(dict):
    """Code point -> its matching view (``normalise_char``), filled in as characters
    are met; it also keeps the characters met (``met``) and those whose view differs
    from them (``changing``), for ``normalise_doc``."""

    def __init__(self) -> None:
        super().__init__()
        self.met: set[str] = set()
        self.changing: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        view = self[code] = normalise_char(ch)
        self.met.add(ch)
        if view != ch:
            self.changing.add(ch)
        return view


_VIEW = _ViewTable()


def normalise(text: str) -> tuple[str, list[int] | None]:
    """Return the matching view of ``text`` and an offset map.

    The map is ``None`` when the view equals the text (the common case: plain
    ASCII or already-normal text), otherwise ``offsets[i]`` is the offset in
    ``text`` of the character that produced normalised character ``i``, with
    one extra entry for the end.
    """
    if not _changing(text):
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        n = _VIEW[ord(ch)]
        out.append(n)
        offsets.extend([i] * len(n))
    offsets.append(len(text))
    return "".join(out), offsets


# whitespace as str.split() sees it, but the newline, as UTF-8 bytes (ASCII) ...
ASCII_WS = b" \t\r\x0b\x0c\x1c\x1d\x1e\x1f"
# ... and the rest of it a matching view can hold, case-folded or not (NFKC and the view
# turn every other odd space into " "; checked over every code point in the tests)
VIEW_OTHER_WS = ("\x85", "\u2028", "\u2029")


def coarse_keys(view: str, fold: bool = True) -> list[bytes] | None:
    """One key per line of a matching view, made for the whole text at once: with
    no whitespace at all, and case-folded with ``fold``. Two lines that are the
    same but for whitespace (and case) have the same key (lines with different
    keys differ); None when the view holds a space this cannot remove (rare)."""
    folded = view.casefold() if fold else view
    if not folded.isascii() and any(ws in folded for ws in VIEW_OTHER_WS):
        return None
    return folded.encode("utf-8", "surrogatepass").translate(None, ASCII_WS).split(b"\n")


def normalise_doc(text: str) -> str:
    """The matching view of a whole document, line for line (``\n`` is never changed):
    every character mapped on its own, as ``normalise`` does. Only the characters
    that change are touched: the distinct characters tell which, and one
    substitution maps them (2.6x faster than ``str.translate`` on real pages, which
    looks every character up)."""
    changing = _changing(text)
    if not changing:
        return text
    return _changing_class("".join(changing)).sub(_view_of_match, text)


def _changing(text: str) -> list[str]:
    """The distinct characters of ``text`` whose matching view differs from them,
    sorted: for non-ASCII text found in its UTF-8 bytes with the ASCII bytes deleted
    (C-level passes, 4x faster on real pages than a regex search for odd characters
    and an NFKC check)."""
    chars = {ch for ch in _ASCII_CHANGING if ch in text}
    if not text.isascii():
        rest = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
        chars.update(rest.decode("utf-8", "surrogatepass"))
    elif not chars:
        return []
    for ch in chars.difference(_VIEW.met):
        _VIEW[ord(ch)]  # noqa: B018 - fills in its view
    return sorted(chars.intersection(_VIEW.changing))


_ASCII_BYTES = bytes(range(128))
# the ASCII characters whose matching view differs from them (checked in the tests)
_ASCII_CHANGING = ("\t", "\x0b", "\x0c")


def _view_of_match(m: re.Match) -> str:
    return _VIEW[ord(m.group())]


@functools.lru_cache(maxsize=256)
def _changing_class(chars: str) -> re.Pattern:
    return re.compile("[" + "".join(map(re.escape, chars)) + "]")


@dataclass
class Line:
    """One line of a document: original text (without its ending), ending, view."""

    index: int  # 0-based line number in the original document
    text: str  # original characters, line ending excluded
    ending: str  # "\n", "\r\n" or "" (last line without newline)
    norm: str = field(init=False)  # stripped normalised view used for matching
    _offsets: list[int] | None = field(init=False, repr=False)
    _lead: int = field(init=False, repr=False)  # chars stripped from the left of the view

    def __post_init__(self) -> None:
        self.set_text(self.text)

    def set_text(self, text: str) -> None:
        self.text = text
        view, offsets = normalise(text)
        stripped = view.lstrip()
        self._lead = len(view) - len(stripped)
        self.norm = stripped.rstrip()
        self._offsets = offsets

    @property
    def blank(self) -> bool:
        return not self.norm

    @property
    def words(self) -> int:
        """Word count of the normalised view (computed once)."""
        n = self.__dict__.get("_words")
        if n is None:
            n = self.__dict__["_words"] = word_count(self.norm)
        return n

    @property
    def prose(self) -> bool:
        """Reads as a sentence (computed once)."""
        p = self.__dict__.get("_prose")
        if p is None:
            p = self.__dict__["_prose"] = is_prose(self.norm)
        return p

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``norm`` to a span of ``text``."""
        start += self._lead
        end += self._lead
        if self._offsets is None:
            return start, end
        return self._offsets[start], self._offsets[end]


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    parts = text.split("\n")
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if i == last:
            if part == "":
                break  # text ended with a newline
            lines.append(Line(i, part, ""))
        elif part.endswith("\r"):
            lines.append(Line(i, part[:-1], "\r\n"))
        else:
            lines.append(Line(i, part, "\n"))
    return lines


# --- what reads as prose --------------------------------------------------

# A sentence ends in terminal punctuation, maybe followed by up to three closing
# quotes or brackets (the two sets share no character).
TERMINALS = ".!?…:;。！？"
CLOSERS = "\"'’”»)]"

PROSE_MIN_WORDS = 8


def word_count(s: str) -> int:
    """Words are whitespace-separated tokens (fast; "—" counts as one, which errs on keeping)."""
    return len(s.split())


def prose_regions(n: int, prose_at: Callable[[int], bool]) -> tuple[int, int]:
    """Positions of the first and last of ``n`` lines that read as prose ((n, -1) if none).

    ``prose_at(pos)`` says whether line ``pos`` is a non-blank prose line; only the
    lines up to the first and back from the end to the last are asked.
    """
    first = next((pos for pos in range(n) if prose_at(pos)), None)
    if first is None:
        return n, -1
    return first, next(pos for pos in range(n - 1, first - 1, -1) if prose_at(pos))


def is_prose(norm: str, min_words: int = PROSE_MIN_WORDS) -> bool:
    """A line that reads as a sentence: enough words and terminal punctuation."""
    return ends_sentence(norm) and word_count(norm) >= min_words


def ends_sentence(norm: str) -> bool:
    """Terminal punctuation at the end, maybe followed by up to three closing quotes or
    brackets (a look at the last few characters, not a regex search over the line)."""
    end = len(norm)
    closers = 0
    while end and norm[end - 1] in CLOSERS:
        end -= 1
        closers += 1
        if closers > 3:
            return False
    return end > 0 and norm[end - 1] in TERMINALS
