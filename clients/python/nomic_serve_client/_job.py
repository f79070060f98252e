"""`embed-file`: a corpus through EmbedBatch streams, checkpointed so a killed job resumes.

The input is cut into parts of `batch` rows; `concurrency` parts are in flight at once, each
on its own stream. A finished part is written to OUTPUT.partial/ (its own file, then the
checkpoint naming it, both by atomic rename), in input order, so a job killed at any moment
restarts after the last part it wrote and the output holds every row exactly once. Identical
texts within a part are sent once. On Ctrl-C the parts in flight finish and are written, and
the job exits 130; when every part is in, the parts are joined into OUTPUT and the folder is
removed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ._async_client import AsyncClient
from ._formats import CHUNK_COLUMNS, ChunkWriter, OutputWriter, Row, RowError, count_rows, read_rows

__all__ = ["Job", "JobError", "JobOptions", "Progress", "Stopped"]

CHECKPOINT = "checkpoint.json"
_CHUNK_COLUMNS = ("row", *CHUNK_COLUMNS)  # a part's `places`: the row of each chunk, then where
# A finished part: its rows, vectors, success mask per row, failures, and with long_input
# where each chunk is (None otherwise).
_Part = tuple[list[Row], np.ndarray, np.ndarray, list, np.ndarray | None]


class Stopped(Exception):
    """A row failed with `--on-error stop`; what was written before it is kept."""


class JobError(Exception):
    """A job that cannot start (another job's checkpoint in the way)."""


@dataclass(frozen=True)
class JobOptions:
    """What makes two runs the same job: a checkpoint is only resumed with the same ones."""

    input: str
    input_format: str
    output: str
    output_format: str
    field: str
    id_field: str | None
    task: str | None
    dim: int | None
    truncate: bool
    batch: int
    long_input: str | None = None  # "chunk" or "late_chunk": one output row per chunk
    chunk_tokens: int = 0
    chunk_overlap: int = 0


def _fingerprint(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


class Job:
    def __init__(
        self,
        client: AsyncClient,
        options: JobOptions,
        *,
        window: int,
        concurrency: int,
        on_error: str,
        progress: Progress,
    ) -> None:
        self.client, self.options = client, options
        self.window, self.concurrency, self.on_error = window, concurrency, on_error
        self.progress = progress
        self.output = Path(options.output)
        self.folder = self.output.with_name(self.output.name + ".partial")
        self.errors_path = self.output.with_name(self.output.name + ".errors.jsonl")
        self.stopping = False
        self.state: dict = {}

    # --- the checkpoint ---------------------------------------------------------------

    def _load(self) -> None:
        identity = {
            "options": asdict(self.options),
            "input": _fingerprint(Path(self.options.input)),
        }
        path = self.folder / CHECKPOINT
        if path.exists():
            state = json.loads(path.read_text())
            if {k: state[k] for k in identity} != identity:
                raise JobError(
                    f"{self.folder} holds the checkpoint of another job (other options or a "
                    "changed input): remove it, or run with the same options"
                )
            self.state = state
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.state = {**identity, "parts": 0, "rows": 0, "failed": 0, "dim": None}
            self._save()

    def _save(self) -> None:
        _atomic_write(self.folder / CHECKPOINT, json.dumps(self.state).encode())

    def _part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}.npz"

    # --- running ----------------------------------------------------------------------

    async def run(self) -> int:
        """Exit status: 0 done, 130 interrupted (resumable)."""
        rows = read_rows(
            Path(self.options.input),
            self.options.input_format,
            field=self.options.field,
            id_field=self.options.id_field,
        )
        first = next(rows, None)  # an unreadable input fails here, before any checkpoint
        rows = itertools.chain([first] if first is not None else [], rows)
        self._load()
        done_rows = self.state["rows"]
        total = count_rows(Path(self.options.input), self.options.input_format)
        self.progress.start(total, done_rows)
        for _ in islice(rows, done_rows):
            pass
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._interrupt)
        try:
            await self._parts(_parts_of(rows, self.options.batch))
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        if self.stopping:
            self.progress.close()
            return 130
        self._assemble()
        self.progress.close()
        return 0

    def _interrupt(self) -> None:
        if self.stopping:  # a second Ctrl-C: what is written stays, the rest is dropped
            os._exit(130)
        self.stopping = True
        self.progress.note("interrupted: finishing the parts in flight (Ctrl-C again to quit)")

    async def _parts(self, parts: Iterator[list[Row]]) -> None:
        """Keeps `concurrency` parts in flight and writes each, in order, once it and every
        earlier one are done."""
        index = self.state["parts"]
        running: dict[int, asyncio.Task[_Part]] = {}
        next_write = index
        try:
            while True:
                while not self.stopping and len(running) < self.concurrency:
                    part = next(parts, None)
                    if part is None:
                        break
                    running[index] = asyncio.create_task(self._embed(part))
                    index += 1
                if next_write not in running:
                    return
                self._write_part(next_write, *await running.pop(next_write))
                next_write += 1
        finally:
            for task in running.values():
                task.cancel()

    async def _embed(self, part: list[Row]) -> _Part:
        """One part's vectors (NaN where a row failed), its success mask and its failures;
        with `long_input`, a vector per chunk and where each chunk is (`_CHUNK_COLUMNS`)."""
        unique: dict[str, list[int]] = {}
        failures: list[dict] = []
        for position, row in enumerate(part):
            if isinstance(row.text, RowError):
                failures.append(self._failure(row, row.text.message))
            else:
                unique.setdefault(row.text, []).append(position)
        texts = list(unique)
        vectors: np.ndarray | None = None
        ok = np.zeros(len(part), dtype=bool)
        chunks: dict[int, tuple] = {}
        async for result in self.client.embed_stream_results(
            texts,
            task=self.options.task,  # type: ignore[arg-type]
            dim=self.options.dim,
            truncate=self.options.truncate,
            window=self.window,
            long_input=self.options.long_input,  # type: ignore[arg-type]
            chunk_tokens=self.options.chunk_tokens,
            chunk_overlap=self.options.chunk_overlap,
        ):
            positions = unique[texts[result.index]]
            if result.error is not None:
                for position in positions:
                    failures.append(self._failure(part[position], result.error.message))
                continue
            if self.options.long_input:
                for position in positions:
                    chunks[position] = result.chunks
                    ok[position] = True
                self.progress.advance(len(positions))
                continue
            assert result.embedding is not None
            if vectors is None:
                vectors = np.full((len(part), len(result.embedding)), np.nan, dtype=np.float32)
            vectors[positions] = result.embedding
            ok[positions] = True
            self.progress.advance(len(positions))
        self.progress.advance(len(part) - int(ok.sum()))
        failures.sort(key=lambda failure: failure["row"])
        if self.options.long_input:
            ordered = [(p, c) for p in sorted(chunks) for c in chunks[p]]
            places = np.array(
                [(p, c.token_start, c.token_end, c.char_start, c.char_end) for p, c in ordered],
                dtype=np.int64,
            ).reshape(-1, len(_CHUNK_COLUMNS))
            dim = len(ordered[0][1].embedding) if ordered else self._dim()
            rows = [c.embedding for _, c in ordered]
            vectors = np.stack(rows) if rows else np.empty((0, dim), dtype=np.float32)
            return part, vectors, ok, failures, places
        if vectors is None:
            vectors = np.full((len(part), self._dim()), np.nan, dtype=np.float32)
        return part, vectors, ok, failures, None

    def _failure(self, row: Row, message: str) -> dict:
        if self.on_error == "stop":
            raise Stopped(f"row {row.number}: {message}")
        return {"row": row.number, "id": row.id, "error": message}

    def _dim(self) -> int:
        return self.state["dim"] or self.options.dim or 0

    def _write_part(
        self,
        index: int,
        part: list[Row],
        vectors: np.ndarray,
        ok: np.ndarray,
        failures: list,
        places: np.ndarray | None,
    ) -> None:
        ids = [row.id for row in part]
        buffer = _npz(
            ids=np.array([str(i) for i in ids]),
            int_ids=np.array([isinstance(i, int) for i in ids]),
            vectors=vectors,
            ok=ok,
            failures=np.array(json.dumps(failures)),
            places=places if places is not None else np.empty((0, len(_CHUNK_COLUMNS)), np.int64),
        )
        _atomic_write(self._part_path(index), buffer)
        self.state["parts"] = index + 1
        self.state["rows"] += len(part)
        self.state["failed"] += len(failures)
        if vectors.shape[1]:
            self.state["dim"] = int(vectors.shape[1])
        self._save()

    # --- the output -------------------------------------------------------------------

    def _assemble(self) -> None:
        parts = [np.load(self._part_path(i)) for i in range(self.state["parts"])]
        dim = self.state["dim"] or self.options.dim or 0
        string_ids = any(not part["int_ids"].all() for part in parts if len(part["int_ids"]))
        chunked = bool(self.options.long_input)
        if chunked:
            chunk_writer = ChunkWriter(self.output, self.options.output_format, dim, string_ids)
        else:
            writer = OutputWriter(
                self.output, self.options.output_format, self.state["rows"], dim, string_ids
            )
        failures: list[dict] = []
        for part in parts:
            ids: list[str | int] = [
                int(i) if is_int and not string_ids else str(i)
                for i, is_int in zip(part["ids"].tolist(), part["int_ids"].tolist(), strict=True)
            ]
            vectors = part["vectors"]
            if chunked:
                chunk_writer.write(ids, part["places"], vectors)
            else:
                if vectors.shape[1] != dim:  # a part where every row failed
                    vectors = np.full((len(ids), dim), np.nan, dtype=np.float32)
                writer.write(ids, vectors, part["ok"])
            failures += json.loads(str(part["failures"]))
        (chunk_writer if chunked else writer).finish()
        if failures:
            lines = "".join(json.dumps(failure) + "\n" for failure in failures)
            _atomic_write(self.errors_path, lines.encode())
        elif self.errors_path.exists():
            self.errors_path.unlink()
        shutil.rmtree(self.folder)


def _npz(**arrays: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _parts_of(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while part := list(islice(rows, size)):
        yield part


class Progress:
    """A tqdm bar with rows/s and ETA on a terminal; a plain line every `every_s` otherwise;
    nothing with --quiet."""

    def __init__(self, *, quiet: bool, every_s: float = 5.0) -> None:
        self.quiet, self.every_s = quiet, every_s
        self.bar: object = None
        self.done = 0
        self.total: int | None = None
        self.started = self.last = time.monotonic()
        self.resumed = 0

    def start(self, total: int | None, done: int) -> None:
        self.total, self.done, self.resumed = total, done, done
        self.started = self.last = time.monotonic()
        if done:
            self.note(f"resuming after row {done}")
        if not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="rows", dynamic_ncols=True)

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.bar is not None:
            self.bar.update(rows)  # type: ignore[attr-defined]
        elif not self.quiet and time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            print(self.line(), file=sys.stderr, flush=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = (self.done - self.resumed) / elapsed
        of = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total is not None and rate > 0:
            eta = f", ETA {max(self.total - self.done, 0) / rate:.0f} s"
        return f"{self.done}{of} rows, {rate:.0f} rows/s{eta}"

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)  # type: ignore[attr-defined]
        elif not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]
