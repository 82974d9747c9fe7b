#!/usr/bin/env python3
"""Score the cleaner on a dataset folder, and say which rule cost what.

  python benchmarks/quality.py DATASET [DATASET ...] [-v traf,wet] [--select ...]
         [--ignore ...] [--lang en] [--rules DIR] [-j N] [--worst N] [--json OUT]
         [--eval-dir ../shared/eval]

A dataset folder holds ``<id>.<variant>.txt`` inputs and, for the gold metrics,
``<id>.gold.txt`` (and optionally ``<id>.snippets.json`` and a ``manifest.jsonl``
with ``id``/``url``/``lang``). A bare name (``wcxb-dev``) is looked up under
``EVAL_DIR/data`` when ``--eval-dir`` is given.

The metrics are those of the shared scorer (``../shared/eval/score.py``),
re-implemented here with the same definitions so that the project needs no
file outside it:

- tokens: bag of lowercased ``\\w+`` tokens of the output against the gold;
  precision averaged over pages with output, recall over pages with gold, F1 the
  harmonic mean of the two means; ``f1_page_mean``; ``shingle4`` the same on
  case-sensitive 4-token shingles; ``in_*`` the same for the input.
- flow: ``content_loss`` = gold-matching input tokens the cleaner dropped / gold-
  matching input tokens (pooled); ``bp_removal`` = the same for the other tokens.
- lines: a non-empty input line is content if >= 80% of its tokens are covered
  by 3-grams of the gold (1-2 token lines: the whole line must occur in the
  gold), else boilerplate (no gold: snippets decide, most lines are unlabelled).
  A line is removed unless its token sequence is an output line (multiset), or
  (3+ tokens) >= 50% of it is covered by 3-grams of the output lines no input
  line matched. removal_precision / removal_recall / content_loss per all,
  short (< 3 tokens) and long lines.
- snippets: with_kept, without_removed, with_out, without_out.

What score.py cannot give, and this script adds: every removed line is
attributed to the rule(s) that removed it, so you get a per-rule table
(lines removed, how many were boilerplate or content by the labels, the
rule's line precision) and ``--worst N`` lists the pages that lost the largest
share of their content tokens with each removed content line and its rule.

With ``--eval-dir DIR`` the scorer ``DIR/score.py`` is also run on the same
pages with the same rule selection (through ``py:...quality.py:score_hook``)
and its numbers are compared with ours; the script exits 1 if any differs.

Output: a readable report on stdout (``--json OUT`` writes everything as
JSON); progress on stderr. Exit 0, 1 if score.py disagrees, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import pickle
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cleaner.config import DEFAULT_MAX_REMOVED
from cleaner.engine import load_rules
from cleaner.errors import CleanerError

VARIANTS = ("traf", "trafdef", "wet")
TOKEN = re.compile(r"\w+")
SPACES = re.compile(r"\s+")
NGRAM = 3  # n-gram size used for line coverage
CONTENT_SHARE = 0.8  # a line is content when this share of its tokens is covered by the gold
KEPT_SHARE = 0.5  # an edited line still counts as kept when this share is covered by the output
SHORT_BELOW = 3  # lines with fewer tokens are "short"
TIMING_KEYS = {"secs_total", "wall_secs", "error_examples"}


class UsageError(Exception):
    pass


# ----------------------------------------------------------------------------- metrics


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def squash(text: str) -> str:
    """Whitespace-normalised, lowercased (for snippet checks)."""
    return SPACES.sub(" ", text).strip().lower()


def gram_index(toks: list[str]) -> dict[int, set[tuple[str, ...]]]:
    """All 1-, 2- and 3-grams of a token list, by size."""
    index: dict[int, set[tuple[str, ...]]] = {1: set(), 2: set(), NGRAM: set()}
    for size in index:
        for i in range(len(toks) - size + 1):
            index[size].add(tuple(toks[i : i + size]))
    return index


def covered_share(toks: list[str], index: dict[int, set]) -> float:
    """Share of ``toks`` covered by 3-grams of ``index`` (1-2 tokens: all or nothing)."""
    if len(toks) < NGRAM:
        return float(tuple(toks) in index[len(toks)])
    hit = bytearray(len(toks))
    grams = index[NGRAM]
    for i in range(len(toks) - NGRAM + 1):
        if tuple(toks[i : i + NGRAM]) in grams:
            hit[i : i + NGRAM] = b"\x01" * NGRAM
    return sum(hit) / len(toks)


def overlap(pred: Counter, gold: Counter) -> tuple[int, int, int]:
    """(tp, fp, fn) of two token bags."""
    tp = sum((pred & gold).values())
    return tp, sum(pred.values()) - tp, sum(gold.values()) - tp


def shingle_bag(text: str, size: int = 4) -> Counter:
    """Case-sensitive token shingles; a text shorter than ``size`` is one shingle."""
    toks = TOKEN.findall(text)
    if not toks:
        return Counter()
    if len(toks) <= size:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + size]) for i in range(len(toks) - size + 1))


def shingle_rates(pred: Counter, gold: Counter) -> tuple[float, float, float]:
    """tp, fp, fn of two shingle bags as shares of their sum (scrapinghub's metric)."""
    tp = fp = fn = 0
    for key in pred.keys() | gold.keys():
        p, g = pred.get(key, 0), gold.get(key, 0)
        tp += min(p, g)
        fp += max(0, p - g)
        fn += max(0, g - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def page_prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    if fp == 0 and fn == 0:
        p = r = 1.0
    else:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def mean_prf(triples: list[tuple]) -> dict:
    """Mean precision over pages with output, mean recall over pages with gold."""
    precisions = [page_prf(*t)[0] for t in triples if t[0] + t[1] > 0]
    recalls = [page_prf(*t)[1] for t in triples if t[0] + t[2] > 0]
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1s = [page_prf(*t)[2] for t in triples]
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "f1_page_mean": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
    }


def has_snippet(snippet: str, squashed: str) -> bool:
    s = squash(snippet)
    return bool(s) and s in squashed


def input_lines(text: str):
    """(engine line number, text) of every non-empty line as ``str.splitlines`` cuts them.

    The engine numbers lines split on ``\\n`` only; a line holding another
    line boundary (``\\r``, ``\\x0c``, ``\\u2028``...) gives several pieces with
    the same number.
    """
    for number, part in enumerate(text.split("\n"), 1):
        for piece in part.splitlines():
            if piece.strip():
                yield number, piece


def line_fates(inp: str, out: str, gold: str | None, snippets: dict | None) -> list[dict]:
    """Label each non-empty input line and decide whether it was removed."""
    gold_index = gram_index(tokens(gold)) if gold is not None else None
    withs = [squash(s) for s in (snippets or {}).get("with", []) if s.strip()]
    withouts = [squash(s) for s in (snippets or {}).get("without", []) if s.strip()]
    out_lines = [ln for ln in out.splitlines() if ln.strip()]
    unmatched = Counter(tuple(tokens(ln)) for ln in out_lines)  # output lines no input line took yet
    bare = Counter(ln.strip() for ln in out_lines if not tokens(ln))  # output lines without a word
    fates = []
    for number, text in input_lines(inp):
        toks = tokens(text)
        fate = {"line": number, "text": text, "ntok": len(toks), "label": None, "removed": None}
        if not toks:
            key = text.strip()
            fate["removed"] = bare[key] <= 0
            if bare[key] > 0:
                bare[key] -= 1
            fates.append(fate)
            continue
        if gold_index is not None:
            fate["label"] = "content" if covered_share(toks, gold_index) >= CONTENT_SHARE else "bp"
        else:
            flat = squash(text)
            w = any(s in flat for s in withs)
            wo = any(s in flat for s in withouts)
            fate["label"] = "content" if w and not wo else "bp" if wo and not w else None
        key = tuple(toks)
        if unmatched[key] > 0:
            unmatched[key] -= 1
            fate["removed"] = False
        fate["_toks"] = toks
        fates.append(fate)
    # lines without an exact copy in the output: kept (edited) if mostly covered by
    # 3-grams of the output lines that matched no input line
    leftover: dict[int, set] = {1: set(), 2: set(), NGRAM: set()}
    for key, count in unmatched.items():
        if count > 0:
            for size, grams in gram_index(list(key)).items():
                leftover[size] |= grams
    for fate in fates:
        toks = fate.pop("_toks", None)
        if toks is not None and fate["removed"] is None:
            fate["removed"] = not (len(toks) >= SHORT_BELOW and covered_share(toks, leftover) >= KEPT_SHARE)
    return fates


def count_lines(fates: list[dict]) -> Counter:
    c: Counter = Counter()
    for f in fates:
        removed = int(bool(f["removed"]))
        if f["ntok"] == 0:
            c["zero_token_lines"] += 1
            c["zero_token_removed"] += removed
            continue
        for bucket in ("all", "short" if f["ntok"] < SHORT_BELOW else "long"):
            c[f"{bucket}_lines"] += 1
            c[f"{bucket}_removed"] += removed
            if f["label"]:
                c[f"{bucket}_{f['label']}"] += 1
                c[f"{bucket}_{f['label']}_removed"] += removed
    return c


def attribute(fates: list[dict], removals) -> None:
    """Name the rule(s) behind each removed line (``fate["rules"]``).

    First the removals on that input line; failing that (the scorer matches
    lines as a multiset, so it may call the other copy of a repeated line
    removed), the removals of a line with the same text.
    """
    by_line: dict[int, list[str]] = defaultdict(list)
    by_text: dict[str, list[str]] = defaultdict(list)
    for r in removals:
        if r.rule not in by_line[r.line]:
            by_line[r.line].append(r.rule)
        if r.span is None and r.rule not in by_text[r.text.strip()]:
            by_text[r.text.strip()].append(r.rule)
    for f in fates:
        if f["removed"]:
            f["rules"] = by_line.get(f["line"]) or by_text.get(f["text"].strip()) or ["(unattributed)"]


# ----------------------------------------------------------------------------- one page

_RULES = None
_MAX_REMOVED: float | None = None


def _ruleset(cfg: dict):
    return load_rules(
        *cfg["rules"], select=cfg["select"], ignore=cfg["ignore"], lang=cfg["lang"], bundled=cfg["bundled"]
    )


def _init(ruleset, max_removed: float | None) -> None:
    global _RULES, _MAX_REMOVED
    _RULES, _MAX_REMOVED = ruleset, max_removed


def score_hook(text: str) -> str:
    """str -> str for ``score.py py:benchmarks/quality.py:score_hook``: the very rule set
    this script scored with (pickled to the file named in the environment), so that
    rule files edited meanwhile cannot make the two scorers disagree."""
    if _RULES is None:
        with open(os.environ["CLEANER_QUALITY_RULESET"], "rb") as fh:
            _init(*pickle.load(fh))
    return _RULES.apply(text, _MAX_REMOVED).text


def score_page(task: tuple[str, str, str]) -> dict:
    folder_s, pid, variant = task
    folder = Path(folder_s)
    gold_p, snip_p = folder / f"{pid}.gold.txt", folder / f"{pid}.snippets.json"
    gold = gold_p.read_text(encoding="utf-8") if gold_p.exists() else None
    snippets = json.loads(snip_p.read_text(encoding="utf-8")) if snip_p.exists() else None
    inp = (folder / f"{pid}.{variant}.txt").read_bytes().decode("utf-8", errors="replace")
    rec: dict = {"dataset": folder.name, "id": pid, "variant": variant, "error": "", "vetoed": False}
    t0 = time.perf_counter()
    removals = []
    try:
        result = _RULES.apply(inp, _MAX_REMOVED)
        out, removals = result.text, result.removals
        rec["vetoed"] = result.vetoed is not None
    except CleanerError as exc:
        out, rec["error"] = "", f"{type(exc).__name__}: {exc}"[:300]
    rec["secs"] = round(time.perf_counter() - t0, 3)
    out_toks, in_toks = tokens(out), tokens(inp)
    rec["out_tokens"], rec["in_tokens"] = len(out_toks), len(in_toks)
    if gold is not None:
        gold_bag = Counter(tokens(gold))
        gold_sh = shingle_bag(gold)
        rec["gold_tokens"] = sum(gold_bag.values())
        rec["tp"], rec["fp"], rec["fn"] = overlap(Counter(out_toks), gold_bag)
        rec["sh4"] = shingle_rates(shingle_bag(out), gold_sh)
        if out == inp:
            rec["in_tp"], rec["in_fp"], rec["in_fn"], rec["in_sh4"] = rec["tp"], rec["fp"], rec["fn"], rec["sh4"]
        else:
            rec["in_tp"], rec["in_fp"], rec["in_fn"] = overlap(Counter(in_toks), gold_bag)
            rec["in_sh4"] = shingle_rates(shingle_bag(inp), gold_sh)
        for prefix, t in (("", (rec["tp"], rec["fp"], rec["fn"])), ("in_", (rec["in_tp"], rec["in_fp"], rec["in_fn"]))):
            p, r, f = page_prf(*t)
            rec[prefix + "P"], rec[prefix + "R"], rec[prefix + "F1"] = round(p, 4), round(r, 4), round(f, 4)
        lost = rec["in_tp"] - rec["tp"]
        rec["content_lost_tokens"] = lost
        rec["content_lost_frac"] = round(lost / rec["in_tp"], 4) if rec["in_tp"] else 0.0
    if snippets is not None:
        sq_out, sq_in = squash(out), squash(inp)
        w, wo = snippets.get("with", []), snippets.get("without", [])
        rec["with_n"], rec["without_n"] = len(w), len(wo)
        rec["with_out"] = sum(has_snippet(s, sq_out) for s in w)
        rec["without_out"] = sum(has_snippet(s, sq_out) for s in wo)
        rec["with_in"] = sum(has_snippet(s, sq_in) for s in w)
        rec["with_kept"] = sum(has_snippet(s, sq_in) and has_snippet(s, sq_out) for s in w)
        rec["without_in"] = sum(has_snippet(s, sq_in) for s in wo)
        rec["without_removed"] = sum(has_snippet(s, sq_in) and not has_snippet(s, sq_out) for s in wo)
    fates = line_fates(inp, out, gold, snippets)
    attribute(fates, removals)
    rec["lines"] = dict(count_lines(fates))
    removed = [f for f in fates if f["removed"] and f["ntok"]]
    rec["removed_content_examples"] = [f["text"][:160] for f in removed if f["label"] == "content"][:3]
    rec["per_rule"], rec["removed_content"] = rule_costs(removed, removals, rec, in_toks, out_toks, gold)
    return rec


def rule_costs(removed: list[dict], removals, rec: dict, in_toks, out_toks, gold) -> tuple[dict, list[dict]]:
    """Per rule: pages, lines removed (by label), spans cut, characters, gold tokens lost;
    and the page's removals that cost content (content lines, or any with gold tokens).

    Token loss is counted on bags of words, so a removed boilerplate line can cost
    gold tokens too (its words also occur in the gold); each lost gold token is
    charged once, to the first removal (in line order) that took a copy of it.
    """
    budget: Counter = Counter()
    if gold is not None:
        g = Counter(tokens(gold))
        i, o = Counter(in_toks), Counter(out_toks)
        budget = Counter({w: min(i[w], g[w]) - min(o[w], g[w]) for w in i if w in g})
    removed_lines = {f["line"] for f in removed}
    items = [(f["line"], f["rules"], f["label"] or "-", f["text"]) for f in removed]
    items += [(r.line, [r.rule], "cut", r.text) for r in removals if r.span is not None and r.line not in removed_lines]
    items.sort(key=lambda x: x[0])
    per_rule: dict[str, dict] = defaultdict(lambda: dict.fromkeys(("lines", "bp", "content", "spans", "chars", "gold_tokens"), 0))
    costly = []
    for line, rules, label, text in items:
        cost = 0
        for w in tokens(text):
            if budget[w] > 0:
                budget[w] -= 1
                cost += 1
        for k, rid in enumerate(rules):
            row = per_rule[rid]
            if label == "cut":
                row["spans"] += 1
            else:
                row["lines"] += 1
                row["bp"] += label == "bp"
                row["content"] += label == "content"
            if k == 0:
                row["gold_tokens"] += cost
        if label == "content" or cost:
            costly.append({"line": line, "rules": rules, "label": label, "gold_tokens": cost, "text": text[:200]})
    for r in removals:
        per_rule[r.rule]["chars"] += len(r.text)
    return dict(per_rule), costly


# ----------------------------------------------------------------------------- aggregation


def share(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def summarise(rows: list[dict], worst: int) -> dict:
    s: dict = {
        "pages": len(rows),
        "errors": sum(bool(r["error"]) for r in rows),
        "timeouts": sum(r["error"] == "timeout" for r in rows),
        "secs_total": round(sum(r["secs"] for r in rows), 1),
        "vetoed": sum(r["vetoed"] for r in rows),
    }
    if s["errors"]:
        s["error_examples"] = [f"{r['id']}: {r['error'][:200]}" for r in rows if r["error"]][:5]
    gold_rows = [r for r in rows if "tp" in r]
    if gold_rows:
        s["tokens"] = mean_prf([(r["tp"], r["fp"], r["fn"]) for r in gold_rows])
        s["shingle4"] = mean_prf([r["sh4"] for r in gold_rows])
        s["in_tokens"] = mean_prf([(r["in_tp"], r["in_fp"], r["in_fn"]) for r in gold_rows])
        s["in_shingle4"] = mean_prf([r["in_sh4"] for r in gold_rows])
        content_in = sum(r["in_tp"] for r in gold_rows)
        content_out = sum(r["tp"] for r in gold_rows)
        other_in = sum(r["in_fp"] for r in gold_rows)
        other_out = sum(r["fp"] for r in gold_rows)
        s["flow"] = {
            "content_tokens_in": content_in,
            "content_tokens_lost": content_in - content_out,
            "content_loss": share(content_in - content_out, content_in),
            "bp_tokens_in": other_in,
            "bp_tokens_removed": other_in - other_out,
            "bp_removal": share(other_in - other_out, other_in),
            "pages_losing_any_content": sum(r["content_lost_tokens"] > 0 for r in gold_rows),
            "pages_losing_over_5pct": sum(r["content_lost_frac"] > 0.05 for r in gold_rows),
        }
    snip_rows = [r for r in rows if "with_n" in r]
    if snip_rows:
        total = lambda k: sum(r[k] for r in snip_rows)  # noqa: E731
        s["snippets"] = {
            "with_out": share(total("with_out"), total("with_n")),
            "without_out": share(total("without_out"), total("without_n")),
            "with_kept": share(total("with_kept"), total("with_in")),
            "without_removed": share(total("without_removed"), total("without_in")),
            "with_in": total("with_in"),
            "without_in": total("without_in"),
        }
    c: Counter = Counter()
    for r in rows:
        c.update(r["lines"])
    lines: dict = {
        "label_source": "gold" if gold_rows else "snippets",
        "zero_token_lines": c["zero_token_lines"],
        "zero_token_removed": c["zero_token_removed"],
    }
    for b in ("all", "short", "long"):
        bp, content = c[f"{b}_bp_removed"], c[f"{b}_content_removed"]
        lines[b] = {
            "lines": c[f"{b}_lines"], "content": c[f"{b}_content"], "bp": c[f"{b}_bp"],
            "removed": c[f"{b}_removed"], "removed_bp": bp, "removed_content": content,
            "removal_precision": share(bp, bp + content),
            "removal_recall": share(bp, c[f"{b}_bp"]),
            "content_loss": share(content, c[f"{b}_content"]),
        }
        if not gold_rows:
            lines[b]["unlabelled"] = c[f"{b}_lines"] - c[f"{b}_content"] - c[f"{b}_bp"]
    s["lines"] = lines
    per_rule: dict[str, dict] = defaultdict(Counter)
    for r in rows:
        for rid, row in r["per_rule"].items():
            per_rule[rid]["pages"] += 1
            per_rule[rid].update(row)
    s["rules"] = {
        rid: {k: row[k] for k in ("pages", "lines", "bp", "content", "spans", "chars", "gold_tokens")}
        | {"precision": share(row["bp"], row["bp"] + row["content"])}
        for rid, row in sorted(per_rule.items(), key=lambda kv: (-kv[1]["gold_tokens"], -kv[1]["content"], -kv[1]["lines"], kv[0]))
    }
    if gold_rows:
        losing = [r for r in gold_rows if r["content_lost_tokens"] > 0]
        losing.sort(key=lambda r: (-r["content_lost_frac"], -r["content_lost_tokens"]))
        s["worst_content_lost"] = [
            {"id": r["id"], "url": r.get("url", ""), "lost_frac": r["content_lost_frac"],
             "lost_tokens": r["content_lost_tokens"], "F1_in": r["in_F1"], "F1_out": r["F1"],
             "examples": r["removed_content_examples"], "removed_content": r["removed_content"]}
            for r in losing[:worst]
        ]
    elif snip_rows:  # no gold: the worst pages are those that lost 'with' snippets
        losing = [r for r in snip_rows if r["with_in"] > r["with_kept"]]
        losing.sort(key=lambda r: -(r["with_in"] - r["with_kept"]))
        s["worst_with_snippets_lost"] = [
            {"id": r["id"], "url": r.get("url", ""), "with_in": r["with_in"], "with_kept": r["with_kept"],
             "examples": r["removed_content_examples"], "removed_content": r["removed_content"]}
            for r in losing[:worst]
        ]
    return s


# ----------------------------------------------------------------------------- comparison with score.py


def flatten(d, prefix: str = "") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = d
    return out


def compare(ours: dict, theirs: dict) -> tuple[int, list[str]]:
    """(numbers compared, differences) over the keys score.py reports."""
    mine = flatten(ours)
    n, diffs = 0, []
    for key, value in flatten(theirs).items():
        if key.split(".")[0] in TIMING_KEYS or key.split("[")[0] in TIMING_KEYS:
            continue
        n += 1
        if key not in mine:
            diffs.append(f"{key}: score.py {value!r}, ours missing")
        elif mine[key] != value and not (isinstance(value, float) and math.isclose(mine[key], value, abs_tol=1e-12)):
            diffs.append(f"{key}: score.py {value!r}, ours {mine[key]!r}")
    return n, diffs


def run_score_py(eval_dir: Path, folders: list[Path], variants: list[str], args, ruleset) -> dict:
    script = eval_dir / "score.py"
    cmd = [
        sys.executable, str(script), f"py:{Path(__file__).resolve()}:score_hook",
        *[str(f.resolve()) for f in folders], "-v", ",".join(variants),
        "-j", str(args.jobs), "--worst", str(args.worst),
    ]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.ids:
        cmd += ["--ids", args.ids]
    if args.page_lang:
        cmd += ["--lang", args.page_lang]
    with tempfile.NamedTemporaryFile(suffix=".pickle") as fh:
        pickle.dump((ruleset, args.max_removed), fh)
        fh.flush()
        env = dict(os.environ, CLEANER_QUALITY_RULESET=fh.name)
        # the hook module imports cleaner; make sure this checkout is found first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")]))
        print(f"running {script} on the same pages ...", file=sys.stderr)
        cp = subprocess.run(cmd, stdout=subprocess.PIPE, env=env)
    if cp.returncode != 0:
        raise UsageError(f"{script} failed (exit {cp.returncode}); see its messages above")
    return json.loads(cp.stdout)


# ----------------------------------------------------------------------------- datasets


def resolve_dataset(name: str, eval_dir: Path | None) -> Path:
    p = Path(name)
    if p.is_dir():
        return p
    if eval_dir is not None and (eval_dir / "data" / name).is_dir():
        return eval_dir / "data" / name
    hint = "" if eval_dir else " (a bare dataset name needs --eval-dir)"
    raise UsageError(f"dataset folder not found: {name}{hint}")


def pages(folder: Path, variant: str, ids: set[str] | None, langs: set[str] | None, limit: int | None) -> list[dict]:
    """The pages of one dataset that have this variant: manifest order, or sorted ids."""
    manifest = folder / "manifest.jsonl"
    if manifest.exists():
        with open(manifest, encoding="utf-8") as fh:
            entries = [json.loads(line) for line in fh if line.strip()]
    else:
        suffix = f".{variant}.txt"
        entries = [{"id": p.name[: -len(suffix)]} for p in sorted(folder.glob(f"*{suffix}"))]
    if ids:
        entries = [e for e in entries if e["id"] in ids]
    if langs:
        entries = [e for e in entries if e.get("lang") in langs]
    if limit:
        entries = entries[:limit]
    return [e for e in entries if (folder / f"{e['id']}.{variant}.txt").exists()]


def score_dataset(folder: Path, variant: str, entries: list[dict], ruleset, max_removed, jobs: int, worst: int) -> dict:
    tasks = [(str(folder), e["id"], variant) for e in entries]
    meta = {e["id"]: e for e in entries}
    t0 = time.time()
    rows = []
    if jobs <= 1 or len(tasks) < 2:
        _init(ruleset, max_removed)
        results = map(score_page, tasks)
        pool = None
    else:
        pool = ProcessPoolExecutor(jobs, initializer=_init, initargs=(ruleset, max_removed))
        results = pool.map(score_page, tasks, chunksize=4)
    try:
        for i, r in enumerate(results, 1):
            r["url"], r["lang"] = meta[r["id"]].get("url", ""), meta[r["id"]].get("lang", "")
            rows.append(r)
            if i % 200 == 0:
                print(f"  {folder.name}/{variant}: {i}/{len(tasks)}", file=sys.stderr)
    finally:
        if pool is not None:
            pool.shutdown()
    s = summarise(rows, worst)
    s["wall_secs"] = round(time.time() - t0, 1)
    return s


# ----------------------------------------------------------------------------- report


def fmt(x) -> str:
    return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)


def report(key: str, s: dict, theirs: dict | None, diffs: list[str] | None, n_compared: int, worst: int) -> str:
    out = [f"== {key}: {s['pages']} pages, {s['errors']} errors, {s['vetoed']} kept by the safety valve ({s['wall_secs']}s)"]
    t = s.get("tokens")
    if t:
        it = s["in_tokens"]
        out.append(f"tokens P/R/F1      {fmt(t['precision'])} / {fmt(t['recall'])} / {fmt(t['f1'])}"
                   f"   (input {fmt(it['precision'])} / {fmt(it['recall'])} / {fmt(it['f1'])})")
        out.append(f"shingle4 F1        {fmt(s['shingle4']['f1'])}   (input {fmt(s['in_shingle4']['f1'])})")
        fl = s["flow"]
        out.append(f"flow content_loss {fmt(fl['content_loss'])} ({fl['content_tokens_lost']} of {fl['content_tokens_in']} tokens)"
                   f"   bp_removal {fmt(fl['bp_removal'])} ({fl['bp_tokens_removed']} of {fl['bp_tokens_in']})")
        out.append(f"pages losing content: {fl['pages_losing_any_content']} (over 5%: {fl['pages_losing_over_5pct']})")
    sn = s.get("snippets")
    if sn:
        out.append(f"snippets with_kept {fmt(sn['with_kept'])}  without_removed {fmt(sn['without_removed'])}"
                   f"  with_out {fmt(sn['with_out'])}  without_out {fmt(sn['without_out'])}")
    ln = s["lines"]
    out.append(f"lines ({ln['label_source']} labels)  removed  removal P  removal R  content_loss")
    for b in ("all", "short", "long"):
        x = ln[b]
        out.append(f"  {b:<22}{x['removed']:>7}  {fmt(x['removal_precision']):>9}  {fmt(x['removal_recall']):>9}  {fmt(x['content_loss']):>12}")
    if s["rules"]:
        width = max(len(r) for r in s["rules"])
        gold = ln["label_source"] == "gold"
        label = "content" if gold else "with"
        out.append("per rule: lines removed by label, spans cut" + (", gold tokens lost (charged once, in line order)" if gold else
                   " ('with': lines holding a 'with' snippet, 'bp': a 'without' one)"))
        out.append(f"  {'rule':<{width}}  pages  lines     bp  {label:>7}  line P  spans   chars" + ("  gold tok" if gold else ""))
        for rid, r in s["rules"].items():
            out.append(f"  {rid:<{width}}  {r['pages']:>5}  {r['lines']:>5}  {r['bp']:>5}  {r['content']:>7}"
                       f"  {fmt(r['precision']):>6}  {r['spans']:>5}  {r['chars']:>6}" + (f"  {r['gold_tokens']:>8}" if gold else ""))
    if worst and s.get("worst_content_lost"):
        out.append(f"worst {len(s['worst_content_lost'])} pages by share of content tokens lost"
                   " (removed content lines, and other removals that took gold tokens)")
        for w in s["worst_content_lost"]:
            out.append(f"  {w['id']}  lost {w['lost_frac']:.1%} ({w['lost_tokens']} tokens)  F1 {w['F1_in']} -> {w['F1_out']}  {w['url']}")
            for rc in w["removed_content"]:
                out.append(f"      l.{rc['line']:<4} {', '.join(rc['rules'])} [{rc['label']}, {rc['gold_tokens']} gold tok]:  {rc['text'][:110]}")
    if worst and s.get("worst_with_snippets_lost"):
        out.append(f"worst {len(s['worst_with_snippets_lost'])} pages by 'with' snippets lost (removed lines holding one)")
        for w in s["worst_with_snippets_lost"]:
            out.append(f"  {w['id']}  kept {w['with_kept']} of {w['with_in']} 'with' snippets  {w['url']}")
            for rc in w["removed_content"]:
                out.append(f"      l.{rc['line']:<4} {', '.join(rc['rules'])}:  {rc['text'][:110]}")
    if theirs is not None:
        if diffs:
            out.append(f"score.py DISAGREES on {len(diffs)} of {n_compared} numbers:")
            out.extend(f"  {d}" for d in diffs[:30])
        else:
            out.append(f"score.py agrees on all {n_compared} numbers it reports")
    return "\n".join(out)


# ----------------------------------------------------------------------------- main


def _split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in values or [] for x in v.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="quality.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("datasets", nargs="+", help="dataset folders (or names under EVAL_DIR/data)")
    ap.add_argument("-v", "--variant", default="traf", help="input variants, comma separated (traf, trafdef, wet)")
    ap.add_argument("--select", action="append", help="only these rule ids or groups")
    ap.add_argument("--ignore", action="append", help="leave out these rule ids or groups")
    ap.add_argument("--lang", action="append", help="only rules for these languages (as cleaner clean --lang)")
    ap.add_argument("--rules", action="append", default=[], help="add the rules in this folder")
    ap.add_argument("--no-bundled", action="store_true", help="do not load the bundled rules")
    ap.add_argument("--max-removed", type=float, default=DEFAULT_MAX_REMOVED,
                    help=f"safety valve, as cleaner clean (default {DEFAULT_MAX_REMOVED}; 1 turns it off)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the full results as JSON here")
    ap.add_argument("--worst", type=int, default=10, help="list the N pages that lost most content (default 10)")
    ap.add_argument("--eval-dir", type=Path, help="the shared eval folder: also run its score.py and compare")
    ap.add_argument("--page-lang", help="keep pages whose manifest lang is in this comma list")
    ap.add_argument("--ids", help="only these page ids (comma separated)")
    ap.add_argument("--limit", type=int, help="only the first N pages of each dataset")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"quality.py: error: {exc}", file=sys.stderr)
        return 2
    except CleanerError as exc:  # an invalid rule file
        print(f"quality.py: error: {exc}", file=sys.stderr)
        return 2


