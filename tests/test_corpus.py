"""Corpora: directories, record files, HTML, parallel runs, stats, the safety valve, config."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_cli import CLEANED, DIRTY, run

HTML_PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Harbour board backs ferry plan</title></head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Harbour board backs ferry plan</h1>
<p>The harbour board voted on Tuesday to approve a new ferry terminal at the western pier,
ending a dispute that had lasted more than three years and split the town council.</p>
<p>Featured Image Credit: Alamy</p>
<p>Supporters say the terminal will bring hundreds of jobs to the waterfront, while opponents
fear that heavier traffic will choke the narrow streets of the old town every summer.</p>
<p>Construction is expected to begin in the spring and to take about eighteen months, the
board's chair told reporters after the meeting, which ran late into the evening.</p>
</article>
<footer>Copyright 2024 Harbour Gazette</footer>
</body></html>
"""


def record(i: int, text: str, **extra) -> bytes:
    return json.dumps({"id": i, "text": text, "meta": {"src": f"s{i}"}, **extra}, ensure_ascii=False).encode() + b"\n"


def make_jsonl(path: Path, n: int = 60) -> bytes:
    data = b"".join(record(i, DIRTY if i % 2 else "Nothing to remove in this one.\n") for i in range(n))
    path.write_bytes(data)
    return data


# --- directories -----------------------------------------------------------------------------


def test_directory_in_place_and_output_dir(tmp_path):
    src = tmp_path / "corpus"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "one.txt").write_bytes(DIRTY.encode())
    (src / "two.txt").write_bytes(DIRTY.encode())
    (src / "keep.md").write_bytes(DIRTY.encode())
    out = tmp_path / "out"
    r = run("clean", src, "--output-dir", out)
    assert r.returncode == 0, r.stderr
    assert (out / "a" / "b" / "one.txt").read_bytes() == CLEANED.encode()
    assert (out / "two.txt").read_bytes() == CLEANED.encode()
    assert not (out / "keep.md").exists()
    assert (src / "a" / "b" / "one.txt").read_bytes() == DIRTY.encode(), "inputs untouched"
    r = run("clean", src, "--glob", "*.md", "--check")
    assert r.returncode == 1 and b"keep.md" in r.stderr and b"one.txt" not in r.stderr
    r = run("clean", src, "--diff")
    assert r.returncode == 1 and b"-Featured Image Credit: Alamy" in r.stdout
    r = run("clean", src)
    assert r.returncode == 0
    assert (src / "a" / "b" / "one.txt").read_bytes() == CLEANED.encode()
    assert (src / "keep.md").read_bytes() == DIRTY.encode()


# --- record files -------------------------------------------------------------------------------


def test_jsonl_records_cleaned_other_fields_kept(tmp_path):
    p = tmp_path / "c.jsonl"
    lines = [
        record(0, DIRTY),
        b'{"id": 1,   "text": "Nothing to remove, and odd spacing kept."}\n',
        b"this is not json\n",
        b'{"id": 3}\n',
        b'{"id": 4, "text": 7}\n',
        record(5, DIRTY),
    ]
    p.write_bytes(b"".join(lines))
    r = run("clean", p, "--stats-json", tmp_path / "s.json")
    assert r.returncode == 123, "bad records make the run exit 123"
    err = r.stderr.decode()
    assert "c.jsonl:3: not valid JSON" in err
    assert "c.jsonl:4: record has no field 'text'" in err
    assert "c.jsonl:5: field 'text' is int, not a string" in err
    out = p.read_bytes().splitlines(keepends=True)
    assert len(out) == len(lines)
    assert out[1:5] == lines[1:5], "unchanged and bad records come back byte for byte"
    for i in (0, 5):
        obj = json.loads(out[i])
        assert obj["text"] == CLEANED
        assert obj["meta"] == {"src": f"s{i}"} and obj["id"] == i
        assert list(obj) == ["id", "text", "meta"], "field order kept"
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["documents"] == 3 and stats["documents_changed"] == 2 and stats["record_errors"] == 3
    assert stats["rules"]["credits.photo-credit-line"] == {"documents": 2, "lines": 2, "chars": 56}


