"""The original API's image string: an http(s) URL, a data URL or raw base64.

Inline images are decoded here, under the byte limit, so no bad or oversized payload reaches
the image decoder; URLs are only checked, the fetcher downloads them.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from urllib.parse import unquote_to_bytes

import httpx

from ..errors import ImageTooLarge, InvalidImage, quoted

__all__ = ["http_url", "parse_image_content", "too_large"]

# A scheme is letters, digits, "+", "-", "." then ":"; base64 never contains ":".
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_WHITESPACE = b" \t\n\r\v\f"
_NOT_BASE64 = "content is not a URL, a data URL or valid base64"
# Characters cleaned or decoded per step: each step's C calls take about a millisecond, so a
# 27 MB base64 image decoded on a worker thread never holds the GIL for long at a time.
_STEP = 1 << 20


def parse_image_content(content: str, *, max_bytes: int) -> bytes | str:
    """The image bytes of a data URL or base64, or the checked URL to fetch."""
    text = content.strip()
    if not text:
        raise InvalidImage("image content is empty")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return _checked_size(_decode_base64(text, 0, max_bytes, _NOT_BASE64), max_bytes)
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
            f"unsupported URL scheme {quoted(url.scheme)}; use http(s), a data URL or base64"
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
    """`data:[<mediatype>][;base64],<data>`; the media type is ignored, the decoder sniffs.
    The data is read in place, never copied out of the URL first."""
    comma = text.find(",")
    if comma < 0:
        raise InvalidImage("data URL has no comma")
    if text[len("data:") : comma].lower().endswith(";base64"):
        return _decode_base64(text, comma + 1, max_bytes, "data URL has invalid base64")
    return unquote_to_bytes(text[comma + 1 :])


def _decode_base64(text: str, offset: int, max_bytes: int, problem: str) -> bytes:
    """Strict base64 from `text[offset:]` that still takes line breaks, the URL-safe alphabet
    and no padding.

    The size is known from the length, so an oversized string is refused before decoding;
    cleaning and decoding go _STEP characters at a time.
    """
    cleaned = bytearray()
    for start in range(offset, len(text), _STEP):
        try:
            piece = text[start : start + _STEP].encode("ascii")
        except UnicodeEncodeError:
            raise InvalidImage(problem) from None
        cleaned += piece.translate(_URLSAFE_TO_STANDARD, _WHITESPACE)
        if (len(cleaned) - 2) * 3 // 4 > max_bytes:  # up to two "=" may end it
            raise too_large(max_bytes)
    tail = bytes(cleaned[-3:])
    padding = len(tail) - len(tail.rstrip(b"="))
    unpadded = len(cleaned) - padding
    if unpadded * 3 // 4 > max_bytes:
        raise too_large(max_bytes)
    if padding > 2 or unpadded % 4 == 1 or (padding and len(cleaned) % 4):
        raise InvalidImage(problem)
    if cleaned.find(b"=", 0, unpadded) >= 0:  # each step decodes alone: "=" only at the end
        raise InvalidImage(problem)
    cleaned += b"=" * (-len(cleaned) % 4)  # padding the caller left out
    pieces = []
    try:
        for start in range(0, len(cleaned), _STEP):  # _STEP is a multiple of 4
            pieces.append(_strict_b64decode(cleaned[start : start + _STEP]))
    except (binascii.Error, ValueError):
        raise InvalidImage(problem) from None
    return b"".join(pieces)


def _strict_b64decode(data: bytearray) -> bytes:
    """Base64 that refuses any character outside the alphabet: in C where Python has it
    (3.11), else through base64's regular-expression check (several times slower)."""
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(data, strict_mode=True)
    return base64.b64decode(bytes(data), validate=True)


def _checked_size(data: bytes, max_bytes: int) -> bytes:
    if not data:
        raise InvalidImage("image data is empty")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data
