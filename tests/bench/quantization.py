"""Retrieval quality of the compact encodings against float, on the embedded model.

Starts `nomic-serve` (the embedded MiniLM, cache off) and embeds a held-out retrieval set
through gRPC: documents with `search_document`, queries with `search_query`, each in every
encoding the server offers. The set is generated here (seeded, other templates and words
than the calibration corpus, so the ranges are not fitted to it): topics of sentences, each
query a question about one topic. The float top 10 by cosine is the reference; each row
prints recall@10 against it (the share of the float top 10 found in the encoding's top 10)
and bytes per vector:

- float16 and int8: the dot product of the query's and the documents' codes (int8 as
  integers, as a vector database compares them); uint8: the L2 distance of the codes (their
  dot product is biased by the offset, so uint8 stores use distances);
- binary: Hamming distance of the packed bits (ubinary is the same bits);
- binary + rescore: the 40 best by Hamming (4 x 10), reordered by the float query's dot
  product with the documents' bits as -1/+1 (sentence-transformers' rescoring: the
  documents stay binary, only the query is float).

    .venv/bin/python -m tests.bench.quantization [--documents 3000] [--queries 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import grpc
import numpy as np

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import ServerProcess

K = 10
RESCORE = 4
SUBJECTS = (
    "glaciers",
    "submarines",
    "violins",
    "honeybees",
    "volcanoes",
    "lighthouses",
    "orchids",
    "satellites",
    "bridges",
    "penguins",
    "compilers",
    "tea plantations",
    "subway maps",
    "chess openings",
    "coral reefs",
    "wind turbines",
    "medieval castles",
    "jazz records",
    "desert foxes",
    "paper mills",
    "tax audits",
    "sourdough starters",
    "marathon training",
    "solar panels",
    "river deltas",
    "vaccines",
    "electric guitars",
    "sea turtles",
    "printers",
    "wedding cakes",
)
ASPECTS = (
    "how {s} are built",
    "the history of {s}",
    "why {s} fail",
    "the cost of {s}",
    "caring for {s}",
    "the science behind {s}",
    "famous {s}",
    "the future of {s}",
    "common myths about {s}",
    "{s} in cold climates",
)
STYLES = (
    "An article explains {a} in plain words.",
    "Experts disagree about {a}.",
    "A short guide covers {a} for beginners.",
    "New figures shed light on {a}.",
    "The documentary spends an hour on {a}.",
    "Students wrote essays on {a}.",
    "A museum exhibit is devoted to {a}.",
    "The podcast interviews a specialist on {a}.",
)
QUESTIONS = ("what should I know about {a}?", "tell me about {a}", "{a}: where do I start?")


def corpus(documents: int, queries: int, seed: int = 11) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    topics = [a.format(s=s) for s in SUBJECTS for a in ASPECTS]
    docs = [f"{rng.choice(STYLES).format(a=rng.choice(topics))} #{i}" for i in range(documents)]
    asked = [rng.choice(QUESTIONS).format(a=rng.choice(topics)) for _ in range(queries)]
    return docs, asked


def embed(
    stub: rpc.EmbeddingServiceStub, texts: list[str], prefix: str, encoding: str
) -> np.ndarray:
    """[n, dim] float32 for `float`, else [n, bytes] uint8 of the packed codes."""
    rows: list[np.ndarray] = []
    for start in range(0, len(texts), 256):
        request = pb.EmbedListRequest(
            inputs=texts[start : start + 256], prefix=prefix, encoding=encoding
        )
        reply = stub.EmbedList(request, timeout=300)
        if encoding == "float":
            rows += [
                np.array([v.number_value for v in r.values], np.float32) for r in reply.embeddings
            ]
        else:
            rows += [np.frombuffer(data, np.uint8) for data in reply.packed.data]
    return np.stack(rows)


def top(scores: np.ndarray, k: int, largest: bool = True) -> np.ndarray:
    order = np.argsort(-scores if largest else scores, axis=1, kind="stable")
    return order[:, :k]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    docs, queries = corpus(args.documents, args.queries)
    folder = Path(tempfile.mkdtemp(prefix="bench-quantization-"))
    server = ServerProcess(
        [sys.executable, "-m", "nomic_serve"], folder, {"CACHE_MB": "0", "IMG_MODEL": "none"}
    )
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            info = stub.Info(pb.InfoRequest())
            print(
                f"model {info.text.name}, dim {info.text.dimension}; calibration "
                f"{info.quantization.source}: {info.quantization.detail}, "
                f"sha256 {info.quantization.sha256[:16]}; {len(docs)} documents, "
                f"{len(queries)} queries"
            )
            codes = {
                encoding: (
                    embed(stub, docs, "search_document", encoding),
                    embed(stub, queries, "search_query", encoding),
                )
                for encoding in ("float", "float16", "int8", "uint8", "ubinary")
            }
    finally:
        server.stop()
    float_docs, float_queries = codes["float"]
    truth = top(float_queries @ float_docs.T, K)
    rows = [("float", 4 * float_docs.shape[1], 1.0)]
    halves = {
        name: codes["float16"][i].view("<f2").astype(np.float32)
        for i, name in enumerate(("d", "q"))
    }
    rows.append(
        (
            "float16",
            codes["float16"][0].shape[1],
            recall(top(halves["q"] @ halves["d"].T, K), truth),
        )
    )
    d, q = (codes["int8"][i].view(np.int8).astype(np.int64) for i in (0, 1))
    rows.append(("int8 (dot product)", d.shape[1], recall(top(q @ d.T, K), truth)))
    d, q = (codes["uint8"][i].astype(np.int64) for i in (0, 1))
    distances = (q * q).sum(axis=1)[:, None] - 2 * q @ d.T + (d * d).sum(axis=1)[None, :]
    rows.append(
        ("uint8 (L2 distance)", d.shape[1], recall(top(distances, K, largest=False), truth))
    )
    bits_d, bits_q = (np.unpackbits(codes["ubinary"][i], axis=1).astype(np.int64) for i in (0, 1))
    hamming = (bits_q[:, None, :] != bits_d[None, :, :]).sum(axis=2)
    rows.append(
        (
            "binary (Hamming)",
            codes["ubinary"][0].shape[1],
            recall(top(hamming, K, largest=False), truth),
        )
    )
    candidates = top(hamming, K * RESCORE, largest=False)
    signs = 2 * bits_d - 1
    rescored = np.stack(
        [
            c[np.argsort(-(signs[c] @ q), kind="stable")][:K]
            for c, q in zip(candidates, float_queries, strict=True)
        ]
    )
    rows.append(
        (
            f"binary + float rescore of top {K * RESCORE}",
            codes["ubinary"][0].shape[1],
            recall(rescored, truth),
        )
    )
    print(f"\n| encoding | bytes per vector | recall@{K} vs float |\n|---|---:|---:|")
    for name, size, value in rows:
        print(f"| {name} | {size} | {value:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
