"""`nomic-embed` as users run it, against a real server process."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import ServerProcess
from ..support.waiting import eventually_sync
from .conftest import corpus, embed_list

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "nomic_serve_client._cli"]


def _cli(server: ServerProcess, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "--target", server.address, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def _start(server: ServerProcess, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "--target", server.address, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _parquet(path: Path) -> tuple[list, np.ndarray, list[bool]]:
    table = pq.read_table(path)
    column = table.column("embedding").combine_chunks()
    ok = [value is not None for value in column.to_pylist()]
    vectors = np.array(
        [v if v is not None else [np.nan] * 32 for v in column.to_pylist()], dtype=np.float32
    )
    return table.column("id").to_pylist(), vectors, ok


def test_embed_prints_the_servers_vectors_as_json(server: ServerProcess) -> None:
    done = _cli(server, "embed", "a cat", "a dog", "--dim", "16")
    assert done.returncode == 0, done.stderr
    vectors = np.array(json.loads(done.stdout), dtype=np.float32)
    expected = embed_list(server.address, ["a cat", "a dog"], prefix="search_query", dim=16)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    health = _cli(server, "health")
    info = _cli(server, "info")
    assert json.loads(health.stdout)["status"] == "OK"
    assert json.loads(info.stdout)["client_version"] == json.loads(info.stdout)["version"]


def test_a_jsonl_job_has_every_row_once_in_order_with_bad_rows_listed(
    server: ServerProcess, tmp_path: Path
) -> None:
    texts = corpus(1200)
    texts[10] = texts[3]  # a duplicate: embedded once, written twice
    lines = [json.dumps({"text": t, "n": i}) for i, t in enumerate(texts)]
    lines[5] = ""  # an empty line
    lines[7] = json.dumps({"body": "no text field"})
    lines[9] = json.dumps({"text": "word " * 200})  # over the 64-token limit, --no-truncate
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    done = _cli(
        server, "embed-file", source, "--out", out, "--no-truncate", "--batch", "256", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    assert "3 failed" in done.stderr and "out.parquet.errors.jsonl" in done.stderr
    ids, vectors, ok = _parquet(out)
    assert ids == list(range(1200))
    assert [i for i, good in enumerate(ok) if not good] == [5, 7, 9]
    errors = [
        json.loads(line)
        for line in (tmp_path / "out.parquet.errors.jsonl").read_text().splitlines()
    ]
    assert [e["row"] for e in errors] == [6, 8, 10]  # line numbers
    assert "empty" in errors[0]["error"] and "'text'" in errors[1]["error"]
    assert "token" in errors[2]["error"]
    good = [i for i in range(1200) if ok[i]]
    expected = embed_list(server.address, [texts[i] for i in good], prefix="search_document")
    np.testing.assert_allclose(vectors[good], expected, atol=1e-6)
    assert pq.read_schema(out).field("embedding").type == pa.list_(pa.float32(), 32)
    assert not (tmp_path / "out.parquet.partial").exists()


@pytest.mark.parametrize("kind", ["csv", "tsv", "txt", "parquet"])
def test_every_input_format_to_npy_and_jsonl(server: ServerProcess, tmp_path: Path, kind) -> None:
    texts = corpus(300)
    source = tmp_path / f"in.{kind}"
    if kind in ("csv", "tsv"):
        with source.open("w", newline="") as file:
            writer = csv.writer(file, delimiter="\t" if kind == "tsv" else ",")
            writer.writerow(["id", "body"])
            writer.writerows([[f"doc-{i}", t] for i, t in enumerate(texts)])
        columns = ["--column", "body", "--id-column", "id"]
    elif kind == "txt":
        source.write_text("\n".join(texts) + "\n")
        columns = []
    else:
        pq.write_table(pa.table({"body": texts}), source)
        columns = ["--column", "body"]
    expected = embed_list(server.address, texts, prefix="clustering", dim=8)
    for suffix in ("npy", "jsonl"):
        out = tmp_path / f"out.{suffix}"
        done = _cli(
            server,
            "embed-file",
            source,
            "--out",
            out,
            "--task",
            "clustering",
            "--dim",
            "8",
            *columns,
        )
        assert done.returncode == 0, done.stderr
        if suffix == "npy":
            vectors = np.load(out)
        else:
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
            ids = [row["id"] for row in rows]
            assert ids == (
                [f"doc-{i}" for i in range(300)] if "--id-column" in columns else list(range(300))
            )
        np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_a_killed_job_resumes_where_it_stopped(server: ServerProcess, tmp_path: Path) -> None:
    texts = corpus(6000)
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.parquet"
    checkpoint = tmp_path / "out.parquet.partial" / "checkpoint.json"
    job = _start(server, "embed-file", source, "--out", out, "--batch", "200", "--quiet")

    def parts() -> int:
        try:
            return json.loads(checkpoint.read_text())["parts"]
        except (OSError, ValueError):
            return 0

    eventually_sync(lambda: parts() >= 3 or job.poll() is not None, timeout=60)
    job.kill()
    job.communicate()  # reaped, and its pipes closed
    killed_at = parts()
    assert 3 <= killed_at < 30 and not out.exists()
    again = _cli(server, "embed-file", source, "--out", out, "--batch", "200")
    assert again.returncode == 0, again.stderr
    assert f"resuming after row {killed_at * 200}" in again.stderr
    ids, vectors, ok = _parquet(out)
    assert ids == list(range(6000)) and all(ok)
    np.testing.assert_allclose(
        vectors, embed_list(server.address, texts, prefix="search_document"), atol=1e-6
    )


def test_ctrl_c_writes_the_checkpoint_and_exits_130(server: ServerProcess, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\n".join(corpus(6000)) + "\n")
    out = tmp_path / "out.npy"
    checkpoint = tmp_path / "out.npy.partial" / "checkpoint.json"
    job = _start(server, "embed-file", source, "--out", out, "--batch", "200")
    eventually_sync(
        lambda: checkpoint.exists() and json.loads(checkpoint.read_text())["parts"] >= 1, timeout=60
    )
    job.send_signal(signal.SIGINT)
    _, stderr = job.communicate(timeout=60)
    assert job.returncode == 130, stderr
    assert "interrupted after row" in stderr
    rows = json.loads(checkpoint.read_text())["rows"]
    assert rows % 200 == 0 and 0 < rows < 6000
    again = _cli(server, "embed-file", source, "--out", out, "--batch", "200", "--quiet")
    assert again.returncode == 0 and np.load(out).shape == (6000, 32)


def test_bad_inputs_are_reported_clearly(server: ServerProcess, tmp_path: Path) -> None:
    missing = _cli(server, "embed-file", tmp_path / "nope.jsonl", "--out", tmp_path / "o.npy")
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
    table = tmp_path / "t.csv"
    table.write_text("title,body\na,b\n")
    column = _cli(server, "embed-file", table, "--out", tmp_path / "o.npy", "--column", "text")
    assert column.returncode == 2 and "no column 'text'" in column.stderr
    lines = tmp_path / "l.txt"
    lines.write_text("one\n\nthree\n")
    stop = _cli(server, "embed-file", lines, "--out", tmp_path / "o.npy", "--on-error", "stop")
    assert stop.returncode == 1 and "row 2: empty line" in stop.stderr
    wrong = _cli(server, "embed-file", lines, "--out", tmp_path / "o.txt")
    assert wrong.returncode == 2 and ".parquet, .npy or .jsonl" in wrong.stderr
    assert os.path.exists(lines)


def _documents(n: int) -> list[str]:
    sentences = ["The cat sat on the mat.", "Dogs bark at night!", "Is it raining?", "No."]
    return [" ".join(sentences[(i + k) % 4] for k in range(6 + 3 * i)) for i in range(n)]


@pytest.mark.parametrize("mode", ["chunk", "late_chunk"])
def test_embed_file_long_input_writes_a_row_per_chunk(
    server: ServerProcess, tmp_path: Path, mode: str
) -> None:
    """Every chunk of every document, in order, with the spans and vectors the server's own
    Embed gives; a duplicate document gets the same chunks; a bad row is listed."""
    documents = _documents(5)
    rows = [*documents, "", documents[1]]
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows))
    for out in (tmp_path / "chunks.parquet", tmp_path / "chunks.jsonl"):
        done = _cli(
            server,
            "embed-file",
            source,
            "--out",
            out,
            "--long-input",
            mode,
            "--batch",
            "3",
            "--chunk-tokens",
            "16",
            "--chunk-overlap",
            "4",
            "--dim",
            "8",
            "--quiet",
        )
        assert done.returncode == 0, done.stderr
        if out.suffix == ".parquet":
            table = pq.read_table(out).to_pylist()
        else:
            table = [json.loads(line) for line in out.read_text().splitlines()]
        with grpc.insecure_channel(server.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            expected = []
            for row, text in enumerate(rows):
                if not text:
                    continue
                reply = stub.Embed(
                    pb.EmbedRequest(
                        input=text,
                        prefix="search_document",
                        dim=8,
                        long_input=mode,
                        chunk_tokens=16,
                        chunk_overlap=4,
                    )
                )
                expected += [
                    (
                        row,
                        k,
                        c.token_start,
                        c.token_end,
                        c.char_start,
                        c.char_end,
                        list(c.embedding),
                    )
                    for k, c in enumerate(reply.chunks.chunks)
                ]
        got = [
            (
                r["id"],
                r["chunk"],
                r["token_start"],
                r["token_end"],
                r["char_start"],
                r["char_end"],
                r["embedding"],
            )
            for r in table
        ]
        assert [g[:6] for g in got] == [e[:6] for e in expected]
        np.testing.assert_allclose([g[6] for g in got], [e[6] for e in expected], atol=1e-6)
        errors = (out.with_name(out.name + ".errors.jsonl")).read_text().splitlines()
        assert [json.loads(e)["row"] for e in errors] == [6]
    refused = _cli(server, "embed-file", source, "--out", tmp_path / "x.npy", "--long-input", mode)
    assert refused.returncode == 2 and "use .parquet or .jsonl" in refused.stderr
