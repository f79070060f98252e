"""Hostile payloads: huge texts, EXIF and pixel bombs, broken protobuf wire bytes."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from google.protobuf.internal.encoder import _VarintBytes as varint  # protobuf's own, not ours
from PIL import ExifTags, Image

__all__ = [
    "big_text",
    "deep_value",
    "exif_array_png",
    "exif_many_tags_png",
    "exif_string_png",
    "pixel_bomb_png",
    "varint",
]

_WORDS = "the quick brown fox jumps over the lazy dog while embeddings of every text wait "


def big_text(chars: int) -> str:
    return (_WORDS * (chars // len(_WORDS) + 1))[:chars]


def deep_value(depth: int) -> bytes:
    """A CreateEmbeddingsRequest whose `input` nests lists `depth` deep: [[[...["x"]...]]]."""
    inner = b"\x1a\x01x"  # Value.string_value = "x"
    for _ in range(depth):
        listed = b"\x0a" + varint(len(inner)) + inner  # ListValue.values = [inner]
        inner = b"\x32" + varint(len(listed)) + listed  # Value.list_value
    return b"\x0a" + varint(len(inner)) + inner


def _tiff(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A big-endian TIFF header and one IFD of (tag, type, count, value bytes) entries."""
    head = bytearray(b"MM\x00\x2a" + struct.pack(">I", 8))
    data_offset = 8 + 2 + 12 * len(entries) + 4
    ifd, blobs = bytearray(struct.pack(">H", len(entries))), bytearray()
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            ifd += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            ifd += struct.pack(">HHII", tag, kind, count, data_offset + len(blobs))
            blobs += value
    return bytes(head + ifd + struct.pack(">I", 0) + blobs)


def _png_with_exif(tiff: bytes) -> bytes:
    """A 32x32 PNG with `tiff` as its eXIf chunk (Pillow reads EXIF from it)."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 90)).save(buffer, "PNG")
    data = buffer.getvalue()
    after_ihdr = 8 + 25
    chunk = struct.pack(">I", len(tiff)) + b"eXIf" + tiff
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + tiff))
    return data[:after_ihdr] + chunk + data[after_ihdr:]


@cache
def exif_array_png(values: int = 9_000_000, width: int = 2) -> bytes:
    """One tag of `values` values (YCbCrSubSampling as SHORTs, 18 MB of EXIF at the default;
    `width=1`: ReferenceBlackWhite-sized BYTEs, half of that)."""
    if width == 1:
        return _png_with_exif(_tiff([(0x0212, 1, values, b"\x01" * values)]))
    return _png_with_exif(_tiff([(0x0212, 3, values, b"\x00\x01" * values)]))


@cache
def exif_string_png(chars: int = 15_000_000) -> bytes:
    """ImageDescription as one ASCII string of `chars` characters."""
    return _png_with_exif(_tiff([(0x010E, 2, chars + 1, b"A" * chars + b"\0")]))


@cache
def exif_many_tags_png(each: int = 60_000) -> bytes:
    """Every named IFD0 ASCII-able tag it can hold, each a string of `each` characters."""
    skip = {0x8769, 0x8825, 0xA005, 0x014A, 0x0201, 0x0202, 0x927C, 0x02BC, 0x8773, 0x83BB}
    tags = [t for t in sorted(ExifTags.TAGS) if t < 0xFFFF and t not in skip][:240]
    value = b"B" * each + b"\0"
    return _png_with_exif(_tiff([(tag, 2, len(value), value) for tag in tags]))


@cache
def pixel_bomb_png(side: int = 7000, mode: str = "RGBA") -> bytes:
    """A `side` x `side` image of one colour: a few hundred KB that decode to side**2 pixels."""
    buffer = io.BytesIO()
    Image.new(mode, (side, side), 0).save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()
