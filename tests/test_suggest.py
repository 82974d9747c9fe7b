"""cleaner suggest: recurring short lines on a synthetic corpus, drafted rules that load and pass."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from cleaner import load_rules
from cleaner.explain import Document
from cleaner.suggest import LossyCounter, draft_pattern, suggest

HEADER = "Harbour Gazette Daily Edition"
FOOTER = "Harbour Gazette is printed on recycled paper in Westbay"
PROSE_REPEAT = "Readers can send letters to the editor at any time of the day."
REMOVED = "Sponsored corner"  # recurs everywhere, but the rule below removes it
RARE = "Weather desk closed today"  # only in 3 documents

NOUNS = "council ferry harbour school bakery museum bridge market library festival clinic railway".split()
PLACES = "Westbay Eastholm Northcliff Millbrook Stonegate Ashford Redwater Kingsmere".split()
VERBS = "approved delayed reopened extended funded rejected reviewed announced".split()
WORDS = (
    "amber basil cedar dune ember fjord grove heron iris juniper kelp lark meadow nettle orchid pine quill "
    "reed sorrel thistle umber violet willow yarrow zinnia alder birch clover dahlia elm fern gorse hazel"
).split()

RULE = """
kind: drop-line
message: Drop the sponsored corner label.
patterns: ['Sponsored corner']
examples:
  - in: "Sponsored corner\\nThe board met on Tuesday to approve the plan for the pier.\\n"
    out: "The board met on Tuesday to approve the plan for the pier.\\n"
  - in: "The sponsored corner of the market opened on Tuesday after the long winter.\\n"
