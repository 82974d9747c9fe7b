"""Stage one of the engine: a linear-time pass that flags the lines a rule may touch.

Every line pattern is translated into a *loosened* RE2 pattern: anything RE2
cannot do (lookarounds, backreferences, word boundaries, atomic groups,
possessive quantifiers, large counted repeats) is dropped or widened, so the
translation matches at least everything the exact pattern matches. From it
come the literals one of which every match holds, or else how every match
begins (a head), and the shape a line must have. Every line of the
(normalised) document goes through two RE2 sets, one for the literals and
one for the heads, in linear time; a rule is flagged on a line when the line
holds one of its literals (or begins as it does) and its shape fits the line,
and only then does the exact ``regex`` pattern run.

A translation is always a superset: a line the exact rule would remove is
always flagged. A rule that cannot be narrowed looks at every line of its
region (correct, only slower); ``cleaner test`` warns about it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

try:  # google-re2
    import re2  # type: ignore[import-not-found]  # noqa: I001
except ImportError:  # pragma: no cover - exercised through the fallback test
    re2 = None

import regex

from .text import word_count

MAX_COUNT = 8  # counted repeats above this are relaxed: x{2,80} -> x{2,}
MAX_MEM = 64 << 20
# how deep heads expand calls to named groups (a date inside a stamp inside a
# line: a head must see through them all to find how the line begins), and the
# size past which an expansion stops deepening
HEAD_DEPTH = 6
EXPAND_MAX_CHARS = 200_000
# lines remembered, here (which rules a line's literals and shape name) and by the
# engine (what a rule decided on a line): both pure functions of the line's view, so
# a later pass over a document, and boilerplate that recurs across documents, are
# not matched again; a table is emptied at once when it grows past this
MEMO_MAX = 4_000

# Unicode classes make big automata over UTF-8 bytes. The pre-pass only needs a
# superset, so a class becomes its ASCII members plus every non-ASCII character
# (NONASCII); the exact pattern sorts out the rest. Whitespace stays exact (it is
# small and sits at the edge of every line pattern). Never \n: a line never holds
# one, and keeping it out stops a match from spanning lines.
NONASCII = r"\x{80}-\x{10FFFF}"
# Unicode categories RE2 knows, kept exact in heads (as private-use placeholders
# while the head is read with Python's parser; see _re2_char)
EXACT_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "L", "N", "Nd")
PLACEHOLDER = 0xF0000
# Whitespace as it can still stand in a matching view (cleaner.text): the other
# Unicode spaces (tab, no-break, ideographic, en/em ...) have all become " " there,
# and every RE2 pass here runs on views. A small class keeps automata small.
_S = r"\r\x{1c}-\x{1f}\x{85}\x{2028}\x{2029} "
_WS_CLASS = f"[{_S}]"
EDGE = f"{_WS_CLASS}*"
ANY = r"[^\n]"


def _ascii_members(probe: str, ignorecase: bool) -> str:
    """A class body with the ASCII characters (but \n) that ``probe`` (one class) matches."""
    pat = regex.compile(probe, regex.IGNORECASE if ignorecase else 0)
    codes = [i for i in range(128) if i != 10 and pat.fullmatch(chr(i))]
    out, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(f"\\x{{{codes[i]:02x}}}" + (f"-\\x{{{codes[j]:02x}}}" if j > i else ""))
        i = j + 1
    return "".join(out)

_POSIX = ("alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
          "space", "upper", "word", "xdigit")


class Untranslatable(Exception):
    """The pattern uses something the translator does not know."""


@dataclass
class _State:
    src: str
    verbose: bool
    ignorecase: bool
    i: int = 0
    named: dict[str, str] = field(default_factory=dict)  # bodies of named groups seen
    calls: dict[str, str] | None = None  # what a call (?&name) expands to; None: any text
    mark_lookaround: bool = False  # keep positive lookarounds as capturing groups (for literals)
    relax: bool = True  # widen large counted repeats (smaller automata); off to measure widths
    negated_class: bool = False  # inside [^...]: Unicode classes give only their ASCII part
    exact: bool = False  # keep Unicode categories (\p{Lu} ...) as placeholders (for heads)
    anchors: bool = False  # keep ^ and $ (for a shape, which is tested on one line alone)
    graph: dict[str, set[str]] | None = None  # if given: named group -> the groups it calls
    inside: list[str] = field(default_factory=list)  # the named groups being read


def translate(
    src: str, ignorecase: bool = False, verbose: bool = False, expand: bool = False, relax: bool = True,
    mark: bool = True, exact: bool = False, depth: int = 2,
) -> str:
    """A RE2 pattern matching (at least) every string ``src`` matches somewhere.

    Anchors are dropped, so use it with search semantics, or wrap it. With
    ``expand``, calls to named groups are expanded ``depth`` levels deep (deeper
    calls and recursion stay "any text", and so does any level that would pass
    ``EXPAND_MAX_CHARS``): bigger, but it keeps the literals that matter.
    With ``expand``, positive lookarounds are kept as groups (``mark``), which
    is right for reading off literals but not a pattern to match with; pass
    ``mark=False`` for a pattern.
    """
    if expand:
        out, bodies = _translate(src, ignorecase, verbose, None, mark, relax, exact)
        for _ in range(depth):
            if not regex.search(r"\(\?[&P]>?", src):
                break
            deeper, next_bodies = _translate(src, ignorecase, verbose, bodies, mark, relax, exact)
            if len(deeper) > EXPAND_MAX_CHARS:
                break
            out = deeper
            if next_bodies == bodies:
                break
            bodies = next_bodies
        return out
    # Calls to named groups ((?&name)) are expanded one level deep: the bodies
    # come from a first pass where every call stands for "any text", which keeps
    # the automaton small (and handles forward and recursive calls).
    # When that leaves a pattern that matches an empty line (all its substance sat
    # in nested calls), expand one level deeper, up to a few levels.
    out, bodies = _translate(src, ignorecase, verbose, None)
    for _ in range(4):
        if not regex.search(r"\(\?[&P]>?", src) or re2 is None:
            break
        deeper, next_bodies = _translate(src, ignorecase, verbose, bodies)
        out = deeper
        if _problem(out) is None or len(out) > 60000:
            break
        bodies = next_bodies
    return out


def translate_shape(src: str, ignorecase: bool, common: int | None = None) -> str:
    """A translation to test one line with (a shape): ``^`` and ``$`` are kept,
    lookarounds dropped, and named groups expanded bottom up, each call spelt out
    (recursion stays "any text"). With ``common``, a group whose expansion fits
    more than that many lines of ordinary prose (``PROBES``: a run of names, a
    URL) stands for "any text": it tells little, and spelling it out everywhere
    is what makes a shape too big, while the telling groups (a list of labels or
    of agencies) are kept wherever they sit."""
    # no anchors if a flag could make them match inside a line
    anchors = not regex.search(r"\(\?[a-zA-Z01]*[mw]", src)
    graph: dict[str, set[str]] = {}
    _, bodies = _translate(src, ignorecase, False, None, False, anchors=anchors, graph=graph)
    settled: dict[str, str] = {}
    while len(settled) < len(bodies):
        ready = [n for n in bodies if n not in settled and graph.get(n, set()) <= settled.keys()]
        if not ready:
            break  # recursion: what is left stays "any text"
        _, bodies = _translate(src, ignorecase, False, settled, False, anchors=anchors)
        for n in ready:
            body = bodies[n]
            if _size(body) > EXPAND_MAX_CHARS or (common is not None and _commonness(body) > common):
                body = f"{ANY}*"
            settled[n] = body
    out, _ = _translate(src, ignorecase, False, settled, False, anchors=anchors)
    return out


@functools.lru_cache(maxsize=1024)
def _commonness(translated: str) -> int:
    """In how many lines of ordinary prose a translation fits (PROBES): a group
    that fits them all (a run of names) tells little, one that fits none (a list
    of agencies) tells a lot; ``translate_shape`` makes the first kind loose."""
    try:
        compiled = re2.compile(translated, _re2_options(SHAPE_MAX_MEM))
    except Exception:
        return len(PROBES)
    return sum(1 for p in PROBES if compiled.search(p))


def _size(translated: str) -> int:
    """A translation's length, counting each whitespace class as one character (it
    is one byte range in the automaton, however long it is written)."""
    return len(translated) - (len(_WS_CLASS) - 1) * translated.count(_WS_CLASS)


def _translate(
    src: str, ignorecase: bool, verbose: bool, calls: dict[str, str] | None, mark: bool = False, relax: bool = True,
    exact: bool = False, anchors: bool = False, graph: dict[str, set[str]] | None = None,
) -> tuple[str, dict[str, str]]:
    st = _State(src, verbose, ignorecase, calls=calls, mark_lookaround=mark, relax=relax, exact=exact,
                anchors=anchors, graph=graph)
    # global inline flags at the very start: (?x), (?xi), (?V1) ...
    m = regex.match(r"\(\?([aiLmsuxVfbrwe01]+)\)", src)
    if m:
        flags = m.group(1)
        st.verbose = st.verbose or "x" in flags
        st.ignorecase = st.ignorecase or "i" in flags
        st.i = m.end()
    out = _seq(st, top=True)
    if st.i != len(src):
        raise Untranslatable(f"unbalanced ')' at {st.i}")
    return (f"(?i:{out})" if st.ignorecase else f"(?:{out})"), st.named


def _seq(st: _State, top: bool = False) -> str:
    parts: list[str] = []
    src = st.src
    while st.i < len(src):
        c = src[st.i]
        if st.verbose and c in " \t\n\r\f\v":
            st.i += 1
            continue
        if st.verbose and c == "#":
            nl = src.find("\n", st.i)
            st.i = len(src) if nl < 0 else nl + 1
            continue
        if c == ")":
            if top:
                raise Untranslatable(f"unbalanced ')' at {st.i}")
            return "".join(parts)
        if c == "|":
            parts.append("|")
            st.i += 1
            continue
        atom, zero_width = _atom(st)
        quant = _quantifier(st)
        if zero_width:
            # a dropped assertion: its quantifier goes with it
            continue
        parts.append(atom + quant)
    if not top:
        raise Untranslatable("missing ')'")
    return "".join(parts)


def _quantifier(st: _State) -> str:
    limit = MAX_COUNT if st.relax else 10**9
    src = st.src
    if st.verbose:
        while st.i < len(src) and src[st.i] in " \t\n\r\f\v":
            st.i += 1
    if st.i >= len(src):
        return ""
    c = src[st.i]
    q = ""
    if c in "*+?":
        q = c
        st.i += 1
    elif c == "{":
        m = regex.match(r"\{(\d*)(,?)(\d*)\}", src[st.i:])
        if not m or (not m.group(1) and not m.group(3)):
            return ""  # a literal brace: handled as an atom next time round
        lo = int(m.group(1) or 0)
        hi = m.group(3)
        st.i += m.end()
        if not m.group(2):  # {m}
            q = f"{{{lo}}}" if lo <= limit else f"{{{MAX_COUNT},}}"
        elif not hi:  # {m,}
            q = f"{{{min(lo, MAX_COUNT)},}}"
        elif int(hi) <= limit:
            q = f"{{{lo},{hi}}}"
        else:
            q = f"{{{min(lo, MAX_COUNT)},}}"
    else:
        return ""
    # lazy (?) stays; possessive (+) goes
    if st.i < len(src) and src[st.i] == "?":
        q += "?"
        st.i += 1
    elif st.i < len(src) and src[st.i] == "+":
        st.i += 1
    return q


def _atom(st: _State) -> tuple[str, bool]:
    """One atom; returns (RE2 text, is a dropped zero-width assertion)."""
    src = st.src
    c = src[st.i]
    if c == "\\":
        return _escape(st, in_class=False)
    if c == "[":
        return _class(st), False
    if c == "(":
        return _group(st)
    if c == ".":
        st.i += 1
        return ANY, False
    if c in "^$":
        st.i += 1
        if c == "$" and (st.exact or st.anchors):
            # kept for heads ("the line ends in a bracket" is a narrow head), with the
            # whitespace a line of the document may still have before its newline
            return f"(?:{EDGE}$)", False
        if c == "^" and st.anchors:
            return f"(?:^{EDGE})", False
        return "", True
    if c == "{":
        st.i += 1
        return r"\{", False
    if c == "}":
        st.i += 1
        return r"\}", False
    if c in "*+?":
        raise Untranslatable(f"nothing to repeat at {st.i}")
    st.i += 1
    return c, False


def _escape(st: _State, in_class: bool) -> tuple[str, bool]:
    src = st.src
    if st.i + 1 >= len(src):
        raise Untranslatable("trailing backslash")
    c = src[st.i + 1]
    st.i += 2
    if c in "wdsWDS":
        probe = "\\" + c
        if c in "sS":  # whitespace is small: exact
            body = _S
            if c == "s":
                return (body if in_class else f"[{body}]"), False
            if in_class:
                raise _WidenClass()
            return f"[^{body}\\n]", False
        if c.isupper():  # \W \D: a negated Unicode class
            if in_class:
                raise _WidenClass()
            return f"[^{_ascii_members(probe.lower(), False)}\\n]", False
        body = _ascii_members(probe, False) + ("" if st.negated_class else NONASCII)
        if c == "d" and not in_class:
            # case-sensitive: under (?i) RE2 would fold "s" and "k" into the non-ASCII
            # range (from "ſ" and the Kelvin sign), and a digit never matches them
            return f"(?-i:[{body}])", False
        return (body if in_class else f"[{body}]"), False
    if c in "bBAZzGmMK":
        if in_class and c == "b":
            return r"\x08", False
        return "", True
    if c in "pP":
        m = regex.match(r"\{(\^?)([A-Za-z_&=: ]+)\}|([A-Za-z])", src[st.i:])
        if not m:
            raise Untranslatable("bad property")
        name = m.group(2) or m.group(3)
        st.i += m.end()
        negated = (c == "P") != bool(m.group(1))
        if st.exact and not negated and not st.ignorecase and not st.negated_class and name in EXACT_CATEGORIES:
            ph = f"\\x{{{PLACEHOLDER + EXACT_CATEGORIES.index(name):x}}}"
            return (ph if in_class else f"[{ph}]"), False
        try:
            members = _ascii_members(f"\\p{{{name}}}", st.ignorecase)
        except regex.error:
            raise Untranslatable(f"property {name}") from None
        if not negated:
            body = members + ("" if st.negated_class else NONASCII)
            return (body if in_class else f"[{body}]"), False
        if in_class:
            raise _WidenClass()
        return f"[^{members}\\n]" if members else ANY, False
    if c.isdigit():
        if c == "0":
            return r"\x00", False
        if in_class:
            raise Untranslatable("octal in class")
        # a backreference: whatever the group matched, on this line
        while st.i < len(src) and src[st.i].isdigit():
            st.i += 1
        return f"{ANY}*", False
    if c == "g":
        m = regex.match(r"<[^>]+>", src[st.i:])
        if not m:
            raise Untranslatable("bad \\g")
        st.i += m.end()
        return f"{ANY}*", False
    if c == "u":
        h = src[st.i:st.i + 4]
        st.i += 4
        return f"\\x{{{h}}}", False
    if c == "U":
        h = src[st.i:st.i + 8]
        st.i += 8
        return f"\\x{{{h}}}", False
    if c == "x":
        if src[st.i:st.i + 1] == "{":
            end = src.index("}", st.i)
            h = src[st.i + 1:end]
            st.i = end + 1
        else:
            h = src[st.i:st.i + 2]
            st.i += 2
        return f"\\x{{{h}}}", False
    if c in "ntrfva":
        return "\\" + c, False
    if c == "e":
        return r"\x1b", False
    if c == "N":
        raise Untranslatable("named character")
    if c.isalnum():
        raise Untranslatable(f"escape \\{c}")
    # an escaped literal
    return ("\\" + c) if not c.isspace() else regex.escape(c), False


class _WidenClass(Exception):
    pass


def _class(st: _State) -> str:
    """A character class; widened to any character when it cannot be kept."""
    src = st.src
    start = st.i
    st.i += 1
    negated = False
    if st.i < len(src) and src[st.i] == "^":
        negated = True
        st.i += 1
    st.negated_class = negated
    items: list[str] = []
    first = True
    widen = False
    while True:
        if st.i >= len(src):
            raise Untranslatable("unterminated class")
        c = src[st.i]
        if c == "]" and not first:
            st.i += 1
            break
        first = False
        if c == "\\":
            try:
                items.append(_escape(st, in_class=True)[0])
            except _WidenClass:
                widen = True
            continue
        if c == "[":
            m = regex.match(r"\[:(\^?)([a-z]+):\]", src[st.i:])
            if m and m.group(2) in _POSIX:
                items.append(m.group(0))
                st.i += m.end()
                continue
            raise Untranslatable(f"nested set at {st.i}")
        if src.startswith(("--", "&&", "||", "~~"), st.i) and st.i > start + 1:
            raise Untranslatable("set operation")
        # '-' and a '^' that is not first mean the same in RE2; a first ']' is literal
        items.append("\\]" if c == "]" else c)
        st.i += 1
    st.negated_class = False
    if widen:
        return ANY
    body = "".join(items)
    if negated:
        return f"[^{body}\\n]"
    return f"[{body}]"


def _group(st: _State) -> tuple[str, bool]:
    src = st.src
    i = st.i
    rest = src[i:i + 4]
    if rest.startswith("(?#"):
        end = src.index(")", i)
        st.i = end + 1
        return "", True
    if rest.startswith(("(?=", "(?!")) or rest.startswith(("(?<=", "(?<!")):
        positive = rest.startswith(("(?=", "(?<="))
        st.i += 3 if rest[2] in "=!" else 4
        body = _seq(st)  # parsed and dropped...
        st.i += 1
        if positive and st.mark_lookaround:
            # ...or kept apart: what it requires is required. A lookahead is marked
            # as a group holding only a group (it tells how a match goes on from here)
            return (f"(({body}))" if rest[2] == "=" else f"({body})"), False
        return "", True
    if rest.startswith("(?P="):
        end = src.index(")", i)
        st.i = end + 1
        return f"{ANY}*", False
    if rest.startswith(("(?&", "(?P>")):
        end = src.index(")", i)
        name = src[i + (3 if rest[2] == "&" else 4):end]
        st.i = end + 1
        if st.graph is not None and st.inside:
            st.graph.setdefault(st.inside[-1], set()).add(name)
        if st.calls is None or name not in st.calls:
            return f"{ANY}*", False  # see translate
        return f"(?:{st.calls[name]})", False
    if rest.startswith("(?(DEFINE)") or src.startswith("(?(DEFINE)", i):
        st.i = i + len("(?(DEFINE)")
        _seq(st)  # the named groups inside are recorded for later calls
        st.i += 1
        return "", True
    if rest.startswith("(?("):
        # a conditional: either branch may match
        end = src.index(")", i + 3)
        st.i = end + 1
        body = _seq(st)
        st.i += 1
        return f"(?:{body})", False
    name = None
    m = regex.match(r"\(\?P?<([A-Za-z_]\w*)>", src[i:])
    if m:
        name = m.group(1)
        st.i = i + m.end()
        prefix = "(?:"
    elif rest.startswith(("(?:", "(?>", "(?|")):
        st.i = i + 3
        prefix = "(?:"
    else:
        m = regex.match(r"\(\?([aiLmsuxVfbrwe01-]*)(:|\))", src[i:])
        if m:
            flags, kind = m.group(1), m.group(2)
            keep = "".join(f for f in flags if f in "ims-").rstrip("-")
            if "x" in flags:
                if kind == ")":
                    st.verbose = "-" not in flags.split("x")[0]
                    st.i = i + m.end()
                    return "", True
                raise Untranslatable("scoped verbose flag")
            if "i" in flags.split("-")[0]:
                pass
            st.i = i + m.end()
            if kind == ")":
                return (f"(?{keep})" if keep else ""), not keep
            prefix = f"(?{keep}:" if keep else "(?:"
        elif rest.startswith("(?"):
            raise Untranslatable(f"group syntax {rest!r}")
        else:
            st.i = i + 1
            prefix = "(?:"
    if name is not None:
        st.inside.append(name)
    body = _seq(st)
    st.i += 1  # the ')'
    if name is not None:
        st.inside.pop()
        st.named[name] = body
    return prefix + body + ")", False


# --- required literals -------------------------------------------------------------------

MIN_ATOM = 3  # shorter required literals do not narrow much: such a rule looks at every line
MAX_ATOMS = 200


@functools.lru_cache(maxsize=4096)
def pattern_literals(src: str, ignorecase: bool, strict: bool = True) -> frozenset[str] | None:
    """Required literals of one rule pattern (cached: rule sets share patterns).
    With ``strict``, literals of ordinary prose do not count."""
    found = required_literals(translate(src, ignorecase, expand=True), strict)
    return frozenset(found) if found else None


def parse_translation(translated: str) -> list | None:
    """A RE2 translation read with Python's own regex parser (by then everything
    exotic is gone; only \\x{..} escapes need rewriting), or None."""
    import re._parser as sre_parse  # Python 3.11+

    py = regex.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: _py_escape(int(m.group(1), 16)), translated)
    try:
        return list(sre_parse.parse(py))
    except Exception:
        return None


def required_literals(translated: str, strict: bool = True) -> set[str] | None:
    """Lowercase strings one of which occurs in every match of ``translated`` (or None).

    Works on the RE2 translation, read with Python's own regex parser: by then
    everything exotic is gone (only \\x{..} escapes need rewriting).
    """
    tree = parse_translation(translated)
    if tree is None:
        return None
    lits = _lits(tree)
    if not lits or len(lits) > MAX_ATOMS or any(len(a) < MIN_ATOM and a.isalnum() or not a.strip() for a in lits):
        return None  # short words (not punctuation) and spaces occur everywhere: no narrowing
    if strict and _score(lits)[0] == 0:
        return None  # a literal of ordinary prose: no narrowing either
    return lits


def _py_escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


# Ordinary prose in the rules' languages (written for this purpose). A literal
# found in it would flag most lines of real text, so it does not count as a
# narrowing literal, and a loosened line pattern that fits one of its sentences
# does not narrow anything either.
COMMON_TEXT = """\
The council said on Tuesday that the new bridge would open in the spring of next year, about two months later than planned.
Residents who live near the river have complained for years about traffic, noise and the lack of a safe crossing for children.
"We have listened to everyone, and we think this is the right design," the mayor told reporters after the meeting.
Most of the money will come from a national fund, while the rest is expected to be raised through local taxes and private donors.
According to the latest figures, more than 40,000 vehicles use the old crossing every day, which is twice what it was built for.
However, some experts warn that the project could still be delayed if the price of steel continues to rise over the coming months.
It is not yet clear what will happen to the shops on the other side of the street, but officials said they would help owners find new premises.
She added that the city wants to make sure people can get to work, to school and to hospital without having to take a long detour.
The first phase, which includes a new cycle path and wider pavements, should be finished before the summer holidays.
In a statement, the company said it was confident about the timetable and had already ordered most of the materials it needs.
The plan has three parts: a new road (paid for by the state), a cycle path and a bus lane – all of it open 24/7 by 2027.
Prices rose 3.5% in May, up from 2.9% in April; food and energy costs - which make up a third of the index - led the rise.
He said: "It's a good deal for the town." Others disagree, and the vote on 12/03 is expected to be close.
What happens next? Nobody knows yet, but the story is far from over and we will share more news as it comes in.
I never thought I would live to see it, she said, adding that she would like to read the report before the next meeting.
The product was launched last month, and its content, price and release date were posted online with a link to the full details.
Most people also want to know how much it will cost, who will pay and when the work will start.
Our reporters have followed the case since it began, and many readers have written to us about it.
Die Stadt will die neue Brücke im Frühjahr eröffnen, sagte der Bürgermeister am Dienstag nach einer Sitzung des Gemeinderats.
Anwohner klagen seit Jahren über den Verkehr und den Lärm, und viele Eltern wünschen sich einen sicheren Schulweg für ihre Kinder.
Nach Angaben der Verwaltung kostet das Projekt rund zwölf Millionen Euro, von denen der größte Teil aus Fördermitteln des Landes kommt.
Kritiker befürchten jedoch, dass sich die Bauarbeiten wegen steigender Preise noch weiter verzögern könnten.
Le conseil municipal a annoncé mardi que le nouveau pont ouvrira au printemps prochain, avec deux mois de retard sur le calendrier prévu.
Les habitants du quartier se plaignent depuis des années de la circulation et du bruit, selon une étude publiée par la mairie.
El ayuntamiento anunció el martes que el nuevo puente se abrirá en primavera, aunque los vecinos temen nuevos retrasos en las obras.
Según los datos más recientes, más de cuarenta mil vehículos cruzan cada día el puente antiguo, el doble de lo previsto.
Il sindaco ha detto martedì che il nuovo ponte sarà aperto in primavera, anche se i lavori sono in ritardo di due mesi.
Secondo gli ultimi dati, ogni giorno più di quarantamila veicoli attraversano il vecchio ponte, che non era stato costruito per questo.
De gemeente maakte dinsdag bekend dat de nieuwe brug in het voorjaar opengaat, twee maanden later dan gepland.
Volgens de laatste cijfers rijden er elke dag meer dan veertigduizend auto's over de oude brug, het dubbele van wat ooit werd verwacht.
A prefeitura anunciou na terça-feira que a nova ponte será aberta na primavera, com dois meses de atraso em relação ao previsto.
The first public review of the policy found that just half of the money had reached the families it was meant to support.
Officials did not give a reason for the delay, but said they would consider the results of the process before the next edition of the report.
A video posted online appears to show the same man walking back to his car near the top of the hill.
Members of the club said the fee was too high, and many of them asked to see the information before they would agree to pay it.
The company, whose name was not made public, lies at the centre of a dispute about supplies, credit and the charge for each delivery.
Take a look at the photo on the site: you can check the point where the river meets the road and the store on the corner.
The article, which was edited twice, said the source of the claim was a former client who had been in touch by mail a week ago.
Her guide to the topic covers social media, new features in the search tools from Google and the action the city took after the storm.
It is a story that many readers will not want to miss, and the related view from the other side of the border is just as moving.
Le ministre dit que la suite du projet reste incertaine, mais il a rappelé le lien entre les deux villes et ce qui se passe dans le port.
El alquiler subió un diez por ciento y el director dijo que es posible que el próximo año las medidas sean más duras para las familias.
Der Spieler sagte, alle Beteiligten hätten sich an die Regeln gehalten, und die Stadt werde den Fall im nächsten Monat prüfen.
Il direttore ha detto che alle famiglie sarà data una risposta entro la fine del mese, come previsto dalla legge.
"""
_COMMON = COMMON_TEXT.lower()


def _score(lits: set[str] | None) -> tuple[int, int, int]:
    if not lits:
        return (-1, 0, 0)
    # a literal of ordinary prose narrows nothing; then longer is rarer (a
    # punctuation mark is worth about a short word), and fewer is better
    common = any(a in _COMMON for a in lits)
    return (0 if common else 1, min(len(a) if any(c.isalnum() for c in a) else 2 for a in lits), -len(lits))


def _lits(items: list) -> set[str] | None:
    """Required literals of a sequence of parsed items."""
    from re._constants import BRANCH, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, SUBPATTERN

    best: set[str] | None = None
    run = ""
    candidates: list[set[str]] = []
    for op, arg in items:
        if op is LITERAL:
            run += chr(arg).lower()
            continue
        if run:
            candidates.append({run})
            run = ""
        sub: set[str] | None = None
        if op is SUBPATTERN:
            sub = _lits(list(arg[-1]))
            if arg[0] is not None:  # a kept lookaround: required, but not next to its neighbours
                if sub:
                    candidates.append(sub)
                continue
        elif op is BRANCH:
            branches = [_lits(list(b)) for b in arg[1]]
            if all(branches):
                sub = set().union(*branches)  # type: ignore[arg-type]
        elif op in (MAX_REPEAT, MIN_REPEAT):
            lo, _hi, body = arg
            if lo >= 1:
                sub = _lits(list(body))
        elif op is IN and len(arg) == 1 and arg[0][0] is LITERAL:
            run += chr(arg[0][1]).lower()
            continue
        if sub:
            candidates.append(sub)
    if run:
        candidates.append({run})
    for c in candidates:
        if _score(c) > _score(best):
            best = c
    return best


# --- the pre-pass ------------------------------------------------------------------------


# Lines a shape must not fit for it to narrow anything: blank ones and the
# sentences of ordinary prose. A literal-less rule whose shape fits one of them
# looks at every line of its region instead (``cleaner test`` says so).
PROBES = ("", " ", *COMMON_TEXT.splitlines())


def _derive(src: str, ignorecase: bool, search: bool) -> dict:
    """What the pre-pass needs to know about one pattern (a JSON-able dict):
    its shape, its literals, its head, or why it cannot be narrowed."""
    try:
        # every named group spelt out (a closer fit means fewer exact checks); if that
        # is too big, the groups that fit ordinary prose stand for any text (SHAPE_COMMON,
        # tried in turn); else the shallow translation
        narrow = None
        for common in SHAPE_COMMON:
            deep = translate_shape(src, ignorecase, common)
            if _size(deep) <= SHAPE_MAX_CHARS and _compiles(deep if search else f"^{EDGE}{deep}{EDGE}$"):
                narrow = deep
                break
        if narrow is None:
            narrow = translate(src, ignorecase)
        lits = pattern_literals(src, ignorecase)
    except (Untranslatable, ValueError, IndexError) as exc:
        return {"error": str(exc) or type(exc).__name__}
    out = {"shape": narrow if search else f"^{EDGE}{narrow}{EDGE}$",
           "lits": sorted(lits) if lits else None, "head": None, "common_lits": None, "why": ""}
    if lits:
        return out
    out["head"], out["why"] = _narrow_head(src, ignorecase, search)
    if out["head"] is None:
        try:
            common = pattern_literals(src, ignorecase, strict=False)
        except (Untranslatable, ValueError, IndexError):
            common = None
        out["common_lits"] = sorted(common) if common else None
    return out


def _shape_set(shape: str, anchored: bool = False):
    """A shape compiled as a one-pattern RE2 set within its memory budget, or None if
    RE2 refuses it. ``anchored``: every match begins at the start (a line rule's
    shape, ``^...``): the automaton stops once nothing can match (a quarter faster)."""
    try:
        kind = re2.Set.MatchSet if anchored else re2.Set.SearchSet
        one = kind(_re2_options(SHAPE_MAX_MEM))
        if one.Add(shape) < 0 or one.Compile() is False:  # (None is success here)
            return None
        return one
    except Exception:
        return None


def _compiles(shape: str) -> bool:
    """Whether RE2 builds a shape within its memory budget (else a shallower one serves)."""
    return re2 is None or _shape_set(shape) is not None


_LOADED: dict[str, dict] = {}


class _DiskCache:
    """Derived pre-pass forms, kept between runs (deriving them for the bundled rules
    takes about a second; reading them back, milliseconds). Keyed by the pattern and
    by this module's own source, so a change to the translator starts afresh. A
    cache that cannot be read or written is simply not used."""

    def __init__(self, path, data: dict):
        self.path = path
        self.data = data
        self.dirty = False

    @classmethod
    def load(cls) -> "_DiskCache":
        import hashlib
        import json
        import os
        from pathlib import Path

        path = None
        try:
            base = os.environ.get("CLEANER_CACHE_DIR") or os.path.join(
                os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "cleaner")
            if base.lower() not in ("0", "off", "none"):
                tag = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
                path = Path(base) / f"prefilter-{tag}.json"
        except Exception:
            path = None
        if path is not None and str(path) in _LOADED:
            return cls(path, _LOADED[str(path)])
        data: dict = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except Exception:
                data = {}
        data = data if isinstance(data, dict) else {}
        if path is not None:
            _LOADED[str(path)] = data  # read once per process
        return cls(path, data)

    def get(self, src: str, ignorecase: bool, search: bool) -> dict:
        key = f"{int(ignorecase)}{int(search)}{src}"
        found = self.data.get(key)
        if not isinstance(found, dict):
            found = self.data[key] = _derive(src, ignorecase, search)
            self.dirty = True
        return found

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        import json
        import os
        import tempfile

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prefilter-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
            os.replace(tmp, self.path)
            for old in self.path.parent.glob("prefilter-*.json"):
                if old != self.path:  # made by another version of this module
                    old.unlink()
        except Exception:
            pass


def _narrow_head(src: str, ignorecase: bool, search: bool) -> tuple[str | None, str]:
    """How every match of a pattern begins (at a line start, for a line pattern),
    as a RE2 pattern that fits no line of ordinary prose; or None and why. When the
    whole pattern renders, a line pattern's head is anchored at the line end too."""
    why = "no literal and no solid beginning"
    for budget in HEAD_SOLID:
        found = pattern_head(src, ignorecase, budget)
        if found is None:
            continue
        h, whole = found
        if search:
            head = h
        else:
            head = f"^{EDGE}(?:{h})" + (f"{EDGE}$" if whole else "")
        try:
            compiled = re2.compile(head, _re2_options())
        except Exception:
            continue
        fits = next((p for p in PROBES if compiled.search(p)), None)
        if fits is None:
            return head, ""
        why = f"the beginning of its loosened pattern fits the line {fits!r}"
    return None, why


