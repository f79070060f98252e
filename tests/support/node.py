"""The TypeScript client in clients/node, driven from pytest: Node.js and npm (never skipped:
missing, they fail the test with what to install), its node_modules (`npm ci` with the
Makefile's stamp, only when missing or older than the lock file), and its generated types."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = REPO_ROOT / "clients" / "node"
GENERATED = NODE_DIR / "src" / "generated"
# The Makefile's stamp too (NODE_STAMP): `npm ci` empties node_modules, so a stamp inside it
# dies with an interrupted install.
STAMP = NODE_DIR / "node_modules" / ".npm-ci-stamp"
INSTALL_INPUTS = (NODE_DIR / "package.json", NODE_DIR / "package-lock.json")


def tool(name: str) -> str:
    """The path of `node` or `npm`; a failure (not a skip) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not installed: the TypeScript client's tests need Node.js >= 18 and "
            "npm (`make test` installs the Debian packages nodejs and npm as root)",
            pytrace=False,
        )
    return found


def run(
    command: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` in clients/node, output captured; a failure shows it whole."""
    result = subprocess.run(
        command,
        cwd=NODE_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}",
            pytrace=False,
        )
    return result


def node_modules() -> None:
    """`npm ci` unless the stamp is newer than package.json and package-lock.json (as
    `make test` left it). Install scripts are off: no dependency needs one."""
    npm = tool("npm")
    if STAMP.exists() and all(
        STAMP.stat().st_mtime >= path.stat().st_mtime for path in INSTALL_INPUTS
    ):
        return
    run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], timeout=600)
    STAMP.touch()


def generate_types(out_dir: Path) -> None:
    """`npm run generate` into `out_dir`: the command `make proto` runs, elsewhere."""
    node_modules()
    run([tool("npm"), "run", "--silent", "generate", "--", str(out_dir)], timeout=120)


def compare_trees(committed: Path, fresh: Path) -> list[str]:
    """One message per file that differs, is missing or is left over; empty when equal."""
    names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    if committed.exists():
        names |= {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
    problems = []
    for name in sorted(names):
        old, new = committed / name, fresh / name
        if not new.exists():
            problems.append(f"{old} is not generated any more")
        elif not old.exists():
            problems.append(f"{old} is missing")
        elif old.read_bytes() != new.read_bytes():
            diff = difflib.unified_diff(
                old.read_text().splitlines(),
                new.read_text().splitlines(),
                str(old),
                "regenerated",
                lineterm="",
            )
            problems.append("\n".join(list(diff)[:40]))
    return problems