"""


def sentence(rng: random.Random) -> str:
    return (
        f"The {rng.choice(NOUNS)} in {rng.choice(PLACES)} was {rng.choice(VERBS)} on Tuesday "
        f"after a long debate about the {rng.choice(NOUNS)} and the {rng.choice(NOUNS)}."
    )


def unique_line(rng: random.Random) -> str:
    return " ".join(w.capitalize() for w in rng.sample(WORDS, 4))


def document(i: int, rng: random.Random) -> str:
    lines = []
    if i % 10:  # 45 of 50
        lines.append(HEADER)
    if i < 30:
        lines.append(f"Posted {rng.randint(1, 23)} hours ago")
    lines += [unique_line(rng), "", sentence(rng), "", sentence(rng), REMOVED, sentence(rng)]
    if i < 3:
        lines.append(RARE)
    lines += [PROSE_REPEAT, unique_line(rng), FOOTER]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("suggest")
    docs = root / "corpus"
    docs.mkdir()
    rng = random.Random(7)
    for i in range(50):
        (docs / f"doc-{i:02d}.txt").write_text(document(i, rng), encoding="utf-8")
    rules = root / "rules" / "promo"
    rules.mkdir(parents=True)
    (rules / "sponsored.yaml").write_text(RULE)
    return root


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "cleaner", *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def suggest_json(corpus, *extra):
    r = run("suggest", corpus / "corpus", "--rules", corpus / "rules", "--no-bundled", "--json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def default(corpus):
    return suggest_json(corpus)


def in_process(corpus, rules=True, **kw):
    files = sorted((corpus / "corpus").glob("*.txt"))

    def read():
        return (Document(str(p), p.read_text()) for p in files)

    ruleset = load_rules(corpus / "rules") if rules else load_rules(bundled=False)
    return suggest(read, ruleset, **kw)


def test_footer_ranks_first_in_the_tail(default):
    doc = default
    assert doc["documents"] == 50
    first = doc["candidates"][0]
    assert first["line"] == FOOTER
    assert (first["documents"], first["share"]) == (50, 1.0)
    assert first["typical_position"] == "tail" and first["where"] == "tail"
    assert first["positions"]["tail"] == 1.0
    by_line = {c["line"]: c for c in doc["candidates"]}
    assert by_line[HEADER]["documents"] == 45 and by_line[HEADER]["where"] == "head"
    # "Posted N hours ago" with different numbers is one candidate, with \d+ in its pattern
    [posted] = [c for c in doc["candidates"] if c["key"] == "posted 0 hours ago"]
    assert posted["documents"] == 30 and r"\d+" in posted["pattern"]
    assert [c["line"] for c in doc["candidates"]] == [FOOTER, HEADER, posted["line"]]
    # not suggested: prose (even when it recurs), a line the rules remove, a line under --min-docs
    for line in (PROSE_REPEAT, REMOVED, RARE):
        assert line not in by_line


def test_examples_show_the_neighbouring_lines(corpus, default):
    first = default["candidates"][0]
    assert len(first["examples"]) == 2
    for ex in first["examples"]:
        text = (corpus / "corpus" / ex["doc"].rsplit("/", 1)[-1]).read_text().splitlines()
        assert text[ex["line"] - 1] == FOOTER
        assert ex["before"] == {"line": ex["line"] - 1, "text": text[ex["line"] - 2]}
        assert ex["after"] is None  # the footer is the last line


def test_thresholds_and_top(corpus):
    doc = suggest_json(corpus, "--min-share", "0.9", "--top", "5")
    assert [c["line"] for c in doc["candidates"]] == [FOOTER, HEADER]
    assert [c.text for c in in_process(corpus, min_docs=2, top=1).candidates] == [FOOTER]
    assert RARE in {c.text for c in in_process(corpus, min_docs=3).candidates}
    assert {c.where for c in in_process(corpus, where=["head"]).candidates} == {"head"}
    # without the rule, the line it removes is suggested
    assert REMOVED in {c.text for c in in_process(corpus, rules=False).candidates}


def test_text_report(corpus):
    r = run("suggest", corpus / "corpus", "--rules", corpus / "rules", "--no-bundled", "--top", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["50", "100.0%", "tail", *FOOTER.split()]
    assert "typical position tail (tail 100%)" in lines[2]
    assert any(ln.strip().endswith(f"> {FOOTER}") for ln in lines)
    assert "50 documents" in r.stderr


def test_drafts_load_and_pass_cleaner_test(corpus, tmp_path):
    drafts = tmp_path / "drafts"
    r = run("suggest", corpus / "corpus", "--rules", corpus / "rules", "--no-bundled", "--write", drafts)
    assert r.returncode == 0, r.stderr
    files = sorted(drafts.glob("*.yaml"))
    assert len(files) == 3
    footer = yaml.safe_load((drafts / "harbour-gazette-is-printed-on-recycled.yaml").read_text())
    assert footer["kind"] == "drop-line" and footer["where"] == "tail"
    assert footer["metadata"]["draft"] is True
    assert (footer["metadata"]["documents"], footer["metadata"]["share"]) == (50, 1.0)
    assert footer["patterns"] == [draft_pattern(FOOTER)]
    changes = [e for e in footer["examples"] if "out" in e]
    stays = [e for e in footer["examples"] if "out" not in e]
    assert changes and stays
    assert FOOTER in changes[0]["in"] and FOOTER not in changes[0]["out"]
    header = yaml.safe_load((drafts / "harbour-gazette-daily-edition.yaml").read_text())
    assert header["where"] == "head"
    t = run("test", drafts)
    assert t.returncode == 0, t.stdout + t.stderr
    assert "3 rules" in t.stdout and " 0 failed" in t.stdout
    # the drafts do what they say on the corpus they came from
    sample = (corpus / "corpus" / "doc-05.txt").read_text()
    cleaned = load_rules(drafts).apply(sample).text
    assert FOOTER not in cleaned and HEADER not in cleaned
    assert PROSE_REPEAT in cleaned
    # a second run never overwrites a draft
    (drafts / "harbour-gazette-daily-edition.yaml").write_text("# edited by a person\n" + yaml.safe_dump(header))
    r = run("suggest", corpus / "corpus", "--rules", corpus / "rules", "--no-bundled", "--write", drafts)
    assert r.returncode == 0
    assert "exists; not overwritten" in r.stderr
    assert (drafts / "harbour-gazette-daily-edition.yaml").read_text().startswith("# edited by a person")


def test_bounded_counting_gives_the_same_answer(corpus):
    small = in_process(corpus, max_keys=32)  # fewer than the 105 distinct short lines
    full = in_process(corpus)
    assert small.pruned and not full.pruned
    assert full.distinct == 105 and small.distinct is None
    assert small.floor < small.threshold  # so nothing that could reach --min-docs was lost
    assert [(c.key, c.documents, dict(c.positions)) for c in small.candidates] == [
        (c.key, c.documents, dict(c.positions)) for c in full.candidates
    ]


def test_lossy_counter_never_undercounts():
    rng = random.Random(3)
    stream = [f"k{min(int(rng.expovariate(0.05)), 400)}" for _ in range(5000)]
    lc = LossyCounter(32)
    for k in stream:
        lc.add(k)
        assert len(lc.counts) <= 32
    true = Counter(stream)
    assert lc.pruned > 0
    assert all(lc.upper(k) >= n for k, n in true.items())
    # every key seen in more than `floor` documents is still in the table, with its bound
    frequent = {k for k, n in true.items() if n > lc.floor}
    assert frequent and frequent <= lc.candidates(lc.floor + 1, 10**6)


@pytest.mark.parametrize("args, message", [
    (["-"], "not stdin"),
    (["{corpus}/nope"], "no such file or directory"),
    (["{corpus}/corpus", "--min-share", "2"], "--min-share must be between 0 and 1"),
    (["{corpus}/corpus", "--min-docs", "0"], "--min-docs must be 1 or more"),
    (["{corpus}/corpus", "--where", "middle"], "--where 'middle'"),
    (["{corpus}/corpus", "--select", "nope"], "no rule or group named 'nope'"),
])
def test_usage_errors(corpus, args, message):
    r = run("suggest", *[a.format(corpus=corpus) for a in args])
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_records_with_field(tmp_path):
    rng = random.Random(11)
    path = tmp_path / "docs.jsonl"
    with open(path, "w") as fh:
        for i in range(20):
            fh.write(json.dumps({"meta": {"body": document(i, rng)}, "id": i}) + "\n")
        fh.write("not json\n")
    r = run("suggest", path, "--field", "meta.body", "--json", "--no-bundled", "--rules", tmp_path / "none")
    assert r.returncode == 2  # the rule folder does not exist
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "sponsored.yaml").write_text(RULE)
    r = run("suggest", path, "--field", "meta.body", "--json", "--no-bundled", "--rules", rules)
    assert r.returncode == 123  # one record could not be read: reported, the rest still counted
    assert f"{path}:21: not valid JSON" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["documents"] == 20
    assert doc["candidates"][0]["line"] == FOOTER
    assert doc["candidates"][0]["examples"][0]["doc"].startswith(f"{path}:")