def test_jsonl_nested_field_and_removals_field(tmp_path):
    p = tmp_path / "n.jsonl"
    p.write_bytes(json.dumps({"doc": {"body": DIRTY}, "k": 1}).encode() + b"\n")
    r = run("clean", p, "--field", "doc.body", "--removals-field", "removed")
    assert r.returncode == 0, r.stderr
    obj = json.loads(p.read_bytes())
    assert obj["doc"]["body"] == CLEANED and obj["k"] == 1
    assert obj["removed"] == [{"rule": "credits.photo-credit-line", "line": 3, "text": "Featured Image Credit: Alamy"}]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path, suffix):
    plain = tmp_path / "p.jsonl"
    data = make_jsonl(plain, 20)
    comp = tmp_path / f"c{suffix}"
    if suffix.endswith(".gz"):
        comp.write_bytes(gzip.compress(data))
        read = lambda b: gzip.decompress(b)
    else:
        import zstandard

        comp.write_bytes(zstandard.ZstdCompressor().compress(data))
        read = lambda b: zstandard.ZstdDecompressor().stream_reader(b).read()
    assert run("clean", plain).returncode == 0
    r = run("clean", comp)
    assert r.returncode == 0, r.stderr
    assert read(comp.read_bytes()) == plain.read_bytes()


def test_jsonl_stdin(tmp_path):
    data = record(0, DIRTY) + record(1, "Stays.\n")
    r = run("clean", "-", "--format", "jsonl", input=data)
    assert r.returncode == 0
    assert [json.loads(l)["text"] for l in r.stdout.splitlines()] == [CLEANED, "Stays.\n"]


# --- parallel --------------------------------------------------------------------------------------


