"""The command-line contract (black/ruff style), run as a real subprocess."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

DIRTY = (
    "Harbour Board Approves New Ferry Terminal\n"
    "\n"
    "Featured Image Credit: Alamy\n"
    "\n"
    "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier.\n"
)
CLEANED = (
    "Harbour Board Approves New Ferry Terminal\n"
    "\n"
    "The harbour board voted on Tuesday to approve a new ferry terminal at the western pier.\n"
)
# CRLF, a no-break space, a zero-width space and no final newline: nothing to remove
ODD = "Wind farm plans\u00a0approved\r\nThe vote\u200b was close, said the mayor.\r\nMore later"


def run(*args, input: bytes | None = None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "cleaner", *map(str, args)],
        input=input, capture_output=True, cwd=cwd, timeout=120,
    )


@pytest.fixture
def dirty(tmp_path):
    p = tmp_path / "dirty.txt"
    p.write_bytes(DIRTY.encode())
    return p


@pytest.fixture
def odd(tmp_path):
    p = tmp_path / "odd.txt"
    p.write_bytes(ODD.encode())
    return p


def test_stdin_to_stdout():
    r = run("clean", "-", input=DIRTY.encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout == CLEANED.encode()
    assert r.stderr == b""


def test_piped_stdin_without_path():
    r = run("clean", input=DIRTY.encode())
    assert r.returncode == 0
    assert r.stdout == CLEANED.encode()


def test_pass_through_is_byte_identical(odd):
    r = run("clean", "-", input=ODD.encode())
    assert r.returncode == 0
    assert r.stdout == ODD.encode()
    before = odd.stat().st_mtime_ns
    r = run("clean", odd)
    assert r.returncode == 0
    assert odd.read_bytes() == ODD.encode()
    assert odd.stat().st_mtime_ns == before, "an unchanged file must not be rewritten"


def test_check_never_writes(dirty, odd):
    r = run("clean", "--check", odd)
    assert r.returncode == 0
    r = run("clean", "--check", dirty, odd)
    assert r.returncode == 1
    assert b"would clean" in r.stderr and b"dirty.txt" in r.stderr
    assert r.stdout == b""
    assert dirty.read_bytes() == DIRTY.encode()


def test_diff_shows_removed_lines(dirty):
    r = run("clean", "--diff", dirty)
    assert r.returncode == 1
    assert b"-Featured Image Credit: Alamy\n" in r.stdout
    assert r.stdout.startswith(b"--- a/")
    assert dirty.read_bytes() == DIRTY.encode()


def test_in_place_keeps_mode_and_second_run_is_noop(dirty):
    os.chmod(dirty, 0o640)
    r = run("clean", dirty)
    assert r.returncode == 0, r.stderr
    assert dirty.read_bytes() == CLEANED.encode()
    assert stat.S_IMODE(dirty.stat().st_mode) == 0o640
    assert b"1 file cleaned" in r.stderr
    assert not list(dirty.parent.glob("*.cleaner-tmp")), "temp file left behind"
    r = run("clean", "--check", dirty)
    assert r.returncode == 0
    r = run("clean", dirty)
    assert b"1 file left unchanged" in r.stderr


def test_bad_regex_exits_2_and_touches_nothing(tmp_path, dirty):
    rules = tmp_path / "myrules" / "credits"
    rules.mkdir(parents=True)
    (rules / "broken.yaml").write_text(textwrap.dedent("""\
        kind: drop-line
        message: A broken rule.
        patterns:
          - 'Credit: (\\w+'
        examples:
          - in: "Credit: AP\\n"
            out: ""
          - in: "Text.\\n"
        """))
    r = run("clean", "--rules", tmp_path / "myrules", dirty)
    assert r.returncode == 2
    assert b"broken.yaml:4: patterns[0]: invalid regex" in r.stderr
    assert dirty.read_bytes() == DIRTY.encode()
    assert r.stdout == b""


def test_missing_file_among_others_exits_123(tmp_path, dirty):
    other = tmp_path / "other.txt"
    other.write_bytes(DIRTY.encode())
    r = run("clean", dirty, tmp_path / "missing.txt", other)
    assert r.returncode == 123
    assert b"missing.txt" in r.stderr
    assert b"Traceback" not in r.stderr
    assert dirty.read_bytes() == CLEANED.encode()
    assert other.read_bytes() == CLEANED.encode()


def test_invalid_utf8_passes_through_byte_for_byte():
    data = b"Caf\xe9 opens on the pier \xff\xfe today, the owner said.\nFeatured Image Credit: Alamy\nLast line \x80."
    r = run("clean", "-", input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Caf\xe9 opens on the pier \xff\xfe today, the owner said.\nLast line \x80."


def test_directory_is_walked(tmp_path):
    nested = tmp_path / "corpus" / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "one.txt").write_bytes(DIRTY.encode())
    (tmp_path / "corpus" / "two.md").write_bytes(DIRTY.encode())
    r = run("clean", tmp_path / "corpus")
    assert r.returncode == 0
    assert (nested / "one.txt").read_bytes() == CLEANED.encode()
    assert (tmp_path / "corpus" / "two.md").read_bytes() == DIRTY.encode()


def test_explain_names_rule_and_line(dirty):
    r = run("explain", dirty)
    assert r.returncode == 0
    line = r.stdout.decode().strip()
    assert "3" in line.split()[0]
    assert "credits.photo-credit-line" in line
    assert "Featured Image Credit: Alamy" in line
    assert b"\x1b[" not in r.stdout, "no colour when stdout is not a TTY"
    r = run("explain", "--color", dirty)
    assert b"\x1b[" in r.stdout


def test_verbose_reports_rule_hits(dirty):
    r = run("clean", "-v", "--check", dirty)
    assert b"credits.photo-credit-line" in r.stderr


def test_select_and_ignore():
    r = run("clean", "-", "--ignore", "credits", input=DIRTY.encode())
    assert r.stdout == DIRTY.encode()
    r = run("clean", "-", "--select", "credits.photo-credit-line", input=DIRTY.encode())
    assert r.stdout == CLEANED.encode()
    r = run("clean", "-", "--select", "no-such-group", input=DIRTY.encode())
    assert r.returncode == 2
    assert b"no-such-group" in r.stderr


def test_usage_error_is_2():
    r = run("clean", "--no-such-flag")
    assert r.returncode == 2


def test_rules_list_and_show():
    r = run("rules")
    assert r.returncode == 0
    assert b"credits.photo-credit-line" in r.stdout
    r = run("rules", "credits.photo-credit-line")
    assert r.returncode == 0
    assert b"examples:" in r.stdout and b"Featured Image Credit: Alamy" in r.stdout
    r = run("rules", "nope.nope")
    assert r.returncode == 2


def test_test_command(tmp_path):
    r = run("test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert b" 0 failed" in r.stdout
    folder = tmp_path / "mine" / "g"
    folder.mkdir(parents=True)
    (folder / "wrong.yaml").write_text(textwrap.dedent("""\
        kind: drop-line
        message: A rule whose example is wrong.
        patterns: ['Credit: \\w+']
        examples:
          - in: "Credit: AP\\n"
            out: "Credit: AP\\nsomething\\n"
          - in: "Text.\\n"
        """))
    r = run("test", tmp_path / "mine")
    assert r.returncode == 1
    assert b"g.wrong: examples[0]" in r.stdout
    (folder / "wrong.yaml").write_text("kind: drop-line\n")
    r = run("test", tmp_path / "mine")
    assert r.returncode == 2
    assert b"wrong.yaml:1: message: required key is missing" in r.stderr


def test_runaway_rule_fails_that_file_only(tmp_path, dirty):
    rules = tmp_path / "slow" / "g"
    rules.mkdir(parents=True)
    (rules / "slow.yaml").write_text(textwrap.dedent("""\
        kind: drop-line
        message: A pattern that backtracks catastrophically.
        patterns: ['(?=(?:(?:a|a)+)+b)a+c']
        examples:
          - in: "ab\\n"
            out: ""
          - in: "Text.\\n"
        """))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"a" * 40 + b"c\n")
    r = run("clean", "--rules", tmp_path / "slow", "--no-bundled", victim, dirty)
    assert r.returncode == 123
    assert b"g.slow timed out" in r.stderr
    assert victim.read_bytes() == b"a" * 40 + b"c\n"


def test_lang_selects_rules(tmp_path):
    r = run("clean", "-", "--lang", "de", input=DIRTY.encode())
    assert r.stdout == DIRTY.encode(), "English rules do not run for --lang de"
    r = run("clean", "-", "--lang", "en,de", input=DIRTY.encode())
    assert r.stdout == CLEANED.encode()
