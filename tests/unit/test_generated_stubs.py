"""The committed stubs are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("generate", REPO_ROOT / "proto" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_fresh() -> None:
    problems = _generator().check()
    assert not problems, "generated files are stale, run `make proto`:\n" + "\n".join(problems)


def test_staleness_is_detected(tmp_path: Path) -> None:
    generator = _generator()
    written = generator.generate_stubs(tmp_path)
    stale = next(p for p in written if p.suffix == ".pyi")
    stale.write_text(stale.read_text() + "\n# edited by hand\n")
    assert generator._compare(stale, generator.STUBS_DIR / stale.name)


def test_stubs_import_without_onnxruntime() -> None:
    """The client side needs only grpcio/protobuf: nothing in the stubs imports the server."""
    stubs = REPO_ROOT / "clients" / "stubs" / "nomic_serve_stubs"
    for path in stubs.rglob("*.py"):
        text = path.read_text()
        assert "onnxruntime" not in text and "nomic_serve." not in text, path
