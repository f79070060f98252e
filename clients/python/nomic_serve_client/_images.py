"""What callers pass as an image, as the two forms the contract carries: a string the server
fetches or decodes (`content`: an http(s) URL or a data URL) or file bytes (`data`)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

__all__ = ["ImageInput", "as_image"]

# A path (str or PathLike), a URL or data URL (str), file bytes, or a PIL image.
ImageInput = str | os.PathLike | bytes | bytearray | memoryview | Any

_REMOTE = ("http://", "https://", "data:")


def as_image(image: ImageInput) -> tuple[str, bytes]:
    """(content, data): exactly one is non-empty. A string is a URL when it starts with
    http://, https:// or data:, and a file path otherwise: a missing file fails here, with
    its name, before anything is sent. PIL images are sent as PNG (lossless)."""
    if isinstance(image, str):
        if image.startswith(_REMOTE):
            return image, b""
        return "", Path(image).read_bytes()
    if isinstance(image, os.PathLike):
        return "", Path(image).read_bytes()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "", bytes(image)
    if hasattr(image, "save") and hasattr(image, "mode"):  # PIL.Image.Image, without importing it
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return "", buffer.getvalue()
    raise TypeError(f"not an image: {type(image).__name__} (pass a path, URL, bytes or PIL image)")
