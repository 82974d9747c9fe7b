"""Errors a person can act on."""

from __future__ import annotations


class CleanerError(Exception):
    """Base class of every error cleaner raises on purpose."""


class RuleError(CleanerError):
    """A rule file is invalid. The message names the file, the line and the key."""

    def __init__(self, path: str, line: int | None, key: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class RuleTimeout(CleanerError):
    """A rule's regex ran past its time limit on one line of one document."""

    def __init__(self, rule_id: str, line: int, timeout: float):
        self.rule_id = rule_id
        self.line = line
        super().__init__(
            f"rule {rule_id} timed out after {timeout:g}s on line {line}; "
            "the document was left unchanged (the pattern probably backtracks catastrophically)"
        )
