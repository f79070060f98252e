"""The image string of the original API: URLs are checked, inline data decoded under the limit."""

from __future__ import annotations

import base64
import re

import pytest

from nomic_serve.errors import ImageTooLarge, InvalidImage
from nomic_serve.fetch import parse_image_content
from nomic_serve.fetch.sources import too_large

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3 + b"\xff\xfe"
LIMIT = 4096


def parse(content: str, max_bytes: int = LIMIT) -> bytes | str:
    return parse_image_content(content, max_bytes=max_bytes)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("http://example.com/cat.png", "http://example.com/cat.png"),
        ("  https://example.com:8443/a b.jpg?x=1 \n", "https://example.com:8443/a%20b.jpg?x=1"),
        ("HTTPS://Example.COM/x", "https://example.com/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_http_urls_are_returned_for_fetching(content: str, expected: str) -> None:
    assert parse(content) == expected


@pytest.mark.parametrize(
    ("content", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/cat.png", "ftp"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "gopher"),
        ("javascript:alert(1)", "javascript"),
    ],
)
def test_other_schemes_are_refused_by_name(content: str, scheme: str) -> None:
    message = f"unsupported URL scheme '{scheme}'; use http(s), a data URL or base64"
    with pytest.raises(InvalidImage, match=re.escape(message)):
        parse(content)


def test_urls_need_a_host_and_no_credentials() -> None:
    with pytest.raises(InvalidImage, match="image URL has no host"):
        parse("http:///cat.png")
    with pytest.raises(InvalidImage, match="must not contain a user name or password"):
        parse("http://user:secret@example.com/cat.png")
    with pytest.raises(InvalidImage, match=r"image URL has an invalid port \(99999\)"):
        parse("http://example.com:99999/")
    with pytest.raises(InvalidImage, match="image URL is not valid: Invalid port: 'abc'"):
        parse("http://example.com:abc/")


def test_data_url_with_base64_and_media_type() -> None:
    encoded = base64.b64encode(IMAGE).decode()
    assert parse(f"data:image/png;base64,{encoded}") == IMAGE
    assert parse(f"DATA:;BASE64,{encoded}") == IMAGE


def test_data_url_without_base64_is_percent_decoded() -> None:
    assert parse("data:,GIF89a%01%02%ff") == b"GIF89a\x01\x02\xff"
    assert parse("data:image/svg+xml,<svg%20/>") == b"<svg />"


def test_data_url_errors() -> None:
    with pytest.raises(InvalidImage, match="data URL has no comma"):
        parse("data:image/png;base64")
    with pytest.raises(InvalidImage, match="data URL has invalid base64"):
        parse("data:image/png;base64,iVBOR*w0KGgo=")
    with pytest.raises(InvalidImage, match="image data is empty"):
        parse("data:image/png;base64,")


def test_raw_base64_with_line_breaks() -> None:
    encoded = base64.encodebytes(IMAGE).decode()  # 76-character lines
    assert "\n" in encoded
    assert parse(encoded) == IMAGE
    assert parse(encoded.replace("\n", "\r\n  ")) == IMAGE


def test_urlsafe_base64_and_missing_padding() -> None:
    for size in (len(IMAGE), len(IMAGE) - 1, len(IMAGE) - 2):
        data = IMAGE[:size]
        urlsafe = base64.urlsafe_b64encode(data).decode()
        assert "-" in urlsafe or "_" in urlsafe or size != len(IMAGE)
        assert parse(urlsafe) == data
        assert parse(urlsafe.rstrip("=")) == data


@pytest.mark.parametrize(
    "content",
    [
        "not base64!",
        "QUJD*REVG",
        "QUJDR",  # one character past a full group cannot be base64
        "QU==JD",  # padding in the middle
        "QUJD===",  # too much padding
        "QUJDé",
    ],
)
def test_invalid_base64_is_refused(content: str) -> None:
    with pytest.raises(InvalidImage, match="content is not a URL, a data URL or valid base64"):
        parse(content)


@pytest.mark.parametrize("content", ["", "   ", "\n\t"])
def test_empty_content_is_refused(content: str) -> None:
    with pytest.raises(InvalidImage, match="image content is empty"):
        parse(content)


def test_limit_applies_to_decoded_bytes() -> None:
    exact = bytes(LIMIT)
    assert parse(base64.b64encode(exact).decode()) == exact
    with pytest.raises(
        ImageTooLarge, match=r"larger than the 0.00390625 MB limit \(IMAGE_MAX_MB\)"
    ):
        parse(base64.b64encode(bytes(LIMIT + 1)).decode())
    with pytest.raises(ImageTooLarge):
        parse("data:," + "a" * (LIMIT + 1))


def test_limit_message_names_megabytes() -> None:
    message = str(too_large(20 * 1048576))
    assert message == "image is larger than the 20 MB limit (IMAGE_MAX_MB)"


def test_oversized_base64_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded an oversized string")

    monkeypatch.setattr(base64, "b64decode", no_decoding)
    huge = "A" * (8 * 1024 * 1024)  # 6 MiB once decoded, and invalid past the limit anyway
    with pytest.raises(ImageTooLarge):
        parse(huge)
    with pytest.raises(ImageTooLarge):
        parse("data:image/png;base64," + huge)
