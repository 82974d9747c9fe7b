"""The RE2 pre-pass: a superset of what the exact rules match, so it never changes output."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import load_rules
from cleaner import prefilter as pf_mod
from cleaner.engine import RuleSet
from cleaner.prefilter import EDGE, pattern_literals, translate
from cleaner.text import normalise

from .conftest import FIXTURES, RULES

re2 = pytest.importorskip("re2", reason="google-re2 is a dependency; without it the fallback path is tested below")

ALL = load_rules(RULES, bundled=False)
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.in.txt"))]


@pytest.mark.parametrize("rule_id", ALL.ids)
def test_same_output_with_and_without_prepass_per_rule(rule_id):
    rule = ALL[rule_id]
    texts = [ex["in"] for ex in rule.examples] + TEXTS
    with_pass, without = RuleSet([rule], prefilter=True), RuleSet([rule], prefilter=False)
    for text in texts:
        on, off = with_pass.apply(text), without.apply(text)
        assert on == off, f"{rule_id}: the pre-pass changed the output on {text[:80]!r}"


def test_same_output_whole_set_on_all_fixtures():
    with_pass, without = RuleSet(ALL.rules, prefilter=True), RuleSet(ALL.rules, prefilter=False)
    for text in TEXTS:
        assert with_pass.apply(text) == without.apply(text)


def test_translations_are_supersets_on_fixture_lines():
    """Every line an exact pattern matches, its loosened RE2 form matches too (both
    run on the matching view, as in the engine)."""
    lines = {normalise(ln)[0] for t in TEXTS for ln in t.split("\n")}
    for r in ALL.rules:
        for key in ("patterns", "headers"):
            for p in getattr(r, key, None) or []:
                loose = re2.compile("(?m)^" + EDGE + "(?:" + translate(p.source, r.ignorecase) + ")" + EDGE + "$")
                search = re2.compile(translate(p.source, r.ignorecase))
                for ln in lines:
                    s = ln.strip()
                    if r.kind == "strip":
                        if p.compiled.search(s):
                            assert search.search(ln), (r.id, ln)
                    elif p.compiled.fullmatch(s):
                        assert loose.search(ln), (r.id, ln)
                        lits = pattern_literals(p.source, r.ignorecase)
                        if lits:
                            assert any(a in s.lower() for a in lits), (r.id, ln, lits)


@pytest.mark.parametrize(
    "pattern, matching",
    [
        (r"(?<=\p{Ll})Credit:\s*\w+", ["treatmentCredit: EPA"]),
        (r"(?i)photo\s*:\s*[^.!?]{2,80}", ["PHOTO: Jane Doe/Reuters"]),
        (r"(?P<a>\p{Lu}\w+) (?P=a)", ["Müller Müller"]),
        (r"(?x) (?&w) \s (?&w) (?(DEFINE) (?<w>\p{Lu}\p{Ll}+) )", ["Jane Doe"]),
        (r"\bMost\s+Read\b(?!\s+Books)", ["Most Read"]),
        (r"[^\W\d]{3,}", ["Ærø"]),
        (r"(?>a+)b++", ["aaabb"]),
    ],
)
def test_translate_handles_regex_features(pattern, matching):
    t = re2.compile(translate(pattern))
    for s in matching:
        assert regex.search(pattern, s)
        assert t.search(s), (pattern, translate(pattern))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("aAbB Cé1.:/()|-") + ["Credit", "Photo", "Getty Images", "\u00a0"]), max_size=20).map("".join))
def test_translation_superset_property(s):
    s = normalise(s)[0]  # the pre-pass and the rules both see the matching view
    for pattern in (r"(?i)(?:photo|image)\s*(?:credit)?\s*:\s*[^.!?]{2,80}", r"\(?[\p{Lu}][\w ]{1,30}\)?", r"(?<![\w])Credit: \w+"):
        if regex.search(pattern, s):
            assert re2.compile(translate(pattern)).search(s)


def test_without_re2_the_plain_engine_gives_the_same(monkeypatch):
    monkeypatch.setattr(pf_mod, "re2", None)
    rs = RuleSet(ALL.rules, prefilter=True)
    assert rs.prefilter is None
    for text in TEXTS:
        assert rs.apply(text) == RuleSet(ALL.rules, prefilter=False).apply(text)


def test_derived_forms_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEANER_CACHE_DIR", str(tmp_path))
    pats = {r.id: [(p.source, r.ignorecase, r.kind == "strip") for p in getattr(r, "patterns", [])]
            for r in ALL.rules if r.kind in ("drop-line", "strip")}
    first = pf_mod.Prefilter(pats)
    files = list(tmp_path.glob("prefilter-*.json"))
    assert len(files) == 1
    # a second build (another process) reads them back instead of deriving them again
    pf_mod._LOADED.clear()
    monkeypatch.setattr(pf_mod, "_derive", lambda *a: (_ for _ in ()).throw(AssertionError("derived again")))
    second = pf_mod.Prefilter(pats)
    assert (second.atoms, second.heads, second.weak) == (first.atoms, first.heads, first.weak)


def test_a_broken_cache_file_is_ignored_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEANER_CACHE_DIR", str(tmp_path))
    rule = ALL["cta.advertisement"]
    pats = {rule.id: [(p.source, rule.ignorecase, False) for p in rule.patterns]}
    pf_mod.Prefilter(pats)
    (path,) = tmp_path.glob("prefilter-*.json")
    path.write_text("{not json", encoding="utf-8")
    pf_mod._LOADED.clear()  # another process
    again = pf_mod.Prefilter(pats)
    assert rule.id in again.filtered
    assert path.read_text(encoding="utf-8").startswith("{")


def test_unwritable_cache_dir_still_works(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CLEANER_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    rule = ALL["cta.advertisement"]
    pf = pf_mod.Prefilter({rule.id: [(p.source, rule.ignorecase, False) for p in rule.patterns]})
    assert rule.id in pf.filtered


def test_a_rule_without_literals_is_found_by_how_its_lines_begin():
    # "By" is too short to be a literal; the line start narrows the rule instead
    rules = load_rules(RULES, bundled=False, select=["bylines.by-author"])
    pf = RuleSet(rules.rules, prefilter=True).prefilter
    assert "bylines.by-author" in pf.heads
    text = "By Jane Doe\nThe council said on Monday that the bridge would reopen in the spring.\n"
    flagged = pf.flag(text)
    assert flagged == [0]


def test_prose_literals_do_not_narrow():
    # a literal of ordinary prose would flag most lines: it does not count
    assert pf_mod.required_literals(pf_mod.translate(r"the\s+\w+")) is None
    assert pf_mod.required_literals(pf_mod.translate(r"the\s+\w+"), strict=False) == {"the"}
    assert pf_mod.required_literals(pf_mod.translate(r"Shutterstock")) == {"shutterstock"}


def test_a_digit_class_does_not_fold_letters_in():
    # under (?i), RE2 folds "s" and "k" into a non-ASCII range ("ſ", the Kelvin sign);
    # a loosened \d must not match them, or a date rule's head fits "She said ..."
    loose = re2.compile("(?i:" + translate(r"\d\s?h", ignorecase=True) + ")")
    assert loose.search("7h") and loose.search("\u0663 h")  # an Arabic-Indic three
    assert not loose.search("She said") and not loose.search("Kh")


def test_every_bundled_rule_is_narrowed_by_the_prepass():
    # stamps and dates nest named groups four deep (stamp > when > date > month): heads
    # see through all of them, so no bundled rule looks at every line of its region
    pf = RuleSet(load_rules().rules, prefilter=True).prefilter
    assert pf.weak == {} and pf.untranslatable == {}
    assert "bylines.stamp" in pf.heads and "bylines.date-line-romance" in pf.heads


def test_a_head_keeps_the_end_of_the_line():
    # "the line ends in a bracket" (a rule author's lookahead) narrows far more than
    # "the line holds a bracket somewhere"; spaces before the newline do not hide it
    src = r"(?=.{11,259}\)$).{2,240}?\s*\((?:AP|Reuters)\)"
    pf = pf_mod.Prefilter({"t.paren": [(src, False, False)]})
    assert "t.paren" in pf.heads
    text = (
        "The plan has three parts (a road, a path and a lane) and all of it opens in 2027.\n"
        "The mayor at the opening (AP)  \n"
        "Storm damage on the coast road (Reuters)\r\n"
    )
    assert pf.flag(text) == [1, 2]


def test_a_big_optional_beginning_gives_a_head_of_either_way():
    # an optional prefix too big to render whole: a match begins with it or with what
    # follows, and the head says both (bylines.updated-stamp begins this way)
    date = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:day|sday|nesday|rsday|urday)?,?\s+\d{1,2}\s+\w{3,9}\s+\d{4}"
    src = rf"(?:{date}\s*[-|]\s*(?:{date}\s*[-|]\s*)?(?:{date}\s*[-|]\s*)?){{0,1}}(?:Updated|Published)\s+\d{{1,2}}:\d\d"
    found = pf_mod.pattern_head(src, False, 10**6)
    assert found is not None
    head = re2.compile(f"^{EDGE}(?:{found[0]})")
    assert head.search("Monday, 3 March 2024 | Updated 14:02") and head.search("Updated 9:15")
    assert not head.search("The council updated its plan at 9:15 on Monday.")


def test_whitespace_in_translations_covers_every_space_a_view_can_hold():
    # translations spell \s as the few spaces a matching view still has (the rest
    # become " "); no character's view holds another one
    import sys

    from cleaner.text import normalise_char

    from cleaner.text import ASCII_WS, VIEW_OTHER_WS

    ws = re2.compile(f"[{pf_mod._S}]")
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        for ch in normalise_char(chr(code)):
            if ch != "\n" and (ch.isspace() or regex.match(r"\s", ch)):
                assert ws.fullmatch(ch), hex(code)
            # the engine's duplicate check knows every space a (case-folded) view holds
            for c in ch.casefold():
                if c != "\n" and c.isspace():
                    assert c.encode() in [bytes([b]) for b in ASCII_WS] or c in VIEW_OTHER_WS, hex(code)


def test_a_shape_spells_out_named_groups_unless_too_big(monkeypatch):
    # four levels of named groups: a two-level expansion would leave the innermost as
    # "any text"; a shape spells them all out (a closer fit, fewer exact checks) ...
    src = r"(?x)(?(DEFINE)(?<a>Photo)(?<b>(?&a):)(?<c>(?&b)\s)(?<d>(?&c)Jane))(?&d)"
    deep = pf_mod._derive(src, False, True)["shape"]
    assert re2.compile(deep).search("Photo: Jane") and not re2.compile(deep).search("Image: Jane")
    # ... unless RE2 cannot build it within its budget: then a shallower one serves
    monkeypatch.setattr(pf_mod, "_compiles", lambda shape: False)
    shallow = pf_mod._derive(src, False, True)["shape"]
    assert shallow != deep and re2.compile(shallow).search("Image: Jane")


def test_a_shape_keeps_the_anchors_of_a_pattern_tested_on_one_line():
    # a strip pattern that must end its line: a bracket in the middle of one does not fit
    src = r"\s*\((?&who)\)\s*$(?(DEFINE)(?<who>[^()]{1,40}))"
    shape = re2.compile(pf_mod._derive(src, False, True)["shape"])
    assert shape.search("The fund (in euros) grew.") is None
    assert shape.search("The fund grew (in euros)")
    start = re2.compile(pf_mod.translate_shape(r"^Photo:\s*\w+", False))
    assert start.search("Photo: Jane") and not start.search("A Photo: Jane")
    # a flag that lets $ match inside a line keeps the anchor out
    assert "$" not in pf_mod.translate_shape("(?m)x$", False)


def test_a_shape_makes_groups_that_fit_ordinary_prose_loose_and_keeps_telling_ones():
    src = (r"(?x)(?&names)\s*/\s*(?&agency)$"
           r"(?(DEFINE)(?<names>\p{Lu}\w+(?:\s+\p{Lu}\w+){0,3})(?<agency>Getty\s+Images|Reuters|AFP))")
    full = pf_mod.translate_shape(src, False)
    loose = pf_mod.translate_shape(src, False, common=5)
    assert len(loose) < len(full)
    for shape in (full, loose):
        rx = re2.compile(shape)
        assert rx.search("Jane Doe / Getty Images")  # a superset ...
        assert not rx.search("Jane Doe / the reader")  # ... that still needs an agency
    assert re2.compile(loose).search("jane doe/AFP") and not re2.compile(full).search("jane doe/AFP")
    # a recursive call stays "any text" (the translation still terminates)
    rec = re2.compile(pf_mod.translate_shape(r"(?<r>a(?&r)?b)x", False))
    assert rec.search("aaabbbx") and not rec.search("bax")


def test_shapes_are_supersets_on_fixture_lines():
    """Every line an exact pattern matches, the shape the pre-pass derives for it fits
    (on the matching view, as in the engine)."""
    lines = {normalise(ln)[0].strip() for t in TEXTS for ln in t.split("\n")}
    lines |= {normalise(ln)[0].strip() for r in ALL.rules for ex in r.examples
              for key in ("in", "out") for ln in (ex.get(key) or "").split("\n")}
    for r in ALL.rules:
        for p in getattr(r, "patterns", None) or []:
            search = r.kind == "strip"
            shape = re2.compile(pf_mod._derive(p.source, r.ignorecase, search)["shape"])
            for ln in filter(None, lines):
                if (p.compiled.search(ln) if search else p.compiled.fullmatch(ln)):
                    assert shape.search(ln.encode("utf-8", "surrogatepass")), (r.id, ln)


def test_a_rule_is_not_named_for_a_line_with_more_words_than_it_looks_at():
    # a drop-line rule with max_words skips longer lines anyway (DropLine.apply): the
    # pre-pass leaves it out for them, saving the shape test, and the output is the same
    rules = load_rules(RULES, bundled=False, select=["cta.newsletter-signup"])
    rs = RuleSet(rules.rules, prefilter=True)
    rule = rules["cta.newsletter-signup"]
    short = "Sign up for our newsletter"
    long = " ".join([short] + ["and more words about the harbour"] * (rule.max_words // 5 + 1))
    assert len(long.split()) > rule.max_words
    found = rs.prefilter.lines_for([short, long])
    assert found == {rule.id: [0]}
    text = f"{short}\n{long}\n"
    assert rs.apply(text).text == RuleSet(rules.rules, prefilter=False).apply(text).text == f"{long}\n"
