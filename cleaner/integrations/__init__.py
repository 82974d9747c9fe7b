"""Using cleaner from data-processing libraries.

- :class:`cleaner.Cleaner` (``cleaner.integrations.core``): a picklable callable for Spark,
  Ray, multiprocessing or any ``map``: ``Cleaner(select=...)(text) -> str``.
- :mod:`cleaner.integrations.dask`: ``dask.bag`` and ``dask.dataframe`` partitions.
- :mod:`cleaner.integrations.hf`: a function for Hugging Face ``datasets.map(batched=True)``.

Each module imports its library only when it is used (``pip install 'cleaner[dask]'``,
``'cleaner[hf]'``).
"""

from .core import Cleaner

__all__ = ["Cleaner"]
