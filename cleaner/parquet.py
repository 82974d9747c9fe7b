"""Parquet record files: the text column is cleaned one row group at a time.

Every other column, the schema (with its metadata) and the row order are kept;
the output has the same row groups as the input, written with the input's
compression codec and format version. Memory is bounded by one row group.

Record numbers in notes are 1-based row numbers in the file. A row whose field
is null is a record error and is left unchanged; when the column is missing or
is not a string column, every row is left unchanged, counted as a record error,
and one note says why.

``--removals-field NAME`` adds (or replaces) a column of type
``list<struct<rule: string, line: int32, text: string, span: list<int32>>>``
(``span`` is null for whole lines; null for a row left unchanged because of an
error): typed, so it can be queried without parsing JSON.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from .corpus import Options, Outcome, Stats, Task, clean_value, commit, temp_beside, unified_diff
from .engine import RuleSet
from .integrations.core import removal_row

REMOVALS_TYPE = pa.list_(
    pa.struct(
        [
            ("rule", pa.string()),
            ("line", pa.int32()),
            ("text", pa.string()),
            ("span", pa.list_(pa.int32())),
        ]
    )
)
_WRITER_CODECS = {"UNCOMPRESSED": "none", "LZ4_RAW": "lz4"}


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or (
        hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t)
    )


class TableCleaner:
    """Cleans the text field of tables that have one Parquet file's schema."""

    def __init__(self, schema: pa.Schema, ruleset: RuleSet, opts: Options, display: str = ""):
        self.ruleset, self.opts, self.display = ruleset, opts, display
        self.path = opts.field.split(".")
        self.problem = self._find_field(schema)  # why no row can be cleaned, or None
        self.schema = self._output_schema(schema)
        self.problem_noted = False

    def _find_field(self, schema: pa.Schema) -> str | None:
        t: pa.DataType | None = None
        fields: Any = schema
        for depth, name in enumerate(self.path):
            idx = fields.get_field_index(name)
            if idx < 0:
                where = ".".join(self.path[:depth]) or "the file"
                return f"no column {self.opts.field!r} (no {name!r} in {where})"
            t = fields.field(idx).type
            if depth < len(self.path) - 1:
                if not pa.types.is_struct(t):
                    return f"column {'.'.join(self.path[:depth + 1])!r} is {t}, not a struct"
                fields = t
        assert t is not None
        if not _is_text(t):
            return f"field {self.opts.field!r} is {t}, not a string"
        return None

    def _output_schema(self, schema: pa.Schema) -> pa.Schema:
        name = self.opts.removals_field
        if not name:
            return schema
        field = pa.field(name, REMOVALS_TYPE)
        idx = schema.get_field_index(name)
        if idx >= 0:
            return schema.set(idx, field)
        return schema.append(field)

    def clean(
        self, table: pa.Table, stats: Stats, notes: list, diffs: list[bytes] | None, first_row: int
    ) -> tuple[pa.Table, bool]:
        """Clean one table (a row group) whose first row is row ``first_row`` (0-based) of the file."""
        opts = self.opts
        n = table.num_rows
        if self.problem is not None:
            stats.record_errors += n
            if not self.problem_noted and n:
                notes.append((None, f"{self.problem}: every record left unchanged"))
                self.problem_noted = True
            return self._with_removals(table, [None] * n), False
        top = table.column(self.path[0]).combine_chunks()
        leaf = top
        for name in self.path[1:]:
            leaf = _child(leaf, name)
        values = leaf.to_pylist()
        new_values: list[Any] = []
        removals: list[Any] = []
        changed = False
        for i, value in enumerate(values):
            row = first_row + i + 1
            if value is None:
                stats.record_errors += 1
                notes.append((row, f"field {opts.field!r} is null; left unchanged"))
                new_values.append(None)
                removals.append(None)
                continue
            result = clean_value(value, row, self.ruleset, opts, stats, notes)
            new_values.append(result.text)
            removals.append([removal_row(r) for r in result.removals])
            if result.text != value:
                changed = True
                if diffs is not None:
                    diffs.append(unified_diff("", value, result.text, f"a/{self.display}:{row}", f"b/{self.display}:{row}"))
        if changed:
            new_leaf = pa.array(new_values, type=leaf.type)
            new_top = _replace(top, self.path[1:], new_leaf)
            table = table.set_column(table.schema.get_field_index(self.path[0]), table.schema.field(self.path[0]), new_top)
        return self._with_removals(table, removals), changed

    def _with_removals(self, table: pa.Table, rows: list) -> pa.Table:
        name = self.opts.removals_field
        if not name:
            return table
        column = pa.array(rows, type=REMOVALS_TYPE)
        idx = table.schema.get_field_index(name)
        if idx >= 0:
            return table.set_column(idx, pa.field(name, REMOVALS_TYPE), column)
        return table.append_column(pa.field(name, REMOVALS_TYPE), column)


