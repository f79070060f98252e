"""The files `nomic-embed embed-file` reads and writes, one row at a time.

Inputs: JSONL (`--field`), CSV/TSV (`--column`), plain text (one row per line) and Parquet
(`--column`), read as a stream so a corpus is never loaded whole. A row that cannot be a text
(no such field, an empty line, invalid JSON) is a `RowError` in its place, so the job can
skip it or stop there. Outputs: Parquet (`id` + `embedding`, a fixed-size list of float32),
`.npy` (float32 [rows, dim]; a failed row is NaN) or JSONL (`{"id", "embedding"}`; a
failed row has `"embedding": null`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "FORMATS",
    "OUTPUTS",
    "InputError",
    "OutputWriter",
    "Row",
    "RowError",
    "count_rows",
    "input_format",
    "output_format",
    "read_rows",
]

FORMATS = ("jsonl", "csv", "tsv", "txt", "parquet")
OUTPUTS = ("parquet", "npy", "jsonl")


class InputError(Exception):
    """The input cannot be read at all (missing file, no such column in the header)."""


@dataclass(frozen=True)
class RowError:
    message: str


@dataclass(frozen=True)
class Row:
    number: int  # 1-based: the line of a text or JSONL file, the data row of CSV/Parquet
    id: str | int
    text: str | RowError


def input_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "json": "jsonl", "text": "txt", "pq": "parquet"}.get(
        suffix, suffix if suffix in FORMATS else "txt"
    )


def output_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    suffix = {"ndjson": "jsonl", "pq": "parquet"}.get(suffix, suffix)
    if suffix not in OUTPUTS:
        raise InputError(f"cannot tell the output format of {path}: use .parquet, .npy or .jsonl")
    return suffix


def read_rows(
    path: Path, fmt: str, *, field: str = "text", id_field: str | None = None
) -> Iterator[Row]:
    """Every row of the input, in order; `field` is the JSONL field or CSV/Parquet column."""
    try:
        if fmt == "parquet":
            yield from _parquet(path, field, id_field)
            return
        with path.open(encoding="utf-8", newline="" if fmt in ("csv", "tsv") else None) as file:
            if fmt == "jsonl":
                yield from _jsonl(file, field, id_field)
            elif fmt in ("csv", "tsv"):
                yield from _csv(file, "\t" if fmt == "tsv" else ",", field, id_field)
            else:
                for number, line in enumerate(file, 1):
                    text = line.rstrip("\r\n")
                    yield Row(number, number - 1, text if text.strip() else RowError("empty line"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _checked(text: object, what: str) -> str | RowError:
    if text is None:
        return RowError(f"no {what}")
    if not isinstance(text, str):
        return RowError(f"{what} is {type(text).__name__}, not a string")
    return text if text.strip() else RowError(f"{what} is empty")


def _jsonl(file: Iterable[str], field: str, id_field: str | None) -> Iterator[Row]:
    for number, line in enumerate(file, 1):
        row_id: str | int = number - 1
        if not line.strip():
            yield Row(number, row_id, RowError("empty line"))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(number, row_id, RowError(f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            yield Row(number, row_id, RowError("not a JSON object"))
            continue
        if id_field is not None and id_field in record:
            row_id = str(record[id_field])
        yield Row(number, row_id, _checked(record.get(field), f"field {field!r}"))


def _csv(file: Iterable[str], delimiter: str, column: str, id_column: str | None) -> Iterator[Row]:
    reader = csv.DictReader(file, delimiter=delimiter)
    header = reader.fieldnames or []
    for name in (column, id_column):
        if name is not None and name not in header:
            raise InputError(f"no column {name!r} in the header (columns: {', '.join(header)})")
    for number, record in enumerate(reader, 1):
        row_id: str | int = str(record[id_column]) if id_column else number - 1
        yield Row(number, row_id, _checked(record.get(column), f"column {column!r}"))


def _parquet(path: Path, column: str, id_column: str | None) -> Iterator[Row]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    for name in (column, id_column):
        if name is not None and name not in names:
            raise InputError(f"no column {name!r} in {path} (columns: {', '.join(names)})")
    columns = [column] + ([id_column] if id_column else [])
    number = 0
    for batch in file.iter_batches(batch_size=4096, columns=columns):
        texts = batch.column(column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column else None
        for i, text in enumerate(texts):
            number += 1
            row_id: str | int = str(ids[i]) if ids is not None else number - 1
            yield Row(number, row_id, _checked(text, f"column {column!r}"))


def count_rows(path: Path, fmt: str) -> int | None:
    """How many rows there are, for the progress bar's ETA (a quick scan of newlines)."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        lines, last = 0, b"\n"
        with path.open("rb") as file:
            while block := file.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"
        return lines - 1 if fmt in ("csv", "tsv") else lines
    except OSError:
        return None


