"""The real pre-commit, against this checkout, on a throwaway corpus repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_cli import CLEANED, DIRTY

pytestmark = pytest.mark.skipif(
    not (ROOT / ".git").exists() or shutil.which("git") is None,
    reason="needs git and a git checkout of the project (pre-commit try-repo reads the repository)",
)


def sh(*args, cwd, env, check=True):
    r = subprocess.run(list(map(str, args)), cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"{args} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def corpus_repo(tmp_path_factory):
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "corpus"
    repo.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "cache"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    sh("git", "init", "-q", cwd=repo, env=env)
    return repo, env


def pre_commit(repo, env, hook):
    beside = Path(sys.executable).parent / "pre-commit"
    exe = str(beside) if beside.exists() else shutil.which("pre-commit")
    assert exe, "pre-commit is a test dependency: pip install '.[test]'"
    return sh(exe, "try-repo", ROOT, hook, "--all-files", cwd=repo, env=env, check=False)


def test_fixing_hook_then_check_hook(corpus_repo):
    repo, env = corpus_repo
    dirty = repo / "article.txt"
    dirty.write_text(DIRTY)
    (repo / "notes.md").write_text(DIRTY)  # not a .txt: the hooks leave it alone
    sh("git", "add", ".", cwd=repo, env=env)

    r = pre_commit(repo, env, "cleaner")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "files were modified by this hook" in r.stdout
    assert dirty.read_text() == CLEANED
    assert (repo / "notes.md").read_text() == DIRTY

    sh("git", "add", ".", cwd=repo, env=env)
    r = pre_commit(repo, env, "cleaner")
    assert r.returncode == 0, r.stdout + r.stderr

    other = repo / "second.txt"
    other.write_text(DIRTY)
    sh("git", "add", ".", cwd=repo, env=env)
    r = pre_commit(repo, env, "cleaner-check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "would clean" in r.stdout
    assert other.read_text() == DIRTY, "the check hook never writes"
