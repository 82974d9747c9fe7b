"""The engine's promises (DESIGN §3), each one a test."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner import RuleSet, RuleTimeout, clean, load_rules
from cleaner.rules import load_rule_file
from cleaner.text import split_lines


def make_rule(tmp_path: Path, name: str, body: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_rule_file(path, f"test.{name}")


CREDIT_RULE = """\
    kind: drop-line
    message: Drop a credit line.
    patterns:
      - 'Credit: [A-Za-z]{2,20}'
    examples:
      - in: "Credit: Reuters\\nText.\\n"
        out: "Text.\\n"
      - in: "Text.\\n"
    """


@pytest.fixture
def credit(tmp_path):
    return RuleSet([make_rule(tmp_path, "credit", CREDIT_RULE)])


# --- 1. no rule fires -> byte-identical ----------------------------------------

ODD = [
    "",
    "\n",
    "\n\n\n",
    "one line, no newline",
    "crlf line\r\nsecond\r\n",
    "mixed\r\nendings\nand no final",
    "no\u00a0break\u00a0spaces and a zero\u200bwidth space",
    "  leading and trailing spaces  \n\t tabs \t\n",
    "\ufeffBOM at the start\n",
    "combining e\u0301 and ﬁ ligature and fullwidth ＡＢＣ\n",
    "lone \r carriage return in the middle\n",
    "\u2028 line separator and \u0085 next line stay inside a line\n",
    "emoji 🎉 and RTL \u202eevil\u202c text\n",
]


@pytest.mark.parametrize("text", ODD)
def test_pass_through_is_byte_identical(text, bundled):
    result = bundled.apply(text)
    assert result.text == text
    assert result.removals == []


def test_reference_style_clean_article_passes(bundled):
    text = "A clean paragraph about the harbour.\nAnother one about the vote." 
    assert bundled.apply(text).text == text


# --- 2. idempotence -------------------------------------------------------------


def test_idempotent_on_region_shift(tmp_path):
    # Dropping the last prose line moves the tail up; the fixpoint loop must
    # catch what the second pass would find, so a second run changes nothing.
    rs = RuleSet([
        make_rule(tmp_path, "appeal", """\
            kind: drop-line
            message: Drop an appeal.
            patterns: ['Please donate to our appeal today, it helps us more than you know\\.']
            examples:
              - in: "Please donate to our appeal today, it helps us more than you know.\\n"
                out: ""
              - in: "Text.\\n"
            """),
        make_rule(tmp_path, "name", """\
            kind: drop-line
            message: Drop a bare name in the tail.
            where: tail
            patterns: ['\\p{Lu}\\p{Ll}+ \\p{Lu}\\p{Ll}+']
            examples:
              - in: "The council met on Tuesday to vote on the new budget for schools.\\nJane Doe\\n"
                out: "The council met on Tuesday to vote on the new budget for schools.\\n"
              - in: "Jane Doe\\n"
            """),
    ])
    text = (
        "The council met on Tuesday to vote on the new budget for schools.\n"
        "Jane Doe\n"
        "Please donate to our appeal today, it helps us more than you know.\n"
    )
    once = rs.apply(text)
    assert once.text == "The council met on Tuesday to vote on the new budget for schools.\n"
    assert rs.apply(once.text).text == once.text
    assert {(r.rule, r.line) for r in once.removals} == {("test.appeal", 3), ("test.name", 2)}


# --- 3. blank-line bookkeeping ----------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A.\n\nCredit: AP\n\nB.\n", "A.\n\nB.\n"),
        ("A.\nCredit: AP\nB.\n", "A.\nB.\n"),
        ("A.\n\n\nCredit: AP\nB.\n", "A.\n\n\nB.\n"),
        ("Credit: AP\n\nA.\n", "A.\n"),
        ("\n\nCredit: AP\n\nA.\n", "A.\n"),
        ("A.\n\nCredit: AP\n", "A.\n"),
        ("A.\n\nCredit: AP\n\n\n", "A.\n"),
        ("A.\n\nCredit: AP", "A."),
        ("A.\r\n\r\nCredit: AP\r\n\r\nB.\r\n", "A.\r\n\r\nB.\r\n"),
        ("A.\n\n\nB.\n\nCredit: AP\n\nC.\n", "A.\n\n\nB.\n\nC.\n"),
        ("Credit: AP\n", ""),
    ],
)
def test_blank_lines(credit, text, expected):
    assert credit.apply(text).text == expected


# --- 4. timeouts -------------------------------------------------------------------


def test_runaway_regex_fails_the_document_naming_the_rule(tmp_path):
    rule = make_rule(tmp_path, "slow", """\
        kind: drop-line
        message: A catastrophic pattern.
        patterns: ['(?=(?:(?:a|a)+)+b)a+c']
        examples:
          - in: "aab\\n"
            out: ""
          - in: "x\\n"
        """)
    for p in rule.patterns:
        p.timeout = 0.05
    rs = RuleSet([rule])
    with pytest.raises(RuleTimeout) as info:
        rs.apply("ok\n" + "a" * 40 + "c\n")
    assert "test.slow" in str(info.value)
    assert "line 2" in str(info.value)


# --- 5. attribution -------------------------------------------------------------------


def test_every_removal_is_attributed(bundled):
    text = (
        "Harbour Board Approves New Ferry Terminal\n"
        "\n"
        "Featured Image Credit: Alamy\n"
        "\n"
        "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier.\n"
    )
    result = bundled.apply(text)
    assert [(r.rule, r.line, r.text) for r in result.removals] == [
        ("credits.photo-credit-line", 3, "Featured Image Credit: Alamy")
    ]


def test_strip_removal_has_span(tmp_path):
    rule = make_rule(tmp_path, "agency", """\
        kind: strip
        message: Strip a trailing agency credit.
        patterns: ['\\s*\\(AP\\)$']
        examples:
          - in: "A caption here (AP)\\n"
            out: "A caption here\\n"
          - in: "(AP) at the start stays.\\n"
        """)
    rs = RuleSet([rule])
    text = "The mayor\u00a0cuts the ribbon (AP)\r\nNext.\r\n"
    result = rs.apply(text)
    assert result.text == "The mayor\u00a0cuts the ribbon\r\nNext.\r\n"
    (r,) = result.removals
    assert (r.rule, r.line, r.text) == ("test.agency", 1, " (AP)")
    assert text.split("\r\n")[0][slice(*r.span)] == " (AP)"


# --- library ----------------------------------------------------------------------------


def test_rulesets_pickle(bundled):
    again = pickle.loads(pickle.dumps(bundled))
    sample = "Featured Image Credit: Alamy\nText that stays here.\n"
    assert again.apply(sample) == bundled.apply(sample)


def test_load_rules_is_cached_and_clean_uses_bundled():
    assert load_rules().ids == load_rules().ids
    assert clean("Featured Image Credit: Alamy\nText.\n") == "Text.\n"


def test_select_and_ignore_by_group_and_id(bundled):
    assert all(r.id.startswith("credits.") for r in load_rules(select=["credits"]))
    assert "credits.photo-credit-line" not in load_rules(ignore=["credits.photo-credit-line"]).ids
    assert "credits.photo-credit-line" not in load_rules(ignore=["credits"]).ids


def test_split_lines_round_trip():
    for text in ODD:
        lines = split_lines(text)
        assert "".join(l.text + l.ending for l in lines) == text


# --- property tests ------------------------------------------------------------------------

ALPHABET = st.sampled_from(
    list("abc XYZ.,:()|-'") + ["\u00a0", "\u200b", "\r", "é", "ﬁ", "Credit: AP", "Image: Getty Images",
                             "By Jane Doe", "6 hours ago", "More like this", "Topics: News, Sport"]
)
LINE = st.lists(ALPHABET, max_size=12).map("".join)
DOC = st.lists(LINE, max_size=14).map("\n".join) | st.lists(LINE, max_size=14).map(lambda ls: "\n".join(ls) + "\n")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(DOC)
def test_property_idempotent(bundled, text):
    once = bundled.apply(text).text
    assert bundled.apply(once).text == once


@SETTINGS
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=40), max_size=10).map("\n".join))
def test_property_no_rule_fires_means_identical(bundled, text):
    result = bundled.apply(text)
    if not result.removals:
        assert result.text == text


@SETTINGS
@given(DOC)
def test_property_output_lines_are_input_lines_or_stripped(bundled, text):
    result = bundled.apply(text)
    in_lines = [l.text for l in split_lines(text)]
    stripped_lines = {r.line for r in result.removals if r.span is not None}
    cursor = 0
    for line in split_lines(result.text):
        # each output line is a later input line, in order, unchanged unless a strip rule cut it
        def fits(i: int) -> bool:
            return in_lines[i] == line.text or ((i + 1) in stripped_lines and is_subsequence(line.text, in_lines[i]))

        while cursor < len(in_lines) and not fits(cursor):
            cursor += 1
        assert cursor < len(in_lines), f"output line {line.text!r} is not from the input"
        cursor += 1


def is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _strip_then_drop(tmp_path):
    """A strip rule whose cut leaves a line that a drop rule then takes (in a later pass)."""
    trail = make_rule(tmp_path, "trail", """\
        kind: strip
        message: Strip a trailing photo credit after a bar.
        patterns: ['\\s*\\|\\s*Photo:\\s*\\w+$']
        examples:
          - in: "Harbour at dusk | Photo: Reuters\\n"
            out: "Harbour at dusk\\n"
          - in: "Photo: Reuters is a credit, but not after a bar.\\n"
        """)
    advert = make_rule(tmp_path, "advert", """\
        kind: drop-line
        message: Drop an advertisement label.
        patterns: ['Advertisement']
        examples:
          - in: "Advertisement\\nText.\\n"
            out: "Text.\\n"
          - in: "Advertisement revenue fell.\\n"
        """)
    return [trail, advert]


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_line_a_strip_rule_cut_is_looked_at_again(tmp_path, prefilter):
    # pass 1 cuts the credit (drop-line rules run before strip rules); the line left,
    # "Advertisement", is new to the pre-pass and must be flagged in pass 2
    rs = RuleSet(_strip_then_drop(tmp_path), prefilter=prefilter)
    text = (
        "The council said on Monday that the bridge would reopen in the spring.\n"
        "Advertisement | Photo: Reuters\n"
        "Residents welcomed the news, though some said the works had taken too long.\n"
    )
    result = rs.apply(text)
    assert result.text == (
        "The council said on Monday that the bridge would reopen in the spring.\n"
        "Residents welcomed the news, though some said the works had taken too long.\n"
    )
    assert sorted((r.rule, r.line, r.text) for r in result.removals) == [
        ("test.advert", 2, "Advertisement"),
        ("test.trail", 2, " | Photo: Reuters"),
    ]


def test_what_earlier_documents_taught_the_rule_set_never_changes_a_result(tmp_path, monkeypatch):
    # a rule set remembers what its rules decided on the lines it has seen (a later
    # pass, boilerplate recurring across documents); results are those of a fresh set
    import cleaner.engine as engine
    import cleaner.prefilter as prefilter

    docs = [
        "Advertisement\nThe council met on Monday.\nHarbour at dusk | Photo: Reuters\n",
        "Harbour at dusk | Photo: Reuters\nAdvertisement\nThe council met on Monday.\n",
        "Advertisement revenue fell.\nHarbour at dusk | Photo: Reuters\nAdvertisement\n",
    ]
    rules = _strip_then_drop(tmp_path)
    fresh = [RuleSet(rules, prefilter=True).apply(d) for d in docs]
    warm = RuleSet(rules, prefilter=True)
    assert [warm.apply(d) for d in docs * 3] == fresh * 3
    assert warm._memo, "the memo is not being used"
    warm.forget()
    assert not warm._memo
    # a memo that fills up is emptied at once, and nothing changes either
    monkeypatch.setattr(engine, "MEMO_MAX", 1)
    monkeypatch.setattr(prefilter, "MEMO_MAX", 1)
    small = RuleSet(rules, prefilter=True)
    assert [small.apply(d) for d in docs * 3] == fresh * 3
    assert len(small._memo) <= 8


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=list(".!?…:;。！？\"'’”»)]ab 1"), max_size=10))
def test_the_end_of_a_sentence_is_read_as_the_regex_reads_it(s):
    # is_prose looks at the last characters instead of running this regex over the line
    import regex

    from cleaner.text import ends_sentence

    assert ends_sentence(s) == bool(regex.search(r"[.!?…:;。！？](?:[\"'’”»)\]]{0,3})$", s))


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_dropped_sentence_moves_the_edges_for_the_next_pass(tmp_path, prefilter):
    # pass 1 drops a disclosure that reads as prose; only then is the byline above the
    # first paragraph, where an edges rule may take it: a second pass must run
    disclosure = make_rule(tmp_path, "disclosure", """\
        kind: drop-line
        message: Drop an affiliate disclosure.
        patterns: ['We may earn a commission when you buy through links on this page\\.']
        examples:
          - in: "We may earn a commission when you buy through links on this page.\\nText.\\n"
            out: "Text.\\n"
          - in: "Text.\\n"
        """)
    byline = make_rule(tmp_path, "byline", """\
        kind: drop-line
        message: Drop a byline above the first paragraph.
        where: edges
        patterns: ['By [A-Z][a-z]+ [A-Z][a-z]+']
        examples:
          - in: "By Jane Doe\\nThe council met on Monday night to approve the new ferry terminal.\\n"
            out: "The council met on Monday night to approve the new ferry terminal.\\n"
          - in: "By Jane Doe\\n"
        """)
    text = (
        "We may earn a commission when you buy through links on this page.\n"
        "By Jane Doe\n"
        "The council met on Monday night to approve the new ferry terminal after a long debate.\n"
        "Residents welcomed the news, though some said the works had taken far too long.\n"
    )
    rs = RuleSet([disclosure, byline], prefilter=prefilter)
    result = rs.apply(text)
    assert result.text == text.split("\n", 2)[2]
    assert rs.apply(result.text).text == result.text


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_copy_a_dedupe_drop_brings_within_reach_goes_in_a_further_pass(tmp_path, prefilter):
    # pass 1 drops the second "Passengers" caption, a copy of the line above it; only
    # then is the second "ferry" caption within max_gap of the first. No line cut, no
    # prose dropped: the engine must still not call the document settled after pass 1
    # (the dedupe rules are asked again)
    dedupe = make_rule(tmp_path, "gap", """\
        kind: dedupe
        message: Drop a copy printed within two lines of the first.
        min_chars: 20
        max_gap: 2
        examples:
          - in: "The ferry leaves the harbour at dawn\\nThe ferry leaves the harbour at dawn\\n"
            out: "The ferry leaves the harbour at dawn\\n"
          - in: "The ferry leaves the harbour at dawn\\n"
        """)
    ferry = "The ferry leaves the harbour at dawn\n"  # captions: not prose
    calm = "Passengers on the morning crossing to the island\n"
    after = "Residents welcomed the news, though some said the works had taken far too long.\n"
    rs = RuleSet([dedupe], prefilter=prefilter)
    result = rs.apply(ferry + calm + calm + ferry + after)
    assert result.text == ferry + calm + after
    assert [(r.rule, r.line) for r in result.removals] == [("test.gap", 3), ("test.gap", 4)]
    assert rs.apply(result.text).text == result.text


@pytest.mark.parametrize("prefilter", [True, False])
def test_copies_as_short_as_min_chars_go_and_shorter_ones_do_not_wake_dedupe(tmp_path, prefilter):
    # the engine skips the dedupe rules while no line of at least min_chars occurs
    # twice; a copy of exactly min_chars characters still counts
    dedupe = make_rule(tmp_path, "short", """\
        kind: dedupe
        message: Drop a copy of a line of ten characters or more.
        min_chars: 10
        examples:
          - in: "Harbour 10\\nHarbour 10\\n"
            out: "Harbour 10\\n"
          - in: "Harbour 1\\nHarbour 1\\n"
        """)
    rs = RuleSet([dedupe], prefilter=prefilter)
    assert rs.apply("Share\nHarbour 10\nShare\nHarbour  10\n").text == "Share\nHarbour 10\nShare\n"
    assert rs.apply("Share\nHarbour 9\nShare\nHarbour 9\n").removals == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n\t\x0b\x0c.\u00a0\u200b\u00ad\ufb01\u00bde\u0301\u212b\u3000\r]^\\-\uff3d\u2024\udc80")),
               max_size=30))
def test_the_document_view_is_the_view_of_each_line(s):
    # normalise_doc maps only the characters that change, in one substitution over the
    # whole text; each line's view must be what normalise gives that line (per
    # character: no composing across characters)
    from cleaner.text import normalise, normalise_doc

    assert normalise_doc(s) == "\n".join(normalise(part)[0] for part in s.split("\n"))


def test_the_ascii_characters_a_view_changes_are_known():
    # normalise_doc looks for these among ASCII text; every other character it meets
    # through the non-ASCII bytes of the text
    from cleaner.text import _ASCII_CHANGING, normalise_char

    assert {chr(c) for c in range(128) if normalise_char(chr(c)) != chr(c)} == set(_ASCII_CHANGING)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["ab", "AB", "a b", "A  b", "\u00dfa", "SSA", "b.", "B .", ""]),
                         st.text(alphabet=st.sampled_from(list("aAb  .\u00df")), max_size=6)), max_size=12),
       st.sets(st.integers(0, 11)), st.booleans(), st.sampled_from([None, True, False]),
       st.sampled_from(["", "\u2028", "\x85"]))
def test_copies_are_the_lines_whose_key_occurs_twice(lines, dropped, ignorecase, engine_fold, odd):
    # Doc.copies builds keys only where a coarse whole-document key repeats (made by
    # the engine, case-folded or not, or by the Doc); it must give what building
    # every key would (a key: whitespace runs as one space, folded for ignorecase)
    from cleaner.kinds import Doc
    from cleaner.text import coarse_keys, normalise_doc

    if lines and odd:  # a space the coarse keys cannot take out
        lines[0] = odd.join(lines[0])
    view = normalise_doc("\n".join(lines))
    norms = [v.strip() for v in view.split("\n")][: len(lines)]
    coarse = None if engine_fold is None else (engine_fold, coarse_keys(view, engine_fold))
    doc = Doc(list(lines), ["\n"] * len(lines), list(range(len(lines))), norms, None, frozenset(), None, coarse)
    for p in dropped:
        if p < len(lines):
            doc.drop(p, "x")
    live = [p for p in range(len(lines)) if p not in doc.dropped and norms[p]]
    fold = str.casefold if ignorecase else str
    keys = {p: " ".join(fold(norms[p]).split()) for p in live}
    want = [(o, p, keys[p]) for o, p in enumerate(live) if list(keys.values()).count(keys[p]) > 1]
    assert doc.copies(ignorecase) == want
