"""Throughput benchmark: cleaner against a naive loop and grep, in one run.

Standalone: it makes its own deterministic corpus (benchmarks/corpus.py). Reports
(medians over --rounds, ratios computed round by round on the same text):

- the library (bundled rules, RE2 pre-pass) on plain text, MB/s;
- the same rules as a naive loop: every pattern of every rule on every line;
- ``grep -v -P`` with the bundled drop-line patterns as one alternation;
- the CLI end to end on JSONL with --jobs 1 and --jobs 2, and its peak RSS;
- HTML mode: the share of time spent in the rules versus trafilatura, on the
  benchmark's pages and (with --real) on real ones.

    python benchmarks/throughput.py                 # about 5 minutes on 2 cores
    python benchmarks/throughput.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpus  # noqa: E402

from cleaner import load_rules  # noqa: E402
from cleaner.engine import RuleSet  # noqa: E402
from cleaner.kinds import DropBlock, DropLine, Strip, TruncateTail  # noqa: E402


def mb(n_bytes: int) -> float:
    return n_bytes / 1e6


def sample_docs(mib: float) -> list[str]:
    return [text for _, text in corpus.generate(mib)]


def time_library(ruleset: RuleSet, docs: list[str]) -> float:
    ruleset.forget()  # no memory of the lines an earlier round saw: every round starts cold
    t = time.perf_counter()
    for d in docs:
        ruleset.apply(d)
    return time.perf_counter() - t


def time_naive(ruleset: RuleSet, docs: list[str]) -> float:
    """Every pattern of every rule on every line, one regex call at a time."""
    checks = []
    for r in ruleset.rules:
        if isinstance(r, (DropLine, TruncateTail)):
            checks += [p.compiled.fullmatch for p in r.patterns]
        elif isinstance(r, DropBlock):
            checks += [p.compiled.fullmatch for p in r.headers]
        elif isinstance(r, Strip):
            checks += [p.compiled.search for p in r.patterns]
    t = time.perf_counter()
    for d in docs:
        for line in d.split("\n"):
            s = line.strip()
            for check in checks:
                check(s)
    return time.perf_counter() - t


_NAME = re.compile(r"\(\?P?<([A-Za-z_]\w*)>|\(\?&(\w+)\)|\(\?P>(\w+)\)|\(\?P=(\w+)\)")


def one_line(src: str) -> str:
    """A verbose-mode pattern on one line (grep reads one pattern per line): comments
    out, newlines as spaces (which (?x) ignores outside classes)."""
    if "\n" not in src:
        return src
    out, i, in_class = [], 0, False
    while i < len(src):
        c = src[i]
        if c == "\\":
            out.append(src[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
        elif c == "#":
            j = src.find("\n", i)
            i = len(src) if j < 0 else j
            continue
        else:
            out.append(" " if c == "\n" else c)
        i += 1
    return "".join(out)


def pcre_patterns(ruleset: RuleSet, grep: str) -> tuple[list[str], int]:
    """The drop-line patterns as grep -P line patterns (group names made unique per
    pattern); and how many grep's PCRE cannot compile."""
    parts, skipped = [], 0
    k = 0
    for r in ruleset.rules:
        if not isinstance(r, DropLine):
            continue
        for p in r.patterns:
            k += 1

            def rename(m: re.Match, k: int = k) -> str:
                name = next(g for g in m.groups() if g)
                text = m.group(0)
                return text.replace(name, f"p{k}_{name}")

            src = one_line(_NAME.sub(rename, p.source))
            flags = "(?i)" if r.ignorecase else ""
            one = rf"^\s*(?:{flags}(?:{src}))\s*$"
            probe = subprocess.run([grep, "-P", "-e", one, "/dev/null"], capture_output=True)
            if probe.returncode == 2:
                skipped += 1
                continue
            parts.append(one)
    return parts, skipped


