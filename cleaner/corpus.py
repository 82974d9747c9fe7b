"""Cleaning many inputs: text files, HTML pages and record files (JSONL, Parquet), in parallel.

The unit of work is a :class:`Task`: a whole file, or a byte range (shard) of
one large plain ``.jsonl`` file. Each worker reads its own input and writes its
own output (a temp file beside the destination); the parent only joins shard
files and renames. Output is the same bytes whatever the number of workers:
records are cleaned independently and written back in input order.
"""

from __future__ import annotations

import difflib
import gzip
import io
import json
import os
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from .engine import AUTO_PREFILTER_CHARS, Result, RuleSet
from .errors import CleanerError

try:
    import orjson
except ModuleNotFoundError:  # pragma: no cover - orjson is a dependency
    orjson = None  # type: ignore[assignment]

TEXT, HTML, JSONL = "text", "html", "jsonl"
PARQUET = "parquet"  # detected by suffix only (never on stdin); see cleaner.parquet
FORMATS = (TEXT, HTML, JSONL)
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
HTML_SUFFIXES = (".html", ".htm")
TMP_SUFFIX = ".cleaner-tmp"
# plain JSONL files larger than this are split by byte range (the variable is for tests)
SHARD_BYTES = int(os.environ.get("CLEANER_SHARD_BYTES", 16 * 1024 * 1024))


def decode(data: bytes) -> str:
    # surrogateescape: bytes that are not UTF-8 survive the round trip unchanged
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def detect_format(path: Path, forced: str | None = None) -> str:
    if forced:
        return forced
    name = path.name.lower()
    if name.endswith(RECORD_SUFFIXES):
        return JSONL
    if name.endswith(PARQUET_SUFFIXES):
        return PARQUET
    if name.endswith(HTML_SUFFIXES):
        return HTML
    return TEXT


# --- options, tasks, outcomes ---------------------------------------------------------


@dataclass(frozen=True)
class Options:
    mode: str = "write"  # "write" (in place or to output_dir), "check", "diff"
    output_dir: Path | None = None
    field: str = "text"
    removals_field: str | None = None
    fmt: str | None = None  # forced input format; None: from the file name
    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    max_removed: float | None = None


@dataclass
class Task:
    src: Path
    display: str
    fmt: str
    dest: Path | None = None  # None when nothing is written (check, diff)
    start: int = 0
    end: int | None = None
    shard: int = 0
    nshards: int = 1

    @property
    def size(self) -> int:
        try:
            total = self.src.stat().st_size
        except OSError:
            return 0
        return (self.end if self.end is not None else total) - self.start


@dataclass
class Stats:
    documents: int = 0
    changed: int = 0
    vetoed: int = 0
    record_errors: int = 0
    chars_in: int = 0
    chars_removed: int = 0
    rules: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))

    def add(self, text: str, result: Result) -> None:
        self.documents += 1
        self.chars_in += len(text)
        if result.vetoed is not None:
            self.vetoed += 1
            return
        if not result.removals:
            return
        self.changed += 1
        per_rule: Counter[str] = Counter()
        for r in result.removals:
            row = self.rules[r.rule]
            if r.span is None:
                row[1] += 1
            row[2] += len(r.text)
            self.chars_removed += len(r.text)
            per_rule[r.rule] += 1
        for rid in per_rule:
            self.rules[rid][0] += 1

    def merge(self, other: "Stats") -> None:
        for name in ("documents", "changed", "vetoed", "record_errors", "chars_in", "chars_removed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for rid, row in other.rules.items():
            mine = self.rules[rid]
            for i in range(3):
                mine[i] += row[i]

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "documents_changed": self.changed,
            "documents_vetoed": self.vetoed,
            "record_errors": self.record_errors,
            "chars_in": self.chars_in,
            "chars_removed": self.chars_removed,
            "rules": {
                rid: {"documents": row[0], "lines": row[1], "chars": row[2]}
                for rid, row in sorted(self.rules.items())
            },
        }

    def __getstate__(self):
        d = dict(self.__dict__)
        d["rules"] = dict(self.rules)
        return d

    def __setstate__(self, d):
        rules = defaultdict(lambda: [0, 0, 0])
        rules.update(d.pop("rules"))
        self.__dict__.update(d)
        self.rules = rules


