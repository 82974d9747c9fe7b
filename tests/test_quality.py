"""benchmarks/quality.py: its metrics on a tiny dataset written here, and its command line.

The numbers below are worked out by hand from the definitions in the script's
docstring (the same as ../shared/eval/score.py); the project's tests never
need ../shared (the one test that compares with score.py is skipped without it).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "quality.py"
SHARED_EVAL = ROOT.parent / "shared" / "eval"

spec = importlib.util.spec_from_file_location("quality", SCRIPT)
quality = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quality)

RULES = {
    "drop/credit.yaml": """
        kind: drop-line
        message: Drop an image credit line.
        patterns: ['Image credit: \\w+']
        examples:
          - in: "Image credit: Alamy\\nThe board met on Tuesday.\\n"
            out: "The board met on Tuesday.\\n"
          - in: "The image credit: was missing from the print edition, she said.\\n"
        """,
    "drop/promo.yaml": """
        kind: drop-line
        message: Drop a 'Read more' promo line.
        patterns: ['Read more: .+']
        examples:
          - in: "Read more: Ferry news\\nThe board met on Tuesday.\\n"
            out: "The board met on Tuesday.\\n"
          - in: "You can read more: the report is online.\\n"
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
}

A_GOLD = (
    "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier.\n"
    "Read more: The ferry timetable for next summer\n"
    "Work starts in the spring and should take two years.\n"
)
A_TRAF = "Image credit: Alamy\n" + A_GOLD + "Subscribe\n"
B_GOLD = "The minister said the plan would cut waiting lists by half within a year.\n"
B_TRAF = "Image credit: Reuters\n" + B_GOLD.rstrip("\n") + " (Photo: AP)\n"


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    pages = {"a": (A_GOLD, A_TRAF), "b": (B_GOLD, B_TRAF)}
    with open(folder / "manifest.jsonl", "w") as fh:
        for pid in pages:
            fh.write(json.dumps({"id": pid, "url": f"https://example.org/{pid}", "lang": "en"}) + "\n")
    for pid, (gold, traf) in pages.items():
        (folder / f"{pid}.gold.txt").write_text(gold)
        (folder / f"{pid}.traf.txt").write_text(traf)
    rules = tmp_path / "rules"
    for rel, body in RULES.items():
        p = rules / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(body))
    return folder, rules


def cfg(rules: Path, **kw) -> dict:
    return {"rules": [str(rules)], "select": [], "ignore": [], "lang": [], "bundled": False,
            "max_removed": None} | kw


def score(folder, rules, **kw):
    entries = quality.pages(folder, "traf", None, None, None)
    c = cfg(rules, **kw)
    return quality.score_dataset(folder, "traf", entries, quality._ruleset(c), c["max_removed"], 1, 5)


def test_line_labels_and_fates():
    fates = quality.line_fates(A_TRAF, A_GOLD + "Subscribe\n", A_GOLD, None)
    assert [(f["line"], f["label"], f["removed"]) for f in fates] == [
        (1, "bp", True), (2, "content", False), (3, "content", False), (4, "content", False), (5, "bp", False),
    ]
    # an edited line stays kept when half of it is still covered by the output's leftover 3-grams
    fates = quality.line_fates(B_TRAF, B_GOLD, B_GOLD, None)
    assert [(f["label"], f["removed"]) for f in fates] == [("bp", True), ("content", False)]
    # a line of one token must occur whole in the gold; a line without words is only counted
    fates = quality.line_fates("Home\n* * *\nharbour\n", "* * *\n", "the harbour board\n", None)
    assert [(f["ntok"], f["label"], f["removed"]) for f in fates] == [(1, "bp", True), (0, None, False), (1, "content", True)]


def test_snippet_labels_without_gold():
    snippets = {"with": ["ferry terminal"], "without": ["Subscribe"]}
    fates = quality.line_fates(A_TRAF, A_GOLD, None, snippets)
    assert [f["label"] for f in fates] == [None, "content", None, None, "bp"]
    assert fates[-1]["removed"] is True