def test_jobs_give_identical_output_with_byte_range_shards(tmp_path):
    a, b = tmp_path / "a" / "big.jsonl", tmp_path / "b" / "big.jsonl"
    a.parent.mkdir()
    b.parent.mkdir()
    data = make_jsonl(a, 3000)
    b.write_bytes(data)
    env = {**os.environ, "CLEANER_SHARD_BYTES": "20000"}  # force many shards on a small file
    for path, jobs in ((a, "1"), (b, "2")):
        r = subprocess.run([sys.executable, "-m", "cleaner", "clean", "--jobs", jobs, str(path)],
                           capture_output=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != data
    assert len(a.read_bytes().splitlines()) == 3000
    assert not list(b.parent.glob("*.cleaner-tmp")), "shard parts cleaned up"


def test_jobs_on_many_files(tmp_path):
    for i in range(12):
        (tmp_path / f"f{i:02d}.txt").write_bytes(DIRTY.encode())
    r = run("clean", "--jobs", "2", tmp_path, "--stats")
    assert r.returncode == 0
    assert all(p.read_bytes() == CLEANED.encode() for p in tmp_path.glob("*.txt"))
    assert b"12 files cleaned" in r.stderr
    assert b"credits.photo-credit-line" in r.stderr and b"12" in r.stderr


def test_record_error_line_numbers_across_shards(tmp_path):
    p = tmp_path / "s.jsonl"
    good = b"".join(record(i, DIRTY) for i in range(400))
    p.write_bytes(good + b"broken\n" + good)
    env = {**os.environ, "CLEANER_SHARD_BYTES": "5000"}
    r = subprocess.run([sys.executable, "-m", "cleaner", "clean", "--jobs", "2", str(p)],
                       capture_output=True, env=env, timeout=300)
    assert r.returncode == 123
    assert b"s.jsonl:401: not valid JSON" in r.stderr


# --- HTML ----------------------------------------------------------------------------------------------


def test_html_file_gives_txt_beside_it(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(HTML_PAGE)
    r = run("clean", page)
    assert r.returncode == 0, r.stderr
    assert page.read_bytes() == HTML_PAGE, "the HTML is never overwritten"
    text = (tmp_path / "page.txt").read_text()
    assert "The harbour board voted on Tuesday" in text
    assert "Featured Image Credit" not in text
    r = run("clean", "-", "--format", "html", input=HTML_PAGE)
    assert r.returncode == 0
    assert r.stdout.decode() == text


# --- safety valve ------------------------------------------------------------------------------------------


def test_safety_valve(tmp_path):
    mostly = "Featured Image Credit: Alamy\nPhoto credit: Jane Doe\nShort text.\n"
    r = run("clean", "-", input=mostly.encode())
    assert r.stdout == mostly.encode(), "over half would go: left unchanged"
    assert b"left unchanged" in r.stderr and b"max-removed" in r.stderr
    r = run("clean", "-", "--max-removed", "1", input=mostly.encode())
    assert r.stdout == b"Short text.\n"
    r = run("clean", "-", "--max-removed", "0", input=mostly.encode())
    assert r.returncode == 2


def test_safety_valve_keeps_idempotence(bundled):
    text = "Featured Image Credit: Alamy\nPhoto credit: Jane Doe\nShort text.\n"
    for limit in (0.1, 0.5, 0.9, 1.0):
        once = bundled.apply(text, max_removed=limit).text
        assert bundled.apply(once, max_removed=limit).text == once


# --- configuration -----------------------------------------------------------------------------------------


def test_pyproject_config_found_upward_and_overridden(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cleaner]\nignore = ["credits"]\nmax-removed = 0.9\n')
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    r = run("clean", "-", input=DIRTY.encode(), cwd=sub)
    assert r.stdout == DIRTY.encode(), "credits ignored by the config"
    r = run("clean", "-", "--isolated", input=DIRTY.encode(), cwd=sub)
    assert r.stdout == CLEANED.encode()
    r = run("config", cwd=sub)
    out = r.stdout.decode()
    assert 'ignore = ["credits"]' in out and str(tmp_path / "pyproject.toml") in out
    assert "field = \"text\"  # default" in out
    (tmp_path / "pyproject.toml").write_text('[tool.cleaner]\nmax-removed = "lots"\n')
    r = run("clean", "-", input=DIRTY.encode(), cwd=sub)
    assert r.returncode == 2 and b"max-removed" in r.stderr


# --- no half-written files ------------------------------------------------------------------------------------


def test_sigkill_leaves_old_or_new_files(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    body = DIRTY + "".join(f"The harbour board also discussed item {j} at length.\n" for j in range(4000))
    new = None
    for i in range(150):
        (corpus / f"{i:03d}.txt").write_text(body)
    proc = subprocess.Popen([sys.executable, "-m", "cleaner", "clean", "--jobs", "1", "-q", str(corpus)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    # wait until some files are done, then kill hard mid-run
    while time.time() < deadline:
        done = sum(1 for p in corpus.glob("*.txt") if p.stat().st_size < len(body))
        if done >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    states = set()
    for p in corpus.glob("*.txt"):
        content = p.read_text()
        if content == body:
            states.add("old")
        else:
            new = new or content
            assert content == new, f"{p.name} is neither the old nor the new content"
            states.add("new")
    assert "new" in states
    assert not {p.name for p in corpus.iterdir()} - {f"{i:03d}.txt" for i in range(150)} - {
        p.name for p in corpus.glob(".*.cleaner-tmp")
    }


@pytest.mark.parametrize("fail_after", [None, 0, 1])
def test_appending_a_shard_falls_back_to_copying_by_hand(tmp_path, monkeypatch, fail_after):
    # shards are joined in the kernel (copy_file_range); where that fails, at once or
    # part-way, the rest is copied by hand from where it stopped
    from cleaner import corpus

    real = getattr(os, "copy_file_range", None)
    calls = []

    def flaky(src, dst, count):
        calls.append(count)
        if fail_after is not None and len(calls) > fail_after:
            raise OSError(18, "Invalid cross-device link")
        return real(src, dst, min(count, 7)) if real else os.write(dst, os.read(src, min(count, 7)))

    monkeypatch.setattr(os, "copy_file_range", flaky, raising=False)
    src_path, dst_path = tmp_path / "part", tmp_path / "out"
    src_path.write_bytes(b"second part, several chunks long\n")
    with open(dst_path, "wb") as dst:
        dst.write(b"first part\n")
        with open(src_path, "rb") as src:
            corpus._append(src, dst)
        dst.write(b"third\n")
    assert dst_path.read_bytes() == b"first part\nsecond part, several chunks long\nthird\n"