def grep_chunks(grep: str, parts: list[str], tmp: Path) -> list[Path]:
    """The patterns as few alternations as grep accepts ("regular expression is too
    large" past PCRE's size limit), one pattern file each."""
    files: list[Path] = []

    def add(chunk: list[str]) -> None:
        f = tmp / f"chunk{len(files)}.pcre"
        f.write_text("|".join(f"(?:{p})" for p in chunk), encoding="utf-8")
        r = subprocess.run([grep, "-P", "-f", str(f), "/dev/null"], capture_output=True)
        if r.returncode == 2 and len(chunk) > 1:
            f.unlink()
            add(chunk[: len(chunk) // 2])
            add(chunk[len(chunk) // 2:])
        elif r.returncode != 2:
            files.append(f)

    add(parts)
    return files


def time_grep(grep: str, chunks: list[Path], path: Path) -> float:
    """``grep -v -P`` with every chunk in turn, each on the previous one's output (what
    a pipeline does, one stage at a time): total wall time."""
    src = path
    total = 0.0
    for i, f in enumerate(chunks):
        dst = path.with_suffix(f".g{i % 2}")
        t = time.perf_counter()
        with open(dst, "wb") as out:
            subprocess.run([grep, "-v", "-P", "-f", str(f), str(src)], stdout=out, check=False)
        total += time.perf_counter() - t
        src = dst
    return total


def compare(lib: RuleSet, rules: RuleSet, docs: list[str], rounds: int, grep=None, prefix: str = "") -> dict:
    """The library against the naive loop (and ``grep()``, timed on the same text),
    round by round: MB/s from the medians, ratios as medians of the per-round ratios."""
    size = sum(len(d.encode()) for d in docs)
    lib_t, naive_t, grep_t, r_naive, r_grep = [], [], [], [], []
    for _ in range(rounds):
        a = time_library(lib, docs)
        b = time_naive(rules, docs)
        lib_t.append(a)
        naive_t.append(b)
        r_naive.append(b / a)
        if grep is not None:
            g = grep()
            grep_t.append(g)
            r_grep.append(g / a)
    med = statistics.median
    out = {f"{prefix}MB": round(mb(size), 2)} if prefix else {}
    out[f"{prefix}library_MBps"] = round(mb(size) / med(lib_t), 2)
    out[f"{prefix}naive_MBps"] = round(mb(size) / med(naive_t), 2)
    out[f"{prefix}library_vs_naive"] = round(med(r_naive), 2)
    if grep_t:
        out[f"{prefix}grep_MBps"] = round(mb(size) / med(grep_t), 2)
        out[f"{prefix}library_vs_grep"] = round(med(r_grep), 2)
    return out


def run_cli(args: list[str]) -> tuple[float, int | None]:
    """Wall time and peak RSS (kB) of one CLI run."""
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    cmd = [sys.executable, "-m", "cleaner", *args]
    t = time.perf_counter()
    if timer:
        r = subprocess.run([timer, "-f", "%M", *cmd], capture_output=True, text=True)
        rss = int(r.stderr.strip().splitlines()[-1]) if r.stderr.strip() else None
    else:
        subprocess.run(cmd, capture_output=True)
        rss = None
    return time.perf_counter() - t, rss


def html_pages(docs: list[str]) -> list[bytes]:
    """News-site pages around the sample documents, with what real pages carry
    (scripts, styles, metadata, a navigation bar, a sidebar of links, figures, a
    footer), so that trafilatura does the work it does on real pages."""
    import random

    rng = random.Random(7)
    words = corpus.CONTENT

    def link_list(n: int) -> str:
        return "".join(
            f"<li><a href='/{rng.choice(words)}/{i}'>{' '.join(rng.sample(words, 3)).title()}</a></li>" for i in range(n)
        )

    style = "<style>" + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}" for i in range(400)) + "</style>"
    script = "<script>window.__STATE__=" + json.dumps({"items": [{"id": i, "t": rng.choice(words)} for i in range(600)]}) + "</script>"
    pages = []
    for d in docs:
        body = []
        for line in d.split("\n"):
            if not line.strip():
                continue
            if rng.random() < 0.08:
                body.append(f"<figure><img src='/i/{rng.randrange(10**6)}.jpg' alt='{line[:40]}'>"
                            f"<figcaption>{line[:80]}</figcaption></figure>")
            body.append(f"<p>{line}</p>")
        pages.append((
            f"<!doctype html><html><head><meta charset='utf-8'><title>{d.split(chr(10))[0]}</title>"
            f"<meta name='description' content='{d[:150]}'>{style}{script}</head><body>"
            f"<header><nav><ul>{link_list(40)}</ul></nav></header>"
            f"<main><article><h1>{d.split(chr(10))[0]}</h1>{''.join(body)}</article>"
            f"<aside><h2>Most read</h2><ol>{link_list(10)}</ol><h2>More from the site</h2><ul>{link_list(20)}</ul></aside></main>"
            f"<footer><ul>{link_list(30)}</ul><p>Copyright 2024 Example News Ltd. All rights reserved.</p></footer>"
            f"{script}</body></html>"
        ).encode())
    return pages


def read_page(path: Path) -> bytes:
    import gzip

    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def html_share(lib: RuleSet, pages: list[bytes], rounds: int, prefix: str = "") -> dict:
    """The rules' share of the time of HTML mode: the CLI's own extraction (default
    options) against the rules on what it extracted, medians of ``rounds``, each
    round of the rules starting with an empty line memory; the rules meet the text
    once untimed first (their automata are built once per process)."""
    from cleaner.corpus import Options, extract_html

    opts = Options()
    extract_html(pages[0], opts)  # trafilatura's own first-call set-up, untimed
    extract_times, texts = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        texts = [extract_html(p, opts) for p in pages]
        extract_times.append(time.perf_counter() - t)
    time_library(lib, texts)
    shares, rules_times = [], []
    for t_extract in extract_times:
        t_rules = time_library(lib, texts)
        rules_times.append(t_rules)
        shares.append(t_rules / (t_rules + t_extract))
    t_extract, t_rules = statistics.median(extract_times), statistics.median(rules_times)
    return {
        f"{prefix}html_pages": len(pages),
        f"{prefix}html_extract_ms_per_page": round(1000 * t_extract / len(pages), 1),
        f"{prefix}html_rules_ms_per_page": round(1000 * t_rules / len(pages), 2),
        f"{prefix}html_rules_share": round(statistics.median(shares), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="cleaner throughput benchmark")
    ap.add_argument("--sample-mib", type=float, default=4, help="text for library / naive / grep")
    ap.add_argument("--jsonl-mib", type=float, default=100, help="JSONL for the CLI runs (startup, about 1 s a process, weighs less on more)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--html-pages", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="small sizes, one round")
    ap.add_argument("--json", type=Path, help="write the results here too")
    ap.add_argument("--real", type=Path, help="also time the library and the naive loop on real extracted "
                    "text: a folder of *.txt files (e.g. ../shared/eval/data/wcxb-dev, its *.traf.txt), and "
                    "HTML mode on the *.html(.gz) pages there")
    ap.add_argument("--real-html-pages", type=int, default=200, help="real pages for HTML mode (with --real)")
    args = ap.parse_args()
    if args.quick:
        args.sample_mib, args.jsonl_mib, args.rounds, args.html_pages = 0.5, 2, 1, 5

    rules = load_rules()
    lib = RuleSet(rules.rules, prefilter=True)
    docs = sample_docs(args.sample_mib)
    size = sum(len(d.encode()) for d in docs)
    results: dict = {"sample_MB": round(mb(size), 2), "rules": len(rules)}
    # one untimed pass first: it builds the pre-pass and its automata (a once per
    # process cost, reported apart; grep pays its own compile in every run below)
    t = time.perf_counter()
    lib.apply(docs[0])
    results["prepass_build_s"] = round(time.perf_counter() - t, 2)
    results["library_first_pass_s"] = round(time_library(lib, docs), 2)

    grep = shutil.which("grep")
    tmp = Path(tempfile.mkdtemp(prefix="cleaner-bench-"))
    text_path = tmp / "sample.txt"
    text_path.write_text("\n".join(docs), encoding="utf-8")
    chunks: list[Path] = []
    if grep and subprocess.run([grep, "-P", "x", "/dev/null"], capture_output=True).returncode != 2:
        parts, n_skipped = pcre_patterns(rules, grep)
        chunks = grep_chunks(grep, parts, tmp)
        results["grep_patterns"] = {"used": len(parts), "not_pcre": n_skipped, "grep_runs": len(chunks)}

    results.update(compare(lib, rules, docs, args.rounds,
                           grep=(lambda: time_grep(grep, chunks, text_path)) if chunks else None))
    if args.real:
        real = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(args.real.glob("*.traf.txt"))
                or sorted(args.real.glob("*.txt"))]
        time_library(lib, real)  # its automata meet this text once untimed, as above
        results.update(compare(lib, rules, real, args.rounds, prefix="real_"))

    # CLI end to end on JSONL
    src = tmp / "corpus.jsonl"
    corpus.write_jsonl(src, args.jsonl_mib)
    jsize = src.stat().st_size
    cli: dict = {}
    outputs = {}
    for jobs in ("1", "2"):
        times, rss = [], []
        for _ in range(args.rounds):
            out = tmp / f"out{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            t, m = run_cli(["clean", "-q", "--jobs", jobs, "--output-dir", str(out), str(src)])
            times.append(t)
            rss.append(m)
            outputs[jobs] = (out / src.name).read_bytes()
        cli[jobs] = (statistics.median(times), max((x for x in rss if x), default=None))
    results["jsonl_MB"] = round(mb(jsize), 1)
    results["cli_jobs1_MBps"] = round(mb(jsize) / cli["1"][0], 2)
    results["cli_jobs2_MBps"] = round(mb(jsize) / cli["2"][0], 2)
    results["cli_jobs2_vs_jobs1"] = round(cli["1"][0] / cli["2"][0], 2)
    results["cli_peak_rss_MB_per_process"] = {j: (round(v[1] / 1024, 1) if v[1] else None) for j, v in cli.items()}
    results["cli_outputs_identical"] = outputs["1"] == outputs["2"]

    # HTML mode: trafilatura (as the CLI calls it) versus the rules, on the benchmark's
    # pages and, with --real, on the real pages beside the extracted text
    results.update(html_share(lib, html_pages(docs[: args.html_pages]), args.rounds))
    if args.real:
        real_pages = [read_page(p) for p in sorted([*args.real.glob("*.html.gz"), *args.real.glob("*.html")])]
        if real_pages:
            results.update(html_share(lib, real_pages[: args.real_html_pages], args.rounds, prefix="real_"))

    shutil.rmtree(tmp, ignore_errors=True)
    width = max(map(len, results))
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
