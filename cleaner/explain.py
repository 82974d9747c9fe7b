"""Explaining removals: one document (each removal on its own line), or a corpus
summarised per rule with a few examples each, so a person can audit a rule
before trusting it.

Also home of :func:`iter_documents`, which streams the documents of text
files, directories, JSONL record files (``.jsonl``, ``.gz``, ``.zst``), Parquet
files and HTML pages one at a time (``cleaner suggest`` reads corpora with it too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import corpus
from .config import DEFAULT_MAX_REMOVED  # a document over this share is kept by `cleaner clean`
from .engine import Removal, RuleSet
from .errors import CleanerError
from .text import Line, split_lines

CONTEXT_CHARS = 160  # context lines are cut to this many characters in the report


# --- reading documents -----------------------------------------------------------------------


@dataclass
class Document:
    name: str  # the file, or "file:N" for record N (line N of a JSONL file, row N of a Parquet file)
    text: str


def is_record_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(corpus.RECORD_SUFFIXES) or name.endswith(".parquet")


def expand(paths: Iterable[str], globs: list[str]) -> tuple[list[Path], list[str]]:
    """Files for the given paths (directories walked with ``globs``), and the paths not found."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(corpus.walk(p, globs))
        elif p.exists():
            files.append(p)
        else:
            missing.append(raw)
    return files, missing


def iter_documents(
    files: Iterable[Path],
    field: str = "text",
    on_error: Callable[[str], None] | None = None,
) -> Iterator[Document]:
    """Stream documents, one at a time; an unreadable file or record is reported and skipped."""
    report = on_error or (lambda msg: None)
    path_keys = field.split(".")
    for path in files:
        try:
            if path.name.lower().endswith(".parquet"):
                yield from _parquet(path, path_keys, report)
            elif corpus.detect_format(path) == corpus.JSONL:
                yield from _records(path, path_keys, report)
            elif corpus.detect_format(path) == corpus.HTML:
                yield Document(str(path), corpus.extract_html(path.read_bytes(), corpus.Options()))
            else:
                yield Document(str(path), corpus.decode(path.read_bytes()))
        except OSError as exc:
            report(f"{path}: cannot read: {exc.strerror or exc}")
        except (EOFError, ValueError) as exc:  # truncated or corrupt compressed input
            report(f"{path}: cannot read: {exc}")


def _field(obj, keys: list[str]):
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


def _records(path: Path, keys: list[str], report) -> Iterator[Document]:
    field = ".".join(keys)
    with corpus._open_read(path) as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = corpus._loads(raw)
            except (ValueError, UnicodeDecodeError):
                report(f"{path}:{n}: not valid JSON; skipped")
                continue
            value = _field(obj, keys)
            if not isinstance(value, str):
                what = "no field" if value is None else f"a {type(value).__name__} in field"
                report(f"{path}:{n}: record has {what} {field!r}; skipped")
                continue
            yield Document(f"{path}:{n}", value)


def _parquet(path: Path, keys: list[str], report) -> Iterator[Document]:
    try:
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        report(f"{path}: reading Parquet needs pyarrow (pip install pyarrow); skipped")
        return
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own error types
        report(f"{path}: cannot read Parquet: {exc}")
        return
    if keys[0] not in pf.schema_arrow.names:
        report(f"{path}: no column {keys[0]!r}; skipped")
        return
    n = 0
    for batch in pf.iter_batches(columns=[keys[0]], batch_size=1024):
        for value in batch.column(0).to_pylist():
            n += 1
            value = _field({keys[0]: value}, keys)
            if isinstance(value, str):
                yield Document(f"{path}:{n}", value)
            else:
                report(f"{path}:{n}: row has no string in field {'.'.join(keys)!r}; skipped")


# --- explaining a corpus ----------------------------------------------------------------------


