"""The image string of the original API: URLs are checked, inline data decoded under the limit."""

from __future__ import annotations

import base64
import binascii
import random
import re
import tracemalloc

import pytest

from nomic_serve.errors import ImageTooLarge, InvalidImage
from nomic_serve.fetch import parse_image_content, sources
from nomic_serve.fetch.sources import _STEP, too_large

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
    monkeypatch.setattr(binascii, "a2b_base64", no_decoding)  # what Python 3.11+ decodes with
    huge = "A" * (8 * 1024 * 1024)  # 6 MiB once decoded, and invalid past the limit anyway
    with pytest.raises(ImageTooLarge):
        parse(huge)
    with pytest.raises(ImageTooLarge):
        parse("data:image/png;base64," + huge)


# --- stepped, strict decoding of large inline images -------------------------------------------

MB = 1 << 20
BIG = random.Random(5).randbytes(3 * MB)  # exactly four _STEPs once in base64


def test_step_is_a_whole_number_of_base64_groups() -> None:
    assert _STEP % 4 == 0


@pytest.mark.parametrize("size", [3 * MB, 3 * MB - 1, 3 * MB - 2])  # "", "==" and "=" padding
def test_large_data_url_round_trips_exactly(size: int) -> None:
    data = BIG[:size]
    encoded = base64.b64encode(data).decode()
    assert len(encoded) > 3 * _STEP
    assert parse(f"data:image/png;base64,{encoded}", max_bytes=4 * MB) == data
    assert parse(encoded, max_bytes=4 * MB) == data


@pytest.mark.parametrize("size", [3 * MB, 3 * MB - 1, 3 * MB - 2])
def test_large_urlsafe_base64_without_padding(size: int) -> None:
    data = BIG[:size]
    urlsafe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert "-" in urlsafe and "_" in urlsafe
    assert parse(urlsafe, max_bytes=4 * MB) == data
    assert parse(f"data:;base64,{urlsafe}", max_bytes=4 * MB) == data


def test_every_kind_of_whitespace_is_ignored_across_steps() -> None:
    """Line breaks every 76 characters (MIME), and each ASCII whitespace character sprinkled
    in, so the cleaned steps and the text's steps no longer line up."""
    lines = base64.encodebytes(BIG).decode()
    assert len(lines) > 4 * _STEP
    assert parse(lines, max_bytes=4 * MB) == BIG
    encoded = base64.b64encode(BIG).decode()
    spaced = "".join(
        encoded[start : start + 7] + " \t\n\r\v\f"[start // 7 % 6]
        for start in range(0, len(encoded), 7)
    )
    assert parse(spaced, max_bytes=4 * MB) == BIG
    assert parse("data:image/png;base64,\r\n" + spaced + "\r\n", max_bytes=4 * MB) == BIG


@pytest.mark.parametrize("bad", ["*", "!", ".", "\x00", "é", "\u2028", "="])
@pytest.mark.parametrize("where", [10, 3 * _STEP + 17, -10])  # the first step, later ones
def test_a_bad_character_anywhere_is_refused(bad: str, where: int) -> None:
    encoded = base64.b64encode(BIG).decode()
    assert len(encoded) > 2 * _STEP
    position = where % len(encoded)
    spoiled = encoded[:position] + bad + encoded[position + 1 :]
    with pytest.raises(InvalidImage, match="content is not a URL, a data URL or valid base64"):
        parse(spoiled, max_bytes=4 * MB)
    with pytest.raises(InvalidImage, match="data URL has invalid base64"):
        parse("data:image/png;base64," + spoiled, max_bytes=4 * MB)


def test_a_bad_character_is_refused_even_with_room_to_spare() -> None:
    """The one bad character of a >2 MB string sits near its end, in a later step."""
    encoded = base64.b64encode(BIG[: 2 * MB]).decode()  # 2.7 M characters
    spoiled = encoded[:-5] + "*" + encoded[-4:]
    with pytest.raises(InvalidImage):
        parse(spoiled, max_bytes=16 * MB)


@pytest.mark.parametrize("where", [_STEP - 1, 2 * _STEP - 2])
def test_padding_inside_the_string_is_refused_at_a_step_boundary(where: int) -> None:
    """Each step decodes on its own: padding that ends a step must still be refused."""
    encoded = base64.b64encode(BIG).decode()
    spoiled = (
        encoded[:where] + "=" * (_STEP - where % _STEP) + encoded[where + _STEP - where % _STEP :]
    )
    assert len(spoiled) == len(encoded)
    with pytest.raises(InvalidImage):
        parse(spoiled, max_bytes=4 * MB)


@pytest.mark.parametrize("size", [3000, 3001, 3002])
@pytest.mark.parametrize("form", ["padded", "unpadded", "data URL", "lines"])
def test_the_size_is_refused_from_the_length_before_decoding(
    monkeypatch: pytest.MonkeyPatch, size: int, form: str
) -> None:
    """max_bytes=size-1: every form of a `size`-byte image is refused, the decoder untouched;
    max_bytes=size: the same text decodes (so the length was read, not guessed)."""
    data = BIG[:size]
    encoded = {
        "padded": base64.b64encode(data).decode(),
        "unpadded": base64.b64encode(data).decode().rstrip("="),
        "data URL": "data:image/png;base64," + base64.b64encode(data).decode(),
        "lines": base64.encodebytes(data).decode().replace("\n", "\r\n  \n"),
    }[form]
    assert parse(encoded, max_bytes=size) == data

    def no_decoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded an oversized string")

    monkeypatch.setattr(sources, "_strict_b64decode", no_decoding)
    monkeypatch.setattr(binascii, "a2b_base64", no_decoding)
    monkeypatch.setattr(base64, "b64decode", no_decoding)
    with pytest.raises(ImageTooLarge, match=r"\(IMAGE_MAX_MB\)"):
        parse(encoded, max_bytes=size - 1)


def test_a_huge_string_is_refused_after_its_first_steps() -> None:
    """64 M characters against a 1 MiB limit: refused once the cleaned steps pass the limit,
    without cleaning (or copying) the rest of the string."""
    huge = "A" * (64 * MB)
    data_url = "data:image/png;base64," + huge
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLarge):
            parse(huge, max_bytes=MB)
        with pytest.raises(ImageTooLarge):
            parse(data_url, max_bytes=MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * _STEP, f"peak {peak:,} bytes"