def test_metrics_on_a_tiny_dataset(dataset):
    folder, rules = dataset
    s = score(folder, rules)
    assert s["pages"] == 2 and s["errors"] == 0
    gold_tokens = len(quality.tokens(A_GOLD)) + len(quality.tokens(B_GOLD))
    lost = len(quality.tokens("Read more: The ferry timetable for next summer"))
    assert s["flow"]["content_tokens_in"] == gold_tokens
    assert s["flow"]["content_tokens_lost"] == lost == 8
    assert s["flow"]["content_loss"] == round(8 / gold_tokens, 4)
    # boilerplate tokens: image credit alamy subscribe / image credit reuters photo ap
    assert s["flow"]["bp_tokens_in"] == 9
    assert s["flow"]["bp_tokens_removed"] == 8  # all but "subscribe"
    assert s["flow"]["pages_losing_any_content"] == 1
    lines = s["lines"]["all"]
    assert (lines["lines"], lines["content"], lines["bp"]) == (7, 4, 3)
    assert (lines["removed_bp"], lines["removed_content"]) == (2, 1)
    assert lines["removal_precision"] == 0.6667
    assert lines["removal_recall"] == 0.6667
    assert lines["content_loss"] == 0.25
    assert s["lines"]["short"]["lines"] == 1 and s["lines"]["short"]["removed"] == 0
    # page b keeps all its gold tokens: P 1 there; page a loses 8 of its tokens
    a_gold = len(quality.tokens(A_GOLD))
    a_recall = (a_gold - 8) / a_gold
    assert s["tokens"]["recall"] == round((a_recall + 1.0) / 2, 4)


def test_attribution_per_rule_and_worst_pages(dataset):
    folder, rules = dataset
    s = score(folder, rules)
    r = s["rules"]
    promo = "Read more: The ferry timetable for next summer"
    assert r["drop.promo"] == {"pages": 1, "lines": 1, "bp": 0, "content": 1, "spans": 0,
                               "chars": len(promo), "gold_tokens": 8, "precision": 0.0}
    assert (r["drop.credit"]["lines"], r["drop.credit"]["bp"], r["drop.credit"]["precision"]) == (2, 2, 1.0)
    assert r["cut.photo"]["spans"] == 1 and r["cut.photo"]["lines"] == 0
    assert list(r)[0] == "drop.promo"  # the rule that cost most content comes first
    [worst] = s["worst_content_lost"]
    assert worst["id"] == "a" and worst["lost_tokens"] == 8
    assert worst["removed_content"] == [{
        "line": 3, "rules": ["drop.promo"], "label": "content", "gold_tokens": 8,
        "text": "Read more: The ferry timetable for next summer",
    }]


def test_selection_changes_the_numbers(dataset):
    folder, rules = dataset
    s = score(folder, rules, ignore=["drop.promo"])
    assert s["flow"]["content_tokens_lost"] == 0
    assert "drop.promo" not in s["rules"]
    assert s["worst_content_lost"] == []


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_command_line(dataset, tmp_path):
    folder, rules = dataset
    out = tmp_path / "q.json"
    r = run(folder, "--rules", rules, "--no-bundled", "-j", "2", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "drop.promo [content, 8 gold tok]:  Read more: The ferry timetable" in r.stdout
    assert "Traceback" not in r.stderr
    doc = json.loads(out.read_text())
    assert doc["results"]["tiny/traf"]["flow"]["content_tokens_lost"] == 8


@pytest.mark.parametrize("args, message", [
    (["no-such-folder"], "dataset folder not found: no-such-folder"),
    (["{folder}", "-v", "html"], "unknown variant 'html'"),
    (["{folder}", "--select", "nope"], "no rule or group named 'nope'"),
    (["{folder}", "-v", "wet"], "no pages with a wet input"),
    (["{folder}", "--eval-dir", "{folder}"], "no score.py in --eval-dir"),
])
def test_usage_errors(dataset, args, message):
    folder, rules = dataset
    r = run(*[a.format(folder=folder) for a in args], "--rules", rules, "--no-bundled")
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.skipif(not (SHARED_EVAL / "score.py").is_file(), reason="needs ../shared/eval/score.py")
def test_agrees_with_score_py(dataset):
    folder, rules = dataset
    r = run(folder, "--rules", rules, "--no-bundled", "--eval-dir", SHARED_EVAL, "-j", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "score.py agrees on all" in r.stdout
