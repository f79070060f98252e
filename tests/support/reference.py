"""Where the shared oracle data lives, and what a test does when a prerequisite is absent.

On a developer's machine a missing prerequisite (the reference data in ../shared, exiftool,
Chromium, ...) skips the test that needs it; in CI (`CI=true`) it fails the test instead, so
the accuracy claims of the README are always checked there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["REPO_ROOT", "SHARED_REFERENCE", "in_ci", "reference_file", "unavailable"]

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skips the test, or fails it in CI, where every prerequisite must be present."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails instead of skipping)")
    pytest.skip(reason)


def reference_file(*parts: str) -> Path:
    """A file of ../shared/reference, or skip (fail in CI) when it is not there."""
    path = SHARED_REFERENCE.joinpath(*parts)
    if not path.exists():
        unavailable(f"reference data not found at {path}")
    return path
