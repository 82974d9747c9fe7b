"""``Cleaner``: one picklable callable for Spark, Ray, multiprocessing or any ``map``.

Pickling ships the rule set itself, not the names of rule files: a worker
cleans with exactly the rules the driver loaded (your own rule folders too,
even where those folders do not exist), whatever version of the rule files it
has. Measured with the bundled rules (104 rules): the pickle is about 780 KB
(240 KB compressed; word lists make most of it) and unpickles in a fresh process
in about 35 ms, where loading the rules from YAML takes about 1 s. So it is sent
once per task (Spark, Ray) or once per worker (Dask, ``sc.broadcast``,
``ray.put``) and costs little; reloading the bundled rules on unpickle would make
the pickle tiny but cost a second per process, and could silently clean with
other rules than the driver's (another version on the workers, or the driver's
own rule folders missing there).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Iterable

from ..config import DEFAULT_MAX_REMOVED
from ..engine import Removal, Result, RuleSet, load_rules
from ..errors import CleanerError
from ..rules import matches_selector


def removal_row(r: Removal) -> dict[str, Any]:
    """A removal with a fixed set of keys (``span`` None for a whole line), for columnar
    formats where every row needs the same fields (Parquet, Arrow, ``datasets``)."""
    return {"rule": r.rule, "line": r.line, "text": r.text, "span": list(r.span) if r.span is not None else None}


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [x.strip() for v in value for x in v.split(",") if x.strip()]


class Cleaner:
    """Clean documents with a fixed set of rules.

    >>> c = Cleaner(select=["credits"])
    >>> c("Featured Image Credit: Alamy\\nThe council met on Tuesday to vote on the budget.\\n")
    'The council met on Tuesday to vote on the budget.\\n'

    ``select``/``ignore``/``lang`` choose rules as on the command line (ids or groups,
    lists or comma-separated strings); ``rules`` adds rule folders (``bundled=False``:
    instead of the bundled rules); ``ruleset`` uses an already loaded
    :class:`~cleaner.RuleSet`. ``max_removed`` is the safety valve, 0.5 as in
    ``cleaner clean`` (1 turns it off). ``field`` is the text field of records
    (``record``, the Dask and Hugging Face helpers; a dotted path for nested dicts).
    ``on_error="keep"`` gives a document back unchanged when a rule fails on it (a
    regex timeout), as the command line does; ``"raise"`` raises the error.
    Values that are not strings (None, NaN) come back as they are.
    """

    def __init__(
        self,
        select: str | Iterable[str] | None = None,
        ignore: str | Iterable[str] | None = None,
        lang: str | Iterable[str] | None = None,
        field: str = "text",
        max_removed: float | None = DEFAULT_MAX_REMOVED,
        rules: Iterable[str | Path] = (),
        bundled: bool | None = None,
        ruleset: RuleSet | None = None,
        on_error: str = "keep",
    ):
        if max_removed is not None and not 0 < max_removed <= 1:
            raise ValueError("max_removed must be in (0, 1] (1 turns the safety valve off)")
        if on_error not in ("keep", "raise"):
            raise ValueError("on_error must be 'keep' or 'raise'")
        if not field:
            raise ValueError("field must be a non-empty string")
        select_, ignore_, lang_ = _names(select), _names(ignore), _names(lang)
        rules = [str(r) for r in rules]
        if ruleset is None:
            if bundled is None:
                bundled = True
            ruleset = load_rules(*rules, bundled=bundled) if rules else load_rules(bundled=bundled)
        known = ruleset.ids
        for sel in select_ + ignore_:
            if not any(matches_selector(rid, [sel]) for rid in known):
                raise CleanerError(f"no rule or group named {sel!r} (see 'cleaner rules')")
        self.ruleset = ruleset.subset(select_, ignore_, lang_)
        self.field = field
        self.max_removed = max_removed
        self.on_error = on_error

    def __repr__(self) -> str:
        return f"Cleaner({len(self.ruleset)} rules, field={self.field!r}, max_removed={self.max_removed!r})"

    def apply(self, text: str) -> Result:
        """The full result for one text (``.text``, ``.removals``, ``.vetoed``); raises on rule errors."""
        return self.ruleset.apply(text, self.max_removed)

    def _result(self, text: str) -> Result:
        try:
            return self.ruleset.apply(text, self.max_removed)
        except CleanerError:
            if self.on_error == "raise":
                raise
            return Result(text, [])

    def __call__(self, text: Any) -> Any:
        """Clean one text; anything that is not a string comes back unchanged."""
        if not isinstance(text, str):
            return text
        return self._result(text).text

    def batch(self, texts: Iterable[Any]) -> list[Any]:
        """Clean many texts (a Spark pandas UDF's series, a Ray batch column, a list)."""
        return [self(t) for t in texts]

    def removals(self, text: Any) -> list[dict] | None:
        """What the rules removed from ``text``, as ``[{"rule", "line", "text"(, "span")}]``
        (None for a value that is not a string)."""
        if not isinstance(text, str):
            return None
        return [r.as_dict() for r in self._result(text).removals]

    def record(self, record: dict, removals_field: str | None = None) -> dict:
        """A copy of a record (dict) with its ``field`` cleaned, and its removals in
        ``removals_field`` if given; a record without a string there comes back as it was."""
        path = self.field.split(".")
        cur: Any = record
        for key in path:
            if not isinstance(cur, dict) or key not in cur:
                return record
            cur = cur[key]
        if not isinstance(cur, str):
            return record
        result = self._result(cur)
        out = dict(record)
        parent = out
        for key in path[:-1]:
            parent[key] = copy.copy(parent[key])
            parent = parent[key]
        parent[path[-1]] = result.text
        if removals_field:
            out[removals_field] = [r.as_dict() for r in result.removals]
        return out


@functools.lru_cache(maxsize=1)
def default_cleaner() -> Cleaner:
    """The bundled rules with the command line's defaults, loaded once per process."""
    return Cleaner()