def _child(arr: pa.Array, name: str) -> pa.Array:
    """A struct's child with the struct's own nulls applied."""
    idx = arr.type.get_field_index(name)
    return arr.flatten()[idx]


def _replace(arr: pa.Array, path: list[str], leaf: pa.Array) -> pa.Array:
    """``arr`` with the value at ``path`` (through structs) replaced by ``leaf``."""
    if not path:
        return leaf
    children = [
        _replace(arr.field(j), path[1:], leaf) if f.name == path[0] else arr.field(j)
        for j, f in enumerate(arr.type)
    ]
    return pa.StructArray.from_arrays(children, fields=list(arr.type), mask=arr.is_null())


# --- files ---------------------------------------------------------------------------------


def writer_options(pf: pq.ParquetFile) -> dict[str, Any]:
    """Write as the input was written: its most common codec and its format version."""
    meta = pf.metadata
    codecs: Counter[str] = Counter()
    if meta.num_row_groups:
        rg = meta.row_group(0)
        codecs.update(rg.column(j).compression for j in range(rg.num_columns))
    codec = codecs.most_common(1)[0][0] if codecs else "SNAPPY"
    options: dict[str, Any] = {"compression": _WRITER_CODECS.get(codec, codec.lower())}
    if meta.format_version in ("1.0", "2.4", "2.6"):
        options["version"] = meta.format_version
    return options


def clean_row_groups(
    pf: pq.ParquetFile,
    groups: list[int],
    writer: pq.ParquetWriter | None,
    cleaner: TableCleaner,
    stats: Stats,
    notes: list,
    diffs: list[bytes] | None,
    first_row: int = 0,
) -> tuple[bool, int]:
    """Clean the given row groups in order (writing each as one row group); returns (changed, rows)."""
    changed = False
    rows = 0
    for i in groups:
        table = pf.read_row_group(i)
        out, group_changed = cleaner.clean(table, stats, notes, diffs, first_row + rows)
        changed |= group_changed
        rows += table.num_rows
        if writer is not None:
            writer.write_table(out, row_group_size=max(1, out.num_rows))
    return changed, rows


def open_writer(sink: BinaryIO | str, pf: pq.ParquetFile, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(sink, schema, **writer_options(pf))


def copy_row_groups(parts: list[BinaryIO], sink: BinaryIO) -> None:
    """Join Parquet files of one schema into ``sink``, row group by row group."""
    writer = None
    try:
        for fh in parts:
            pf = pq.ParquetFile(fh)
            if writer is None:
                writer = open_writer(sink, pf, pf.schema_arrow)
            for i in range(pf.num_row_groups):
                table = pf.read_row_group(i)
                writer.write_table(table, row_group_size=max(1, table.num_rows))
    finally:
        if writer is not None:
            writer.close()


def run_parquet(task: Task, ruleset: RuleSet, opts: Options, outcome: Outcome) -> None:
    """The local engine's Parquet task: the whole file, row group by row group."""
    diffs: list[bytes] | None = [] if opts.mode == "diff" else None
    with open(task.src, "rb") as src:
        pf = pq.ParquetFile(src)
        cleaner = TableCleaner(pf.schema_arrow, ruleset, opts, task.display)
        groups = list(range(pf.num_row_groups))
        if task.dest is None:
            outcome.changed, outcome.lines = clean_row_groups(
                pf, groups, None, cleaner, outcome.stats, outcome.notes, diffs
            )
            if diffs:
                outcome.diff = b"".join(diffs)
            return
        fh, tmp = temp_beside(task.dest)
        try:
            with fh:
                writer = open_writer(fh, pf, cleaner.schema)
                try:
                    outcome.changed, outcome.lines = clean_row_groups(
                        pf, groups, writer, cleaner, outcome.stats, outcome.notes, None
                    )
                finally:
                    writer.close()
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if task.dest == task.src and not outcome.changed and not opts.removals_field:
        tmp.unlink()
        return
    commit(tmp, task.dest, task.src)
