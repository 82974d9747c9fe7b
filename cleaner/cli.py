"""The command line: behaves like black and ruff.

Exit codes: 0 nothing to do or all done; 1 ``--check``/``--diff`` found
changes (or ``cleaner test`` found failing examples); 2 usage error or
invalid rule file, before any file is touched; 123 some input failed (the
others were still processed). Messages go to stderr; stdout carries only
cleaned text, a diff, or what was asked for.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .engine import Result, RuleSet, load_rules
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

    def info(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr)


def _split(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _load(rules_dirs, select, ignore, no_bundled, console: Console) -> RuleSet:
    try:
        rs = load_rules(*rules_dirs, select=_split(select), ignore=_split(ignore), bundled=not no_bundled)
    except CleanerError as exc:
        console.error(str(exc))
        raise typer.Exit(EXIT_USAGE)
    known = None
    for sel in _split(select) + _split(ignore):
        if known is None:
            known = load_rules(*rules_dirs, bundled=not no_bundled).ids
        if not any(r == sel or r.startswith(sel.rstrip(".") + ".") for r in known):
            console.error(f"no rule or group named {sel!r} (see 'cleaner rules')")
            raise typer.Exit(EXIT_USAGE)
    return rs


def decode(data: bytes) -> str:
    # surrogateescape: bytes that are not UTF-8 survive the round trip unchanged
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, never half."""
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".cleaner-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def iter_inputs(paths: list[str], console: Console):
    """Yield (display name, Path or None for stdin); directories walked for *.txt."""
    for raw in paths:
        if raw == "-":
            yield "-", None
            continue
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*.txt")):
                if f.is_file():
                    yield str(f), f
        else:
            yield raw, p


def _summary(removals) -> str:
    counts = Counter(r.rule for r in removals)
    return ", ".join(f"{rid} x{n}" if n > 1 else rid for rid, n in sorted(counts.items()))


def _diff(name: str, old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{name}" if name != "-" else "stdin",
            tofile=f"b/{name}" if name != "-" else "stdout",
        )
    )


@app.command()
def clean(
    paths: List[str] = typer.Argument(None, help="Files or directories to clean in place; '-' for stdin to stdout."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file would change."),
    diff: bool = typer.Option(False, "--diff", help="Write nothing; print a unified diff; exit 1 if any file would change."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rule ids or groups (repeatable, comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Leave out these rule ids or groups."),
    rules: Optional[List[Path]] = typer.Option(None, "--rules", help="Add the rules in this folder (repeatable)."),
    no_bundled: bool = typer.Option(False, "--no-bundled", help="Do not load the bundled rules (use with --rules)."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Per file, which rules removed what."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only errors on stderr."),
) -> None:
    """Clean files in place (atomically), or stdin to stdout."""
    console = Console(quiet)
    rules_dirs = list(rules or [])
    if no_bundled and not rules_dirs:
        console.error("--no-bundled needs at least one --rules DIR")
        raise typer.Exit(EXIT_USAGE)
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            console.error("no path given (use '-' to read stdin)")
            raise typer.Exit(EXIT_USAGE)
        paths = ["-"]
    ruleset = _load(rules_dirs, select, ignore, no_bundled, console)

    changed = unchanged = failed = 0
    for name, path in iter_inputs(paths, console):
        try:
            data = sys.stdin.buffer.read() if path is None else path.read_bytes()
        except OSError as exc:
            console.error(f"{name}: cannot read: {exc.strerror or exc}")
            failed += 1
            continue
        text = decode(data)
        try:
            result: Result = ruleset.apply(text)
        except CleanerError as exc:
            console.error(f"{name}: {exc}")
            failed += 1
            if path is None and not (check or diff):
                sys.stdout.buffer.write(data)  # stdin: pass the text through unchanged
            continue
        if verbose and result.removals:
            console.info(f"{name}: {len(result.removals)} removed ({_summary(result.removals)})")
        is_changed = result.text != text
        changed += is_changed
        unchanged += not is_changed
        if diff:
            if is_changed:
                sys.stdout.buffer.write(encode(_diff(name, text, result.text)))
                sys.stdout.flush()
            continue
        if check:
            if is_changed:
                console.info(f"would clean {name}")
            continue
        if path is None:
            sys.stdout.buffer.write(encode(result.text))
            sys.stdout.flush()
        elif is_changed:
            try:
                write_atomic(path, encode(result.text))
            except OSError as exc:
                console.error(f"{name}: cannot write: {exc.strerror or exc}")
                failed += 1
                changed -= 1
                continue
            if verbose:
                console.info(f"cleaned {name}")

    stdin_only = all(p == "-" for p in paths)
    if not stdin_only or check or diff:
        verb = "would be cleaned" if (check or diff) else "cleaned"
        parts = []
        if changed:
            parts.append(f"{changed} file{'s' if changed != 1 else ''} {verb}")
        if unchanged:
            parts.append(f"{unchanged} file{'s' if unchanged != 1 else ''} left unchanged")
        if failed:
            parts.append(f"{failed} file{'s' if failed != 1 else ''} failed")
        console.info(", ".join(parts) + "." if parts else "No files to clean.")
    if failed:
        raise typer.Exit(EXIT_FAILED)
    if (check or diff) and changed:
        raise typer.Exit(EXIT_CHANGED)


@app.command()
def explain(
    path: str = typer.Argument(..., help="A file, or '-' for stdin."),
    select: Optional[List[str]] = typer.Option(None, "--select"),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore"),
    rules: Optional[List[Path]] = typer.Option(None, "--rules"),
    no_bundled: bool = typer.Option(False, "--no-bundled"),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Colour (default: on a TTY)."),
) -> None:
    """Show each removal with the rule that made it (line number, rule id, text)."""
    console = Console()
    ruleset = _load(list(rules or []), select, ignore, no_bundled, console)
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        console.error(f"{path}: cannot read: {exc.strerror or exc}")
        raise typer.Exit(EXIT_FAILED)
    try:
        result = ruleset.apply(decode(data))
    except CleanerError as exc:
        console.error(f"{path}: {exc}")
        raise typer.Exit(EXIT_FAILED)
    use_colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ if color is None else color
    c = (lambda s, code: f"\x1b[{code}m{s}\x1b[0m") if use_colour else (lambda s, code: s)
    width = max((len(r.rule) for r in result.removals), default=0)
    for r in result.removals:
        what = "span" if r.span else "line"
        print(f"{c(f'{r.line:>5}', '2')}  {c(r.rule.ljust(width), '36')}  {what}  {c(r.text, '31')}")
    n = len(result.removals)
    console.info(f"{n} removal{'s' if n != 1 else ''} by {len({r.rule for r in result.removals})} rule(s).")


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
    failures = []
    for r in rules_:
        failures.extend(check_examples(r))
    for f in failures:
        print(str(f))
    n_ex = sum(len(r.examples) for r in rules_)
    bad = len(failures)
    print(f"{len(rules_)} rules, {n_ex} examples: {n_ex - bad} passed, {bad} failed")
    if failures:
        raise typer.Exit(EXIT_CHANGED)


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
