"""The Dask engine: ``cleaner clean --engine dask [--scheduler tcp://HOST:PORT]``.

The same job as the local engine (same records, same bytes, same order), run on
a Dask cluster: an existing one, or a ``LocalCluster`` of processes started for
the run. Record files only (JSONL, .jsonl.gz, .jsonl.zst, Parquet), as local
paths (visible at the same path on every worker: a shared filesystem) or as any
fsspec URL (``s3://``, ``gs://``, ``abfs://``, ``file://``...).

What travels to the workers: the :class:`~cleaner.engine.RuleSet` object,
scattered once to every worker (never the YAML paths of the client machine),
the options, and small descriptions of the partitions. Each worker reads its
own partition (a byte range of a plain JSONL file, consecutive row groups of a
Parquet file, or a whole compressed file), writes it to a hidden temp file
beside the destination, and sends back only its statistics and notes. A last
task per file joins the parts in order and moves the result into place (temp
file, then rename), so no reader ever sees half a file.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import posixpath
import shutil
import uuid
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from . import corpus
from .corpus import JSONL, PARQUET, TMP_SUFFIX, Options, Outcome, Stats
from .engine import RuleSet
from .errors import CleanerError

RECORD_GLOBS = ["*.jsonl", "*.jsonl.gz", "*.jsonl.zst", "*.ndjson", "*.parquet"]
MIN_PART_BYTES = 1 << 20


class UsageError(CleanerError):
    """The run cannot start as asked (exit 2, before any file is touched)."""


def require() -> None:
    """Raise :class:`UsageError` unless dask.distributed and fsspec can be imported."""
    try:
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"--engine dask needs dask.distributed ({exc}); install it with: pip install 'cleaner[dask]'"
        ) from None


# --- locations: a local path or an fsspec URL ------------------------------------------


def _is_url(s: str) -> bool:
    return "://" in s


@dataclass(frozen=True)
class Loc:
    """A file: an absolute local path, or an fsspec URL."""

    url: str

    @property
    def local(self) -> bool:
        return not _is_url(self.url)

    @property
    def name(self) -> str:
        return posixpath.basename(self.url.rstrip("/")) if not self.local else os.path.basename(self.url)

    def fs(self):
        from fsspec.core import url_to_fs

        return url_to_fs(self.url)

    def sibling(self, name: str) -> "Loc":
        if self.local:
            return Loc(os.path.join(os.path.dirname(self.url), name))
        return Loc(self.url.rsplit("/", 1)[0] + "/" + name)

    def open_read(self) -> BinaryIO:
        if self.local:
            return open(self.url, "rb")
        fs, path = self.fs()
        return fs.open(path, "rb")

    def open_write(self) -> BinaryIO:
        if self.local:
            os.makedirs(os.path.dirname(self.url), exist_ok=True)
            return open(self.url, "wb")
        fs, path = self.fs()
        parent = path.rsplit("/", 1)[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)
        return fs.open(path, "wb")

    def remove(self) -> None:
        try:
            if self.local:
                os.unlink(self.url)
            else:
                fs, path = self.fs()
                fs.rm(path)
        except FileNotFoundError:
            pass


def _sync(fh: BinaryIO, loc: Loc) -> None:
    fh.flush()
    if loc.local:
        os.fsync(fh.fileno())


def _move(tmp: Loc, dest: Loc, src: Loc) -> None:
    """Move a finished temp file over ``dest`` (atomically on a local filesystem)."""
    if tmp.local:
        corpus.commit(Path(tmp.url), Path(dest.url), Path(src.url) if src.local else None)
    else:
        fs, tmp_path = tmp.fs()
        _, dest_path = dest.fs()
        fs.mv(tmp_path, dest_path)


def _decompress(name: str, fh: BinaryIO) -> BinaryIO:
    name = name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    if name.endswith(".zst"):
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(fh, closefd=False)
        return io.BufferedReader(raw, 1 << 20)  # type: ignore[arg-type]
    return fh


# --- planning (on the client) -----------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One input file and where its cleaned copy goes (``dest`` None: check or diff)."""

    src: Loc
    display: str
    fmt: str
    dest: Loc | None
    size: int


