"""Generates everything derived from proto/: the Python stubs of `nomic-serve-stubs`.

Run by `make proto`. `--check` regenerates into a scratch folder and fails if the committed
files differ, which is what the staleness test calls, so the test and the make target can never
disagree about how the stubs are made.

protoc writes absolute imports that mirror the proto package (`from nomic.serve.v1 import
embedding_service_pb2`). A top-level `nomic` package would clash with Nomic's own PyPI
package, so the stubs live in `nomic_serve_stubs.v1` and those imports are made relative.
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
PROTO_FILES = ("nomic/serve/v1/embedding_service.proto",)
_PACKAGE_IMPORT = re.compile(r"^from nomic\.serve\.v1 import ", re.MULTILINE)


def generate(out_dir: Path) -> list[Path]:
    """Runs protoc into `out_dir` (flat) and returns the files written."""
    from grpc_tools import protoc

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory() as raw:
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"-I{THIRD_PARTY}",
            f"-I{well_known}",
            f"--python_out={raw}",
            f"--pyi_out={raw}",
            f"--grpc_python_out={raw}",
            *PROTO_FILES,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed: " + " ".join(args))
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for path in sorted((Path(raw) / "nomic" / "serve" / "v1").glob("*.py*")):
            target = out_dir / path.name
            target.write_text(_PACKAGE_IMPORT.sub("from . import ", path.read_text()))
            written.append(target)
    return written


def check(committed: Path) -> list[str]:
    """Returns a unified diff per stale or missing file; empty when the stubs are fresh."""
    problems = []
    with tempfile.TemporaryDirectory() as fresh:
        for path in generate(Path(fresh)):
            current = committed / path.name
            old = current.read_text().splitlines() if current.exists() else []
            new = path.read_text().splitlines()
            if old != new:
                diff = difflib.unified_diff(old, new, str(current), "regenerated", lineterm="")
                problems.append("\n".join(list(diff)[:40]))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed stubs are stale")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(STUBS_DIR)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("stubs are stale: run `make proto`", file=sys.stderr)
        return 1 if problems else 0
    for path in generate(STUBS_DIR):
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
