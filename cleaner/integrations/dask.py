"""Cleaning ``dask.bag`` and ``dask.dataframe`` collections.

>>> import dask.bag as db
>>> from cleaner.integrations.dask import clean_bag, clean_dataframe
>>> cleaned = clean_bag(db.read_text("corpus-*.jsonl").map(json.loads), select="credits")
>>> ddf = clean_dataframe(dd.read_parquet("corpus/"), column="text")

``clean_partition`` and ``clean_pandas`` are the per-partition functions, usable as
they are with ``bag.map_partitions(clean_partition)`` and
``ddf.map_partitions(clean_pandas)`` (bundled rules, command-line defaults).
``clean_bag``/``clean_dataframe`` wrap the :class:`~cleaner.Cleaner` in one
``dask.delayed`` value, so on a cluster the rules travel once to each worker that
needs them, not once per partition.
"""

from __future__ import annotations

from typing import Any, Iterable

from .core import Cleaner, default_cleaner


def clean_partition(partition: Iterable[Any], cleaner: Cleaner | None = None, removals_field: str | None = None) -> list:
    """One bag partition: strings are cleaned, dicts get their ``cleaner.field`` cleaned
    (a copy; see :meth:`Cleaner.record`), anything else passes through."""
    c = cleaner or default_cleaner()
    return [c.record(x, removals_field) if isinstance(x, dict) else c(x) for x in partition]


def clean_pandas(df, column: str = "text", cleaner: Cleaner | None = None, removals_column: str | None = None):
    """One pandas partition: a copy of ``df`` with ``column`` cleaned (dtype kept; missing
    values stay missing) and, if asked, a ``removals_column`` of lists of removals."""
    import pandas as pd

    c = cleaner or default_cleaner()
    out = df.copy(deep=False)
    values = df[column]
    results = [c._result(v) if isinstance(v, str) else None for v in values]
    out[column] = pd.Series(
        [r.text if r is not None else v for r, v in zip(results, values)], index=df.index, dtype=values.dtype
    )
    if removals_column:
        out[removals_column] = pd.Series(
            [[x.as_dict() for x in r.removals] if r is not None else None for r in results],
            index=df.index, dtype=object,
        )
    return out


def clean_bag(bag, cleaner: Cleaner | None = None, removals_field: str | None = None, **options):
    """A bag of strings or dict records, cleaned. ``options`` build a :class:`Cleaner`
    (``select=``, ``field=``...) when no ``cleaner`` is given."""
    import dask

    c = cleaner or Cleaner(**options)
    return bag.map_partitions(clean_partition, dask.delayed(c, traverse=False), removals_field)


def clean_dataframe(ddf, column: str = "text", cleaner: Cleaner | None = None, removals_column: str | None = None, **options):
    """A dask DataFrame with ``column`` cleaned (other columns, order and divisions kept)."""
    import dask

    c = cleaner or Cleaner(**options)
    meta = clean_pandas(ddf._meta, column, c, removals_column)
    return ddf.map_partitions(
        clean_pandas, column, dask.delayed(c, traverse=False), removals_column, meta=meta, align_dataframes=False
    )
