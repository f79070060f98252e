"""Download the pinned model files (`make models`) with resume, retries and verification.

Standard library only, so it runs before any dependency is installed; urllib honours the
usual proxy variables (https_proxy, no_proxy, ...) on its own.
"""

import argparse
import hashlib
import http.client
import os
import re
import ssl
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.error import HTTPError, URLError
from urllib.request import Request, build_opener

from nomic_serve.errors import DownloadError
from nomic_serve.models import catalog
from nomic_serve.models.catalog import HF_BASE_URL, ModelFile

CHUNK = 1 << 20
USER_AGENT = "nomic-serve-download/1"
# Failures that a later attempt may not repeat; anything else (a full disk...) is final.
TRANSIENT = (ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException, URLError)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)")


class _Interrupted(ConnectionError):
    """The body ended before the announced length: resume it like a dropped connection."""


@dataclass(frozen=True)
class Options:
    """How to fetch; the defaults are for huggingface.co over a real network."""

    base_url: str = HF_BASE_URL
    force: bool = False
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0


class _Progress:
    """Bytes, percent and rate on stderr: one redrawn line on a TTY, sparse lines in logs."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self._label = label
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = 0.2 if self._tty else 10.0
        self._total: int | None = None
        self._start = self._shown = time.monotonic()
        self._base = 0

    def start(self, done: int, total: int | None) -> None:
        """Begins a connection: the rate counts only bytes fetched from here on."""
        self._total, self._base, self._start = total, done, time.monotonic()

    def update(self, done: int) -> None:
        if time.monotonic() - self._shown >= self._interval:
            self._show(done)

    def finish(self, done: int) -> None:
        self._show(done)
        if self._tty:
            self._stream.write("\n")

    def note(self, message: str) -> None:
        """Prints a message without breaking the redrawn line."""
        self._stream.write(("\n" if self._tty else "") + f"{self._label}: {message}\n")

    def _show(self, done: int) -> None:
        self._shown = now = time.monotonic()
        rate = (done - self._base) / max(now - self._start, 1e-6) / 1e6
        amount = f"{done / 1e6:.1f} MB"
        if self._total:
            amount += f" / {self._total / 1e6:.1f} MB ({100 * done / self._total:.0f}%)"
        line = f"{self._label}: {amount} {rate:.1f} MB/s"
        # On a TTY: back to column 0, redraw, clear what a longer old line left behind.
        self._stream.write(f"\r{line}\x1b[K" if self._tty else f"{line}\n")
        self._stream.flush()


class _Part:
    """The `.part` file and a running sha256 of its bytes.

    The hash lives across retries so a resume never re-reads what is on disk, except once
    for a `.part` left by an earlier run.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha = hashlib.sha256()
        self.size = 0
        if path.exists():
            for chunk in _chunks(path):
                self.sha.update(chunk)
                self.size += len(chunk)
        self._file = path.open("ab")

    def sync(self) -> None:
        """Forces the bytes to disk before the rename, so a crash cannot leave a final
        path that names a file whose data never landed."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Keeps whatever arrived, for a later resume."""
        self._file.close()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.sha.update(data)
        self.size += len(data)

    def reset(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        self.sha = hashlib.sha256()
        self.size = 0


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    for chunk in _chunks(path):
        sha.update(chunk)
    return sha.hexdigest()


def _is_complete(dest: Path, entry: ModelFile) -> bool:
    """A present file counts when what is pinned about it matches."""
    if not dest.is_file():
        return False
    if entry.size is not None and dest.stat().st_size != entry.size:
        return False
    return entry.sha256 is None or file_sha256(dest) == entry.sha256


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    """GETs `url` from `offset`.

    Range goes in the ordinary headers, which urllib copies onto redirected requests
    (only "unredirected" headers are dropped), so it reaches the CDN behind HF.
    """
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return build_opener().open(Request(url, headers=headers), timeout=timeout)


def _range_total(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from a Content-Range header; None where not stated."""
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (None if total == "*" else int(total))


def _request_rest(
    url: str, part: _Part, expected: int | None, timeout: float
) -> http.client.HTTPResponse | None:
    """Opens what the part lacks. A 416 means the part is already whole (None is returned)
    or is stale, longer than the file, and then the whole file is requested again."""
    try:
        return _open(url, part.size, timeout)
    except HTTPError as exc:
        if exc.code != 416 or not part.size:
            raise
        total = expected if expected is not None else _range_total(exc.headers["Content-Range"])[1]
        exc.close()
        if total == part.size:
            return None
        part.reset()
        return _open(url, 0, timeout)


def _body_total(response: http.client.HTTPResponse, part: _Part) -> int | None:
    """Lines the part up with the body and returns the full file size, if announced."""
    if response.status == 206:
        first, total = _range_total(response.headers["Content-Range"])
        if first != part.size:
            part.reset()
            raise _Interrupted(f"server sent bytes from {first}, asked for {part.size}")
        return total
    part.reset()  # A 200 is the whole file: the server ignored the Range header.
    length = response.headers["Content-Length"]
    return int(length) if length else None


def _transfer(url: str, part: _Part, entry: ModelFile, timeout: float, progress: _Progress) -> None:
    """One connection: appends whatever the part still lacks."""
    response = _request_rest(url, part, entry.size, timeout)
    if response is None:
        return
    with response:
        total = _body_total(response, part)
        progress.start(part.size, total or entry.size)
        # read1 hands over bytes as they arrive: a stall then loses nothing already received.
        while chunk := response.read1(CHUNK):
            part.write(chunk)
            progress.update(part.size)
    # http.client returns a short body silently when the peer closes early.
    if total is not None and part.size < total:
        raise _Interrupted(f"connection closed at byte {part.size} of {total}")


def _fetch(url: str, part: _Part, entry: ModelFile, options: Options, progress: _Progress) -> None:
    """Retries transient failures with backoff; an attempt that made progress resets the
    count, so a flaky link still finishes a large file while a dead one fails fast."""
    failures = 0
    while True:
        before = part.size
        try:
            _transfer(url, part, entry, options.timeout, progress)
            return
        except HTTPError as exc:
            exc.close()
            if exc.code not in TRANSIENT_STATUS:
                raise DownloadError(
                    f"{entry.dest}: HTTP {exc.code} {exc.reason} for {url}"
                ) from None
            error: Exception = exc
        except TRANSIENT as exc:
            error = exc
        failures = 0 if part.size > before else failures + 1
        if failures > options.retries:
            raise DownloadError(
                f"{entry.dest}: giving up after {failures} failed attempts: {error}"
            ) from None
        delay = options.backoff * 2 ** max(failures - 1, 0)
        progress.note(f"{error}; resuming at byte {part.size} in {delay:.0f}s")
        time.sleep(delay)


def _check(entry: ModelFile, part: _Part) -> str:
    """Deletes the part and raises unless it matches the pins; returns its sha256."""
    digest = part.sha.hexdigest()
    problem = None
    if entry.size is not None and part.size != entry.size:
        problem = f"size mismatch: expected {entry.size} bytes, got {part.size}"
    elif entry.sha256 is not None and digest != entry.sha256:
        problem = f"sha256 mismatch: expected {entry.sha256}, got {digest}"
    if problem:
        part.path.unlink()
        raise DownloadError(f"{entry.dest}: {problem} (download deleted)")
    return digest


def _sync_dir(path: Path) -> None:
    """Makes the rename itself durable; directories cannot be opened on Windows."""
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def download_file(
    entry: ModelFile, dest_root: Path, options: Options = Options(), stream: TextIO | None = None
) -> Path:
    """Fetches one file into `dest_root / entry.dest` unless it is already there.

    Data goes to `<dest>.part` and is renamed into place only once verified, so the final
    path never holds a partial or unverified file.
    """
    out = stream or sys.stderr
    dest = dest_root / entry.dest
    if not options.force and _is_complete(dest, entry):
        out.write(f"{entry.dest}: already present\n")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part_path = dest.with_name(dest.name + ".part")
    if options.force:
        part_path.unlink(missing_ok=True)
    url = entry.url(options.base_url)
    out.write(f"{entry.dest}: fetching {url}\n")
    progress = _Progress(entry.dest, out)
    with closing(_Part(part_path)) as part:
        progress.start(part.size, entry.size)
        _fetch(url, part, entry, options, progress)
        part.sync()
    progress.finish(part.size)
    digest = _check(entry, part)
    os.replace(part_path, dest)
    _sync_dir(dest.parent)
    if entry.sha256 is None:
        out.write(f"{entry.dest}: sha256 {digest} (not pinned in catalog.py)\n")
    return dest


def download_all(
    entries: Iterable[ModelFile],
    dest_root: Path,
    options: Options = Options(),
    stream: TextIO | None = None,
) -> list[Path]:
    """Fetches each file in turn, stopping at the first failure."""
    return [download_file(entry, dest_root, options, stream) for entry in entries]


def select(entries: Sequence[ModelFile], only: str | None) -> list[ModelFile]:
    """The entries of one modality (`text`/`vision`), or all of them."""
    return [e for e in entries if only is None or e.repo == catalog.REPOS[only]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nomic-serve-download", description="Download the pinned nomic-embed ONNX files."
    )
    parser.add_argument("--set", default="default", choices=sorted(catalog.SETS))
    parser.add_argument("--dest-root", type=Path, default=Path("."))
    parser.add_argument("--only", choices=sorted(catalog.REPOS))
    parser.add_argument("--force", action="store_true", help="re-download present files")
    parser.add_argument(
        "--base-url",
        default=os.environ.get("HF_ENDPOINT", HF_BASE_URL),
        help=f"hub or mirror root (default: $HF_ENDPOINT, else {HF_BASE_URL})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 on success, 1 with a one-line error otherwise."""
    args = _parser().parse_args(argv)
    entries = select(catalog.SETS[args.set], args.only)
    options = Options(base_url=args.base_url, force=args.force)
    try:
        download_all(entries, args.dest_root, options)
    except (DownloadError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run again to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
