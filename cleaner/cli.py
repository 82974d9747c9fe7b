"""The command line: behaves like black and ruff.

Exit codes: 0 nothing to do or all done; 1 ``--check``/``--diff`` found
changes (or ``cleaner test`` found failing examples); 2 usage error or
invalid rule file, before any file is touched; 123 some input failed (the
others were still processed). Messages go to stderr; stdout carries only
cleaned text, a diff, or what was asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__, corpus
from .config import Settings, load_settings
from .engine import RuleSet, load_rules
from .rules import matches_selector
from .errors import CleanerError, RuleError

EXIT_OK, EXIT_CHANGED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 123

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Strip boilerplate (credits, captions, tag lists, recommendation blocks, "
    "bylines, calls to action) from scraped article text.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class Console:
    """stderr messages, coloured only on a TTY."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.colour = sys.stderr.isatty() and "NO_COLOR" not in os.environ

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def error(self, msg: str) -> None:
        print(self._style("error", "1;31") + f": {msg}", file=sys.stderr)

    def warn(self, msg: str) -> None:
        if not self.quiet:
            print(self._style("warning", "1;33") + f": {msg}", file=sys.stderr)

    def info(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr)


def _split(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _load(rules_dirs, select, ignore, no_bundled, console: Console, lang=None) -> RuleSet:
    try:  # load once; selectors are checked against everything that was loaded
        everything = load_rules(*rules_dirs, bundled=not no_bundled)
    except CleanerError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)
    for sel in _split(select) + _split(ignore):
        if not any(matches_selector(rid, [sel]) for rid in everything.ids):
            console.error(f"no rule or group named {sel!r} (see 'cleaner rules')")
            raise typer.Exit(EXIT_USAGE)
    return everything.subset(_split(select), _split(ignore), _split(lang))


def _summary(removals) -> str:
    counts = Counter(r.rule for r in removals)
    return ", ".join(f"{rid} x{n}" if n > 1 else rid for rid, n in sorted(counts.items()))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _print_stats(stats: corpus.Stats) -> None:
    d = stats.as_dict()
    rows = [(rid, str(v["documents"]), str(v["lines"]), str(v["chars"])) for rid, v in d["rules"].items()]
    header = ("rule", "documents", "lines", "chars")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    fmt = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
    print(fmt(header), file=sys.stderr)
    for r in rows:
        print(fmt(r), file=sys.stderr)
    share = d["chars_removed"] / d["chars_in"] if d["chars_in"] else 0.0
    print(
        f"{d['documents']} documents, {d['documents_changed']} changed, {d['documents_vetoed']} kept by the "
        f"safety valve, {d['record_errors']} record errors; {d['chars_removed']} of {d['chars_in']} "
        f"characters removed ({share:.2%})",
        file=sys.stderr,
    )


MAX_NOTES = 50


