"""The Dask engine and the library integrations, against a real two-process Dask cluster.

Everything is compared byte for byte with the local engine's output on the same inputs.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from .test_cli import CLEANED, DIRTY  # noqa: E402
from .test_parquet import run  # noqa: E402

SHARD_ENV = {"CLEANER_SHARD_BYTES": "40000"}  # small files, still several partitions each
N = 2000  # a.jsonl; b.jsonl.gz has a quarter of them, c.parquet half
# The machinery is under test, not the rules: a few groups keep the runs short.
SELECT = "credits,tags,related"

PROSE = "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier."
VARIANTS = [
    DIRTY,
    "Nothing to remove in this one.\n",
    f"Most read\nFerry fares to rise\nNew bridge opens\n\n{PROSE}\nPhoto: AP\n",
    f"Harbour plans\r\n\r\nImage credit: Getty Images\r\n\r\n{PROSE}",  # CRLF, no final newline
    f"{PROSE}\nTags: ferry, harbour, council\n",
    f"{PROSE} Featured Image Credit: Alamy\u00a0und mehr \u00e9t\u00e9 \u200b.\n",
]


def records(n: int = N) -> list[bytes]:
    out = []
    for i in range(n):
        if i == 1500:
            out.append(b"{not json\n")  # a bad record in a later partition
            continue
        text = f"Harbour notes, number {i}\n\n" + VARIANTS[i % len(VARIANTS)]  # unique: Parquet cannot dictionary it away
        rec = {"id": i, "text": text, "meta": {"n": i, "src": f"s{i % 7}"}}
        if i % 500 == 3:
            rec["text"] = None
        out.append(json.dumps(rec, ensure_ascii=i % 2 == 0).encode() + b"\n")
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    data = b"".join(records())
    (root / "a.jsonl").write_bytes(data)
    (root / "sub").mkdir()
    (root / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(data[: len(data) // 4].rsplit(b"\n", 1)[0] + b"\n"))
    rows = [json.loads(line) for line in records(N // 2)]
    table = pa.Table.from_pylist(rows).replace_schema_metadata({"origin": "test"})
    pq.write_table(table, root / "sub" / "c.parquet", row_group_size=150, compression="zstd")
    (root / "notes.txt").write_text(DIRTY)  # not a record file: not walked by the Dask engine
    return root


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0") as c:
        yield c.scheduler_address


def cli(*args, real: bool = False):
    """``cleaner clean --select SELECT ARGS``: in this process, or with ``real`` in a new one."""
    argv = ["clean", "--select", SELECT, *map(str, args)]
    if real:
        return subprocess.run([sys.executable, "-m", "cleaner", *argv], capture_output=True, timeout=300,
                              env={**os.environ, **SHARD_ENV})
    return run(*argv, shard_bytes=int(SHARD_ENV["CLEANER_SHARD_BYTES"]))


GLOBS = ("--glob", "*.jsonl", "--glob", "*.jsonl.gz", "--glob", "*.parquet")
NAMES = ["a.jsonl", "sub/b.jsonl.gz", "sub/c.parquet"]


@pytest.fixture(scope="module")
def local(corpus, tmp_path_factory):
    """The local engine's output, stats and messages: what the Dask engine must reproduce."""
    out = tmp_path_factory.mktemp("local")
    stats = out / "stats.json"
    r = cli(corpus, *GLOBS, "--jobs", "1", "--output-dir", out / "files", "--stats-json", stats)
    assert r.returncode == 123, r.stderr  # the bad and null records
    return out / "files", json.loads(stats.read_text()), r.stderr


def warnings(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode().splitlines() if line.startswith("warning:")]


def test_partitions_split_big_files(corpus):
    from cleaner import corpus as corpus_mod
    from cleaner.dask_engine import partition, plan

    sources, errors = plan([str(corpus)], None, corpus_mod.Options(), str(corpus / "out"))
    assert not errors
    assert [os.path.relpath(s.src.url, corpus) for s in sources] == NAMES, "record files only, sorted"
    counts = {Path(s.src.url).name: len(partition(s, 40000, "t")) for s in sources}
    assert counts["a.jsonl"] > 3 and counts["c.parquet"] > 1, counts
    assert counts["b.jsonl.gz"] == 1, "a compressed file cannot be split"
    parts = partition(sources[0], 40000, "t")
    assert parts[0].start == 0 and parts[-1].end == sources[0].size
    assert all(p.end == q.start for p, q in zip(parts, parts[1:])), "byte ranges tile the file"


