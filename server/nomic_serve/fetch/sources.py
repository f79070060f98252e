"""The original API's image string: an http(s) URL, a data URL or raw base64.

Inline images are decoded here, under the byte limit, so no bad or oversized payload reaches
the image decoder; URLs are only checked, the fetcher downloads them.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

import httpx

from ..errors import ImageTooLarge, InvalidImage

__all__ = ["http_url", "parse_image_content", "too_large"]

# A scheme is letters, digits, "+", "-", "." then ":"; base64 never contains ":".
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
_NOT_BASE64 = "content is not a URL, a data URL or valid base64"


def parse_image_content(content: str, *, max_bytes: int) -> bytes | str:
    """The image bytes of a data URL or base64, or the checked URL to fetch."""
    text = content.strip()
    if not text:
        raise InvalidImage("image content is empty")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return _checked_size(_decode_base64(text, max_bytes, _NOT_BASE64), max_bytes)
    if scheme.group(1).lower() == "data":
        return _checked_size(_decode_data_url(text, max_bytes), max_bytes)
    return str(http_url(text))


def http_url(text: str) -> httpx.URL:
    """An http(s) URL with a host and no credentials, the only kind the fetcher requests.

    Credentials are refused: httpx would send them as Basic auth to whatever host the URL (or
    a redirect) names, and no image API needs them.
    """
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise InvalidImage(f"image URL is not valid: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise InvalidImage(
            f"unsupported URL scheme {url.scheme!r}; use http(s), a data URL or base64"
        )
    if not url.host:
        raise InvalidImage("image URL has no host")
    if url.port is not None and not 0 < url.port < 65536:
        raise InvalidImage(f"image URL has an invalid port ({url.port})")
    if url.userinfo:
        raise InvalidImage("image URL must not contain a user name or password")
    return url


def too_large(max_bytes: int) -> ImageTooLarge:
    """The one wording of the byte limit, for inline and fetched images alike."""
    return ImageTooLarge(
        f"image is larger than the {max_bytes / 1048576:g} MB limit (IMAGE_MAX_MB)"
    )


def _decode_data_url(text: str, max_bytes: int) -> bytes:
    """`data:[<mediatype>][;base64],<data>`; the media type is ignored, the decoder sniffs."""
    header, comma, data = text[len("data:") :].partition(",")
    if not comma:
        raise InvalidImage("data URL has no comma")
    if header.lower().endswith(";base64"):
        return _decode_base64(data, max_bytes, "data URL has invalid base64")
    return unquote_to_bytes(data)


def _decode_base64(text: str, max_bytes: int, problem: str) -> bytes:
    """Strict base64 that still takes line breaks, the URL-safe alphabet and no padding.

    The size is known from the length, so an oversized string is refused before decoding.
    """
    text = "".join(text.split())
    body = text.rstrip("=")
    if len(body) * 3 // 4 > max_bytes:
        raise too_large(max_bytes)
    if len(text) - len(body) > 2 or len(body) % 4 == 1:
        raise InvalidImage(problem)
    padded = body.translate(_URLSAFE_TO_STANDARD) + "=" * (-len(body) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage(problem) from None


def _checked_size(data: bytes, max_bytes: int) -> bytes:
    if not data:
        raise InvalidImage("image data is empty")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data
