"""Generates everything derived from proto/: stubs, the Envoy descriptor set, OpenAPI.

Run by `make proto`. `--check` regenerates into a scratch folder and fails if the committed
files differ, which is what the staleness test calls, so the test and the make target can never
disagree about how the outputs are made.

- `clients/stubs/nomic_serve_stubs/v1/`: Python messages and gRPC stubs. protoc writes
  absolute imports that mirror the proto package (`from nomic.serve.v1 import ...`); a
  top-level `nomic` package would clash with Nomic's own PyPI package, so they are made
  relative.
- `server/nomic_serve/gateway/descriptor.binpb`: the descriptor set the Envoy transcoder
  loads (`--include_imports --include_source_info`, google.rpc.Status included so errors
  can be converted to JSON).
- `server/nomic_serve/gateway/openapi.json`: OpenAPI 3.1, from that descriptor set.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.resources
import re
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent
THIRD_PARTY = PROTO_ROOT / "third_party" / "googleapis"
STUBS_DIR = REPO_ROOT / "clients" / "stubs" / "nomic_serve_stubs" / "v1"
GATEWAY_DIR = REPO_ROOT / "server" / "nomic_serve" / "gateway"
PROTO_FILES = ("nomic/serve/v1/embedding_service.proto",)
DESCRIPTOR_EXTRA = ("google/rpc/status.proto", "google/rpc/error_details.proto")
DESCRIPTOR_NAME = "descriptor.binpb"
OPENAPI_NAME = "openapi.json"
_PACKAGE_IMPORT = re.compile(r"^from nomic\.serve\.v1 import ", re.MULTILINE)


def _protoc(*args: str) -> None:
    from grpc_tools import protoc

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    command = ["protoc", f"-I{PROTO_ROOT}", f"-I{THIRD_PARTY}", f"-I{well_known}", *args]
    if protoc.main(command) != 0:
        raise RuntimeError("protoc failed: " + " ".join(command))


def generate_stubs(out_dir: Path) -> list[Path]:
    """Runs protoc into `out_dir` (flat) and returns the files written."""
    with tempfile.TemporaryDirectory() as raw:
        _protoc(f"--python_out={raw}", f"--pyi_out={raw}", f"--grpc_python_out={raw}", *PROTO_FILES)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for path in sorted((Path(raw) / "nomic" / "serve" / "v1").glob("*.py*")):
            target = out_dir / path.name
            target.write_text(_PACKAGE_IMPORT.sub("from . import ", path.read_text()))
            written.append(target)
    return written


def generate_gateway(out_dir: Path) -> list[Path]:
    """Writes the descriptor set and the OpenAPI document generated from it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    descriptor = out_dir / DESCRIPTOR_NAME
    _protoc(
        f"--descriptor_set_out={descriptor}",
        "--include_imports",
        "--include_source_info",
        *PROTO_FILES,
        *DESCRIPTOR_EXTRA,
    )
    sys.path.insert(0, str(PROTO_ROOT))
    try:
        from openapi import write_openapi
    finally:
        sys.path.remove(str(PROTO_ROOT))
    openapi = out_dir / OPENAPI_NAME
    write_openapi(descriptor, openapi)
    return [descriptor, openapi]


TARGETS = ((STUBS_DIR, generate_stubs), (GATEWAY_DIR, generate_gateway))


def check() -> list[str]:
    """Returns one message per stale or missing file; empty when everything is fresh."""
    problems = []
    for committed_dir, generate in TARGETS:
        with tempfile.TemporaryDirectory() as fresh:
            for path in generate(Path(fresh)):
                problems.extend(_compare(committed_dir / path.name, path))
    return problems


def _compare(committed: Path, fresh: Path) -> list[str]:
    old = committed.read_bytes() if committed.exists() else b""
    new = fresh.read_bytes()
    if old == new:
        return []
    if fresh.suffix == ".binpb":
        return [f"{committed} differs from the regenerated file"]
    diff = difflib.unified_diff(
        old.decode().splitlines(),
        new.decode().splitlines(),
        str(committed),
        "regenerated",
        lineterm="",
    )
    return ["\n".join(list(diff)[:40])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("generated files are stale: run `make proto`", file=sys.stderr)
        return 1 if problems else 0
    for target_dir, generate in TARGETS:
        for path in generate(target_dir):
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