def test_cli_on_cluster_matches_local_engine(corpus, cluster, local, tmp_path):
    local_files, local_stats, local_err = local
    stats = tmp_path / "stats.json"
    r = cli(corpus, "--engine", "dask", "--scheduler", cluster, "--output-dir", tmp_path / "out",
            "--stats-json", stats, "--stats", real=True)
    assert r.returncode == 123, r.stderr
    for name in NAMES:
        assert (tmp_path / "out" / name).read_bytes() == (local_files / name).read_bytes(), name
    assert not (tmp_path / "out" / "notes.txt").exists()
    assert json.loads(stats.read_text()) == local_stats, "per-rule stats gathered from the workers"
    assert local_stats["documents_changed"] > 1000
    assert warnings(r.stderr) == warnings(local_err), "same notes, same line numbers"
    assert "a.jsonl:1501: not valid JSON" in r.stderr.decode()
    assert b"credits.photo-credit-line" in r.stderr and b"3 files cleaned" in r.stderr
    assert not list((tmp_path / "out").rglob("*cleaner-tmp"))


def test_in_place_on_cluster(corpus, cluster, local, tmp_path):
    local_files, _, _ = local
    work = tmp_path / "work"
    shutil.copytree(corpus, work)
    os.chmod(work / "a.jsonl", 0o600)
    r = cli(work, "--engine", "dask", "--scheduler", cluster, "-q")
    assert r.returncode == 123, r.stderr
    for name in NAMES:
        assert (work / name).read_bytes() == (local_files / name).read_bytes(), name
    assert os.stat(work / "a.jsonl").st_mode & 0o777 == 0o600, "mode kept"
    assert (work / "notes.txt").read_text() == DIRTY
    assert not list(work.rglob("*cleaner-tmp")), "parts and temp files cleaned up"
    # a second run (through fsspec, as for s3:// and the like) changes and rewrites nothing
    inodes = {name: os.stat(work / name).st_ino for name in NAMES}
    r = cli("file://" + str(work), "--engine", "dask", "--scheduler", cluster)
    assert r.returncode == 123 and b"3 files left unchanged." in r.stderr, r.stderr
    assert {name: os.stat(work / name).st_ino for name in NAMES} == inodes


def test_removals_field_and_fsspec_urls(corpus, cluster, tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_bytes(b"".join((corpus / "a.jsonl").read_bytes().splitlines(keepends=True)[:600]))
    r = cli(src, "--removals-field", "removed", "--output-dir", tmp_path / "local", "--jobs", "1")
    assert r.returncode == 123
    r = cli("file://" + str(src), "--engine", "dask", "--scheduler", cluster,
            "--removals-field", "removed", "--output-dir", "file://" + str(tmp_path / "dask"))
    assert r.returncode == 123, r.stderr
    assert (tmp_path / "dask" / "a.jsonl").read_bytes() == (tmp_path / "local" / "a.jsonl").read_bytes()
    first = json.loads((tmp_path / "dask" / "a.jsonl").read_bytes().splitlines()[0])
    assert first["removed"] == [{"rule": "credits.photo-credit-line", "line": 5, "text": "Featured Image Credit: Alamy"}]


def test_a_failing_file_is_reported_and_left_alone(cluster, tmp_path):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b"".join(records(200)))[:-40])  # truncated
    good = tmp_path / "good.jsonl"
    good.write_bytes(b"".join(records(300)))
    before_bad, before_good = bad.read_bytes(), good.read_bytes()
    r = cli(tmp_path, "--engine", "dask", "--scheduler", cluster)
    assert r.returncode == 123
    assert b"bad.jsonl.gz: cannot read" in r.stderr and b"1 file cleaned, 1 file failed" in r.stderr, r.stderr
    assert bad.read_bytes() == before_bad
    assert good.read_bytes() != before_good and len(good.read_bytes().splitlines()) == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl.gz", "good.jsonl"], "no temp file left"


def test_local_cluster_started_without_scheduler(corpus, local, tmp_path):
    local_files, _, _ = local
    gz = corpus / "sub" / "b.jsonl.gz"
    r = cli(gz, "--engine", "dask", "--jobs", "2", "--output-dir", tmp_path, real=True)
    assert r.returncode == 123, r.stderr
    assert (tmp_path / "b.jsonl.gz").read_bytes() == (local_files / "sub" / "b.jsonl.gz").read_bytes()