@dataclass(frozen=True)
class Part:
    source: Source
    index: int
    count: int
    out: Loc | None  # where this part writes (the file's temp file when it is the only part)
    start: int = 0  # JSONL: byte range
    end: int | None = None
    groups: tuple[int, ...] = ()  # Parquet: row groups
    first_row: int = 0


@dataclass
class PartResult:
    stats: Stats = field(default_factory=Stats)
    notes: list[tuple[int | None, str]] = field(default_factory=list)
    changed: bool = False
    lines: int = 0
    diff: bytes = b""
    error: str | None = None


def _list_dir(raw: str, globs: list[str]) -> list[tuple[str, str]]:
    """(location, relative name) of the files under a directory or URL prefix that match."""
    if not _is_url(raw):
        root = Path(raw)
        return [(str(p.resolve()), p.relative_to(root).as_posix()) for p in corpus.walk(root, globs)]
    fs, root = Loc(raw).fs()
    root = root.rstrip("/")
    found = []
    for path in sorted(fs.find(root)):
        rel = path[len(root):].lstrip("/")
        parts = rel.split("/")
        if any(p.startswith(".") for p in parts[:-1]) or rel.endswith(TMP_SUFFIX):
            continue
        if any(fnmatch(parts[-1], g) or fnmatch(rel, g) for g in globs):
            found.append((fs.unstrip_protocol(path), rel))
    return found


def _size(loc: Loc) -> int:
    if loc.local:
        return os.stat(loc.url).st_size
    fs, path = loc.fs()
    return int(fs.size(path) or 0)


def plan(
    paths: list[str], globs: list[str] | None, opts: Options, output_dir: str | None = None
) -> tuple[list[Source], list[str]]:
    """Sources for the given paths or URLs (directories walked for ``globs``, record files by
    default), and errors for missing ones. Raises :class:`UsageError` for inputs this engine
    does not clean (stdin, text, HTML), before anything is touched."""
    globs = globs or RECORD_GLOBS
    sources: list[Source] = []
    errors: list[str] = []
    unsupported: list[str] = []
    seen_dest: dict[str, str] = {}
    if output_dir is not None and not _is_url(output_dir):
        output_dir = os.path.abspath(output_dir)
    for raw in paths:
        if raw == "-":
            raise UsageError("--engine dask cleans files or URLs, not stdin")
        try:
            loc = Loc(raw if _is_url(raw) else os.path.abspath(raw))
            if loc.local:
                is_dir, exists = os.path.isdir(raw), os.path.exists(raw)
            else:
                fs, path = loc.fs()
                is_dir = fs.isdir(path)
                exists = is_dir or fs.exists(path)
            if is_dir:
                items = _list_dir(raw, globs)
            elif exists:
                items = [(loc.url, loc.name)]
            else:
                errors.append(f"{raw}: no such file or directory")
                continue
        except (OSError, ValueError, ImportError) as exc:  # unknown protocol, no credentials...
            errors.append(f"{raw}: cannot list: {exc}")
            continue
        for url, rel in items:
            src = Loc(url)
            display = url if _is_url(raw) else os.path.join(raw, rel) if is_dir else raw  # as the local engine
            fmt = corpus.detect_format(Path(src.name))
            if fmt not in (JSONL, PARQUET):
                unsupported.append(display)
                continue
            dest: Loc | None = None
            if opts.mode == "write":
                if output_dir is None:
                    dest = src
                elif _is_url(output_dir):
                    dest = Loc(output_dir.rstrip("/") + "/" + rel)
                else:
                    dest = Loc(os.path.join(output_dir, *rel.split("/")))
                if dest.url in seen_dest:
                    errors.append(f"{display}: would write {dest.url}, which {seen_dest[dest.url]} writes too")
                    continue
                seen_dest[dest.url] = display
            try:
                size = _size(src)
            except OSError as exc:
                errors.append(f"{display}: {exc}")
                continue
            sources.append(Source(src, display, fmt, dest, size))
    if unsupported:
        shown = ", ".join(unsupported[:5]) + (f" and {len(unsupported) - 5} more" if len(unsupported) > 5 else "")
        raise UsageError(
            "--engine dask cleans record files only (.jsonl, .jsonl.gz, .jsonl.zst, .ndjson, .parquet), "
            f"not {shown}; clean those with the local engine"
        )
    return sources, errors


