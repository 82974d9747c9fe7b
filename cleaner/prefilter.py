"""Stage one of the engine: a linear-time pass that flags the lines a rule may touch.

Every line pattern is translated into a *loosened* RE2 pattern: anything RE2
cannot do (lookarounds, backreferences, word boundaries, atomic groups,
possessive quantifiers, large counted repeats) is dropped or widened, so the
translation matches at least everything the exact pattern matches. All of
them go into one alternation that runs once over the whole (normalised)
document; the exact ``regex`` patterns then run only on the flagged lines.

A translation is always a superset: a line the exact rule would remove is
always flagged. A pattern that cannot be translated makes its rule look at
every line (correct, only slower); ``cleaner test`` warns about it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

try:  # google-re2
    import re2  # type: ignore[import-not-found]  # noqa: I001
except ImportError:  # pragma: no cover - exercised through the fallback test
    re2 = None

import regex

MAX_COUNT = 8  # counted repeats above this are relaxed: x{2,80} -> x{2,}
MAX_MEM = 64 << 20

# Unicode classes make big automata over UTF-8 bytes. The pre-pass only needs a
# superset, so a class becomes its ASCII members plus every non-ASCII character
# (NONASCII); the exact pattern sorts out the rest. Whitespace stays exact (it is
# small and sits at the edge of every line pattern). Never \n: a line never holds
# one, and keeping it out stops a match from spanning lines.
NONASCII = r"\x{80}-\x{10FFFF}"
_S = r"\t\x0b\x0c\r\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000} "
EDGE = f"[{_S}]*"
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


def translate(
    src: str, ignorecase: bool = False, verbose: bool = False, expand: bool = False, relax: bool = True
) -> str:
    """A RE2 pattern matching (at least) every string ``src`` matches somewhere.

    Anchors are dropped, so use it with search semantics, or wrap it. With
    ``expand``, calls to named groups are expanded two levels deep (deeper calls
    and recursion stay "any text"): bigger, but it keeps the literals that matter.
    """
    if expand:
        out, bodies = _translate(src, ignorecase, verbose, None, True, relax)
        for _ in range(2):
            if not regex.search(r"\(\?[&P]>?", src):
                break
            out, next_bodies = _translate(src, ignorecase, verbose, bodies, True, relax)
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


def _translate(
    src: str, ignorecase: bool, verbose: bool, calls: dict[str, str] | None, mark: bool = False, relax: bool = True
) -> tuple[str, dict[str, str]]:
    st = _State(src, verbose, ignorecase, calls=calls, mark_lookaround=mark, relax=relax)
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
            return f"({body})", False  # ...or kept apart: what it requires is required
        return "", True
    if rest.startswith("(?P="):
        end = src.index(")", i)
        st.i = end + 1
        return f"{ANY}*", False
    if rest.startswith(("(?&", "(?P>")):
        end = src.index(")", i)
        name = src[i + (3 if rest[2] == "&" else 4):end]
        st.i = end + 1
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
    body = _seq(st)
    st.i += 1  # the ')'
    if name is not None:
        st.named[name] = body
    return prefix + body + ")", False


# --- required literals -------------------------------------------------------------------

MIN_ATOM = 3  # shorter required literals do not narrow much: such a rule looks at every line
MAX_ATOMS = 200


@functools.lru_cache(maxsize=4096)
def pattern_literals(src: str, ignorecase: bool) -> frozenset[str] | None:
    """Required literals of one rule pattern (cached: rule sets share patterns)."""
    found = required_literals(translate(src, ignorecase, expand=True))
    return frozenset(found) if found else None


def required_literals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occurs in every match of ``translated`` (or None).

    Works on the RE2 translation, read with Python's own regex parser: by then
    everything exotic is gone (only \\x{..} escapes need rewriting).
    """
    import re._parser as sre_parse  # Python 3.11+

    py = regex.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: _py_escape(int(m.group(1), 16)), translated)
    try:
        tree = sre_parse.parse(py)
    except Exception:
        return None
    lits = _lits(list(tree))
    if not lits or len(lits) > MAX_ATOMS or any(len(a) < MIN_ATOM and a.isalnum() for a in lits):
        return None  # short words (not punctuation) occur everywhere: no narrowing
    return lits


def _py_escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def _score(lits: set[str] | None) -> tuple[int, int]:
    if not lits:
        return (-1, 0)
    # longer is rarer; a punctuation mark is worth about a short word
    return (min(len(a) if any(c.isalnum() for c in a) else 2 for a in lits), -len(lits))


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


class Prefilter:
    """Which lines each rule may fire on, found without touching most lines.

    Every rule's patterns are loosened into RE2 form (``translate``), and from
    that the literals one of which every match must contain are read off
    (``required_literals``). One RE2 pass over the whole document, with all
    those literals, flags the lines that contain any of them; a flagged line
    is then matched exactly by the rules whose literals it contains. Rules
    with no usable literal are in ``loose`` and look at every line (of their
    region); untranslatable ones are in ``untranslatable`` and do the same.
    """

    def __init__(self, patterns: dict[str, list[tuple[str, bool]]]):
        self.untranslatable: dict[str, str] = {}
        self.loose: set[str] = set()
        self.atoms: dict[str, tuple[str, ...]] = {}
        self.available = re2 is not None
        self._search = None
        self._per_rule: list | None = None
        for rid, pats in patterns.items():
            try:
                found_all = [pattern_literals(p, ic) for p, ic in pats]
            except (Untranslatable, ValueError, IndexError) as exc:
                self.untranslatable[rid] = str(exc) or type(exc).__name__
                continue
            lits: set[str] = set()
            for found in found_all:
                if found is None:
                    lits = set()
                    break
                lits |= found
            if lits:
                self.atoms[rid] = tuple(sorted(lits))
            else:
                self.loose.add(rid)
        self.filtered = frozenset(self.atoms)
        if self.available and self.atoms:
            opts = re2.Options()
            opts.max_mem = MAX_MEM
            opts.never_capture = True
            opts.log_errors = False
            opts.case_sensitive = False
            alts = sorted({a for atoms in self.atoms.values() for a in atoms}, key=len, reverse=True)
            self._search = re2.compile("|".join(re2.escape(a) for a in alts), opts).search

    def flag(self, view: bytes) -> list[int]:
        """Line numbers (0-based, ascending) of the lines holding any rule's literal."""
        search = self._search
        if search is None:
            return []
        out: list[int] = []
        pos = 0  # always the start of a line
        line_at_pos = 0
        while True:
            m = search(view, pos)
            if m is None:
                break
            s, e = m.span()
            line = line_at_pos + view.count(b"\n", pos, s)
            out.append(line)
            nxt = view.find(b"\n", e)
            if nxt < 0:
                break
            # go on from the start of the next line
            pos, line_at_pos = nxt + 1, line + 1
        return out

    def by_rule(self, norms: list[str], lines: list[int]) -> dict[str, list[int]]:
        """For flagged lines, which rules' literals each one holds."""
        if self._per_rule is None:
            opts = re2.Options()
            opts.case_sensitive = False
            opts.never_capture = True
            opts.log_errors = False
            rset = re2.Set.SearchSet(opts)
            ids = []
            for rid, lits in self.atoms.items():
                rset.Add("|".join(re2.escape(a) for a in lits))
                ids.append(rid)
            rset.Compile()
            self._per_rule = (rset.Match, ids)
        match, ids = self._per_rule
        n = len(norms)
        out: dict[str, list[int]] = {}
        for pos in lines:
            if pos < n:
                for i in match(norms[pos]) or ():
                    out.setdefault(ids[i], []).append(pos)
        return out


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