def test_usage_errors(corpus, tmp_path):
    txt = tmp_path / "page.txt"
    txt.write_text(DIRTY)
    r = cli(txt, corpus / "a.jsonl", "--engine", "dask")
    assert r.returncode == 2 and b"record files only" in r.stderr and b"page.txt" in r.stderr
    assert txt.read_text() == DIRTY
    r = cli("-", "--engine", "dask")
    assert r.returncode == 2 and b"not stdin" in r.stderr
    r = cli(txt, "--scheduler", "tcp://127.0.0.1:1")
    assert r.returncode == 2 and b"--scheduler needs --engine dask" in r.stderr
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        r = cli(corpus / "a.jsonl", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "--check")
    assert r.returncode == 2 and b"cannot reach the Dask scheduler at tcp://127.0.0.1:1" in r.stderr
    assert b"Traceback" not in r.stderr
    r = cli(corpus / "nope.jsonl", "--engine", "dask", "--check")
    assert r.returncode == 123 and b"nope.jsonl: no such file or directory" in r.stderr
    code = (
        "import sys; sys.modules['distributed'] = None; "
        f"sys.argv = ['cleaner', 'clean', '--engine', 'dask', {str(corpus / 'a.jsonl')!r}]; "
        "from cleaner.cli import main; main()"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert r.returncode == 2 and b"pip install 'cleaner[dask]'" in r.stderr and b"Traceback" not in r.stderr


# --- the library ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(cluster):
    from distributed import Client

    with Client(cluster, set_as_default=False) as c:
        yield c


def test_bag_on_cluster_matches_local_engine(corpus, client, local):
    import dask.bag as db

    from cleaner.integrations.dask import clean_bag

    local_files, _, _ = local
    lines = (corpus / "a.jsonl").read_bytes().splitlines()
    good = [json.loads(line) for line in lines if line.startswith(b"{\"")]
    bag = db.from_sequence(good, npartitions=8)
    got = clean_bag(bag, select=SELECT).compute(scheduler=client.get)
    want = [json.loads(line) for line in (local_files / "a.jsonl").read_bytes().splitlines() if line.startswith(b"{\"")]
    assert got == want
    texts = db.from_sequence([VARIANTS[0], None, VARIANTS[4]], npartitions=2)
    assert clean_bag(texts, select="credits").compute(scheduler=client.get) == [CLEANED, None, VARIANTS[4]]


def test_dataframe_on_cluster_matches_local_engine(corpus, client, local):
    import dask.dataframe as dd

    from cleaner.integrations.dask import clean_dataframe

    local_files, _, _ = local
    ddf = dd.read_parquet(str(corpus / "sub" / "c.parquet"), split_row_groups=True)
    assert ddf.npartitions > 1
    got = clean_dataframe(ddf, "text", removals_column="removed", select=SELECT).compute(scheduler=client.get)
    want = pq.read_table(local_files / "sub" / "c.parquet")
    assert pa.array(got["text"]).to_pylist() == want.column("text").to_pylist()
    assert got["id"].tolist() == want.column("id").to_pylist()
    assert got["removed"].iloc[0] == [{"rule": "credits.photo-credit-line", "line": 5, "text": "Featured Image Credit: Alamy"}]


def test_cleaner_callable_pickles_and_matches_local_engine(local, client):
    from cleaner import Cleaner, load_rules

    c = Cleaner()
    blob = pickle.dumps(c)
    c2 = pickle.loads(blob)
    assert c2.ruleset.ids == load_rules().ids
    assert [c2(v) for v in VARIANTS] == [load_rules().apply(v, 0.5).text for v in VARIANTS]
    assert c2(VARIANTS[0]) == CLEANED and c2(None) is None
    # on the cluster's worker processes, as Spark or Ray would call it
    assert client.submit(c.batch, VARIANTS).result() == c.batch(VARIANTS)
    only = Cleaner(select="tags", max_removed=1)
    assert only(VARIANTS[0]) == VARIANTS[0] and "Tags:" not in only(VARIANTS[4])
    with pytest.raises(Exception, match="no rule or group named 'nope'"):
        Cleaner(select=["nope"])
    rec = {"doc": {"body": DIRTY}, "k": 1}
    out = Cleaner(field="doc.body").record(rec, removals_field="removed")
    assert out["doc"]["body"] == CLEANED and rec["doc"]["body"] == DIRTY, "the input record is not modified"
    assert out["removed"][0]["rule"] == "credits.photo-credit-line"


def test_hf_clean_batch():
    from cleaner.integrations.hf import clean_batch

    batch = {"text": [DIRTY, None, "Plain.\n"], "id": [1, 2, 3]}
    out = clean_batch(batch, removals_field="removed")
    assert out == {
        "text": [CLEANED, None, "Plain.\n"],
        "removed": [[{"rule": "credits.photo-credit-line", "line": 3, "text": "Featured Image Credit: Alamy", "span": None}], None, []],
    }
    with pytest.raises(KeyError, match="no column 'body'"):
        clean_batch(batch, field="body")
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict(batch).map(clean_batch, batched=True, batch_size=2)
    assert ds.to_dict() == {"text": [CLEANED, None, "Plain.\n"], "id": [1, 2, 3]}