def partition(source: Source, part_bytes: int, run_id: str) -> list[Part]:
    """Split one file into parts of about ``part_bytes``: byte ranges ending at newlines for
    plain JSONL, runs of whole row groups for Parquet; compressed JSONL is one part."""
    spans: list[dict[str, Any]] = []
    name = source.src.name.lower()
    if source.fmt == PARQUET:
        import pyarrow.parquet as pq

        with source.src.open_read() as fh:
            meta = pq.ParquetFile(fh).metadata
        groups: list[int] = []
        acc = rows = first = 0
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            if groups and acc + rg.total_byte_size > part_bytes:
                spans.append({"groups": tuple(groups), "first_row": first})
                groups, acc, first = [], 0, rows
            groups.append(i)
            acc += rg.total_byte_size
            rows += rg.num_rows
        spans.append({"groups": tuple(groups), "first_row": first})
    elif name.endswith((".jsonl", ".ndjson")) and source.size > part_bytes:
        n = -(-source.size // part_bytes)
        bounds = [0]
        with source.src.open_read() as fh:
            for k in range(1, n):
                fh.seek(max(bounds[-1], source.size * k // n))
                fh.readline()  # to the end of the line the cut fell into
                pos = fh.tell()
                if bounds[-1] < pos < source.size:
                    bounds.append(pos)
        bounds.append(source.size)
        spans = [{"start": s, "end": e} for s, e in zip(bounds, bounds[1:])]
    else:
        spans = [{}]
    count = len(spans)
    parts = []
    for i, span in enumerate(spans):
        out = None
        if source.dest is not None:
            tag = f".{source.dest.name}.{run_id}" + (f".p{i:05d}" if count > 1 else "")
            out = source.dest.sibling(tag + TMP_SUFFIX)
        parts.append(Part(source, i, count, out, **span))
    return parts


def final_temp(source: Source, run_id: str) -> Loc:
    assert source.dest is not None
    return source.dest.sibling(f".{source.dest.name}.{run_id}{TMP_SUFFIX}")


# --- on the workers ----------------------------------------------------------------------------


def run_part(part: Part, ruleset: RuleSet, opts: Options) -> PartResult:
    """Clean one part; never raises for a bad input (the error is in the result)."""
    res = PartResult()
    try:
        if part.source.fmt == PARQUET:
            _parquet_part(part, ruleset, opts, res)
        else:
            _jsonl_part(part, ruleset, opts, res)
        if part.count == 1 and part.out is not None:
            _finish(part.source, part.out, res.changed, opts)
    except CleanerError as exc:
        res.error = str(exc)
    except OSError as exc:
        res.error = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    except (EOFError, ValueError) as exc:  # truncated or corrupt input
        res.error = f"cannot read: {exc}"
    except Exception as exc:  # reported with the file, never a traceback
        res.error = f"{type(exc).__name__}: {exc}"
    if res.error and part.out is not None:
        part.out.remove()
    return res


def _finish(source: Source, tmp: Loc, changed: bool, opts: Options) -> None:
    """Move a file's finished temp file into place, or drop it if nothing changed in place."""
    assert source.dest is not None
    if source.dest == source.src and not changed and not opts.removals_field:
        tmp.remove()
        return
    _move(tmp, source.dest, source.src)


def _jsonl_part(part: Part, ruleset: RuleSet, opts: Options, res: PartResult) -> None:
    diffs: list[bytes] | None = [] if opts.mode == "diff" else None
    src = part.source
    with src.src.open_read() as raw:
        reader = _decompress(src.src.name, raw)
        lines = corpus._range_lines(reader, part.start, part.end) if part.count > 1 else iter(reader)
        if part.out is None:
            res.changed, res.lines = corpus.clean_records(
                lines, None, ruleset, opts, res.stats, res.notes, diffs, src.display
            )
            res.diff = b"".join(diffs or [])
            return
        fh = part.out.open_write()
        try:
            with fh:
                # the compressed suffix decides the writer: the destination's name, as locally
                writer = corpus._open_write(Path(src.dest.name if src.dest else src.src.name), fh)
                res.changed, res.lines = corpus.clean_records(
                    lines, writer.write, ruleset, opts, res.stats, res.notes, None, src.display
                )
                if writer is not fh:
                    writer.close()
                _sync(fh, part.out)
        except BaseException:
            part.out.remove()
            raise


def _parquet_part(part: Part, ruleset: RuleSet, opts: Options, res: PartResult) -> None:
    from . import parquet
    import pyarrow.parquet as pq

    diffs: list[bytes] | None = [] if opts.mode == "diff" else None
    src = part.source
    with src.src.open_read() as raw:
        pf = pq.ParquetFile(raw)
        cleaner = parquet.TableCleaner(pf.schema_arrow, ruleset, opts, src.display)
        if part.out is None:
            res.changed, res.lines = parquet.clean_row_groups(
                pf, list(part.groups), None, cleaner, res.stats, res.notes, diffs, part.first_row
            )
            res.diff = b"".join(diffs or [])
            return
        fh = part.out.open_write()
        try:
            with fh:
                writer = parquet.open_writer(fh, pf, cleaner.schema)
                try:
                    res.changed, res.lines = parquet.clean_row_groups(
                        pf, list(part.groups), writer, cleaner, res.stats, res.notes, None, part.first_row
                    )
                finally:
                    writer.close()
                _sync(fh, part.out)
        except BaseException:
            part.out.remove()
            raise


def join_parts(source: Source, parts: list[Part], results: list[PartResult], tmp: Loc, opts: Options) -> str | None:
    """Join a file's parts in order into its destination; an error message, or None."""
    try:
        errors = [r.error for r in results if r.error]
        if errors:
            return "; ".join(errors)
        changed = any(r.changed for r in results)
        if source.dest == source.src and not changed and not opts.removals_field:
            return None
        fh = tmp.open_write()
        try:
            with fh:
                if source.fmt == PARQUET:
                    from .parquet import copy_row_groups

                    handles = [p.out.open_read() for p in parts if p.out is not None]
                    try:
                        copy_row_groups(handles, fh)
                    finally:
                        for h in handles:
                            h.close()
                else:
                    for p in parts:
                        assert p.out is not None
                        with p.out.open_read() as part_fh:
                            shutil.copyfileobj(part_fh, fh, 1 << 20)
                _sync(fh, tmp)
        except BaseException:
            tmp.remove()
            raise
        _move(tmp, source.dest, source.src)  # type: ignore[arg-type]
        return None
    except Exception as exc:
        return f"cannot join the parts: {type(exc).__name__}: {exc}"
    finally:
        for p in parts:
            if p.out is not None:
                p.out.remove()


# --- the client ----------------------------------------------------------------------------------------


class Session:
    """A connection to a Dask cluster (started here when no scheduler is given)."""

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None, quiet_logs: bool = True):
        require()
        from distributed import Client, LocalCluster

        if quiet_logs:
            logging.getLogger("distributed").setLevel(logging.ERROR)
        self.cluster = None
        try:
            if scheduler:
                # waits up to distributed.comm.timeouts.connect (30 s; DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)
                self.client = Client(scheduler, set_as_default=False)
            else:
                self.cluster = LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,  # cleaning holds the GIL: one process per core
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # any free port: 8787 may be taken
                    silence_logs=logging.ERROR if quiet_logs else logging.WARNING,
                )
                self.client = Client(self.cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
            raise UsageError(f"cannot reach {where}: {exc}") from None
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        import importlib.metadata

        from . import __version__

        try:
            self.client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise UsageError("the Dask cluster has no workers (none joined within 60 s)") from None
        found = self.client.run(importlib.metadata.version, "cleaner", on_error="return")
        for worker, version in sorted(found.items()):
            if isinstance(version, BaseException):
                raise UsageError(
                    f"cleaner is not installed on Dask worker {worker} ({type(version).__name__}: {version}); "
                    "install the same version of cleaner on every worker"
                )
            if version != __version__:
                raise UsageError(
                    f"Dask worker {worker} has cleaner {version}, this machine {__version__}; "
                    "install the same version everywhere"
                )

    @property
    def nthreads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, sources: list[Source], ruleset: RuleSet, opts: Options) -> Iterator[Outcome]:
        """Clean the sources on the cluster; yields one outcome per file, in order."""
        client = self.client
        total = sum(s.size for s in sources)
        part_bytes = min(
            corpus.SHARD_BYTES,
            max(min(MIN_PART_BYTES, corpus.SHARD_BYTES), total // (4 * self.nthreads) + 1),
        )
        run_id = uuid.uuid4().hex[:12]
        rules = client.scatter(ruleset, broadcast=True, hash=False)  # once per worker
        submitted = []
        for si, source in enumerate(sources):
            try:
                parts = partition(source, part_bytes, run_id)
            except (OSError, ValueError) as exc:
                submitted.append((source, [], [], None, f"cannot read: {exc}"))
                continue
            futures = [
                client.submit(run_part, p, rules, opts, key=f"cleaner-part-{run_id}-{si}-{p.index}", priority=-si)
                for p in parts
            ]
            join = None
            if len(parts) > 1 and source.dest is not None:
                join = client.submit(
                    join_parts, source, parts, futures, final_temp(source, run_id), opts,
                    key=f"cleaner-join-{run_id}-{si}", priority=-si,
                )
            submitted.append((source, parts, futures, join, None))
        for source, parts, futures, join, error in submitted:
            yield self._outcome(source, parts, futures, join, error, run_id)

    def _outcome(self, source, parts, futures, join, error, run_id) -> Outcome:
        task = corpus.Task(Path(source.src.url) if source.src.local else Path(source.src.name), source.display, source.fmt)
        outcome = Outcome(task, error=error)
        if error:
            return outcome
        try:
            results: list[PartResult] = self.client.gather(futures)
            join_error = join.result() if join is not None else None
        except Exception as exc:  # a worker died, the task could not be sent...
            outcome.error = f"the Dask task failed: {type(exc).__name__}: {exc}"
            for p in parts:  # whatever a part left behind
                if p.out is not None:
                    _quietly(p.out.remove)
            if len(parts) > 1 and source.dest is not None:
                _quietly(final_temp(source, run_id).remove)
            return outcome
        finally:
            for f in futures:
                f.release()
            if join is not None:
                join.release()
        offset = 0
        seen: set[str] = set()
        for r in results:
            for line, msg in r.notes:
                if line is None:
                    if msg in seen:  # a whole-file note, once
                        continue
                    seen.add(msg)
                elif source.fmt == JSONL:  # parts number their own lines; Parquet rows are global
                    line += offset
                outcome.notes.append((line, msg))
            offset += r.lines
            outcome.stats.merge(r.stats)
            outcome.changed |= r.changed
        outcome.lines = offset
        outcome.diff = b"".join(r.diff for r in results)
        errors = [r.error for r in results if r.error]
        outcome.error = "; ".join(errors) if errors else join_error
        return outcome


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:
        pass
