"""Parquet record files with the local engine: the text column cleaned, everything else kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from .test_cli import CLEANED, DIRTY  # noqa: E402


def run(*args, shard_bytes: int | None = None):
    """``cleaner ARGS`` in this process (no interpreter start, rules loaded once): exit code,
    stdout and stderr as from a subprocess. The few tests that need a real process say so."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from cleaner import corpus
    from cleaner.cli import app

    old = corpus.SHARD_BYTES
    if shard_bytes is not None:
        corpus.SHARD_BYTES = shard_bytes
    try:
        res = CliRunner().invoke(app, [str(a) for a in args])
    finally:
        corpus.SHARD_BYTES = old
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return SimpleNamespace(returncode=res.exit_code, stdout=res.stdout_bytes, stderr=res.stderr_bytes)

REMOVED = {"rule": "credits.photo-credit-line", "line": 3, "text": "Featured Image Credit: Alamy", "span": None}


def rows(n: int = 40) -> list[dict]:
    out = []
    for i in range(n):
        text = None if i % 10 == 7 else DIRTY if i % 2 else f"Nothing to remove in record {i}.\n"
        out.append({"id": i, "text": text, "score": i / 4, "tags": [f"t{i}", "x"], "doc": {"body": DIRTY, "n": i}})
    return out


def write(path, data: list[dict], **kw) -> pa.Table:
    table = pa.Table.from_pylist(data).replace_schema_metadata({"source": "crawl-7", "note": "kept"})
    pq.write_table(table, path, row_group_size=kw.pop("row_group_size", 6), compression=kw.pop("compression", "zstd"), **kw)
    return table


def test_text_column_cleaned_everything_else_kept(tmp_path):
    src = tmp_path / "in" / "part-0.parquet"
    src.parent.mkdir()
    data = rows()
    original = write(src, data)
    before = src.read_bytes()
    r = run("clean", src, "--output-dir", tmp_path / "out", "--stats-json", tmp_path / "s.json")
    assert r.returncode == 123, "null texts are record errors"
    assert src.read_bytes() == before, "--output-dir leaves the input alone"
    out = tmp_path / "out" / "part-0.parquet"
    pf = pq.ParquetFile(out)
    assert pf.schema_arrow == original.schema
    assert pf.schema_arrow.metadata == {b"source": b"crawl-7", b"note": b"kept"}, "file metadata kept"
    assert pf.metadata.num_row_groups == 7, "row groups kept (40 rows in groups of 6)"
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD", "codec kept"
    got = pf.read().to_pylist()
    assert [g["id"] for g in got] == list(range(40)), "row order kept"
    for want, g in zip(data, got):
        expected = CLEANED if want["text"] == DIRTY else want["text"]
        assert g["text"] == expected
        assert {k: v for k, v in g.items() if k != "text"} == {k: v for k, v in want.items() if k != "text"}
    err = r.stderr.decode()
    for i in (7, 17, 27, 37):  # 1-based row numbers of the null texts
        assert f"part-0.parquet:{i + 1}: field 'text' is null; left unchanged" in err
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["record_errors"] == 4 and stats["documents"] == 36 and stats["documents_changed"] == 16
    assert stats["rules"]["credits.photo-credit-line"] == {"documents": 16, "lines": 16, "chars": 16 * 28}


def test_in_place_removals_field_and_nested_field(tmp_path):
    p = tmp_path / "n.parquet"
    data = [{"id": i, "doc": {"body": DIRTY if i % 2 else "Stays as it is.\n", "n": i} if i != 4 else None} for i in range(10)]
    write(p, data)
    os.chmod(p, 0o640)
    r = run("clean", p, "--field", "doc.body", "--removals-field", "removed")
    assert r.returncode == 123 and b"n.parquet:5: field 'doc.body' is null" in r.stderr
    assert os.stat(p).st_mode & 0o777 == 0o640, "mode kept"
    assert not list(tmp_path.glob(".*cleaner-tmp")), "no temp file left"
    table = pq.read_table(p)
    field = table.schema.field("removed")
    assert field.type == pa.list_(pa.struct([("rule", pa.string()), ("line", pa.int32()), ("text", pa.string()), ("span", pa.list_(pa.int32()))]))
    got = table.to_pylist()
    for i, g in enumerate(got):
        if i == 4:
            assert g["doc"] is None and g["removed"] is None
        elif i % 2:
            assert g["doc"] == {"body": CLEANED, "n": i} and g["removed"] == [REMOVED]
        else:
            assert g["doc"] == {"body": "Stays as it is.\n", "n": i} and g["removed"] == []