@app.command()
def clean(
    paths: List[str] = typer.Argument(None, help="Files or directories to clean in place; '-' for stdin to stdout."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file would change."),
    diff: bool = typer.Option(False, "--diff", help="Write nothing; print a unified diff; exit 1 if any file would change."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rule ids or groups (repeatable, comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Leave out these rule ids or groups."),
    lang: Optional[List[str]] = typer.Option(None, "--lang", help="Only rules for these languages, e.g. en,de (rules marked 'any' always run)."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="Add the rules in this folder (repeatable)."),
    no_bundled: bool = typer.Option(False, "--no-bundled", help="Do not load the bundled rules (use with --rules)."),
    glob: Optional[List[str]] = typer.Option(None, "--glob", help="File pattern for directories (repeatable; default *.txt)."),
    output_dir: Optional[str] = typer.Option(None, "--output-dir", help="Write cleaned copies here (same relative names); inputs stay untouched. With --engine dask, a path or an fsspec URL."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format: text, html or jsonl (default: from the file name; text on stdin)."),
    field: Optional[str] = typer.Option(None, "--field", help="JSONL: the field to clean (dotted path for nested; default text)."),
    removals_field: Optional[str] = typer.Option(None, "--removals-field", help="Records: store each record's removals in this field (Parquet: a list<struct<rule, line, text, span>> column)."),
    favor_precision: bool = typer.Option(False, "--favor-precision", help="HTML: trafilatura favours precision."),
    favor_recall: bool = typer.Option(False, "--favor-recall", help="HTML: trafilatura favours recall."),
    tables: bool = typer.Option(True, "--tables/--no-tables", help="HTML: keep tables in the extracted text."),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", help="Worker processes (default: number of cores)."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or dask (a Dask cluster; record files only, local paths or fsspec URLs)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="--engine dask: an existing scheduler, e.g. tcp://10.0.0.5:8786 (default: start a local cluster of --jobs processes)."),
    max_removed: Optional[float] = typer.Option(None, "--max-removed", help="Safety valve: leave a document unchanged if the rules would remove more than this share of it (default 0.5; 1 turns it off)."),
    stats: bool = typer.Option(False, "--stats", help="Print a per-rule table at the end (stderr)."),
    stats_json: Optional[Path] = typer.Option(None, "--stats-json", help="Write the per-rule stats as JSON to this file."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore [tool.cleaner] in pyproject.toml."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Per file, which rules removed what."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only errors on stderr."),
) -> None:
    """Clean files in place (atomically), or stdin to stdout."""
    console = Console(quiet)
    settings = _settings(console, isolated, select, ignore, rules, field, max_removed, glob, jobs, lang)
    if no_bundled and not settings["extend-rules"]:
        console.error("--no-bundled needs at least one --rules DIR")
        raise typer.Exit(EXIT_USAGE)
    if check and diff:
        console.error("--check and --diff do not go together")
        raise typer.Exit(EXIT_USAGE)
    if fmt is not None and fmt not in corpus.FORMATS:
        console.error(f"--format must be one of: {', '.join(corpus.FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    if not 0 < settings["max-removed"] <= 1:
        console.error("--max-removed must be in (0, 1]")
        raise typer.Exit(EXIT_USAGE)
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            console.error("no path given (use '-' to read stdin)")
            raise typer.Exit(EXIT_USAGE)
        paths = ["-"]
    if output_dir is not None and (check or diff):
        console.error("--output-dir writes files; it does not go with --check or --diff")
        raise typer.Exit(EXIT_USAGE)
    if engine not in ("local", "dask"):
        console.error("--engine must be local or dask")
        raise typer.Exit(EXIT_USAGE)
    if scheduler and engine != "dask":
        console.error("--scheduler needs --engine dask")
        raise typer.Exit(EXIT_USAGE)
    if engine == "dask" and "-" in paths:
        console.error("--engine dask cleans files or URLs, not stdin")
        raise typer.Exit(EXIT_USAGE)
    if engine == "local" and any("://" in p for p in [*paths, output_dir or ""]):
        console.error("URLs (s3://..., gs://...) need --engine dask; the local engine takes paths")
        raise typer.Exit(EXIT_USAGE)
    opts = corpus.Options(
        mode="check" if check else "diff" if diff else "write",
        output_dir=Path(output_dir) if output_dir is not None else None,
        field=settings["field"],
        removals_field=removals_field,
        fmt=fmt,
        favor_precision=favor_precision,
        favor_recall=favor_recall,
        include_tables=tables,
        max_removed=settings["max-removed"],
    )
    dask_plan = _dask_plan(paths, settings, opts, output_dir, console) if engine == "dask" else None
    ruleset = _load(settings["extend-rules"], settings["select"], settings["ignore"], no_bundled, console, settings["lang"])
    n_jobs = settings["jobs"] or os.cpu_count() or 1
    total = corpus.Stats()
    failed = changed = unchanged = 0
    notes_shown = 0

    def note(where: str, msg: str) -> None:
        nonlocal notes_shown
        notes_shown += 1
        if notes_shown <= MAX_NOTES:
            console.warn(f"{where}: {msg}")

    if "-" in paths:
        if len(paths) > 1:
            console.error("'-' (stdin) cannot be mixed with paths")
            raise typer.Exit(EXIT_USAGE)
        ok, is_changed = _clean_stdin(ruleset, opts, total, console, note, verbose)
        failed += not ok
        changed += is_changed
    else:
        if engine == "dask":
            tasks, errors, outcomes = _dask_run(dask_plan, settings, opts, ruleset, scheduler, console, verbose)
        else:
            tasks, errors = corpus.plan(paths, settings["glob"], opts, n_jobs)
            _need_pyarrow([t.fmt for t in tasks], console)
            outcomes = corpus.run_tasks(tasks, ruleset, opts, n_jobs)
        for e in errors:
            console.error(e)
        failed += len(errors)
        with _progress(tasks, console) as advance:
            pending: list[corpus.Outcome] = []  # shards of one file, joined when all are in
            for outcome in outcomes:
                advance()
                task = outcome.task
                if task.nshards > 1:
                    pending.append(outcome)
                    if len(pending) < task.nshards:
                        continue
                    shards, pending = pending, []
                    offset = 0
                    merged = corpus.Outcome(task)
                    for o in shards:
                        merged.notes.extend((ln + offset if ln else ln, m) for ln, m in o.notes)
                        merged.stats.merge(o.stats)
                        merged.changed |= o.changed
                        offset += o.lines
                    merged.error = corpus.join_shards(shards) if opts.mode == "write" else None
                    outcome = merged
                total.merge(outcome.stats)
                for line, msg in outcome.notes:
                    note(f"{task.display}:{line}" if line else task.display, msg)
                if outcome.error:
                    console.error(f"{task.display}: {outcome.error}")
                    failed += 1
                    continue
                if outcome.diff:
                    sys.stdout.buffer.write(outcome.diff)
                    sys.stdout.flush()
                if outcome.changed:
                    changed += 1
                    if check:
                        console.info(f"would clean {task.display}")
                    elif verbose:
                        console.info(f"cleaned {task.display}")
                else:
                    unchanged += 1
                if verbose and outcome.stats.rules:
                    hits = ", ".join(f"{rid} x{row[1] or row[0]}" for rid, row in sorted(outcome.stats.rules.items()))
                    console.info(f"{task.display}: {hits}")
        verb = "would be cleaned" if (check or diff) else "cleaned"
        parts = []
        if changed:
            parts.append(f"{_plural(changed, 'file')} {verb}")
        if unchanged:
            parts.append(f"{_plural(unchanged, 'file')} left unchanged")
        if failed:
            parts.append(f"{_plural(failed, 'file')} failed")
        console.info(", ".join(parts) + "." if parts else "No files to clean.")
    if notes_shown > MAX_NOTES:
        console.warn(f"... and {notes_shown - MAX_NOTES} more notes (see --stats)")
    if stats:
        _print_stats(total)
    if stats_json is not None:
        stats_json.write_text(json.dumps(total.as_dict(), indent=2) + "\n", encoding="utf-8")
    if failed or total.record_errors:
        raise typer.Exit(EXIT_FAILED)
    if (check or diff) and changed:
        raise typer.Exit(EXIT_CHANGED)


def _need_pyarrow(formats, console: Console) -> None:
    if corpus.PARQUET in formats:
        try:
            import pyarrow.parquet  # noqa: F401
        except ModuleNotFoundError:
            console.error("Parquet files need pyarrow; install it with: pip install 'cleaner[parquet]'")
            raise typer.Exit(EXIT_USAGE)


def _dask_plan(paths, settings, opts, output_dir, console: Console):
    """--engine dask: the files to clean and the errors for missing ones; exit 2 for what
    this engine cannot do, before the rules are loaded or any file is touched."""
    from . import dask_engine

    globs = None if settings.sources["glob"] == "default" else settings["glob"]  # record files by default
    try:
        dask_engine.require()
        sources, errors = dask_engine.plan(paths, globs, opts, output_dir)
    except dask_engine.UsageError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)
    _need_pyarrow([s.fmt for s in sources], console)
    return sources, errors


def _dask_run(plan, settings, opts, ruleset, scheduler, console: Console, verbose: bool):
    """Connect to (or start) the cluster: (tasks for progress, errors, outcomes)."""
    from . import dask_engine

    sources, errors = plan
    try:
        session = dask_engine.Session(scheduler, settings["jobs"] or None, quiet_logs=not verbose) if sources else None
    except dask_engine.UsageError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)

    def outcomes():
        if session is None:
            return
        with session:
            yield from session.run(sources, ruleset, opts)

    tasks = [corpus.Task(Path(s.display), s.display, s.fmt) for s in sources]
    return tasks, errors, outcomes()


def _clean_stdin(ruleset, opts, total, console, note, verbose) -> tuple[bool, bool]:
    """stdin to stdout; returns (ok, changed)."""
    out = sys.stdout.buffer
    if opts.fmt == corpus.JSONL:
        notes: list = []
        diffs: list | None = [] if opts.mode == "diff" else None
        write = out.write if opts.mode == "write" else None
        is_changed, _ = corpus.clean_records(sys.stdin.buffer, write, ruleset, opts, total, notes, diffs, "stdin")
        for line, msg in notes:
            note(f"stdin:{line}", msg)
        if diffs:
            out.write(b"".join(diffs))
        out.flush()
        return True, is_changed
    data = sys.stdin.buffer.read()
    text = corpus.extract_html(data, opts) if opts.fmt == corpus.HTML else corpus.decode(data)
    try:
        result = ruleset.apply(text, opts.max_removed)
    except CleanerError as exc:
        console.error(f"stdin: {exc}")
        if opts.mode == "write":
            out.write(corpus.encode(text))  # pass the text through unchanged
        return False, False
    total.add(text, result)
    if result.vetoed is not None:
        note("stdin", corpus._veto_note(result.vetoed, opts.max_removed))
    if verbose and result.removals:
        console.info(f"stdin: {len(result.removals)} removed ({_summary(result.removals)})")
    is_changed = result.text != text
    if opts.mode == "write":
        out.write(corpus.encode(result.text))
    elif opts.mode == "diff" and is_changed:
        out.write(corpus.unified_diff("-", text, result.text, "stdin", "stdout"))
    elif opts.mode == "check" and is_changed:
        console.info("would clean stdin")
    out.flush()
    return True, is_changed


@contextlib.contextmanager
def _progress(tasks, console: Console):
    """A rich progress bar on stderr for large jobs on a TTY; silent otherwise."""
    big = len(tasks) >= 50 or sum(t.size for t in tasks) >= 50 * 1024 * 1024
    if console.quiet or not big or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console as RichConsole
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(),
        console=RichConsole(stderr=True), transient=True,
    ) as progress:
        tid = progress.add_task("cleaning", total=len(tasks))
        yield lambda: progress.advance(tid)


def _settings(console, isolated, select, ignore, rules, field, max_removed, glob, jobs, lang=None) -> Settings:
    try:
        settings = load_settings(isolated=isolated)
    except CleanerError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)
    settings.override("select", _split(select) or None)
    settings.override("ignore", _split(ignore) or None)
    if rules:  # --rules adds to the folders named in the configuration
        settings.override("extend-rules", [*settings["extend-rules"], *map(str, rules)])
    settings.override("field", field)
    settings.override("max-removed", max_removed)
    settings.override("glob", list(glob) if glob else None)
    settings.override("jobs", jobs)
    settings.override("lang", _split(lang) or None)
    return settings


@app.command()
def explain(
    paths: List[str] = typer.Argument(..., help="A text file or '-': each removal. Record files (JSONL, Parquet) or directories: a summary per rule with examples."),
    select: Optional[List[str]] = typer.Option(None, "--select"),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore"),
    lang: Optional[List[str]] = typer.Option(None, "--lang"),
    rules: Optional[List[Path]] = typer.Option(None, "--rules"),
    no_bundled: bool = typer.Option(False, "--no-bundled"),
    glob: Optional[List[str]] = typer.Option(None, "--glob", help="File pattern for directories (repeatable; default *.txt)."),
    field: Optional[str] = typer.Option(None, "--field", help="Records: the text field (dotted path for nested; default text)."),
    rule: Optional[str] = typer.Option(None, "--rule", help="Only this rule (for a corpus: with more examples)."),
    examples: Optional[int] = typer.Option(None, "--examples", help="Corpus: examples per rule (default 3; 10 with --rule)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for machines)."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore [tool.cleaner] in pyproject.toml."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Colour (default: on a TTY)."),
) -> None:
    """Show what the rules remove and why: each removal in one text, or per rule over a corpus."""
    from . import explain as explain_

    console = Console()
    settings = _settings(console, isolated, select, ignore, rules, field, None, glob, None, lang)
    load = lambda: _load(settings["extend-rules"], settings["select"], settings["ignore"], no_bundled, console, settings["lang"])  # noqa: E731
    use_colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ if color is None else color
    code = explain_.command(
        paths, load, settings["glob"], settings["field"], rule, examples, as_json, use_colour, console
    )
    raise typer.Exit(code)


@app.command()
def suggest(
    paths: List[str] = typer.Argument(..., help="Text files, record files (JSONL, Parquet) or directories."),
    select: Optional[List[str]] = typer.Option(None, "--select"),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore"),
    lang: Optional[List[str]] = typer.Option(None, "--lang"),
    rules: Optional[List[Path]] = typer.Option(None, "--rules"),
    no_bundled: bool = typer.Option(False, "--no-bundled"),
    glob: Optional[List[str]] = typer.Option(None, "--glob", help="File pattern for directories (repeatable; default *.txt)."),
    field: Optional[str] = typer.Option(None, "--field", help="Records: the text field (dotted path for nested; default text)."),
    min_docs: int = typer.Option(5, "--min-docs", help="Only lines found in at least this many documents."),
    min_share: float = typer.Option(0.0, "--min-share", help="Only lines found in at least this share of the documents (0-1)."),
    top: int = typer.Option(20, "--top", help="Show the N most widespread lines."),
    max_words: int = typer.Option(12, "--max-words", help="Longest line considered, in words."),
    examples: int = typer.Option(2, "--examples", help="Examples (with the lines around them) per line."),
    max_keys: int = typer.Option(100_000, "--max-keys", help="Bound on distinct lines counted at once (memory)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (for machines)."),
    write: Optional[Path] = typer.Option(None, "--write", help="Draft a drop-line rule file per line into this folder, for review."),
    where: Optional[List[str]] = typer.Option(None, "--where", help="Only lines whose drafted guard is one of: head, tail, edges, anywhere."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore [tool.cleaner] in pyproject.toml."),
) -> None:
    """Find short lines that recur across a corpus and no rule removes yet; draft rules for them."""
    from . import suggest as suggest_

    console = Console()
    settings = _settings(console, isolated, select, ignore, rules, field, None, glob, None, lang)
    load = lambda: _load(settings["extend-rules"], settings["select"], settings["ignore"], no_bundled, console, settings["lang"])  # noqa: E731
    code = suggest_.command(
        paths, load, settings["glob"], settings["field"], min_docs, min_share, top, max_words,
        examples, max_keys, as_json, write, console, _split(where),
    )
    raise typer.Exit(code)


@app.command("rules")
def rules_cmd(
    rule_id: Optional[str] = typer.Argument(None, help="Show this rule in full."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules"),
    no_bundled: bool = typer.Option(False, "--no-bundled"),
) -> None:
    """List the rules, or show one with its message and examples."""
    console = Console()
    ruleset = _load(list(rules or []), None, None, no_bundled, console)
    if rule_id is None:
        width = max((len(r.id) for r in ruleset), default=0)
        for r in sorted(ruleset, key=lambda r: r.id):
            print(f"{r.id.ljust(width)}  {r.kind:<13}  {r.message}")
        return
    try:
        r = ruleset[rule_id]
    except KeyError:
        console.error(f"no rule {rule_id!r} (see 'cleaner rules')")
        raise typer.Exit(EXIT_USAGE)
    print(f"# {r.id}\n\nkind: {r.kind}\nfile: {r.path}\nlang: {', '.join(r.lang)}\n\n{r.message}\n")
    for key in r.keys:
        value = getattr(r, key)
        if isinstance(value, list):
            print(f"{key}:")
            for p in value:
                print(f"  - {getattr(p, 'source', p)}")
        elif value is not None:
            print(f"{key}: {value}")
    print("\nexamples:")
    for ex in r.examples:
        label = ex.get("name") or ("changes" if "out" in ex else "stays unchanged")
        print(f"\n  -- {label}\n  in:")
        print("".join(f"    | {ln}\n" for ln in ex["in"].splitlines()), end="")
        if "out" in ex:
            print("  out:")
            print("".join(f"    | {ln}\n" for ln in ex["out"].splitlines()), end="")


@app.command("test")
def test_cmd(
    folder: Optional[Path] = typer.Argument(None, help="A rule folder (default: the bundled rules)."),
) -> None:
    """Validate rule files and run their examples (for people writing rules)."""
    from .checks import check_examples
    from .rules import bundled_rules_dir, load_folder

    console = Console()
    folder = folder or bundled_rules_dir()
    try:
        rules_ = load_folder(folder)
    except RuleError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)
    from .lint import lint

    warnings = lint(rules_)
    for w in warnings:
        console.warn(str(w))
    failures = []
    for r in rules_:
        failures.extend(check_examples(r))
    for f in failures:
        print(str(f))
    n_ex = sum(len(r.examples) for r in rules_)
    bad = len(failures)
    print(f"{len(rules_)} rules, {n_ex} examples: {n_ex - bad} passed, {bad} failed, {len(warnings)} warnings")
    if failures:
        raise typer.Exit(EXIT_CHANGED)


@app.command("config")
def config_cmd(
    isolated: bool = typer.Option(False, "--isolated", help="Ignore [tool.cleaner] in pyproject.toml."),
) -> None:
    """Print the effective settings and where each one comes from."""
    console = Console()
    settings = _settings(console, isolated, None, None, None, None, None, None, None)
    print(f"# settings file: {settings.file or 'none found'}")
    for key in sorted(settings.values):
        value = settings.values[key]
        if key == "jobs" and not value:
            value = f"0 (number of cores: {os.cpu_count()})"
        print(f"{key} = {json.dumps(value) if not isinstance(value, str) or key != 'jobs' else value}  # {settings.sources[key]}")


def version_callback(value: bool) -> None:
    if value:
        print(f"cleaner {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True, help="Show the version."),
) -> None:
    pass


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as exc:  # no traceback ever reaches the user
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
