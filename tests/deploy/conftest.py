"""The CPU image, built once per session from this checkout with `make image`'s script."""

from __future__ import annotations

import pytest

from ..support.containers import Image, build_image


@pytest.fixture(scope="session")
def image() -> Image:
    return build_image()