def _trim_heap() -> None:
    """Give the memory the derivation freed back to the system (glibc keeps it
    otherwise, and a long streaming run would carry it as resident memory)."""
    try:
        import ctypes
        import gc

        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def _re2_options(max_mem: int = MAX_MEM):
    opts = re2.Options()
    opts.max_mem = max_mem
    opts.never_capture = True
    opts.log_errors = False
    return opts


class Prefilter:
    """Which lines each rule may fire on, found without touching most lines.

    Every rule pattern is loosened into RE2 form (``translate``). Two things
    are read off that translation:

    - its *literals*: strings one of which every match contains
      (``required_literals``), or else its *head*: how every match begins;
    - its *shape*: the translation itself with its named groups spelt out
      (``translate_shape``), anchored to a whole line for line rules
      (``^ ... $``), as it is for ``strip`` rules.

    On each line, one RE2 set tells which rules' literals it holds and another
    which rules' heads it begins with; the rule's shape must fit the line too:
    only then does the exact pattern run (``lines_for``). Looking at lines one
    by one costs less than scanning the whole document for the literals first:
    on real pages most lines hold some rule's literal, and a scan pays for
    every match it reports (measured on 788 real pages: 0.60 s for the scans,
    0.13 s for the two sets on every line). A rule with neither usable
    literals nor a head is in ``always`` and looks at every line of its
    region (correct, only slower).
    """

    def __init__(self, patterns: dict[str, list[tuple[str, bool, bool]]]):
        """``patterns``: rule id -> [(source, ignorecase, search)], where ``search``
        is True for patterns that match anywhere in a line (``strip``) and False
        for patterns that must match a whole line."""
        self.untranslatable: dict[str, str] = {}
        self.atoms: dict[str, tuple[str, ...]] = {}
        self.shapes: dict[str, str] = {}  # rule id -> RE2 source of its shape
        self.heads: dict[str, str] = {}  # rule id -> how matches of its literal-less patterns begin
        self.weak: dict[str, str] = {}  # rules the pre-pass cannot narrow, and why
        self.available = re2 is not None
        self.always: list[str] = []
        self.dedupe = False  # whether the rule set has dedupe rules ...
        self.dedupe_fold = False  # ... and whether one of them ignores case
        self.dedupe_min_chars = 0  # ... and the fewest characters of a line one looks at
        # rule id -> the most words of a line it looks at (the engine's drop-line rules)
        self.max_words: dict[str, int] = {}
        self._per_rule: tuple | None = None
        self._shape_match: dict[str, object] = {}
        self._line_rules: set[str] = set()  # rules whose patterns match whole lines
        self._rules_of: dict[str, tuple[str, ...]] = {}  # line view -> rules_for (bounded)
        self.filtered: frozenset[str] = frozenset()
        if not self.available:
            return
        cache = _DiskCache.load()
        for rid, pats in patterns.items():
            derived = [cache.get(src, ic, search) for src, ic, search in pats]
            bad = next((d["error"] for d in derived if "error" in d), None)
            if bad is not None:
                self.untranslatable[rid] = bad
                continue
            self.shapes[rid] = "|".join(d["shape"] for d in derived)
            if not any(search for _, _, search in pats):
                self._line_rules.add(rid)  # every branch of its shape is ^...$
            # each pattern is found by its literals, or else by how it begins, or else by
            # literals that ordinary prose has too (many lines, but not every line)
            lits: set[str] = set()
            heads: list[str] = []
            for d in derived:
                if d["lits"]:
                    lits.update(d["lits"])
                    continue
                if d["head"]:
                    heads.append(d["head"])
                elif d["common_lits"]:
                    lits.update(d["common_lits"])
                else:
                    self.weak[rid] = d["why"]
                    break
            else:
                if lits:
                    self.atoms[rid] = tuple(sorted(lits))
                if heads:
                    self.heads[rid] = "|".join(heads)
        if cache.dirty:
            cache.save()
            _trim_heap()  # deriving left garbage behind
        self.filtered = frozenset(self.atoms) | frozenset(self.heads)
    def _shape(self, rid: str):
        """A test of the rule's shape on one line (bytes -> a list, empty unless it
        fits), or None if RE2 refuses it. A one-pattern RE2 set: it only says whether, so it runs one
        forward automaton (no second, reversed one to find where a match starts)."""
        try:
            return self._shape_match[rid]
        except KeyError:
            pass
        one = _shape_set(self.shapes[rid], rid in self._line_rules)
        fn = self._shape_match[rid] = _set_matcher(one) if one is not None else None
        return fn

    def flag(self, view: str) -> list[int]:
        """Line numbers (0-based, ascending) of the lines of a document view that
        some rule may fire on."""
        found = self.lines_for([line.strip() for line in view.split("\n")])
        return sorted({p for lines in found.values() for p in lines})

    def forget(self) -> None:
        self._rules_of.clear()

    def lines_for(self, norms: list[str]) -> dict[str, list[int]]:
        """Rule id -> the positions of the lines (stripped views) it may fire on:
        the lines holding one of its literals (or beginning as it does) that its
        shape fits. Each line is looked at alone, by two RE2 sets (one for the
        literals, one for the heads: one set for both thrashes its DFA cache on
        real text), and remembered."""
        if self._per_rule is None:
            self._per_rule = self._sets()
        memo = self._rules_of
        if len(memo) > MEMO_MAX:
            memo.clear()
        out: dict[str, list[int]] = {}
        for pos, norm in enumerate(norms):
            if not norm:
                continue  # no rule looks at a blank line
            rids = memo.get(norm)
            if rids is None:
                try:
                    b = norm.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate (bytes that were not UTF-8):
                    rids = tuple(sorted(self.filtered))  # RE2 cannot read it, every rule looks
                else:
                    rids = self._rules_for(b, norm)
                memo[norm] = rids
            for rid in rids:
                out.setdefault(rid, []).append(pos)
        return out

    def _sets(self) -> list:
        sets = []
        for kind in ("atoms", "heads"):
            rset = re2.Set.SearchSet(_re2_options(32 << 20))
            ids = []
            for rid in sorted(self.filtered):
                if kind == "atoms" and rid in self.atoms:
                    rset.Add("(?i:" + "|".join(re2.escape(a) for a in self.atoms[rid]) + ")")
                elif kind == "heads" and rid in self.heads:
                    rset.Add(self.heads[rid])
                else:
                    continue
                ids.append(rid)
            if ids:
                rset.Compile()
                sets.append((_set_matcher(rset), ids))
        return sets

    def _rules_for(self, b: bytes, norm: str) -> tuple[str, ...]:
        """The rules whose literals (or head) one line holds and whose shape fits it,
        leaving out a rule for a line with more words than it looks at (``max_words``;
        leaving a rule in is always right, and a shape test costs more than counting).
        The line is stripped, so with no two spaces in a row it has at least one word
        more than it has spaces (other whitespace only splits it further); words are
        counted only where that does not settle it."""
        shapes, max_words = self._shape_match, self.max_words
        found: list[str] = []
        spaces = words = -1
        for match, ids in self._per_rule:
            hits = match(b)
            if not hits:
                continue
            for i in hits:
                rid = ids[i]
                limit = max_words.get(rid)
                if limit is not None:
                    if spaces < 0:
                        spaces = norm.count(" ")
                        # a lower bound on the words, exact unless spaces come in runs
                        words = spaces + 1 if "  " not in norm else word_count(norm)
                    if words > limit:
                        continue
                try:
                    shape = shapes[rid]
                except KeyError:
                    shape = self._shape(rid)
                if (shape is None or shape(b)) and rid not in found:
                    found.append(rid)
        return tuple(found)