@dataclass
class Example:
    doc: str
    line: int  # 1-based line of the first removal shown
    removed: list[tuple[int, str, tuple[int, int] | None]]  # (line, text of the whole line, span or None)
    before: tuple[int, str] | None  # the non-blank line above, (line, text)
    after: tuple[int, str] | None  # the non-blank line below
    more: int = 0  # other removals by this rule in the same document

    def as_dict(self) -> dict:
        return {
            "doc": self.doc,
            "line": self.line,
            "removed": [
                {"line": n, "text": t} | ({"span": list(s), "cut": t[s[0]:s[1]]} if s else {})
                for n, t, s in self.removed
            ],
            "before": None if self.before is None else {"line": self.before[0], "text": self.before[1]},
            "after": None if self.after is None else {"line": self.after[0], "text": self.after[1]},
            "more_in_document": self.more,
        }


@dataclass
class RuleSummary:
    rule: str
    message: str
    documents: int = 0
    lines: int = 0
    spans: int = 0
    chars: int = 0
    seen: int = 0  # documents offered to the reservoir
    examples: list[tuple[int, Example]] = field(default_factory=list)  # (document ordinal, example)

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "message": self.message,
            "documents": self.documents,
            "lines": self.lines,
            "spans": self.spans,
            "chars": self.chars,
            "examples": [e.as_dict() for _, e in sorted(self.examples, key=lambda x: x[0])],
        }


@dataclass
class CorpusExplanation:
    documents: int = 0
    changed: int = 0
    over_valve: int = 0  # documents `cleaner clean` would keep unchanged (safety valve)
    chars_in: int = 0
    chars_removed: int = 0
    failed: int = 0  # documents a rule failed on (timeout)
    rules: dict[str, RuleSummary] = field(default_factory=dict)

    def as_dict(self) -> dict:
        ordered = sorted(self.rules.values(), key=lambda r: (-r.documents, -r.chars, r.rule))
        return {
            "documents": self.documents,
            "documents_changed": self.changed,
            "documents_over_safety_valve": self.over_valve,
            "documents_failed": self.failed,
            "chars_in": self.chars_in,
            "chars_removed": self.chars_removed,
            "rules": {r.rule: r.as_dict() for r in ordered},
        }


