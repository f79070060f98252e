"""`nomic-embed`: the SDK from a shell (the `[cli]` extra).

    nomic-embed embed "some text" [--task search_query] [--dim 256]
    nomic-embed embed-file corpus.jsonl --out vectors.parquet [--field text]
    nomic-embed image cat.jpg | stats cat.jpg | health | info

`--target`, `--api-key` and `--tls-ca` default to NOMIC_SERVE_TARGET, NOMIC_SERVE_API_KEY and
NOMIC_SERVE_TLS_CA. Exit status: 0 done, 1 the server refused or a row stopped the job, 2 the
command or its input is wrong, 130 interrupted (an embed-file job resumes when run again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from google.protobuf import json_format

from ._async_client import AsyncClient
from ._config import DEFAULT_WINDOW, TLS
from ._exceptions import NomicServeError
from ._formats import FORMATS, InputError, input_format, output_format
from ._job import Job, JobError, JobOptions, Progress, Stopped

__all__ = ["main"]

TASKS = ("search_document", "search_query", "clustering", "classification", "none")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nomic-embed", description=__doc__.split("\n")[0])
    parser.add_argument("--target", default=os.environ.get("NOMIC_SERVE_TARGET", "localhost:50051"))
    parser.add_argument("--api-key", default=os.environ.get("NOMIC_SERVE_API_KEY"))
    parser.add_argument(
        "--tls-ca",
        default=os.environ.get("NOMIC_SERVE_TLS_CA"),
        help="CA file to verify the server (turns TLS on)",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    commands = parser.add_subparsers(dest="command", required=True)

    embed = commands.add_parser("embed", help="embed texts given as arguments; prints JSON")
    embed.add_argument("texts", nargs="+")
    _text_options(embed, default_task="search_query")

    job = commands.add_parser("embed-file", help="embed every row of a file, resumably")
    job.add_argument("input", type=Path)
    job.add_argument("--out", required=True, type=Path, help=".parquet, .npy or .jsonl")
    job.add_argument("--format", choices=FORMATS, help="input format (default: by extension)")
    job.add_argument(
        "--field",
        "--column",
        dest="field",
        default="text",
        help="JSONL field or CSV/TSV/Parquet column holding the text",
    )
    job.add_argument(
        "--id-field",
        "--id-column",
        dest="id_field",
        help="field or column to use as the id (default: the row index)",
    )
    job.add_argument("--batch", type=int, default=1024, help="rows per checkpointed part")
    job.add_argument(
        "--window", type=int, default=DEFAULT_WINDOW, help="texts in flight per stream"
    )
    job.add_argument("--concurrency", type=int, default=2, help="parts (streams) in flight")
    job.add_argument("--on-error", choices=("skip", "stop"), default="skip")
    job.add_argument(
        "--long-input",
        choices=("chunk", "late_chunk"),
        help="split each text into chunks (one output row per chunk, with its spans)",
    )
    job.add_argument("--chunk-tokens", type=int, default=0, help="tokens per chunk at most")
    job.add_argument("--chunk-overlap", type=int, default=0, help="tokens shared by chunks")
    job.add_argument("--quiet", action="store_true")
    _text_options(job, default_task="search_document")

    image = commands.add_parser("image", help="embed image files or URLs; prints JSON")
    image.add_argument("images", nargs="+")
    image.add_argument("--dim", type=int)

    stats = commands.add_parser("stats", help="EXIF and colour statistics of an image")
    stats.add_argument("image")
    stats.add_argument("--averaging", choices=("arithmetic", "geometric"))

    commands.add_parser("health", help="the server's health")
    commands.add_parser("info", help="the server's models, limits and version")
    return parser


def _text_options(parser: argparse.ArgumentParser, *, default_task: str) -> None:
    parser.add_argument("--task", choices=TASKS, default=default_task)
    parser.add_argument("--dim", type=int)
    parser.add_argument(
        "--no-truncate",
        dest="truncate",
        action="store_false",
        help="refuse over-long texts instead of truncating them",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (InputError, JobError) as exc:
        print(f"nomic-embed: {exc}", file=sys.stderr)
        return 2
    except Stopped as exc:
        print(
            f"nomic-embed: stopped at {exc} (rows before it are kept: run again to resume "
            "after fixing it, or use --on-error skip)",
            file=sys.stderr,
        )
        return 1
    except NomicServeError as exc:
        print(f"nomic-embed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace) -> int:
    tls = TLS(ca=args.tls_ca) if args.tls_ca else None
    async with AsyncClient(
        args.target, api_key=args.api_key, tls=tls, timeout=args.timeout
    ) as client:
        if args.command == "embed":
            vectors = await client.embed(
                args.texts, task=args.task, dim=args.dim, truncate=args.truncate
            )
            _print(vectors.tolist() if len(args.texts) > 1 else vectors[0].tolist())
        elif args.command == "image":
            images = [
                Path(i) if not i.startswith(("http://", "https://", "data:")) else i
                for i in args.images
            ]
            vectors = await client.embed_images(images, dim=args.dim)
            _print(vectors.tolist() if len(images) > 1 else vectors[0].tolist())
        elif args.command == "stats":
            _print(_dict(await client.image_stats(args.image, averaging=args.averaging)))
        elif args.command == "health":
            _print(_dict(await client.health()))
        elif args.command == "info":
            info = await client.info()
            from ._version import __version__

            _print({**_dict(info), "client_version": __version__})
        else:
            return await _embed_file(client, args)
    return 0


async def _embed_file(client: AsyncClient, args: argparse.Namespace) -> int:
    if not args.input.is_file():
        raise InputError(f"cannot read {args.input}: no such file")
    if args.long_input and output_format(args.out) == "npy":
        raise InputError("--long-input writes one row per chunk: use .parquet or .jsonl")
    if not args.long_input and (args.chunk_tokens or args.chunk_overlap):
        raise InputError("--chunk-tokens and --chunk-overlap need --long-input")
    options = JobOptions(
        input=str(args.input),
        input_format=input_format(args.input, args.format),
        output=str(args.out),
        output_format=output_format(args.out),
        field=args.field,
        id_field=args.id_field,
        task=args.task,
        dim=args.dim,
        truncate=args.truncate,
        batch=args.batch,
        long_input=args.long_input,
        chunk_tokens=args.chunk_tokens,
        chunk_overlap=args.chunk_overlap,
    )
    progress = Progress(quiet=args.quiet)
    job = Job(
        client,
        options,
        window=args.window,
        concurrency=args.concurrency,
        on_error=args.on_error,
        progress=progress,
    )
    started = time.monotonic()
    status = await job.run()
    if status == 130:
        print(
            f"nomic-embed: interrupted after row {job.state['rows']}; run the same command "
            "to resume",
            file=sys.stderr,
        )
        return status
    seconds = time.monotonic() - started
    rows, failed = job.state["rows"], job.state["failed"]
    done = rows - job.progress.resumed
    summary = (
        f"{rows} rows ({rows - failed} embedded, {failed} failed) in {seconds:.1f} s, "
        f"{done / max(seconds, 1e-9):.0f} rows/s -> {args.out}"
    )
    if failed:
        summary += f"; failed rows are listed in {job.errors_path}"
    if not args.quiet or failed:
        print(summary, file=sys.stderr)
    return 0


def _dict(message: object) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)  # type: ignore[arg-type]


def _print(value: object) -> None:
    json.dump(value, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