def _set_matcher(rset):
    """``match(data: bytes) -> list of indices`` for a compiled RE2 set."""
    try:
        match = rset._set.Match
        match(b"")
        return match
    except Exception:
        return rset.Match


def _problem(pattern: str) -> str | None:
    """Why a translation cannot serve in the pre-pass, or None."""
    try:
        opts = re2.Options()
        opts.max_mem = MAX_MEM
        opts.log_errors = False
        compiled = re2.compile("(?m)" + pattern, opts)
    except Exception:
        return "RE2 rejected the translation"
    if compiled.search(b"") is not None or compiled.search(b"\n") is not None:
        # it would flag every line for every rule: better to let this rule see all lines
        return "the loosened pattern matches an empty line"
    return None


# --- line heads ----------------------------------------------------------------------------

HEAD_SOLID = (4, 8, 14, 10**6)  # solid characters a head takes, tried in turn until one narrows
HEAD_MAX_CHARS = 20000
SHAPE_MAX_CHARS = 20_000
# a shape spells out every named group; if that is too big, the groups that fit more
# than this many of the PROBES (of 46) stand for "any text", tried in turn
SHAPE_COMMON = (None, 40, 20, 10, 5, 2)
SHAPE_MAX_MEM = 2 << 20  # per rule shape, run on one line at a time


