"""``cleaner suggest``: find short lines that recur across a corpus and that the
rules do not remove yet, and draft ``drop-line`` rules for a person to review.

A line is a candidate when it is short (at most ``max_words`` words), does not
read as prose (the engine's own test), has at least two letters, and no rule
removed or cut it. Lines are compared on a key: the engine's normalised view,
lowercased, whitespace collapsed and every run of digits as ``0`` (so
"Posted 3 hours ago" and "Posted 12 hours ago" are one candidate). Each
candidate is counted once per document.

Memory stays bounded whatever the corpus size; the corpus is read twice:

1. count documents per key, in a table of at most ``max_keys`` keys. When the
   table is full, the least frequent keys are dropped (lossy counting: each
   key remembers how many documents it may have missed, so no key that could
   reach the thresholds is lost);
2. for the few keys that can reach the thresholds, count again exactly, with
   the rules applied (a line they remove is not counted), the position of each
   occurrence relative to the prose (head: above the first prose line, tail:
   below the last, middle: between; the engine's regions), and a small sample
   of occurrences with their neighbours for examples.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import regex
import yaml

from .engine import RuleSet, _regions
from .errors import CleanerError
from .explain import Document
from .kinds import WHERE, DropLine, Pattern
from .rules import DEFAULT_TIMEOUT
from .text import TERMINALS, Line, is_prose, split_lines

MAX_KEY_CHARS = 200
_DIGITS = regex.compile(r"\d+")
_LETTER = regex.compile(r"\p{L}")
_PIECES = regex.compile(r"(\s+|\d+)")
POSITIONS = ("head", "middle", "tail", "none")  # none: the document has no prose line
WHERE_SHARE = 0.8  # a draft gets where: head/tail/edges when this share of occurrences is there


def line_key(line: Line, max_words: int) -> str | None:
    """The key a line is counted under, or None when it is not a candidate."""
    if line.blank or line.words > max_words or line.prose or len(line.norm) > MAX_KEY_CHARS:
        return None
    if len(_LETTER.findall(line.norm, concurrent=True)) < 2:
        return None
    return _DIGITS.sub("0", " ".join(line.norm.lower().split()))


def draft_pattern(text: str) -> str:
    """An escaped pattern for a line: literal text, ``\\s+`` for spaces, ``\\d+`` for numbers."""
    out = []
    for piece in _PIECES.split(text):
        if not piece:
            continue
        if piece.isspace():
            out.append(r"\s+")
        elif _DIGITS.fullmatch(piece):
            out.append(r"\d+")
        else:
            out.append(regex.escape(piece))
    return "".join(out)


# --- pass 1: bounded counting ------------------------------------------------------------------


class LossyCounter:
    """Documents per key in at most ``cap`` keys (Manku and Motwani's lossy counting).

    ``upper(key)`` never under-estimates the true count: a key dropped when the
    table was full had at most ``floor`` documents, and a key (re)entering the
    table remembers the ``floor`` of that moment as the documents it may have missed.
    """

    def __init__(self, cap: int):
        self.cap = max(16, cap)
        self.counts: dict[str, list[int]] = {}  # key -> [count, possibly missed]
        self.floor = 0
        self.pruned = 0

    def add(self, key: str) -> None:
        entry = self.counts.get(key)
        if entry is None:
            self.counts[key] = [1, self.floor]
            if len(self.counts) > self.cap:
                self._prune()
        else:
            entry[0] += 1

    def _prune(self) -> None:
        # drop the keys with the smallest upper bounds until half the table is free
        bounds = Counter(c + d for c, d in self.counts.values())
        target, dropped, threshold = len(self.counts) - self.cap // 2, 0, self.floor
        for bound in sorted(bounds):
            threshold = bound
            dropped += bounds[bound]
            if dropped >= target:
                break
        self.counts = {k: v for k, v in self.counts.items() if v[0] + v[1] > threshold}
        self.floor = max(self.floor, threshold)
        self.pruned += 1

    def upper(self, key: str) -> int:
        entry = self.counts.get(key)
        return entry[0] + entry[1] if entry else self.floor

    def candidates(self, threshold: int, limit: int) -> set[str]:
        keys = [(c + d, k) for k, (c, d) in self.counts.items() if c + d >= threshold]
        keys.sort(key=lambda x: (-x[0], x[1]))
        return {k for _, k in keys[:limit]}


# --- pass 2: exact counts, positions, examples -----------------------------------------------


@dataclass
class Occurrence:
    doc: str
    line: int  # 1-based
    text: str  # original text of the line
    position: str
    before: list[tuple[int, str]]  # up to 2 non-blank lines above, nearest last
    after: list[tuple[int, str]]  # up to 2 non-blank lines below, nearest first
    prose_before: tuple[int, str] | None  # nearest prose line above
    prose_after: tuple[int, str] | None  # nearest prose line below


@dataclass
class Candidate:
    key: str
    documents: int = 0
    occurrences: int = 0
    positions: Counter = field(default_factory=Counter)
    forms: Counter = field(default_factory=Counter)  # normalised spellings (a few)
    seen: int = 0  # documents offered to the sample
    sample: list[tuple[int, Occurrence]] = field(default_factory=list)  # (document ordinal, occurrence)
    share: float = 0.0
    draft: str | None = None  # path of the drafted rule file

    @property
    def text(self) -> str:
        return self.forms.most_common(1)[0][0]

    @property
    def typical(self) -> str:
        return max(POSITIONS, key=lambda p: (self.positions[p], -POSITIONS.index(p)))

    @property
    def where(self) -> str:
        n = sum(self.positions.values()) or 1
        head, tail = self.positions["head"] / n, self.positions["tail"] / n
        if head >= WHERE_SHARE:
            return "head"
        if tail >= WHERE_SHARE:
            return "tail"
        if head + tail >= WHERE_SHARE:
            return "edges"
        return "anywhere"

    @property
    def examples(self) -> list[Occurrence]:
        return [o for _, o in sorted(self.sample, key=lambda x: x[0])]

    def as_dict(self, n_examples: int) -> dict:
        n = sum(self.positions.values()) or 1
        return {
            "line": self.text,
            "key": self.key,
            "pattern": draft_pattern(self.text),
            "documents": self.documents,
            "share": round(self.share, 4),
            "occurrences": self.occurrences,
            "positions": {p: round(self.positions[p] / n, 4) for p in POSITIONS},
            "typical_position": self.typical,
            "where": self.where,
            "examples": [
                {
                    "doc": o.doc, "line": o.line, "text": o.text,
                    "before": _pair(o.before[-1] if o.before else None),
                    "after": _pair(o.after[0] if o.after else None),
                }
                for o in self.examples[:n_examples]
            ],
            "draft": self.draft,
        }


def _pair(x: tuple[int, str] | None) -> dict | None:
    return None if x is None else {"line": x[0], "text": x[1]}


def _position(regions: tuple[int, int], pos: int) -> str:
    """Where a line sits, as the engine's ``where`` sees it (regions from engine._regions)."""
    first, last = regions
    if last < 0:
        return "none"
    if pos < first:
        return "head"
    if pos > last:
        return "tail"
    return "middle"


def _occurrence(name: str, lines: list[Line], pos: int, position: str) -> Occurrence:
    def scan(step: int, want: int) -> tuple[list[tuple[int, str]], tuple[int, str] | None]:
        near: list[tuple[int, str]] = []
        prose = None
        i = pos + step
        while 0 <= i < len(lines) and (len(near) < want or prose is None):
            ln = lines[i]
            if not ln.blank:
                if len(near) < want:
                    near.append((ln.index + 1, ln.text))
                if ln.prose:
                    prose = (ln.index + 1, ln.text)
            i += step
        return near, prose

    before, prose_before = scan(-1, 2)
    after, prose_after = scan(1, 2)
    return Occurrence(
        name, lines[pos].index + 1, lines[pos].text, position,
        before[::-1], after, prose_before, prose_after,
    )


@dataclass
class Suggestions:
    documents: int
    distinct: int | None  # distinct short lines seen in pass 1 (None: more than max_keys)
    pruned: bool
    threshold: int
    candidates: list[Candidate]
    floor: int = 0  # a line in at most this many documents may have been dropped from the count table


def suggest(
    read: Callable[[], Iterable[Document]],
    ruleset: RuleSet,
    min_docs: int = 5,
    min_share: float = 0.0,
    top: int = 20,
    max_words: int = 12,
    max_keys: int = 100_000,
    sample: int = 5,
    on_error: Callable[[str], None] | None = None,
    seed: int = 0,
    where: Iterable[str] | None = None,
) -> Suggestions:
    """Rank recurring short lines; ``read()`` must give the same documents each time it is called."""
    counter = LossyCounter(max_keys)
    n_docs = 0
    distinct: set[str] | None = set()
    for doc in read():
        n_docs += 1
        keys = {k for k in (line_key(ln, max_words) for ln in split_lines(doc.text)) if k}
        for k in keys:
            counter.add(k)
        if distinct is not None:
            distinct |= keys
            if len(distinct) > max_keys:
                distinct = None  # stop tracking; report the counter's size instead
    n_distinct = len(distinct) if distinct is not None else None
    threshold = max(1, min_docs, math.ceil(min_share * n_docs - 1e-9))
    keep = counter.candidates(threshold, max(top * 20, 1000))
    found: dict[str, Candidate] = {k: Candidate(k) for k in keep}
    rng = random.Random(seed)
    if keep:
        for ordinal, doc in enumerate(read()):
            lines = split_lines(doc.text)
            hits = [(pos, k) for pos, ln in enumerate(lines) if (k := line_key(ln, max_words)) in found]
            if not hits:
                continue
            try:
                removals = ruleset.apply(doc.text).removals
            except CleanerError as exc:
                if on_error:
                    on_error(f"{doc.name}: {exc}")
                continue
            touched = {r.line for r in removals}
            view = _regions(lines)
            in_doc: dict[str, int] = {}
            for pos, k in hits:
                if lines[pos].index + 1 in touched:
                    continue  # the rules already remove (or cut) this line here
                c = found[k]
                c.occurrences += 1
                position = _position(view, pos)
                c.positions[position] += 1
                if len(c.forms) < 20 or lines[pos].norm in c.forms:
                    c.forms[lines[pos].norm] += 1
                if k in in_doc:
                    continue
                in_doc[k] = pos
                c.documents += 1
                # a reservoir sample of documents, one occurrence each
                c.seen += 1
                slot = len(c.sample) if len(c.sample) < sample else rng.randrange(c.seen)
                if slot < sample:
                    occ = (ordinal, _occurrence(doc.name, lines, pos, position))
                    if slot < len(c.sample):
                        c.sample[slot] = occ
                    else:
                        c.sample.append(occ)
    wanted = set(where or ())
    ranked = [c for c in found.values() if c.documents >= threshold and (not wanted or c.where in wanted)]
    for c in ranked:
        c.share = c.documents / n_docs if n_docs else 0.0
    ranked.sort(key=lambda c: (-c.documents, -c.occurrences, c.key))
    return Suggestions(n_docs, n_distinct, counter.pruned > 0, threshold, ranked[:top], counter.floor)


# --- drafting rule files ------------------------------------------------------------------------


def _slug(key: str) -> str:
    words = re.findall(r"[a-z0-9]+", key.encode("ascii", "ignore").decode())
    slug = "-".join(words[:6])[:48].strip("-")
    return slug or "line"


def _joined(lines: list[str]) -> str:
    return "".join(ln + "\n" for ln in lines)


def _draft_rule(c: Candidate, rid: str) -> DropLine:
    source = draft_pattern(c.text)
    compiled = regex.compile(source, regex.IGNORECASE)
    return DropLine(
        id=rid, path="", message="", examples=[], ignorecase=True, lang=["any"],
        patterns=[Pattern(source, compiled, rid, DEFAULT_TIMEOUT)], where=c.where,
    )


def _shorten(text: str, limit: int = 160) -> str:
    """A long context line cut at a word for a readable example, still prose if it was prose
    (then it ends in "…") and still not prose if it was not; else the line as it is."""
    if len(text) <= limit:
        return text
    was = is_prose(split_lines(text)[0].norm)
    cut = text[: limit - 10].rsplit(" ", 1)[0].rstrip(" ,;:-–—" + TERMINALS)
    cut = cut + " …" if was else cut
    return cut if cut.strip() and is_prose(split_lines(cut)[0].norm) == was else text


def _examples(c: Candidate, rule: DropLine, limit: int = 2) -> list[dict]:
    """Examples from the corpus, each checked against the draft rule alone: occurrences that
    go (with their neighbours), a prose line of the same document that stays, and, for a
    rule limited to the head or the tail, the line between two prose lines, which stays."""
    alone = RuleSet([rule])

    def works(lines: list[str], target: int | None) -> dict | None:
        src = _joined(lines)
        want = _joined([ln for i, ln in enumerate(lines) if i != target]) if target is not None else src
        got = alone.apply(src).text
        if got != want or alone.apply(got).text != got:
            return None
        return {"in": src, "out": want} if target is not None else {"in": src}

    changes: list[dict] = []
    stays: list[dict] = []
    for o in c.examples:
        b1 = [_shorten(o.before[-1][1])] if o.before else []
        a1 = [_shorten(o.after[0][1])] if o.after else []
        pb = [_shorten(o.prose_before[1])] if o.prose_before else []
        pa = [_shorten(o.prose_after[1])] if o.prose_after else []
        windows = [(b1, a1), (b1, pa), (pb, a1), (pb, pa), ([], pa), (pb, []), (b1, []), ([], a1)]
        if len(changes) < limit:
            for above, below in windows:
                ex = works(above + [o.text] + below, len(above))
                if ex is not None and all(ex["in"] != e["in"] for e in changes):
                    changes.append({"name": f"from {o.doc}, line {o.line}"} | ex)
                    break
        if not stays and (pb or pa):
            prose = (pb or pa)[0]
            ex = works([prose], None)
            if ex is not None:
                stays.append({"name": f"a prose line from {o.doc} stays"} | ex)
        if c.where != "anywhere" and len(stays) < 2 and pb and pa:
            ex = works(pb + [o.text] + pa, None)
            if ex is not None:
                stays.append({"name": f"between two prose lines (outside the {c.where}) it stays"} | ex)
    return changes + stays


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value.rstrip("\n") or value.endswith("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def draft_yaml(c: Candidate, examples: list[dict], total: int) -> str:
    pct = f"{c.share:.0%}" if c.share >= 0.01 else f"{c.share:.1%}"
    data = {
        "kind": "drop-line",
        "message": (
            f'Draft: drop the line "{c.text}", seen in {c.documents} of {total} documents ({pct}), '
            f"mostly in the {c.typical if c.typical != 'none' else 'documents without prose'}; review before use."
        ),
        "ignorecase": True,
        "lang": ["any"],
        "where": c.where,
        "patterns": [draft_pattern(c.text)],
        "metadata": {
            "draft": True,
            "documents": c.documents,
            "share": round(c.share, 4),
            "corpus_documents": total,
            "positions": {p: c.positions[p] for p in POSITIONS if c.positions[p]},
            "generated_by": "cleaner suggest",
        },
        "examples": [{"name": e["name"], "in": e["in"], **({"out": e["out"]} if "out" in e else {})} for e in examples],
    }
    head = (
        "# Draft written by `cleaner suggest`: review the pattern, the `where` guard and the\n"
        "# examples before moving it into a rule folder. A pattern must match the whole line.\n"
    )
    return head + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write_drafts(
    found: Suggestions, folder: Path, warn: Callable[[str], None]
) -> list[Path]:
    """Write one draft rule file per candidate (never over an existing file); each is
    loaded back and its examples run before it is kept."""
    from .checks import check_examples
    from .rules import load_rule_file

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for c in found.candidates:
        slug = _slug(c.key)
        base, n = slug, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        path = folder / f"{slug}.yaml"
        if path.exists():
            warn(f"{path}: exists; not overwritten (no draft for {c.text!r})")
            continue
        examples = _examples(c, _draft_rule(c, slug))
        if not any("out" in e for e in examples) or not any("out" not in e for e in examples):
            warn(f"no draft for {c.text!r}: no example from the corpus passes with the draft rule")
            continue
        path.write_text(draft_yaml(c, examples, found.documents), encoding="utf-8")
        try:
            failures = check_examples(load_rule_file(path, slug))
        except CleanerError as exc:
            failures = [exc]
        if failures:  # should not happen: every example was checked above
            path.unlink()
            warn(f"no draft for {c.text!r}: {failures[0]}")
            continue
        c.draft = str(path)
        written.append(path)
    return written


# --- report ----------------------------------------------------------------------------------------


def _clip(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def format_text(found: Suggestions, n_examples: int) -> str:
    out = [f"{'docs':>6}  {'share':>6}  {'where':<8}  line"]
    for c in found.candidates:
        n = sum(c.positions.values()) or 1
        out.append(f"{c.documents:>6}  {c.share:>6.1%}  {c.where:<8}  {c.text}")
        pos = ", ".join(f"{p} {c.positions[p] / n:.0%}" for p in POSITIONS if c.positions[p])
        draft = f"; draft: {c.draft}" if c.draft else ""
        out.append(f"{'':26}{c.occurrences} lines; typical position {c.typical} ({pos}){draft}")
        for o in c.examples[:n_examples]:
            out.append(f"{'':26}{o.doc}, line {o.line}")
            if o.before:
                out.append(f"{'':28}{o.before[-1][0]:>5} | {_clip(o.before[-1][1])}")
            out.append(f"{'':28}{o.line:>5} > {_clip(o.text)}")
            if o.after:
                out.append(f"{'':28}{o.after[0][0]:>5} | {_clip(o.after[0][1])}")
    return "\n".join(out) + "\n"


# --- the command ------------------------------------------------------------------------------------

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 123
MAX_WARNINGS = 50


def command(
    paths: list[str],
    load: Callable[[], RuleSet],
    globs: list[str],
    field: str,
    min_docs: int,
    min_share: float,
    top: int,
    max_words: int,
    n_examples: int,
    max_keys: int,
    as_json: bool,
    write: Path | None,
    console,
    where: list[str] | None = None,
) -> int:
    """``cleaner suggest``: returns the exit code. ``load()`` gives the rule set (it is called
    once the arguments are checked); ``console`` has error/warn/info (stderr)."""
    import json
    import sys

    from .explain import expand, iter_documents

    problems = []
    if "-" in paths:
        problems.append("suggest reads the corpus twice, so it takes files or directories, not stdin ('-')")
    if min_docs < 1:
        problems.append("--min-docs must be 1 or more")
    if not 0 <= min_share <= 1:
        problems.append("--min-share must be between 0 and 1")
    if top < 1 or max_words < 1 or n_examples < 0 or max_keys < 100:
        problems.append("--top and --max-words must be 1 or more, --examples 0 or more, --max-keys 100 or more")
    bad = [w for w in where or [] if w not in WHERE]
    if bad:
        problems.append(f"--where {bad[0]!r}: must be one of {', '.join(WHERE)}")
    if write is not None and write.exists() and not write.is_dir():
        problems.append(f"--write {write}: not a directory")
    files, missing = expand(paths, globs) if not problems else ([], [])
    problems.extend(f"{m}: no such file or directory" for m in missing)
    if problems:
        for p in problems:
            console.error(p)
        return EXIT_USAGE

    ruleset = load()  # after the checks above: a usage error is reported at once
    failures = 0
    reading = True

    def warn(msg: str) -> None:
        nonlocal failures
        failures += 1
        if failures <= MAX_WARNINGS:
            console.warn(msg)

    def read():
        nonlocal reading
        first = reading
        reading = False
        return iter_documents(files, field, warn if first else None)

    found = suggest(
        read, ruleset, min_docs=min_docs, min_share=min_share, top=top, max_words=max_words,
        max_keys=max_keys, sample=max(n_examples, 5), on_error=warn, where=where,
    )
    if failures > MAX_WARNINGS:
        console.warn(f"... and {failures - MAX_WARNINGS} more")
    if found.floor >= found.threshold:
        console.warn(
            f"the count table (--max-keys {max_keys}) was too small for this corpus: lines found in up to "
            f"{found.floor} documents may be missing from the list; raise --max-keys"
        )
    if not found.documents:
        console.warn(f"no documents found (directories are searched for {', '.join(globs)}; see --glob)")
    written: list[Path] = []
    if write is not None and found.candidates:
        try:
            written = write_drafts(found, write, console.warn)
        except OSError as exc:
            console.error(f"--write {write}: cannot write drafts: {exc.strerror or exc}")
            failures += 1
    if as_json:
        doc = {
            "documents": found.documents,
            "min_documents": found.threshold,
            "candidates": [c.as_dict(n_examples) for c in found.candidates],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=1))
    elif found.candidates:
        sys.stdout.write(format_text(found, n_examples))
    pruned = " (the count table was full at times; the counts shown are exact)" if found.pruned else ""
    distinct = f"{found.distinct}" if found.distinct is not None else f"more than {max_keys}"
    console.info(
        f"{found.documents} documents, {distinct} distinct short lines; "
        f"{len(found.candidates)} shown, each in at least {found.threshold} documents{pruned}"
    )
    if written:
        console.info(f"wrote {len(written)} draft rule(s) to {write}; check them with: cleaner test {write}")
    elif write is not None:
        console.info(f"no draft rule written to {write}")
    return EXIT_FAILED if failures else EXIT_OK