# Where a chunk is: its tokens and characters in its row's text (see the server's chunks).
CHUNK_COLUMNS = ("token_start", "token_end", "char_start", "char_end")


class ChunkWriter:
    """`--long-input` output: one row per chunk (`id`, `chunk` its index within the row, the
    CHUNK_COLUMNS, `embedding`), Parquet or JSONL; written like OutputWriter's (.tmp, then
    renamed). A failed row has no chunk: it is in the errors file."""

    def __init__(self, path: Path, fmt: str, dim: int, string_ids: bool) -> None:
        if fmt not in ("parquet", "jsonl"):
            raise InputError("--long-input writes one row per chunk: use .parquet or .jsonl")
        self.path, self.fmt, self.dim = path, fmt, dim
        self.tmp = path.with_name(path.name + ".tmp")
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema(
                [
                    ("id", pa.string() if string_ids else pa.int64()),
                    ("chunk", pa.int32()),
                    *[(name, pa.int32()) for name in CHUNK_COLUMNS],
                    ("embedding", pa.list_(pa.float32(), dim)),
                ]
            )
            self._parquet = pq.ParquetWriter(self.tmp, self._schema)
        else:
            self._file = self.tmp.open("w", encoding="utf-8")

    def write(self, ids: list[str | int], places: np.ndarray, vectors: np.ndarray) -> None:
        """`places` [chunks, 5]: the part's row of each chunk, then its CHUNK_COLUMNS."""
        rows = places[:, 0].tolist()
        numbers = [0] * len(rows)
        for i in range(1, len(rows)):
            numbers[i] = numbers[i - 1] + 1 if rows[i] == rows[i - 1] else 0
        chunk_ids = [ids[row] for row in rows]
        if self.fmt == "parquet":
            import pyarrow as pa

            flat = pa.array(vectors.reshape(-1), type=pa.float32())
            columns = [
                pa.array(chunk_ids, self._schema.field("id").type),
                pa.array(numbers, pa.int32()),
                *[pa.array(places[:, 1 + k], pa.int32()) for k in range(len(CHUNK_COLUMNS))],
                pa.FixedSizeListArray.from_arrays(flat, self.dim),
            ]
            self._parquet.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        else:
            for row_id, number, place, vector in zip(
                chunk_ids, numbers, places, vectors, strict=True
            ):
                where = dict(zip(CHUNK_COLUMNS, place[1:].tolist(), strict=True))
                record = {"id": row_id, "chunk": number, **where, "embedding": vector.tolist()}
                self._file.write(json.dumps(record) + "\n")

    def finish(self) -> None:
        if self.fmt == "parquet":
            self._parquet.close()
        else:
            self._file.close()
        os.replace(self.tmp, self.path)


class OutputWriter:
    """Writes the finished rows, part by part, to `path` (created as path + '.tmp' and renamed
    when complete, so a half-written output never looks finished)."""

    def __init__(self, path: Path, fmt: str, rows: int, dim: int, string_ids: bool) -> None:
        self.path, self.fmt, self.dim = path, fmt, dim
        self.tmp = path.with_name(path.name + ".tmp")
        self._row = 0
        if fmt == "npy":
            self._array = np.lib.format.open_memmap(
                self.tmp, mode="w+", dtype=np.float32, shape=(rows, dim)
            )
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema(
                [
                    ("id", pa.string() if string_ids else pa.int64()),
                    ("embedding", pa.list_(pa.float32(), dim)),
                ]
            )
            self._parquet = pq.ParquetWriter(self.tmp, self._schema)
        else:
            self._file = self.tmp.open("w", encoding="utf-8")

    def write(self, ids: list[str | int], vectors: np.ndarray, ok: np.ndarray) -> None:
        if self.fmt == "npy":
            self._array[self._row : self._row + len(ids)] = vectors
        elif self.fmt == "parquet":
            import pyarrow as pa

            flat = pa.array(vectors.reshape(-1), type=pa.float32())
            column = pa.FixedSizeListArray.from_arrays(flat, self.dim, mask=pa.array(~ok))
            table = pa.Table.from_arrays(
                [pa.array(ids, self._schema.field("id").type), column], schema=self._schema
            )
            self._parquet.write_table(table)
        else:
            for row_id, vector, good in zip(ids, vectors, ok, strict=True):
                embedding = vector.tolist() if good else None
                self._file.write(json.dumps({"id": row_id, "embedding": embedding}) + "\n")
        self._row += len(ids)

    def finish(self) -> None:
        if self.fmt == "npy":
            self._array.flush()
            del self._array
        elif self.fmt == "parquet":
            self._parquet.close()
        else:
            self._file.close()
        os.replace(self.tmp, self.path)
