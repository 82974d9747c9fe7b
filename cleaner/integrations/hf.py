"""Hugging Face ``datasets``: a function for ``Dataset.map(batched=True)``.

>>> from datasets import load_dataset
>>> from cleaner.integrations.hf import clean_batch
>>> ds = ds.map(clean_batch, batched=True)                          # column "text", bundled rules
>>> ds = ds.map(clean_batch, batched=True, fn_kwargs={"field": "body", "removals_field": "removed",
...                                                     "cleaner": Cleaner(select="credits")})

With ``batched=True``, ``map`` calls the function with a dict of columns (name -> list of
values) and updates the columns it returns; the other columns are kept. It works with
``num_proc`` (the function and the :class:`~cleaner.Cleaner` pickle).
"""

from __future__ import annotations

from typing import Any

from .core import Cleaner, default_cleaner, removal_row


def clean_batch(
    batch: dict[str, list[Any]],
    field: str = "text",
    removals_field: str | None = None,
    cleaner: Cleaner | None = None,
) -> dict[str, list[Any]]:
    """Clean column ``field`` of a batch; ``removals_field`` adds a column of removals
    (lists of ``{"rule", "line", "text", "span"}``; ``span`` None for whole lines).
    Values that are not strings (None) are left as they are."""
    if field not in batch:
        raise KeyError(f"no column {field!r} in the batch (columns: {', '.join(batch)})")
    c = cleaner or default_cleaner()
    results = [c._result(v) if isinstance(v, str) else None for v in batch[field]]
    out: dict[str, list[Any]] = {
        field: [r.text if r is not None else v for r, v in zip(results, batch[field])]
    }
    if removals_field:
        out[removals_field] = [[removal_row(x) for x in r.removals] if r is not None else None for r in results]
    return out
