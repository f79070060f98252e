"""Image embedding throughput and memory: single vs batched, through a real server process.

Builds a ViT-shaped test model (tiny by default; `--base` for ViT-B/16 size, the compute of
nomic-embed-vision-v1.5), starts `nomic-serve` with it, and sends 1024x768 JPEGs: one at a
time, 8 at once, and as 16-image ImageEmbedList batches. Prints images/s and the server's
resident memory, sampled during each pattern; asserts nothing.

    .venv/bin/python -m tests.bench.image_throughput [--base] [--rounds 4]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.models import TINY_VIT, build_vision_model
from ..support.processes import BIN, ServerProcess
from ..support.vit_graph import VitConfig
from .throughput_load import RssSampler, rss_mb


def _photos(count: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    photos = []
    for _ in range(count):
        base = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((1024, 768), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        photos.append(buffer.getvalue())
    return photos


def _measure(stub: rpc.EmbeddingServiceStub, photos: list[bytes], rounds: int, pid: int) -> None:
    count = len(photos) * rounds
    single = pb.ImageEmbedRequest
    patterns = {
        "ImageEmbed, one at a time": lambda: [
            stub.ImageEmbed(single(data=p)) for p in photos * rounds
        ],
        "ImageEmbed, 8 in flight": lambda: ThreadPoolExecutor(8).map(
            lambda p: stub.ImageEmbed(single(data=p)), photos * rounds
        ),
        "ImageEmbedList of 16": lambda: [
            stub.ImageEmbedList(pb.ImageEmbedListRequest(data=photos)) for _ in range(rounds)
        ],
    }
    print(f"server RSS idle after warm-up: {rss_mb(pid):.0f} MB")
    print("| request pattern | images | images/s | peak RSS during it |")
    print("|---|---|---|---|")
    for label, run in patterns.items():
        with RssSampler(pid) as sampler:
            started = time.perf_counter()
            list(run())
            seconds = time.perf_counter() - started
        print(f"| {label} | {count} | {count / seconds:.1f} | {sampler.peak:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", action="store_true", help="ViT-B/16 sized model")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    config = VitConfig() if args.base else TINY_VIT
    photos = _photos(16)
    name = "ViT-B/16 sized" if args.base else "tiny test ViT"
    print(
        f"model: {name} (hidden {config.hidden_size}, {config.num_hidden_layers} layers), "
        f"{os.cpu_count()} cores shared by client and server, 1024x768 JPEGs"
    )
    with tempfile.TemporaryDirectory() as folder:
        model = build_vision_model(Path(folder) / "vision", config)
        env = {"IMG_MODEL": str(model), "LOG_LEVEL": "warning"}
        server = ServerProcess([str(BIN / "nomic-serve")], Path(folder), env)
        try:
            with grpc.insecure_channel(server.address) as channel:
                stub = rpc.EmbeddingServiceStub(channel)
                stub.ImageEmbed(pb.ImageEmbedRequest(data=photos[0]))  # warm up
                _measure(stub, photos, args.rounds, server.proc.pid)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