def _re2_char(code: int) -> str:
    if PLACEHOLDER <= code < PLACEHOLDER + len(EXACT_CATEGORIES):
        return f"\\p{{{EXACT_CATEGORIES[code - PLACEHOLDER]}}}"
    c = chr(code)
    return c if c.isascii() and c.isalnum() else f"\\x{{{code:x}}}"


def _re2_class(items) -> str | None:
    from re._constants import CATEGORY, LITERAL, NEGATE, RANGE

    cats = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
            "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}
    out = []
    for op, arg in items:
        if op is NEGATE:
            out.append("^")
        elif op is LITERAL:
            out.append(_re2_char(arg))
        elif op is RANGE:
            out.append(f"{_re2_char(arg[0])}-{_re2_char(arg[1])}")
        elif op is CATEGORY and str(arg) in cats:
            out.append(cats[str(arg)])
        else:
            return None
    return "[" + "".join(out) + "]"


def _class_size(items) -> int:
    from re._constants import LITERAL, NEGATE, RANGE

    n = 0
    for op, arg in items:
        if op is NEGATE:
            return 10**6
        if op is LITERAL:
            n += 1
        elif op is RANGE:
            n += arg[1] - arg[0] + 1
        else:
            n += 100
    return n


def _head(items, budget: int, icase: bool) -> tuple[str, int, bool]:
    """A RE2 pattern for how every match of a sequence of parsed items begins.

    Returns (pattern, solid characters it requires, whether it covers the whole
    sequence). Stops after ``budget`` solid characters, or before anything it
    cannot render; stopping early only makes the head match more lines.
    """
    from re._constants import (AT, AT_END, BRANCH, CATEGORY, IN, LITERAL, MAX_REPEAT, MIN_REPEAT,
                               NOT_LITERAL, SUBPATTERN, ANY, SRE_FLAG_IGNORECASE)

    out: list[str] = []
    solid = 0
    items = list(items)
    for k, (op, arg) in enumerate(items):
        if solid >= budget:
            return "".join(out), solid, False
        if op is LITERAL:
            out.append(_re2_char(arg))
            solid += 1
        elif op is NOT_LITERAL:
            out.append(f"[^{_re2_char(arg)}]")
        elif op is ANY:
            out.append(r"[^\n]")
        elif op is IN:
            cls = _re2_class(arg)
            if cls is None:
                return "".join(out), solid, False
            out.append(cls)
            solid += 1 if _class_size(arg) <= 12 else 0
        elif op is AT:
            if arg is AT_END:
                out.append("$")  # the end of the line (heads test one stripped line)
            continue
        elif op is SUBPATTERN and arg[0] is not None:
            # a kept lookaround (see _group): a lookahead tells how the rest begins
            body = list(arg[-1])
            if len(body) == 1 and body[0][0] is SUBPATTERN and body[0][1][0] is not None:
                h, s, _ = _head(list(body[0][1][-1]), budget - solid, icase)
                if s > 0:  # a lookahead is usually a rule author's fast path: take it
                    return "".join(out) + f"(?:{h})", solid + s, False
            continue
        elif op is SUBPATTERN:
            flags, unflags = arg[1] or 0, arg[2] or 0
            if unflags & SRE_FLAG_IGNORECASE:  # (?-i:...)
                h, s, whole = _head(list(arg[-1]), budget - solid, False)
                out.append("(?-i:" + h + ")")
                solid += s
                if not whole:
                    return "".join(out), solid, False
                continue
            inner_icase = icase or bool(flags & SRE_FLAG_IGNORECASE)
            h, s, whole = _head(list(arg[-1]), budget - solid, inner_icase)
            out.append(("(?i:" if inner_icase and not icase else "(?:") + h + ")")
            solid += s
            if not whole:
                return "".join(out), solid, False
        elif op is BRANCH:
            heads = [_head(list(b), budget - solid, icase) for b in arg[1]]
            out.append("(?:" + "|".join(h for h, _, _ in heads) + ")")
            solid += min(s for _, s, _ in heads)
            if not all(w for _, _, w in heads):
                return "".join(out), solid, False
        elif op in (MAX_REPEAT, MIN_REPEAT):
            lo, hi, body = arg
            h, s, whole = _head(list(body), 10**6, icase)
            if whole and len(h) <= 1500:
                hi_s = "" if hi is MAXREPEAT_ else str(hi)
                out.append(f"(?:{h}){{{lo},{hi_s}}}" if (lo, hi_s) != (0, "") else f"(?:{h})*")
                solid += s * lo
                continue
            if lo >= 1:
                h, s, _ = _head(list(body), budget - solid, icase)
                out.append(f"(?:{h})")
                solid += s
            elif k + 1 < len(items):
                # too big to render whole and maybe absent: a match begins with it or
                # with what follows it
                h, s, _ = _head(list(body), budget - solid, icase)
                h2, s2, _ = _head(items[k + 1:], budget - solid, icase)
                out.append(f"(?:{h}|{h2})")
                solid += min(s, s2)
            return "".join(out), solid, False
        elif op is CATEGORY:
            cls = _re2_class([(op, arg)])
            if cls is None:
                return "".join(out), solid, False
            out.append(cls)
        else:
            return "".join(out), solid, False
    return "".join(out), solid, True


from re._constants import MAXREPEAT as MAXREPEAT_  # noqa: E402


@functools.lru_cache(maxsize=256)
def _head_tree(src: str, ignorecase: bool) -> tuple | None:
    """The translation (Unicode categories exact) read by Python's parser, once per
    pattern whatever the budgets tried (None if it does not parse)."""
    tree = parse_translation(translate(src, ignorecase, expand=True, exact=True, depth=HEAD_DEPTH))
    return None if tree is None else tuple(tree)


def pattern_head(src: str, ignorecase: bool, budget: int) -> tuple[str, bool] | None:
    """How every match of a rule pattern begins, as a RE2 pattern, and whether that
    is the whole (loosened) pattern; None if it requires nothing solid."""
    tree = _head_tree(src, ignorecase)
    if tree is None:
        return None
    h, solid, whole = _head(list(tree), budget, False)
    if solid == 0 or len(h) > HEAD_MAX_CHARS:
        return None
    return h, whole