def _clip(text: str, n: int = CONTEXT_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _neighbour(lines: list[Line], start: int, step: int) -> tuple[int, str] | None:
    i = start
    while 0 <= i < len(lines):
        if not lines[i].blank:
            return lines[i].index + 1, lines[i].text
        i += step
    return None


def _example(doc: str, lines: list[Line], mine: list[Removal]) -> Example:
    """The first run of this rule's removals in a document (consecutive lines, blank lines
    between allowed), with the non-blank line above and below it."""
    run = [mine[0]]
    for r in mine[1:]:
        prev = run[-1].line
        if r.line == prev or all(lines[i].blank for i in range(prev, r.line - 1)):
            run.append(r)
        else:
            break
    shown = run[:8]
    removed = [(r.line, lines[r.line - 1].text, r.span) for r in shown]
    return Example(
        doc=doc,
        line=run[0].line,
        removed=removed,
        before=_neighbour(lines, run[0].line - 2, -1),
        after=_neighbour(lines, shown[-1].line, 1),
        more=len(mine) - len(shown),
    )


def explain_corpus(
    docs: Iterable[Document],
    ruleset: RuleSet,
    examples: int = 3,
    only: str | None = None,
    on_error: Callable[[str], None] | None = None,
    seed: int = 0,
) -> CorpusExplanation:
    """Run the rules over every document and summarise per rule.

    Examples are a reservoir sample over the documents a rule touched (one
    example per document, the same sample for the same corpus), so they come
    from across the corpus rather than from its first files.
    """
    rng = random.Random(seed)
    out = CorpusExplanation()
    messages = {r.id: r.message for r in ruleset}
    if only is not None:
        out.rules[only] = RuleSummary(only, messages.get(only, ""))
    for ordinal, doc in enumerate(docs):
        out.documents += 1
        out.chars_in += len(doc.text)
        try:
            result = ruleset.apply(doc.text)
        except CleanerError as exc:
            out.failed += 1
            if on_error:
                on_error(f"{doc.name}: {exc}")
            continue
        if not result.removals:
            continue
        out.changed += 1
        removed = result.removed_chars
        out.chars_removed += removed
        if removed / max(1, len(doc.text)) > DEFAULT_MAX_REMOVED:
            out.over_valve += 1
        by_rule: dict[str, list[Removal]] = {}
        for r in result.removals:
            by_rule.setdefault(r.rule, []).append(r)
        lines: list[Line] | None = None
        for rid, mine in by_rule.items():
            if only is not None and rid != only:
                continue
            s = out.rules.get(rid)
            if s is None:
                s = out.rules[rid] = RuleSummary(rid, messages.get(rid, ""))
            s.documents += 1
            s.lines += sum(r.span is None for r in mine)
            s.spans += sum(r.span is not None for r in mine)
            s.chars += sum(len(r.text) for r in mine)
            if examples <= 0:
                continue
            s.seen += 1
            slot = len(s.examples) if len(s.examples) < examples else rng.randrange(s.seen)
            if slot < examples:
                if lines is None:
                    lines = split_lines(doc.text)
                ex = (ordinal, _example(doc.name, lines, mine))
                if slot < len(s.examples):
                    s.examples[slot] = ex
                else:
                    s.examples.append(ex)
    return out


# --- text reports -------------------------------------------------------------------------------


def _mark(text: str, span: tuple[int, int] | None, colour: Callable[[str, str], str]) -> str:
    if span is None:
        return colour(_clip(text, 240), "31")
    s, e = span
    return _clip(text[:s], 80) + colour("[-" + text[s:e] + "-]", "31") + _clip(text[e:], 80)


def format_corpus(exp: CorpusExplanation, colour: Callable[[str, str], str], only: str | None = None) -> str:
    d = exp.as_dict()
    out: list[str] = []
    rows = list(d["rules"].values())
    if only is None:
        header = ("rule", "documents", "lines", "spans", "chars")
        table = [header] + [(r["rule"], str(r["documents"]), str(r["lines"]), str(r["spans"]), str(r["chars"])) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(5)]
        for row in table:
            out.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)).rstrip())
        out.append("")
    for r in rows:
        out.append(colour(
            f"{r['rule']}: {r['documents']} documents, {r['lines']} lines, {r['spans']} spans, "
            f"{r['chars']} characters", "1;36",
        ))
        if r["message"]:
            out.append(f"  {r['message']}")
        for ex in r["examples"]:
            more = f"  (+{ex['more_in_document']} more in this document)" if ex["more_in_document"] else ""
            out.append(colour(f"  {ex['doc']}, line {ex['line']}", "2") + more)
            if ex["before"]:
                out.append(f"    {ex['before']['line']:>5} | {_clip(ex['before']['text'])}")
            for rm in ex["removed"]:
                span = tuple(rm["span"]) if "span" in rm else None
                sign = "~" if span else "-"  # ~ the line stays, with the marked span cut out
                out.append(f"    {rm['line']:>5} {sign} {_mark(rm['text'], span, colour)}")
            if ex["after"]:
                out.append(f"    {ex['after']['line']:>5} | {_clip(ex['after']['text'])}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n" if out else ""


def format_single(removals: list[Removal], colour: Callable[[str, str], str]) -> str:
    width = max((len(r.rule) for r in removals), default=0)
    return "".join(
        f"{colour(f'{r.line:>5}', '2')}  {colour(r.rule.ljust(width), '36')}  "
        f"{'span' if r.span else 'line'}  {colour(r.text, '31')}\n"
        for r in removals
    )


# --- the command ----------------------------------------------------------------------------------

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 123
MAX_WARNINGS = 50


def _colour(enabled: bool) -> Callable[[str, str], str]:
    if enabled:
        return lambda s, code: f"\x1b[{code}m{s}\x1b[0m"
    return lambda s, code: s


def command(
    paths: list[str],
    load: Callable[[], RuleSet],
    globs: list[str],
    field: str,
    rule: str | None,
    examples: int | None,
    as_json: bool,
    colour: bool,
    console,
) -> int:
    """``cleaner explain``: returns the exit code. ``load()`` gives the rule set (called once
    the arguments are checked); ``console`` has error/warn/info (stderr)."""
    import json
    import sys

    if examples is not None and examples < 0:
        console.error("--examples must be 0 or more")
        return EXIT_USAGE
    if "-" in paths and len(paths) > 1:
        console.error("'-' (stdin) cannot be mixed with paths")
        return EXIT_USAGE
    ruleset = load()
    if rule is not None and rule not in ruleset.ids:
        console.error(f"no rule {rule!r} among the selected rules (see 'cleaner rules')")
        return EXIT_USAGE
    single = len(paths) == 1 and (paths[0] == "-" or (not Path(paths[0]).is_dir() and not is_record_file(Path(paths[0]))))
    paint = _colour(colour and not as_json)
    if single:
        path = paths[0]
        if path != "-" and not Path(path).exists():
            console.error(f"{path}: no such file or directory")
            return EXIT_USAGE
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            console.error(f"{path}: cannot read: {exc.strerror or exc}")
            return EXIT_FAILED
        text = corpus.decode(data)
        if path != "-" and corpus.detect_format(Path(path)) == corpus.HTML:
            text = corpus.extract_html(data, corpus.Options())
        try:
            result = ruleset.apply(text)
        except CleanerError as exc:
            console.error(f"{path}: {exc}")
            return EXIT_FAILED
        removals = [r for r in result.removals if rule is None or r.rule == rule]
        if as_json:
            print(json.dumps({"path": path, "removals": [r.as_dict() for r in removals]}, ensure_ascii=False, indent=1))
        else:
            sys.stdout.write(format_single(removals, paint))
        n = len(removals)
        console.info(f"{n} removal{'s' if n != 1 else ''} by {len({r.rule for r in removals})} rule(s).")
        return EXIT_OK

    files, missing = expand(paths, globs)
    if missing:
        for m in missing:
            console.error(f"{m}: no such file or directory")
        return EXIT_USAGE
    problems = 0

    def warn(msg: str) -> None:
        nonlocal problems
        problems += 1
        if problems <= MAX_WARNINGS:
            console.warn(msg)

    n_examples = examples if examples is not None else (10 if rule else 3)
    exp = explain_corpus(iter_documents(files, field, warn), ruleset, n_examples, rule, warn)
    if problems > MAX_WARNINGS:
        console.warn(f"... and {problems - MAX_WARNINGS} more")
    if as_json:
        d = exp.as_dict()
        d["read_errors"] = problems - exp.failed
        print(json.dumps(d, ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(format_corpus(exp, paint, rule))
    if rule:
        r = exp.rules[rule]
        console.info(
            f"rule {rule} touched {r.documents} of {exp.documents} documents: "
            f"{r.lines} lines, {r.spans} spans, {r.chars} characters"
        )
    else:
        share = exp.chars_removed / exp.chars_in if exp.chars_in else 0.0
        console.info(
            f"{exp.documents} documents, {exp.changed} changed: {exp.chars_removed} of {exp.chars_in} "
            f"characters removed ({share:.2%}); {exp.over_valve} would be kept by the safety valve "
            f"(over {DEFAULT_MAX_REMOVED:.0%}) in 'cleaner clean'"
        )
    if not exp.documents:
        console.warn(f"no documents found (directories are searched for {', '.join(globs)}; see --glob)")
    return EXIT_FAILED if problems else EXIT_OK