@dataclass
class Outcome:
    task: Task
    changed: bool = False
    error: str | None = None  # the whole input failed; it was left as it was
    notes: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)
    stats: Stats = field(default_factory=Stats)
    diff: bytes = b""
    part: Path | None = None  # a shard's output, to be joined by the parent
    lines: int = 0  # input lines read (JSONL), to number a later shard's lines


# --- finding inputs ------------------------------------------------------------------------


def walk(root: Path, globs: list[str]) -> Iterator[Path]:
    """Files under ``root`` matching any glob, sorted; hidden folders and temp files skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.endswith(TMP_SUFFIX):
                continue
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if any(fnmatch(name, g) or fnmatch(rel, g) for g in globs):
                found.append(p)
    return iter(sorted(found))


def destination(src: Path, rel: Path, fmt: str, opts: Options) -> Path | None:
    if opts.mode != "write":
        return None
    if opts.output_dir is not None:
        dest = opts.output_dir / rel
    else:
        dest = src
    if fmt == HTML:  # the text goes beside the page, never over the HTML
        dest = dest.with_suffix(".txt")
    return dest


def plan(paths: list[str], globs: list[str], opts: Options, jobs: int) -> tuple[list[Task], list[str]]:
    """Tasks for the given paths (directories walked), and errors for missing ones."""
    tasks: list[Task] = []
    errors: list[str] = []
    seen_dest: dict[Path, str] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            items = [(f, f.relative_to(p)) for f in walk(p, globs)]
        elif p.exists():
            items = [(p, Path(p.name))]
        else:
            errors.append(f"{raw}: no such file or directory")
            continue
        for src, rel in items:
            fmt = detect_format(src)
            if opts.fmt is not None and fmt not in (JSONL, PARQUET):
                fmt = opts.fmt  # a record file stays one; --format html then means HTML in the field
            dest = destination(src, rel, fmt, opts)
            if dest is not None:
                key = dest.resolve()
                if key in seen_dest:
                    errors.append(f"{src}: would write {dest}, which {seen_dest[key]} writes too")
                    continue
                seen_dest[key] = str(src)
            tasks.extend(_shards(Task(src, str(src), fmt, dest), jobs, opts))
    return tasks, errors


def _shards(task: Task, jobs: int, opts: Options) -> list[Task]:
    """Split a large plain JSONL file into byte ranges that end at newlines."""
    if task.fmt != JSONL or jobs <= 1 or opts.mode != "write" or not task.src.name.endswith((".jsonl", ".ndjson")):
        return [task]
    size = task.src.stat().st_size
    # a file of more than one shard's size is cut in at least as many pieces as there
    # are workers (a 30 MB file with two workers used to be one piece)
    n = 1 if size < SHARD_BYTES else min(jobs * 4, max(jobs, size // SHARD_BYTES))
    if n <= 1:
        return [task]
    bounds = [0]
    with open(task.src, "rb") as fh:
        for k in range(1, n):
            fh.seek(max(bounds[-1], size * k // n))
            fh.readline()  # to the end of the line the cut fell into
            pos = fh.tell()
            if pos < size and pos > bounds[-1]:
                bounds.append(pos)
    bounds.append(size)
    return [
        Task(task.src, task.display, task.fmt, task.dest, start, end, i, len(bounds) - 1)
        for i, (start, end) in enumerate(zip(bounds, bounds[1:]))
    ]


# --- writing ----------------------------------------------------------------------------------


def temp_beside(dest: Path, tag: str = "") -> tuple[BinaryIO, Path]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.{tag}", suffix=TMP_SUFFIX, dir=dest.parent)
    return os.fdopen(fd, "wb"), Path(tmp)


def commit(tmp: Path, dest: Path, mode_from: Path | None) -> None:
    """Move a finished temp file over ``dest`` (keeping the mode of ``mode_from``)."""
    try:
        mode = (mode_from if mode_from is not None and mode_from.exists() else dest).stat().st_mode
        os.chmod(tmp, mode & 0o7777)
    except FileNotFoundError:
        os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


def write_atomic(dest: Path, data: bytes, mode_from: Path | None = None) -> None:
    """Replace ``dest`` so that a reader sees the old or the new file, never half of one."""
    fh, tmp = temp_beside(dest)
    try:
        with fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        commit(tmp, dest, mode_from)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def unified_diff(name: str, old: str, new: str, fromfile: str | None = None, tofile: str | None = None) -> bytes:
    return encode(
        "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=fromfile or f"a/{name}",
                tofile=tofile or f"b/{name}",
            )
        )
    )


# --- HTML ------------------------------------------------------------------------------------------


def extract_html(data: bytes, opts: Options) -> str:
    import trafilatura  # imported only when HTML is asked for: it is slow to import

    text = trafilatura.extract(
        data,
        favor_precision=opts.favor_precision,
        favor_recall=opts.favor_recall,
        include_comments=False,
        include_tables=opts.include_tables,
    )
    return text or ""


# --- records ------------------------------------------------------------------------------------------


def _loads(raw: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # stdlib json takes what orjson refuses (big integers, NaN)
    return json.loads(raw.decode("utf-8"))


def _dumps(obj: Any) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(obj)
        except TypeError:
            pass
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _get(obj: dict, path: list[str]) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            raise KeyError(".".join(path))
        cur = cur[key]
    return cur


def _set(obj: dict, path: list[str], value: Any) -> None:
    cur = obj
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value


def clean_records(
    lines: Iterable[bytes],
    write: Callable[[bytes], Any] | None,
    ruleset: RuleSet,
    opts: Options,
    stats: Stats,
    notes: list[tuple[int | None, str]],
    diffs: list[bytes] | None = None,
    display: str = "",
) -> tuple[bool, int]:
    """Clean JSONL lines one by one; returns (anything changed, lines read).

    A line that is not a JSON object, or has no string at ``opts.field``, is
    written back unchanged and noted with its line number.
    """
    path = opts.field.split(".")
    changed = False
    n = 0
    for n, raw in enumerate(lines, 1):
        body = raw.rstrip(b"\r\n")
        if not body.strip():
            if write:
                write(raw)
            continue
        ending = raw[len(body):]
        out = raw
        try:
            obj = _loads(body)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            value = _get(obj, path)
            if not isinstance(value, str):
                raise TypeError(f"field {opts.field!r} is {type(value).__name__}, not a string")
        except KeyError:
            stats.record_errors += 1
            notes.append((n, f"record has no field {opts.field!r}; left unchanged"))
            value = None
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            stats.record_errors += 1
            reason = "not valid JSON" if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) else str(exc)
            notes.append((n, f"{reason}; left unchanged"))
            value = None
        if value is not None:
            result = clean_value(value, n, ruleset, opts, stats, notes)
            new_value = result.text
            if new_value != value or opts.removals_field:
                _set(obj, path, new_value)
                if opts.removals_field:
                    obj[opts.removals_field] = [r.as_dict() for r in result.removals]
                out = _dumps(obj) + ending
                if new_value != value:
                    changed = True
                    if diffs is not None:
                        diffs.append(unified_diff("", value, new_value, f"a/{display}:{n}", f"b/{display}:{n}"))
        if write:
            write(out)
    return changed, n


def clean_value(
    value: str, n: int, ruleset: RuleSet, opts: Options, stats: Stats, notes: list[tuple[int | None, str]]
) -> Result:
    """Clean one record's text (extracted first with ``--format html``), counting it in
    ``stats``; a rule that fails is noted (record ``n``) and the text comes back as it was."""
    text = extract_html(value.encode("utf-8", "surrogatepass"), opts) if opts.fmt == HTML else value
    try:
        result = ruleset.apply(text, opts.max_removed)
    except CleanerError as exc:
        stats.record_errors += 1
        notes.append((n, f"{exc}"))
        result = Result(text, [])
    stats.add(text, result)
    if result.vetoed is not None:
        notes.append((n, _veto_note(result.vetoed, opts.max_removed)))
    return result


def _veto_note(share: float, limit: float | None) -> str:
    return (
        f"left unchanged: the rules would remove {share:.0%} of it "
        f"(over --max-removed {limit:g}; look at it with 'cleaner explain')"
    )


def _open_read(path: Path) -> BinaryIO:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".zst"):
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
        return io.BufferedReader(raw, 1 << 20)  # type: ignore[arg-type]  # gives readline
    return open(path, "rb")


def _open_write(path: Path, fh: BinaryIO) -> BinaryIO:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0)  # type: ignore[return-value]
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(fh, closefd=False)  # type: ignore[return-value]
    return fh


def _range_lines(fh: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    if start:
        fh.seek(start)
    pos = start
    for line in fh:
        if end is not None and pos >= end:
            break
        pos += len(line)
        yield line


# --- running one task ----------------------------------------------------------------------------------

_RULESET: RuleSet | None = None
_OPTS: Options | None = None


def _init_worker(ruleset: RuleSet, opts: Options) -> None:
    global _RULESET, _OPTS
    _RULESET, _OPTS = ruleset, opts


def _run_in_worker(task: Task) -> Outcome:
    assert _RULESET is not None and _OPTS is not None
    return run_task(task, _RULESET, _OPTS)


def run_task(task: Task, ruleset: RuleSet, opts: Options) -> Outcome:
    outcome = Outcome(task)
    try:
        if task.fmt == JSONL:
            _run_records(task, ruleset, opts, outcome)
        elif task.fmt == PARQUET:
            _parquet_module().run_parquet(task, ruleset, opts, outcome)
        else:
            _run_document(task, ruleset, opts, outcome)
    except CleanerError as exc:
        outcome.error = str(exc)
    except OSError as exc:
        outcome.error = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename and str(exc.filename) != str(task.src) else "")
    except (EOFError, ValueError) as exc:  # truncated or corrupt compressed input
        outcome.error = f"cannot read: {exc}"
    return outcome


def _parquet_module():
    try:
        from . import parquet
    except ModuleNotFoundError as exc:
        raise CleanerError(f"Parquet needs pyarrow ({exc}); install it with: pip install 'cleaner[parquet]'") from None
    return parquet


def _run_document(task: Task, ruleset: RuleSet, opts: Options, outcome: Outcome) -> None:
    data = task.src.read_bytes()
    text = extract_html(data, opts) if task.fmt == HTML else decode(data)
    result = ruleset.apply(text, opts.max_removed)
    outcome.stats.add(text, result)
    if result.vetoed is not None:
        outcome.notes.append((None, _veto_note(result.vetoed, opts.max_removed)))
    new = result.text
    outcome.changed = new != text  # what the rules did (for HTML: to the extracted text)
    if opts.mode == "diff" and outcome.changed:
        outcome.diff = unified_diff(task.display, text, new)
    if task.dest is None:
        return
    out = encode(new)
    if task.dest == task.src:
        if outcome.changed:  # an unchanged file is not rewritten
            write_atomic(task.dest, out, mode_from=task.src)
    elif task.fmt == HTML and task.dest.is_file() and task.dest.read_bytes() == out:
        return
    else:
        write_atomic(task.dest, out, mode_from=task.src if task.fmt == TEXT else None)


def _run_records(task: Task, ruleset: RuleSet, opts: Options, outcome: Outcome) -> None:
    diffs: list[bytes] | None = [] if opts.mode == "diff" else None
    with _open_read(task.src) as reader:
        lines = _range_lines(reader, task.start, task.end) if task.nshards > 1 else iter(reader)
        if task.dest is None:
            outcome.changed, outcome.lines = clean_records(
                lines, None, ruleset, opts, outcome.stats, outcome.notes, diffs, task.display
            )
            if diffs:
                outcome.diff = b"".join(diffs)
            return
        tag = f"part{task.shard:05d}." if task.nshards > 1 else ""
        raw_fh, tmp = temp_beside(task.dest, tag)
        try:
            with raw_fh:
                writer = _open_write(task.dest, raw_fh)
                outcome.changed, outcome.lines = clean_records(
                    lines, writer.write, ruleset, opts, outcome.stats, outcome.notes, None, task.display
                )
                if writer is not raw_fh:
                    writer.close()  # flushes the compressor's last frame
                raw_fh.flush()
                os.fsync(raw_fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if task.nshards > 1:
        outcome.part = tmp  # the parent joins the shards in order
        return
    if task.dest == task.src and not outcome.changed and not opts.removals_field:
        tmp.unlink()
        return
    commit(tmp, task.dest, task.src)


def _append(src: BinaryIO, dst: BinaryIO) -> None:
    """Copy the rest of ``src`` to the end of ``dst``: in the kernel where it can
    (``copy_file_range``: a fifth of the time of a read/write loop here), else
    in chunks."""
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        dst.flush()
        try:
            while copy_range(src.fileno(), dst.fileno(), 1 << 30):
                pass
        except OSError:  # not here (another file system, an old kernel): by hand,
            src.seek(os.lseek(src.fileno(), 0, os.SEEK_CUR))  # from where it stopped
        dst.seek(0, os.SEEK_END)
    while chunk := src.read(1 << 20):
        dst.write(chunk)


def join_shards(outcomes: list[Outcome]) -> str | None:
    """Join a file's shard outputs in order into its destination; an error message or None."""
    parts = [o.part for o in outcomes]
    task = outcomes[0].task
    try:
        if any(o.error for o in outcomes):
            return "; ".join(o.error for o in outcomes if o.error)
        changed = any(o.changed for o in outcomes)
        assert task.dest is not None
        if task.dest == task.src and not changed:
            return None
        fh, tmp = temp_beside(task.dest)
        try:
            with fh:
                for part in parts:
                    assert part is not None
                    with open(part, "rb") as src:
                        _append(src, fh)
                fh.flush()
                os.fsync(fh.fileno())
            commit(tmp, task.dest, task.src)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return None
    finally:
        for part in parts:
            if part is not None:
                part.unlink(missing_ok=True)


# --- running many --------------------------------------------------------------------------------------


def run_tasks(
    tasks: list[Task], ruleset: RuleSet, opts: Options, jobs: int,
    on_done: Callable[[Outcome], None] | None = None,
) -> Iterator[Outcome]:
    """Run tasks, yielding outcomes in task order; in-process when one worker is enough."""
    workers = max(1, min(jobs, len(tasks)))
    if ruleset.use_prefilter is None and sum(t.size for t in tasks) >= AUTO_PREFILTER_CHARS:
        # enough text to pay for the pre-pass: every worker builds it before its first
        # document, not after cleaning its first AUTO_PREFILTER_CHARS without it
        ruleset.use_prefilter = True
    if workers == 1:
        for task in tasks:
            outcome = run_task(task, ruleset, opts)
            if on_done:
                on_done(outcome)
            yield outcome
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(ruleset, opts)) as pool:
        # largest first keeps both cores busy to the end; results are re-ordered
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i].size)
        futures = {i: pool.submit(_run_in_worker, tasks[i]) for i in order}
        if on_done:
            for f in futures.values():
                f.add_done_callback(lambda fut: on_done(fut.result()) if not fut.exception() else None)
        for i in range(len(tasks)):
            yield futures[i].result()
