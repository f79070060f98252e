"""The TypeScript client's package (clients/node): its committed types are what `npm run
generate` (run by `make proto`) makes from proto/, its version is the server's, and every
dependency is pinned exactly (package-lock.json makes `npm ci` reproducible)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ..support.node import GENERATED, NODE_DIR, REPO_ROOT, compare_trees, generate_types


def test_generated_types_are_fresh(tmp_path: Path) -> None:
    fresh = tmp_path / "generated"
    generate_types(fresh)
    problems = compare_trees(GENERATED, fresh)
    assert not problems, "generated TypeScript types are stale, run `make proto`:\n" + "\n".join(
        problems
    )


def test_staleness_is_detected(tmp_path: Path) -> None:
    copy = tmp_path / "committed"
    shutil.copytree(GENERATED, copy)
    assert not compare_trees(copy, GENERATED)
    edited = copy / "nomic" / "serve" / "v1" / "EmbedRequest.ts"
    edited.write_text(edited.read_text() + "\n// edited by hand\n")
    (copy / "Leftover.ts").write_text("export {};\n")
    (copy / "nomic" / "serve" / "v1" / "EmbedResponse.ts").unlink()
    problems = "\n".join(compare_trees(copy, GENERATED))
    assert "edited by hand" in problems
    assert "Leftover.ts is not generated any more" in problems
    assert "EmbedResponse.ts is missing" in problems


def test_version_is_the_servers() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()  # no tomllib on Python 3.10
    server = re.search(r'^\[project\]$.*?^version = "([^"]+)"$', pyproject, re.M | re.S)[1]
    package = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert package["version"] == server
    assert lock["version"] == lock["packages"][""]["version"] == server


def test_dependencies_are_pinned_exactly() -> None:
    package = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    for kind in ("dependencies", "devDependencies"):
        for name, version in package[kind].items():
            assert version[0].isdigit(), f"{name}: {version} is a range, pin it exactly"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
