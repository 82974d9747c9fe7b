"""cleaner explain at scale: per-rule summaries with examples over record files and directories."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from cleaner import load_rules
from cleaner.explain import explain_corpus, iter_documents

RULES = {
    "drop/credit.yaml": """
        kind: drop-line
        message: Drop an image credit line.
        patterns: ['Image credit: \\w+']
        examples:
          - in: "Image credit: Alamy\\nThe board met on Tuesday.\\n"
            out: "The board met on Tuesday.\\n"
          - in: "The image credit: was missing, she said.\\n"
        """,
    "cut/photo.yaml": """
        kind: strip
        message: Cut a parenthesised photo credit.
        patterns: ['\\s*\\(Photo: \\w+\\)']
        examples:
          - in: "The minister spoke. (Photo: AP)\\n"
            out: "The minister spoke.\\n"
          - in: "The minister spoke.\\n"
        """,
    "block/more.yaml": """
        kind: drop-block
        message: Drop a 'More like this' block with its teasers.
        headers: ['More like this']
        examples:
          - in: "The board met on Tuesday to approve the new pier.\\nMore like this\\nPier reopens\\n"
            out: "The board met on Tuesday to approve the new pier.\\n"
          - in: "The board met on Tuesday to approve the new pier.\\n"
        """,
}

PROSE = "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier."


def article(i: int) -> str:
    lines = [f"Ferry story number {i}", ""]
    if i % 2 == 0:
        lines += ["Image credit: Alamy", ""]
    lines += [PROSE]
    if i % 5 == 0:
        lines += ["", "The minister said it would open next year. (Photo: AP)"]
    if i == 4:
        lines += ["", "Image credit: Reuters"]
    lines += ["", f"Work on pier {i} starts in the spring and should take two years to finish."]
    if i % 7 == 0:
        lines += ["", "More like this", "Pier reopens", "Ferry fares rise"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def rules(tmp_path):
    root = tmp_path / "rules"
    for rel, body in RULES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(body))
    return root


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "docs.jsonl"
    with open(path, "w") as fh:
        for i in range(30):
            fh.write(json.dumps({"id": i, "body": {"text": article(i)}}) + "\n")
        fh.write("{broken\n")
        fh.write(json.dumps({"id": 99, "body": {}}) + "\n")
    return path


def run(*args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "cleaner", *map(str, args)], capture_output=True, text=True, timeout=300, input=input
    )


def test_summary_per_rule_over_records(records, rules):
    r = run("explain", records, "--field", "body.text", "--rules", rules, "--no-bundled", "--json")
    assert r.returncode == 123, r.stderr  # two records could not be read: reported, the rest explained
    assert f"{records}:31: not valid JSON" in r.stderr
    assert f"{records}:32: record has no field 'body.text'" in r.stderr
    d = json.loads(r.stdout)
    assert d["documents"] == 30 and d["read_errors"] == 2
    credit = d["rules"]["drop.credit"]
    # 15 articles with a credit, one of them with two
    assert (credit["documents"], credit["lines"], credit["spans"]) == (15, 16, 0)
    assert credit["chars"] == 15 * len("Image credit: Alamy") + len("Image credit: Reuters")
    photo = d["rules"]["cut.photo"]
    assert (photo["documents"], photo["lines"], photo["spans"]) == (6, 0, 6)
    assert d["rules"]["block.more"]["documents"] == 5 and d["rules"]["block.more"]["lines"] == 15
    assert list(d["rules"]) == ["drop.credit", "cut.photo", "block.more"]  # most documents first
    assert len(credit["examples"]) == 3
    for ex in credit["examples"]:
        n = int(ex["doc"].rsplit(":", 1)[1])
        text = article(n - 1).splitlines()
        assert ex["doc"] == f"{records}:{n}"
        assert ex["removed"][0]["text"] == text[ex["line"] - 1]
        assert ex["before"] == {"line": 1, "text": f"Ferry story number {n - 1}"}
        assert ex["after"] == {"line": 5, "text": PROSE}
    [cut] = d["rules"]["cut.photo"]["examples"][0]["removed"]
    assert cut["cut"] == " (Photo: AP)" and cut["text"].endswith("(Photo: AP)")


def test_examples_come_from_across_the_corpus(records, rules):
    docs = list(iter_documents([records], "body.text"))
    exp = explain_corpus(docs, load_rules(rules), examples=3)
    picked = [int(e.doc.rsplit(":", 1)[1]) for _, e in exp.rules["drop.credit"].examples]
    assert len(set(picked)) == 3
    assert max(picked) > 5, "a reservoir sample, not the first documents"
    again = explain_corpus(docs, load_rules(rules), examples=3)
    assert [e.doc for _, e in again.rules["drop.credit"].examples] == [e.doc for _, e in exp.rules["drop.credit"].examples]
    # a block is shown as one example: the header and its teasers together
    exp = explain_corpus(docs, load_rules(rules), examples=10)
    [(_, block)] = [x for x in exp.rules["block.more"].examples if x[1].doc == f"{records}:1"]
    assert [t for _, t, _ in block.removed] == ["More like this", "Pier reopens", "Ferry fares rise"]
    assert block.after is None and block.before[1].startswith("Work on pier 0")


def test_one_rule_with_more_examples(records, rules):
    r = run("explain", records, "--field", "body.text", "--rules", rules, "--no-bundled", "--json", "--rule", "drop.credit")
    d = json.loads(r.stdout)
    assert list(d["rules"]) == ["drop.credit"]
    assert len(d["rules"]["drop.credit"]["examples"]) == 10
    docs = [e["doc"] for e in d["rules"]["drop.credit"]["examples"]]
    assert len(set(docs)) == 10 and docs == sorted(docs, key=lambda s: int(s.rsplit(":", 1)[1]))
    four = [e for e in d["rules"]["drop.credit"]["examples"] if e["doc"].endswith(":5")]
    if four:  # the article with two credits says so
        assert four[0]["more_in_document"] == 1
    r = run("explain", records, "--field", "body.text", "--rules", rules, "--no-bundled", "--json",
            "--rule", "drop.credit", "--examples", "1")
    assert len(json.loads(r.stdout)["rules"]["drop.credit"]["examples"]) == 1


def test_text_report_for_a_directory(tmp_path, rules):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    for i in range(6):
        (corpus / ("sub" if i % 2 else "") / f"a{i}.md").write_text(article(i))
    (corpus / "ignored.txt").write_text(article(0))
    r = run("explain", corpus, "--glob", "*.md", "--rules", rules, "--no-bundled", "--examples", "3")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0].split() == ["rule", "documents", "lines", "spans", "chars"]
    assert out[1].split() == ["drop.credit", "3", "4", "0", str(2 * 19 + 21 + 19)]
    assert "drop.credit: 3 documents, 4 lines, 0 spans, 78 characters" in r.stdout
    assert "Drop an image credit line." in r.stdout
    assert "        3 - Image credit: Alamy" in out
    assert "        1 | Ferry story number 0" in out
    assert "        7 ~ The minister said it would open next year.[- (Photo: AP)-]" in out
    assert "ignored.txt" not in r.stdout
    assert "6 documents, 4 changed" in r.stderr
    assert "\x1b[" not in r.stdout


def test_single_file_keeps_one_line_per_removal(tmp_path, rules):
    p = tmp_path / "a.txt"
    p.write_text(article(0) + "\n" + PROSE + "\n\nImage credit: Reuters\n")
    r = run("explain", p, "--rules", rules, "--no-bundled")
    assert r.returncode == 0
    rows = [ln.split(None, 3) for ln in r.stdout.splitlines()]
    assert [row[:3] for row in rows] == [
        ["3", "drop.credit", "line"], ["7", "cut.photo", "span"], ["11", "block.more", "line"],
        ["12", "block.more", "line"], ["13", "block.more", "line"], ["17", "drop.credit", "line"],
    ]
    r = run("explain", p, "--rules", rules, "--no-bundled", "--rule", "drop.credit", "--json")
    d = json.loads(r.stdout)
    assert d["path"] == str(p)
    assert d["removals"] == [
        {"rule": "drop.credit", "line": 3, "text": "Image credit: Alamy"},
        {"rule": "drop.credit", "line": 17, "text": "Image credit: Reuters"},
    ]
    r = run("explain", "-", "--rules", rules, "--no-bundled", input="Image credit: Alamy\n" + PROSE + "\n")
    assert r.stdout.split() == ["1", "drop.credit", "line", "Image", "credit:", "Alamy"]


@pytest.mark.parametrize("args, message", [
    (["{records}", "--rule", "nope"], "no rule 'nope' among the selected rules"),
    (["{tmp}/missing-dir"], "missing-dir: no such file or directory"),
    (["{records}", "--examples", "-1"], "--examples must be 0 or more"),
    (["-", "{records}"], "'-' (stdin) cannot be mixed with paths"),
])
def test_usage_errors(records, rules, tmp_path, args, message):
    r = run("explain", *[a.format(records=records, tmp=tmp_path) for a in args], "--rules", rules, "--no-bundled")
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