def run(args) -> int:
    variants = _split([args.variant])
    for v in variants:
        if v not in VARIANTS:
            raise UsageError(f"unknown variant {v!r} (one of: {', '.join(VARIANTS)})")
    if not 0 < args.max_removed <= 1:
        raise UsageError("--max-removed must be in (0, 1]")
    if args.jobs < 1 or args.worst < 0:
        raise UsageError("--jobs must be 1 or more and --worst 0 or more")
    if args.no_bundled and not args.rules:
        raise UsageError("--no-bundled needs at least one --rules DIR")
    if args.eval_dir is not None and not (args.eval_dir / "score.py").is_file():
        raise UsageError(f"no score.py in --eval-dir {args.eval_dir}")
    cfg = {
        "rules": [str(Path(r).resolve()) for r in args.rules], "select": _split(args.select),
        "ignore": _split(args.ignore), "lang": _split(args.lang), "bundled": not args.no_bundled,
        "max_removed": args.max_removed,
    }
    known = load_rules(*cfg["rules"], bundled=cfg["bundled"]).ids
    ruleset = _ruleset(cfg)  # loaded once: every worker and score.py use this very rule set
    for sel in cfg["select"] + cfg["ignore"]:
        if not any(r == sel or r.startswith(sel.rstrip(".") + ".") for r in known):
            raise UsageError(f"no rule or group named {sel!r} (see 'cleaner rules')")
    folders = [resolve_dataset(d, args.eval_dir) for d in args.datasets]
    ids = set(_split([args.ids])) if args.ids else None
    langs = set(_split([args.page_lang])) if args.page_lang else None
    results: dict[str, dict] = {}
    for folder in folders:
        for v in variants:
            entries = pages(folder, v, ids, langs, args.limit)
            if not entries:
                raise UsageError(f"{folder}: no pages with a {v} input (<id>.{v}.txt)")
            print(f"scoring {folder.name}/{v}: {len(entries)} pages ...", file=sys.stderr)
            results[f"{folder.name}/{v}"] = score_dataset(folder, v, entries, ruleset, cfg["max_removed"], args.jobs, args.worst)
    theirs: dict = {}
    status = 0
    if args.eval_dir is not None:
        theirs = run_score_py(args.eval_dir, folders, variants, args, ruleset).get("results", {})
    doc: dict = {"config": cfg, "results": results}
    texts = []
    for key, s in results.items():
        other = theirs.get(key) if args.eval_dir is not None else None
        n, diffs = compare(s, other) if other is not None else (0, None)
        if args.eval_dir is not None and other is None:
            diffs = [f"score.py gave no result for {key}"]
        if diffs:
            status = 1
        if other is not None:
            doc.setdefault("score_py", {})[key] = other
            doc.setdefault("agreement", {})[key] = {"compared": n, "differences": diffs}
        texts.append(report(key, s, other if args.eval_dir is not None else None, diffs, n, args.worst))
    print("\n\n".join(texts))
    if args.json is not None:
        args.json.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