def test_unchanged_file_not_rewritten_and_check_diff(tmp_path):
    clean_file = tmp_path / "clean.parquet"
    write(clean_file, [{"id": 1, "text": "Nothing here.\n"}])
    dirty_file = tmp_path / "dirty.parquet"
    write(dirty_file, [{"id": 1, "text": "Nothing here.\n"}, {"id": 2, "text": DIRTY}])
    ino = os.stat(clean_file).st_ino
    before = dirty_file.read_bytes()
    r = run("clean", tmp_path, "--glob", "*.parquet", "--check")
    assert r.returncode == 1 and b"would clean" in r.stderr and b"dirty.parquet" in r.stderr
    assert b"clean.parquet" not in r.stderr.replace(b"dirty.parquet", b"")
    r = run("clean", tmp_path, "--glob", "*.parquet", "--diff")
    assert r.returncode == 1
    assert f"a/{dirty_file}:2".encode() in r.stdout and b"-Featured Image Credit: Alamy" in r.stdout
    assert dirty_file.read_bytes() == before, "--check and --diff write nothing"
    r = run("clean", tmp_path, "--glob", "*.parquet")
    assert r.returncode == 0, r.stderr
    assert os.stat(clean_file).st_ino == ino, "a file with nothing to clean is not rewritten"
    assert pq.read_table(dirty_file).column("text").to_pylist() == ["Nothing here.\n", CLEANED]


def test_column_that_is_missing_or_not_text(tmp_path):
    p = tmp_path / "ints.parquet"
    write(p, [{"id": i, "text": i} for i in range(9)])
    before = p.read_bytes()
    r = run("clean", p, "--stats-json", tmp_path / "s.json")
    assert r.returncode == 123
    assert r.stderr.count(b"field 'text' is int64, not a string: every record left unchanged") == 1, "one note, not one per row"
    assert p.read_bytes() == before
    assert json.loads((tmp_path / "s.json").read_text())["record_errors"] == 9
    r = run("clean", p, "--field", "body")
    assert r.returncode == 123 and b"no column 'body'" in r.stderr
    assert p.read_bytes() == before


def test_large_string_and_dictionary_columns(tmp_path):
    p = tmp_path / "types.parquet"
    table = pa.table({
        "text": pa.array([DIRTY, "Plain.\n", None], type=pa.large_string()),
        "lang": pa.array(["en", "en", "de"]).dictionary_encode(),
    })
    pq.write_table(table, p)
    r = run("clean", p)
    assert r.returncode == 123  # the null
    got = pq.read_table(p)
    assert got.schema == table.schema, "large_string and dictionary types kept"
    assert got.column("text").to_pylist() == [CLEANED, "Plain.\n", None]


def test_corrupt_parquet_fails_that_file_only(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    good = tmp_path / "good.parquet"
    write(good, [{"text": DIRTY}])
    r = run("clean", bad, good)
    assert r.returncode == 123 and b"bad.parquet:" in r.stderr
    assert bad.read_bytes() == b"PAR1 this is not parquet"
    assert pq.read_table(good).column("text").to_pylist() == [CLEANED]


def test_without_pyarrow_is_a_usage_error(tmp_path):
    p = tmp_path / "x.parquet"
    write(p, [{"text": DIRTY}])
    before = p.read_bytes()
    code = (
        "import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None; "
        f"sys.argv = ['cleaner', 'clean', {str(p)!r}]; from cleaner.cli import main; main()"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert r.returncode == 2
    assert b"pip install 'cleaner[parquet]'" in r.stderr and b"Traceback" not in r.stderr
    assert p.read_bytes() == before
